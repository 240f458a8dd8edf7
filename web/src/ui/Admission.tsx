// The screens between the link and the call that meeting security adds: waiting to be let in
// (lobby, or until a host arrives), the PIN prompt, and the screens of a meeting that refuses or
// ends this participant's membership (locked, banned, blocked for a while, removed, ended, moved).
import { useEffect, useRef, useState } from 'preact/hooks';
import type { MessageKey } from '../i18n';
import { PIN_PATTERN } from '../protocol/messages';
import type { MeetingSession } from '../session';
import { useLang } from './lang';

/** Codes of a `failed` state that get their own screen instead of the join form. */
export const GONE_CODES = new Set([
  'removed',
  'denied',
  'meeting-ended',
  'meeting-moved',
  'meeting-locked',
  'banned',
  'blocked',
  'login-required',
  'lobby-timeout',
]);

/** Where trying again may help (the rest are final for this link). */
const RETRYABLE = new Set(['meeting-locked', 'blocked', 'lobby-timeout']);

function useFocusOnMount<T extends HTMLElement>() {
  const ref = useRef<T>(null);
  useEffect(() => ref.current?.focus(), []);
  return ref;
}

export function WaitingScreen({ reason, session }: { reason: string; session: MeetingSession }) {
  const { t } = useLang();
  const headingRef = useFocusOnMount<HTMLHeadingElement>();
  const text = reason === 'host-absent' ? t('waiting.host-absent') : t('waiting.lobby');
  return (
    <div class="stack" data-testid="waiting" data-reason={reason}>
      <h1 id="room-title" ref={headingRef} tabIndex={-1}>
        {t('waiting.title')}
      </h1>
      <p role="status" class="lead">
        {text}
      </p>
      <p class="hint">{t('waiting.private')}</p>
      <div class="actions">
        <button type="button" class="button secondary" data-testid="waiting-leave" onClick={() => void session.leave()}>
          {t('waiting.leave')}
        </button>
      </div>
    </div>
  );
}

export function PinPrompt({ wrong, session }: { wrong: boolean; session: MeetingSession }) {
  const { t } = useLang();
  const [pin, setPin] = useState('');
  const [invalid, setInvalid] = useState(false);
  const inputRef = useFocusOnMount<HTMLInputElement>();
  const submit = (event: Event): void => {
    event.preventDefault();
    const value = pin.trim();
    if (!PIN_PATTERN.test(value)) {
      setInvalid(true);
      return;
    }
    session.submitPin(value);
  };
  const problem = invalid ? t('pin.invalid') : wrong ? t('pin.wrong') : null;
  return (
    <form class="stack" data-testid="pin-form" onSubmit={submit} noValidate>
      <h1 id="room-title">{t('pin.title')}</h1>
      <p>{t('pin.hint')}</p>
      <label class="label" for="pin-input">
        {t('pin.label')}
      </label>
      <input
        id="pin-input"
        ref={inputRef}
        class="text-input"
        type="password"
        inputMode="numeric"
        autoComplete="off"
        maxLength={12}
        value={pin}
        aria-invalid={problem !== null}
        aria-describedby="pin-problem"
        data-testid="pin-input"
        onInput={(e) => {
          setPin(e.currentTarget.value);
          setInvalid(false);
        }}
      />
      <p id="pin-problem" class="field-error" role="alert" data-testid="pin-problem">
        {problem ?? ''}
      </p>
      <div class="actions">
        <button type="submit" class="button primary" data-testid="pin-submit">
          {t('pin.submit')}
        </button>
      </div>
    </form>
  );
}

/** Seconds left until `at`, updated every half second (0 once reached). */
export function useSecondsUntil(at: number | null): number {
  const [now, setNow] = useState(() => Date.now());
  useEffect(() => {
    if (at === null) return undefined;
    const timer = setInterval(() => setNow(Date.now()), 500);
    return () => clearInterval(timer);
  }, [at]);
  return at === null ? 0 : Math.max(0, Math.ceil((at - now) / 1000));
}

export function GoneScreen({ code, retryAt, onRetry }: { code: string; retryAt: number | null; onRetry: () => void }) {
  const { t } = useLang();
  const headingRef = useFocusOnMount<HTMLHeadingElement>();
  const seconds = useSecondsUntil(code === 'blocked' ? retryAt : null);
  const text =
    code === 'blocked'
      ? seconds > 0
        ? t('gone.blocked', { seconds })
        : t('gone.blockedOver')
      : t(`gone.${code}` as MessageKey);
  return (
    <div class="stack" data-testid="gone" data-code={code}>
      <h1 id="room-title" ref={headingRef} tabIndex={-1} data-testid="gone-message">
        {text}
      </h1>
      <div class="actions">
        {RETRYABLE.has(code) && (
          <button
            type="button"
            class="button primary"
            data-testid="gone-retry"
            disabled={code === 'blocked' && seconds > 0}
            onClick={onRetry}
          >
            {t('gone.retry')}
          </button>
        )}
        <a class="button link" href="/">
          {t('link.home')}
        </a>
      </div>
    </div>
  );
}
