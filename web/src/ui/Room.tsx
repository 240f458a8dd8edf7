import { useEffect, useRef, useState } from 'preact/hooks';
import { countText, errorText } from '../i18n';
import { normalizeName, MAX_NAME_LENGTH } from '../profile';
import { buildInviteLink, signalingUrl } from '../protocol';
import { MeetingSession, type Announcement, type RosterEntry, type SessionState } from '../session';
import { InviteLink } from './InviteLink';
import { useLang, type LangValue } from './lang';
import { openBrowserSocket } from './socket';
import { loadSetting, saveSetting } from './storage';

function announcementText({ t }: LangValue, a: Announcement): string {
  const unnamed = t('room.unnamed');
  switch (a.kind) {
    case 'self-joined':
      return t('announce.selfJoined');
    case 'joined':
      return t('announce.joined', { name: a.name ?? unnamed });
    case 'left':
      return t('announce.left', { name: a.name ?? unnamed });
    case 'renamed':
      return t('announce.renamed', { old: a.old ?? unnamed, name: a.name ?? unnamed });
  }
}

/** A room page with a valid link. The secret is only used to show the link again. */
export function Room({ roomId, secret }: { roomId: string; secret: string }) {
  const lang = useLang();
  const { t } = lang;
  const [state, setState] = useState<SessionState>({ kind: 'idle' });
  const [announcement, setAnnouncement] = useState<Announcement | null>(null);
  // The App keys this component by room and secret, so one session lives as long as the component.
  const [session] = useState(
    () =>
      new MeetingSession({
        roomId,
        url: signalingUrl(window.location.origin),
        socketFactory: openBrowserSocket,
        onState: setState,
        onAnnounce: setAnnouncement,
      }),
  );
  useEffect(() => () => session.dispose(), [session]);

  const link = buildInviteLink(window.location.origin, roomId, secret);

  return (
    <section class="card" aria-labelledby="room-title">
      <p class="visually-hidden" aria-live="polite" data-testid="announcer">
        {announcement ? announcementText(lang, announcement) : ''}
      </p>
      {(state.kind === 'idle' || state.kind === 'connecting' || state.kind === 'failed') && (
        <JoinForm
          busy={state.kind === 'connecting'}
          error={state.kind === 'failed' ? errorText(lang.lang, state.code) : null}
          onJoin={(name) => session.join(name)}
        />
      )}
      {state.kind === 'joined' && (
        <Joined roster={state.roster} session={session} link={link} />
      )}
      {state.kind === 'reconnecting' && <Reconnecting state={state} session={session} />}
      {state.kind === 'left' && (
        <LeftMeeting onRejoin={() => session.join(loadSetting('displayName') ?? '')} />
      )}
      {state.kind === 'shutdown' && (
        <div class="stack">
          <h1 id="room-title">{t('room.title')}</h1>
          <div class="alert" role="alert" data-testid="error-message">
            <p>
              <strong>{t('status.shutdown')}</strong>
            </p>
            <p>{t('status.shutdownHint')}</p>
          </div>
          <div class="actions">
            <button
              type="button"
              class="button primary"
              data-testid="retry-button"
              onClick={() => session.join(loadSetting('displayName') ?? '')}
            >
              {t('status.tryAgain')}
            </button>
          </div>
        </div>
      )}
    </section>
  );
}

function LeftMeeting({ onRejoin }: { onRejoin: () => void }) {
  const { t } = useLang();
  const headingRef = useRef<HTMLHeadingElement>(null);
  useEffect(() => headingRef.current?.focus(), []);
  return (
    <div class="stack">
      <h1 id="room-title" ref={headingRef} tabIndex={-1} data-testid="left-message">
        {t('left.title')}
      </h1>
      <div class="actions">
        <button type="button" class="button primary" data-testid="rejoin-button" onClick={onRejoin}>
          {t('left.rejoin')}
        </button>
        <a class="button link" href="/">
          {t('link.home')}
        </a>
      </div>
    </div>
  );
}

function JoinForm(props: { busy: boolean; error: string | null; onJoin: (name: string) => void }) {
  const { t } = useLang();
  const [name, setName] = useState(() => loadSetting('displayName') ?? '');
  const [invalid, setInvalid] = useState(false);
  const inputRef = useRef<HTMLInputElement>(null);

  const submit = (event: Event): void => {
    event.preventDefault();
    const normalized = normalizeName(name);
    if (normalized === null) {
      setInvalid(true);
      inputRef.current?.focus();
      return;
    }
    setInvalid(false);
    saveSetting('displayName', normalized);
    props.onJoin(normalized);
  };

  return (
    <form class="stack" onSubmit={submit} noValidate>
      <h1 id="room-title">{t('room.title')}</h1>
      {props.error !== null && (
        <p class="alert" role="alert" data-testid="error-message">
          {props.error}
        </p>
      )}
      <div class="field">
        <label class="label" for="display-name">
          {t('room.nameLabel')}
        </label>
        <input
          ref={inputRef}
          id="display-name"
          class="text-input"
          type="text"
          autocomplete="nickname"
          maxLength={MAX_NAME_LENGTH}
          value={name}
          required
          aria-invalid={invalid}
          aria-describedby={invalid ? 'display-name-error' : 'display-name-hint'}
          data-testid="name-input"
          onInput={(e) => setName(e.currentTarget.value)}
        />
        {invalid ? (
          <p id="display-name-error" class="field-error">
            {t('room.nameRequired')}
          </p>
        ) : (
          <p id="display-name-hint" class="hint">
            {t('room.nameHint')}
          </p>
        )}
      </div>
      <div class="actions">
        <button type="submit" class="button primary" data-testid="join-button" disabled={props.busy}>
          {props.busy ? t('room.joining') : t('room.join')}
        </button>
      </div>
    </form>
  );
}

