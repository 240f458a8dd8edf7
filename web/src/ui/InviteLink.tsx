import { useRef, useState } from 'preact/hooks';
import { useLang } from './lang';

type CopyState = 'idle' | 'copied' | 'failed';

async function copyText(text: string, input: HTMLInputElement | null): Promise<boolean> {
  try {
    await navigator.clipboard.writeText(text);
    return true;
  } catch {
    // Fall back to selecting the text, which also lets the user copy it by hand.
    if (!input) return false;
    input.focus();
    input.select();
    try {
      return document.execCommand('copy');
    } catch {
      return false;
    }
  }
}

/** A read-only invite link with a Copy button. */
export function InviteLink({ link, id }: { link: string; id: string }) {
  const { t } = useLang();
  const inputRef = useRef<HTMLInputElement>(null);
  const [copy, setCopy] = useState<CopyState>('idle');

  const onCopy = async (): Promise<void> => {
    setCopy((await copyText(link, inputRef.current)) ? 'copied' : 'failed');
  };

  return (
    <div class="invite">
      <label class="label" for={id}>
        {t('invite.label')}
      </label>
      <div class="invite-row">
        <input
          ref={inputRef}
          id={id}
          class="invite-input"
          type="text"
          readOnly
          value={link}
          spellcheck={false}
          autocomplete="off"
          data-testid="invite-link"
          onFocus={(e) => e.currentTarget.select()}
        />
        <button type="button" class="button secondary" data-testid="copy-link" onClick={() => void onCopy()}>
          {t('invite.copy')}
        </button>
      </div>
      <p class="hint" role="status" aria-live="polite" data-testid="copy-status">
        {copy === 'copied' ? t('invite.copied') : copy === 'failed' ? t('invite.copyFailed') : ''}
      </p>
    </div>
  );
}
