// The meeting's chat: end-to-end encrypted, signed messages that live only in the browsers, with
// an optional self-destruct time, and files shared encrypted (downloaded, decrypted and checked
// before they can be saved).
import { useEffect, useRef, useState } from 'preact/hooks';
import type { FileManifest } from '../e2ee';
import { MAX_CHAT_TEXT_LENGTH } from '../e2ee';
import type { Lang } from '../i18n';
import { SignalingError } from '../protocol/client';
import type { ChatEntry, ChatLog } from '../secure/chat_log';
import { FileShareError } from '../secure/file_share';
import { CHAT_LIFETIMES, type MeetingSession } from '../session';
import { useLang } from './lang';
import { AttachIcon } from './media';

const LIFETIME_KEYS = ['chat.expiry.off', 'chat.expiry.1m', 'chat.expiry.10m', 'chat.expiry.1h'] as const;

function useChatEntries(chat: ChatLog): readonly ChatEntry[] {
  const [entries, setEntries] = useState(chat.entries);
  useEffect(() => {
    setEntries(chat.entries);
    return chat.subscribe(() => setEntries(chat.entries));
  }, [chat]);
  return entries;
}

export function formatTime(lang: Lang, at: number): string {
  return new Intl.DateTimeFormat(lang, { hour: '2-digit', minute: '2-digit' }).format(new Date(at));
}

export function formatSize(lang: Lang, bytes: number): string {
  const units = ['byte', 'kilobyte', 'megabyte', 'gigabyte'] as const;
  let value = bytes;
  let unit = 0;
  while (value >= 1000 && unit < units.length - 1) {
    value /= 1000;
    unit += 1;
  }
  const format = new Intl.NumberFormat(lang, {
    style: 'unit',
    unit: units[unit],
    unitDisplay: 'short',
    maximumFractionDigits: 1,
  });
  return format.format(value);
}

function errorCode(error: unknown): string {
  if (error instanceof SignalingError || error instanceof FileShareError) return error.code;
  if (error instanceof RangeError) return 'too-large';
  return 'internal';
}

export function Chat({
  session,
  names,
  canChat = true,
  canShareFiles = true,
}: {
  session: MeetingSession;
  names: ReadonlyMap<string, string>;
  /** The meeting's policy lets this participant chat / share files (the server enforces it). */
  canChat?: boolean;
  canShareFiles?: boolean;
}) {
  const lang = useLang();
  const { t } = lang;
  const entries = useChatEntries(session.chat);
  const [text, setText] = useState('');
  const [lifetime, setLifetime] = useState(0);
  const [status, setStatus] = useState<{ error: boolean; text: string } | null>(null);
  const [busy, setBusy] = useState(false);
  const fileRef = useRef<HTMLInputElement>(null);
  const listRef = useRef<HTMLOListElement>(null);

  useEffect(() => {
    const list = listRef.current;
    if (list) list.scrollTop = list.scrollHeight;
  }, [entries.length]);

  const lifetimeMs = CHAT_LIFETIMES[lifetime] ?? null;

  const send = async (event?: Event): Promise<void> => {
    event?.preventDefault();
    const message = text.trim();
    if (message === '' || busy) return;
    if (message.length > MAX_CHAT_TEXT_LENGTH) {
      setStatus({ error: true, text: t('chat.tooLong') });
      return;
    }
    setBusy(true);
    try {
      await session.sendChat(message, lifetimeMs);
      setText('');
      setStatus(null);
    } catch (err) {
      // The text stays in the input: nothing is lost while the meeting reconnects.
      const code = errorCode(err);
      const text = code === 'reconnecting' ? t('chat.notSentReconnecting') : t('chat.sendFailed', { code });
      setStatus({ error: true, text });
    } finally {
      setBusy(false);
    }
  };

  const share = async (file: File): Promise<void> => {
    setStatus({ error: false, text: t('file.uploading', { name: file.name }) });
    try {
      const data = new Uint8Array(await file.arrayBuffer());
      await session.shareFile(data, { name: file.name, mime: file.type || 'application/octet-stream' }, lifetimeMs);
      setStatus({ error: false, text: t('file.uploaded', { name: file.name }) });
    } catch (err) {
      const code = errorCode(err);
      const key = code === 'file-too-large' ? 'file.tooLarge' : code === 'quota-exceeded' ? 'file.quota' : null;
      setStatus({ error: true, text: key ? t(key) : t('file.uploadFailed', { code }) });
    }
  };

  return (
    <section class="chat" aria-labelledby="chat-title" data-testid="chat">
      <h2 id="chat-title">{t('chat.title')}</h2>
      <p class="hint">{t('chat.hint')}</p>
      {entries.length === 0 ? (
        <p class="hint chat-empty">{t('chat.empty')}</p>
      ) : (
        <ol class="chat-list" ref={listRef} data-testid="chat-list" aria-live="polite">
          {entries.map((entry) => (
            <ChatItem
              key={entry.key}
              entry={entry}
              session={session}
              sender={entry.self ? t('chat.you') : (names.get(entry.senderId) ?? entry.senderName ?? t('room.unnamed'))}
            />
          ))}
        </ol>
      )}
      <form class="chat-form" onSubmit={(e) => void send(e)} noValidate>
        <label class="visually-hidden" for="chat-input">
          {t('chat.inputLabel')}
        </label>
        <textarea
          id="chat-input"
          class="text-input chat-input"
          rows={2}
          maxLength={MAX_CHAT_TEXT_LENGTH}
          placeholder={t('chat.inputLabel')}
          value={text}
          disabled={!canChat}
          aria-describedby={canChat ? undefined : 'chat-forbidden'}
          data-testid="chat-input"
          onInput={(e) => setText(e.currentTarget.value)}
          onKeyDown={(e) => {
            if (e.key === 'Enter' && !e.shiftKey && !e.isComposing) {
              e.preventDefault();
              void send();
            }
          }}
        />
        <div class="chat-row">
          <label class="chat-expiry">
            <span>{t('chat.expiry')}</span>
            <select
              data-testid="chat-expiry"
              value={String(lifetime)}
              onChange={(e) => setLifetime(Number(e.currentTarget.value))}
            >
              {LIFETIME_KEYS.map((key, i) => (
                <option key={key} value={String(i)}>
                  {t(key)}
                </option>
              ))}
            </select>
          </label>
          <button
            type="button"
            class="button secondary icon-button"
            data-testid="file-attach"
            title={canChat && canShareFiles ? t('chat.attach') : t('forbidden.files')}
            disabled={!canChat || !canShareFiles}
            onClick={() => fileRef.current?.click()}
          >
            <AttachIcon />
            <span class="visually-hidden">{t('chat.attach')}</span>
          </button>
          <input
            ref={fileRef}
            type="file"
            class="visually-hidden"
            tabIndex={-1}
            aria-hidden="true"
            data-testid="file-input"
            onChange={(e) => {
              const file = e.currentTarget.files?.[0];
              e.currentTarget.value = '';
              if (file) void share(file);
            }}
          />
          <button type="submit" class="button primary" data-testid="chat-send" disabled={busy || !canChat}>
            {t('chat.send')}
          </button>
        </div>
        {(!canChat || !canShareFiles) && (
          <p class="hint" id="chat-forbidden" data-testid="chat-forbidden">
            {canChat ? t('forbidden.files') : t('forbidden.chat')}
          </p>
        )}
        <p class={status?.error ? 'field-error' : 'hint'} role="status" data-testid="chat-status">
          {status?.text ?? ''}
        </p>
      </form>
    </section>
  );
}