function avatarClass(id: string): string {
  let hash = 0;
  for (let i = 0; i < id.length; i++) hash = (hash * 31 + id.charCodeAt(i)) >>> 0;
  return `avatar avatar-${hash % 8}`;
}

function initial(name: string | null): string {
  const first = name === null ? '?' : (Array.from(name)[0] ?? '?');
  return first.toLocaleUpperCase();
}

function Joined(props: { roster: RosterEntry[]; session: MeetingSession; link: string }) {
  const lang = useLang();
  const { t } = lang;
  const roster = [...props.roster].sort((a, b) => Number(b.self) - Number(a.self));
  const headingRef = useRef<HTMLHeadingElement>(null);
  useEffect(() => headingRef.current?.focus(), []);

  return (
    <div class="stack">
      <div class="room-header">
        <h1 id="room-title" ref={headingRef} tabIndex={-1}>
          {t('room.inMeeting')}
        </h1>
        <span class="badge" data-testid="roster-count">
          {countText(lang.lang, roster.length)}
        </span>
      </div>
      <ul class="roster" data-testid="roster" aria-labelledby="room-title">
        {roster.map((entry) => (
          <li key={entry.id} class="roster-item" data-testid="roster-item" data-self={entry.self ? 'true' : 'false'}>
            <span class={avatarClass(entry.id)} aria-hidden="true">
              {initial(entry.name)}
            </span>
            <span class="roster-name">
              <span data-testid="roster-name">{entry.name ?? t('room.unnamed')}</span>
              {entry.self && <span class="you"> {t('room.you')}</span>}
            </span>
          </li>
        ))}
      </ul>
      <div class="actions">
        <button
          type="button"
          class="button danger"
          data-testid="leave-button"
          onClick={() => void props.session.leave()}
        >
          {t('room.leave')}
        </button>
      </div>
      <RenameForm session={props.session} />
      <details class="disclosure">
        <summary>{t('room.inviteOthers')}</summary>
        <InviteLink link={props.link} id="room-invite" />
      </details>
    </div>
  );
}

function RenameForm({ session }: { session: MeetingSession }) {
  const lang = useLang();
  const { t } = lang;
  const [name, setName] = useState(() => loadSetting('displayName') ?? '');
  const [status, setStatus] = useState<{ ok: boolean; text: string } | null>(null);

  const submit = async (event: Event): Promise<void> => {
    event.preventDefault();
    const normalized = normalizeName(name);
    if (normalized === null) {
      setStatus({ ok: false, text: t('room.nameRequired') });
      return;
    }
    try {
      await session.rename(normalized);
      saveSetting('displayName', normalized);
      setStatus({ ok: true, text: t('room.nameSaved') });
    } catch (err) {
      const code = err instanceof Error && 'code' in err ? String(err.code) : 'internal';
      setStatus({ ok: false, text: errorText(lang.lang, code) });
    }
  };

  return (
    <details class="disclosure">
      <summary>{t('room.changeName')}</summary>
      <form class="rename" onSubmit={(e) => void submit(e)} noValidate>
        <label class="label" for="rename-input">
          {t('room.nameLabel')}
        </label>
        <div class="invite-row">
          <input
            id="rename-input"
            class="text-input"
            type="text"
            maxLength={MAX_NAME_LENGTH}
            value={name}
            data-testid="rename-input"
            onInput={(e) => setName(e.currentTarget.value)}
          />
          <button type="submit" class="button secondary" data-testid="rename-button">
            {t('room.saveName')}
          </button>
        </div>
        <p class={status?.ok === false ? 'field-error' : 'hint'} role="status">
          {status?.text ?? ''}
        </p>
      </form>
    </details>
  );
}

function Reconnecting(props: { state: Extract<SessionState, { kind: 'reconnecting' }>; session: MeetingSession }) {
  const { t } = useLang();
  const [now, setNow] = useState(() => Date.now());
  useEffect(() => {
    const timer = setInterval(() => setNow(Date.now()), 500);
    return () => clearInterval(timer);
  }, []);
  const { retryAt } = props.state;
  const seconds = retryAt === null ? 0 : Math.max(0, Math.ceil((retryAt - now) / 1000));

  return (
    <div class="stack">
      <h1 id="room-title">{t('room.inMeeting')}</h1>
      <div class="notice" data-testid="connection-status">
        <p role="status">{t('status.reconnecting')}</p>
        <p class="hint">{retryAt === null || seconds === 0 ? '' : t('status.reconnectIn', { seconds })}</p>
      </div>
      <div class="actions">
        <button
          type="button"
          class="button secondary"
          disabled={retryAt === null}
          onClick={() => props.session.reconnectNow()}
        >
          {t('status.reconnectNow')}
        </button>
        <button
          type="button"
          class="button danger"
          data-testid="leave-button"
          onClick={() => void props.session.leave()}
        >
          {t('room.leave')}
        </button>
      </div>
    </div>
  );
}