function ChatItem({ entry, sender, session }: { entry: ChatEntry; sender: string; session: MeetingSession }) {
  const lang = useLang();
  const { t } = lang;
  const missing = entry.missing ?? 0;
  if (missing > 0) {
    // The sender's signed counters skipped these: the server withheld or lost them.
    return (
      <li class="chat-missing" data-testid="chat-missing" data-count={missing}>
        {t(missing === 1 ? 'chat.missingOne' : 'chat.missing', { count: String(missing), name: sender })}
      </li>
    );
  }
  return (
    <li
      class={`chat-message${entry.self ? ' chat-self' : ''}`}
      data-testid="chat-message"
      data-self={entry.self ? 'true' : 'false'}
    >
      <p class="chat-meta">
        <span class="chat-sender" data-testid="chat-sender">
          {sender}
        </span>{' '}
        <time dateTime={new Date(entry.receivedAt).toISOString()}>{formatTime(lang.lang, entry.receivedAt)}</time>
        {entry.deleteAt !== null && (
          <span class="chat-expires" data-testid="chat-expires">
            {' · '}
            {t('chat.expires', { time: formatTime(lang.lang, entry.deleteAt) })}
          </span>
        )}
      </p>
      {entry.text !== '' && (
        <p class="chat-text" data-testid="chat-text">
          {entry.text}
        </p>
      )}
      {entry.file !== null && <SharedFile manifest={entry.file} session={session} />}
    </li>
  );
}

type FileState =
  { kind: 'idle' } | { kind: 'getting' } | { kind: 'ready'; url: string } | { kind: 'error'; code: string };

function SharedFile({ manifest, session }: { manifest: FileManifest; session: MeetingSession }) {
  const lang = useLang();
  const { t } = lang;
  const [state, setState] = useState<FileState>({ kind: 'idle' });
  useEffect(
    () => () => {
      if (state.kind === 'ready') URL.revokeObjectURL(state.url);
    },
    [state],
  );
  const get = async (): Promise<void> => {
    setState({ kind: 'getting' });
    try {
      const data = await session.fetchFile(manifest);
      // octet-stream: the browser saves it and never renders it in this origin.
      setState({ kind: 'ready', url: URL.createObjectURL(new Blob([data], { type: 'application/octet-stream' })) });
    } catch (err) {
      setState({ kind: 'error', code: errorCode(err) });
    }
  };
  return (
    <div class="chat-file" data-testid="chat-file">
      <p class="chat-file-name">
        <AttachIcon />
        <span data-testid="file-name">{manifest.name}</span>{' '}
        <span class="hint">({formatSize(lang.lang, manifest.size)})</span>
      </p>
      {state.kind === 'idle' && (
        <button type="button" class="button secondary" data-testid="file-get" onClick={() => void get()}>
          {t('file.get')}
        </button>
      )}
      {state.kind === 'getting' && (
        <p class="hint" role="status">
          {t('file.getting')}
        </p>
      )}
      {state.kind === 'ready' && (
        <>
          <a class="button primary" href={state.url} download={manifest.name} data-testid="file-save">
            {t('file.save', { name: manifest.name })}
          </a>
          <p class="hint" role="status">
            {t('file.verified')}
          </p>
        </>
      )}
      {state.kind === 'error' && (
        <p class="field-error" role="alert" data-testid="file-error">
          {state.code === 'corrupt' ? t('file.corrupt') : state.code === 'gone' ? t('file.gone') : t('file.failed')}
        </p>
      )}
    </div>
  );
}
