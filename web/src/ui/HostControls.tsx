// What meeting security shows in the call: the lock / lobby / PIN indicators and who the hosts are
// (for everyone), and for hosts and moderators the lobby, the per-participant menu, the meeting
// settings, the security log, ending the meeting and moving it to a new secret after a removal.
// The server enforces every rule; these only ask it.
import type { ComponentChildren } from 'preact';
import { useEffect, useRef, useState } from 'preact/hooks';
import { errorText, type MessageKey } from '../i18n';
import {
  MAX_PARTICIPANTS_SETTING,
  PIN_PATTERN,
  POLICY_NAMES,
  POLICY_VALUES,
  type MeetingSettings,
  type PolicyName,
  type PolicyValue,
  type Role,
  type SecurityLogEntry,
} from '../protocol/messages';
import type { MeetingSession, MeetingView, RosterEntry } from '../session';
import { useLang } from './lang';
import { displayName } from './Security';

type Translate = ReturnType<typeof useLang>['t'];

function codeOf(err: unknown): string {
  return err instanceof Error && 'code' in err ? String(err.code) : 'internal';
}

/** Runs a host action and keeps its error for display. */
export function useAction(): [string | null, (work: () => Promise<void>) => Promise<boolean>] {
  const { lang } = useLang();
  const [error, setError] = useState<string | null>(null);
  const run = async (work: () => Promise<void>): Promise<boolean> => {
    setError(null);
    try {
      await work();
      return true;
    } catch (err) {
      setError(errorText(lang, codeOf(err)));
      return false;
    }
  };
  return [error, run];
}

export function isModerator(role: Role): boolean {
  return role === 'host' || role === 'moderator';
}

/** Lock, lobby and PIN indicators, who the hosts are, and (hosts, moderators) how many wait. */
export function MeetingStatus({ meeting, roster }: { meeting: MeetingView; roster: RosterEntry[] }) {
  const { t } = useLang();
  const settings = meeting.settings;
  const hosts = roster.filter((e) => e.role === 'host').map((e) => displayName(e, t));
  return (
    <div class="meeting-status" data-testid="meeting-status">
      {settings?.locked && (
        <span class="badge badge-loud" data-testid="locked-badge">
          {t('meeting.locked')}
        </span>
      )}
      {settings?.lobby && (
        <span class="badge" data-testid="lobby-badge">
          {t('meeting.lobbyOn')}
        </span>
      )}
      {settings?.pinSet && <span class="badge">{t('meeting.pinOn')}</span>}
      <span class="hint" data-testid="hosts">
        {hosts.length > 0 ? t('meeting.hosts', { names: hosts.join(', ') }) : t('meeting.noHost')}
      </span>
      {isModerator(meeting.role) && (
        <a class="badge" href="#lobby-title" data-testid="lobby-count" data-count={meeting.lobby.length}>
          {t('lobby.count', { count: meeting.lobby.length })}
        </a>
      )}
    </div>
  );
}

export function RoleBadge({ role }: { role: Role }) {
  const { t } = useLang();
  if (role === 'participant') return null;
  return (
    <span class="badge role-badge" data-testid="role-badge" data-role={role}>
      {t(`role.${role}`)}
    </span>
  );
}

/** Hosts and moderators: everyone waiting, by the name in their sealed profile. */
export function LobbyPanel({ meeting, session }: { meeting: MeetingView; session: MeetingSession }) {
  const { t } = useLang();
  const [error, run] = useAction();
  if (!isModerator(meeting.role)) return null;
  return (
    <section class="lobby" aria-labelledby="lobby-title" data-testid="lobby">
      <h2 id="lobby-title" tabIndex={-1}>
        {t('lobby.title')} <span class="badge">{meeting.lobby.length}</span>
      </h2>
      {meeting.lobby.length === 0 ? (
        <p class="hint">{t('lobby.empty')}</p>
      ) : (
        <>
          <ul class="lobby-list">
            {meeting.lobby.map((entry) => {
              const name =
                entry.verified === null
                  ? t('lobby.checking')
                  : entry.verified
                    ? (entry.name ?? t('lobby.unnamed'))
                    : t('lobby.unknown');
              return (
                <li
                  key={entry.id}
                  class="lobby-item"
                  data-testid="lobby-item"
                  data-verified={entry.verified === null ? 'checking' : String(entry.verified)}
                >
                  <span class={entry.verified === false ? 'lobby-name lobby-unknown' : 'lobby-name'}>{name}</span>
                  <button
                    type="button"
                    class="button primary small"
                    data-testid="lobby-admit"
                    aria-label={`${t('lobby.admit')}: ${name}`}
                    onClick={() => void run(() => session.admit(entry.id))}
                  >
                    {t('lobby.admit')}
                  </button>
                  <button
                    type="button"
                    class="button secondary small"
                    data-testid="lobby-deny"
                    aria-label={`${t('lobby.deny')}: ${name}`}
                    onClick={() => void run(() => session.deny(entry.id))}
                  >
                    {t('lobby.deny')}
                  </button>
                </li>
              );
            })}
          </ul>
          <button
            type="button"
            class="button secondary"
            data-testid="lobby-admit-all"
            onClick={() => void run(() => session.admit(null))}
          >
            {t('lobby.admitAll')}
          </button>
        </>
      )}
      {error !== null && (
        <p class="field-error" role="alert">
          {t('host.failed', { error })}
        </p>
      )}
    </section>
  );
}

interface MenuItem {
  key: string;
  label: string;
  run: () => Promise<void>;
  danger?: boolean;
}

function menuItems(
  entry: RosterEntry,
  myRole: Role,
  session: MeetingSession,
  t: Translate,
  onRemoved: () => void,
): MenuItem[] {
  const items: MenuItem[] = [
    { key: 'ask-unmute', label: t('host.askUnmute'), run: () => session.requestUnmute(entry.id, 'microphone') },
    { key: 'ask-camera', label: t('host.askCamera'), run: () => session.requestUnmute(entry.id, 'camera') },
    { key: 'mute-microphone', label: t('host.muteMicrophone'), run: () => session.mute(entry.id, 'microphone') },
    { key: 'stop-camera', label: t('host.stopCamera'), run: () => session.mute(entry.id, 'camera') },
    { key: 'stop-screen', label: t('host.stopScreen'), run: () => session.mute(entry.id, 'screen') },
  ];
  if (myRole === 'host') {
    const roles: [Role, MessageKey][] = [
      ['host', 'host.makeHost'],
      ['moderator', 'host.makeModerator'],
      ['participant', 'host.makeParticipant'],
    ];
    for (const [role, key] of roles) {
      if (role !== entry.role)
        items.push({ key: `role-${role}`, label: t(key), run: () => session.setRole(entry.id, role) });
    }
  }
  items.push({
    key: 'remove',
    label: t('host.remove'),
    danger: true,
    run: async () => {
      await session.remove(entry.id);
      onRemoved();
    },
  });
  return items;
}

/** The host actions for one participant: a menu button, usable with the keyboard (arrows, Escape). */
export function ParticipantMenu({
  entry,
  meeting,
  session,
  onRemoved,
}: {
  entry: RosterEntry;
  meeting: MeetingView;
  session: MeetingSession;
  onRemoved: () => void;
}) {
  const { t } = useLang();
  const [open, setOpen] = useState(false);
  const [error, run] = useAction();
  const buttonRef = useRef<HTMLButtonElement>(null);
  const menuRef = useRef<HTMLUListElement>(null);
  const name = displayName(entry, t);
  useEffect(() => {
    if (open) menuRef.current?.querySelector<HTMLButtonElement>('button')?.focus();
  }, [open]);
  if (!isModerator(meeting.role) || entry.self) return null;
  const items = menuItems(entry, meeting.role, session, t, onRemoved);
  const close = (focusButton: boolean): void => {
    setOpen(false);
    if (focusButton) buttonRef.current?.focus();
  };
  const onKeyDown = (event: KeyboardEvent): void => {
    const buttons = [...(menuRef.current?.querySelectorAll<HTMLButtonElement>('button') ?? [])];
    const index = buttons.indexOf(document.activeElement as HTMLButtonElement);
    if (event.key === 'Escape') {
      event.preventDefault();
      close(true);
    } else if (event.key === 'ArrowDown' || event.key === 'ArrowUp') {
      event.preventDefault();
      const step = event.key === 'ArrowDown' ? 1 : -1;
      buttons[(index + step + buttons.length) % buttons.length]?.focus();
    } else if (event.key === 'Home' || event.key === 'End') {
      event.preventDefault();
      (event.key === 'Home' ? buttons[0] : buttons.at(-1))?.focus();
    } else if (event.key === 'Tab') {
      close(false);
    }
  };
  return (
    <div class="participant-menu">
      <button
        ref={buttonRef}
        type="button"
        class="button secondary small icon-button"
        aria-haspopup="menu"
        aria-expanded={open}
        aria-label={t('host.menu', { name })}
        title={t('host.menu', { name })}
        data-testid="participant-menu"
        onClick={() => setOpen(!open)}
      >
        <span aria-hidden="true">⋯</span>
      </button>
      {open && (
        <ul ref={menuRef} class="menu" role="menu" aria-label={t('host.menu', { name })} onKeyDown={onKeyDown}>
          {items.map((item) => (
            <li key={item.key} role="none">
              <button
                type="button"
                role="menuitem"
                class={item.danger ? 'menu-item menu-danger' : 'menu-item'}
                data-testid={`menu-${item.key}`}
                onClick={() => {
                  close(true);
                  void run(item.run);
                }}
              >
                {item.label}
              </button>
            </li>
          ))}
        </ul>
      )}
      {error !== null && (
        <p class="field-error" role="alert">
          {t('host.failed', { error })}
        </p>
      )}
    </div>
  );
}

/** After a removal: the removed person still knows the secret; hosts can move the meeting. */
export function RemovedOffer({
  meeting,
  session,
  onDismiss,
}: {
  meeting: MeetingView;
  session: MeetingSession;
  onDismiss: () => void;
}) {
  const { t } = useLang();
  const [error, run] = useAction();
  const [moving, setMoving] = useState(false);
  const move = async (): Promise<void> => {
    setMoving(true);
    const ok = await run(() => session.moveMeeting());
    setMoving(false);
    if (ok) onDismiss();
  };
  return (
    <div class="notice" role="status" data-testid="removed-offer">
      <p>{t('host.removed')}</p>
      <div class="actions">
        {meeting.role === 'host' && (
          <button
            type="button"
            class="button primary"
            data-testid="move-meeting"
            disabled={moving}
            onClick={() => void move()}
          >
            {moving ? t('host.moving') : t('host.move')}
          </button>
        )}
        <button type="button" class="button link" onClick={onDismiss}>
          {t('host.dismiss')}
        </button>
      </div>
      {error !== null && (
        <p class="field-error" role="alert">
          {t('host.failed', { error })}
        </p>
      )}
    </div>
  );
}

/** A button that opens a panel below it; Escape closes it and gives focus back to the button. */
export function Disclosure({
  label,
  testId,
  children,
  onOpen,
}: {
  label: string;
  testId: string;
  children: ComponentChildren;
  onOpen?: () => void;
}) {
  const [open, setOpen] = useState(false);
  const buttonRef = useRef<HTMLButtonElement>(null);
  const toolRef = useRef<HTMLDivElement>(null);
  const id = `${testId}-panel`;
  // The panel lies over the call: a press anywhere else (another panel's button too) closes it.
  useEffect(() => {
    if (!open) return undefined;
    const onPointerDown = (e: PointerEvent) => {
      if (!(e.target instanceof Node) || !toolRef.current?.contains(e.target)) setOpen(false);
    };
    document.addEventListener('pointerdown', onPointerDown);
    return () => document.removeEventListener('pointerdown', onPointerDown);
  }, [open]);
  return (
    <div class="host-tool" ref={toolRef}>
      <button
        ref={buttonRef}
        type="button"
        class="button secondary"
        aria-expanded={open}
        aria-controls={id}
        data-testid={testId}
        onClick={() => {
          if (!open) onOpen?.();
          setOpen(!open);
        }}
      >
        {label}
      </button>
      {open && (
        <div
          id={id}
          class="host-panel"
          role="region"
          aria-label={label}
          onKeyDown={(e) => {
            if (e.key === 'Escape') {
              setOpen(false);
              buttonRef.current?.focus();
            }
          }}
        >
          {children}
        </div>
      )}
    </div>
  );
}

/** The meeting settings: hosts change everything, moderators the lock and the lobby. */
export function SettingsPanel({ meeting, session }: { meeting: MeetingView; session: MeetingSession }) {
  const { t } = useLang();
  if (!isModerator(meeting.role) || meeting.settings === null) return null;
  return (
    <Disclosure label={t('settings.open')} testId="settings-button">
      <SettingsForm settings={meeting.settings} host={meeting.role === 'host'} session={session} />
    </Disclosure>
  );
}

function SettingsForm({
  settings,
  host,
  session,
}: {
  settings: MeetingSettings;
  host: boolean;
  session: MeetingSession;
}) {
  const { t } = useLang();
  const [error, run] = useAction();
  const [pin, setPin] = useState('');
  const [max, setMax] = useState(String(settings.maxParticipants));
  const [saved, setSaved] = useState(false);
  const change = async (work: () => Promise<void>): Promise<void> => {
    setSaved(false);
    if (await run(work)) setSaved(true);
  };
  const toggle = (name: 'locked' | 'lobby' | 'hostMustBePresent', label: string, allowed: boolean) => (
    <label class="check">
      <input
        type="checkbox"
        checked={settings[name]}
        disabled={!allowed}
        data-testid={`setting-${name}`}
        onChange={(e) => {
          const value = e.currentTarget.checked;
          void change(() => session.changeSettings({ [name]: value }));
        }}
      />
      <span>{label}</span>
    </label>
  );
  return (
    <div class="stack settings" data-testid="settings">
      <h3>{t('settings.title')}</h3>
      {toggle('locked', t('settings.locked'), true)}
      {toggle('lobby', t('settings.lobby'), true)}
      {toggle('hostMustBePresent', t('settings.hostMustBePresent'), host)}
      {!host && <p class="hint">{t('settings.moderatorOnly')}</p>}
      {host && (
        <>
          <fieldset class="fieldset">
            <legend>{t('settings.pin')}</legend>
            <p class="hint" data-testid="pin-state">
              {settings.pinSet ? t('settings.pinSet') : t('settings.pinNone')}
            </p>
            <label class="label" for="settings-pin">
              {t('settings.pinNew')}
            </label>
            <div class="invite-row">
              <input
                id="settings-pin"
                class="text-input"
                type="password"
                inputMode="numeric"
                autoComplete="off"
                maxLength={12}
                value={pin}
                data-testid="settings-pin"
                onInput={(e) => setPin(e.currentTarget.value)}
              />
              <button
                type="button"
                class="button secondary"
                data-testid="settings-pin-save"
                disabled={!PIN_PATTERN.test(pin)}
                onClick={() =>
                  void change(async () => {
                    await session.changeSettings({ pin });
                    setPin('');
                  })
                }
              >
                {t('settings.pinSave')}
              </button>
              {settings.pinSet && (
                <button
                  type="button"
                  class="button link"
                  data-testid="settings-pin-clear"
                  onClick={() => void change(() => session.changeSettings({ pin: null }))}
                >
                  {t('settings.pinClear')}
                </button>
              )}
            </div>
          </fieldset>
          <fieldset class="fieldset">
            <legend>{t('settings.policies')}</legend>
            {POLICY_NAMES.map((name: PolicyName) => (
              <div class="field" key={name}>
                <label class="label" for={`policy-${name}`}>
                  {t(`policy.${name}`)}
                </label>
                <select
                  id={`policy-${name}`}
                  class="select"
                  data-testid={`policy-${name}`}
                  value={settings.policies[name]}
                  onChange={(e) => {
                    const value = e.currentTarget.value as PolicyValue;
                    void change(() => session.changeSettings({ policies: { [name]: value } }));
                  }}
                >
                  {POLICY_VALUES.map((value) => (
                    <option key={value} value={value}>
                      {t(`policy.${value}`)}
                    </option>
                  ))}
                </select>
              </div>
            ))}
          </fieldset>
          <div class="field">
            <label class="label" for="settings-max">
              {t('settings.max')}
            </label>
            <div class="invite-row">
              <input
                id="settings-max"
                class="text-input"
                type="number"
                min={1}
                max={MAX_PARTICIPANTS_SETTING}
                value={max}
                data-testid="settings-max"
                onInput={(e) => setMax(e.currentTarget.value)}
              />
              <button
                type="button"
                class="button secondary"
                data-testid="settings-max-save"
                disabled={!/^[0-9]{1,4}$/.test(max) || Number(max) < 1 || Number(max) > MAX_PARTICIPANTS_SETTING}
                onClick={() => void change(() => session.changeSettings({ maxParticipants: Number(max) }))}
              >
                {t('room.saveName')}
              </button>
            </div>
          </div>
        </>
      )}
      <p class={error !== null ? 'field-error' : 'hint'} role="status" data-testid="settings-status">
        {error !== null ? t('host.failed', { error }) : saved ? t('settings.saved') : ''}
      </p>
    </div>
  );
}

/** A participant ID as the log shows it: the name of a current verified member, else a short pseudonym. */
function who(id: string | undefined, roster: RosterEntry[], t: Translate): string {
  if (id === undefined) return '';
  const entry = roster.find((e) => e.id === id);
  if (entry !== undefined && (entry.self || entry.trust === 'verified')) return displayName(entry, t);
  return t('log.someone', { id: id.slice(0, 6) });
}

const LOG_TYPES = new Set([
  'joined',
  'left',
  'knocked',
  'admitted',
  'denied',
  'removed',
  'locked',
  'unlocked',
  'lobby-on',
  'lobby-off',
  'pin-failed',
  'pin-set',
  'pin-cleared',
  'role-changed',
  'policy-changed',
  'meeting-ended',
  'meeting-moved',
]);

/** A security-log entry's type as the log shows it (the receipt counts them by the same names). */
export function logTypeText(type: string, t: Translate): string {
  return LOG_TYPES.has(type) ? t(`log.type.${type}` as MessageKey) : type;
}

export function SecurityLogPanel({
  meeting,
  session,
  roster,
}: {
  meeting: MeetingView;
  session: MeetingSession;
  roster: RosterEntry[];
}) {
  const { t } = useLang();
  const [entries, setEntries] = useState<SecurityLogEntry[] | null>(null);
  const [error, run] = useAction();
  if (!isModerator(meeting.role)) return null;
  const load = (): void => {
    void run(async () => setEntries(await session.securityLog(200)));
  };
  return (
    <Disclosure label={t('log.open')} testId="log-button" onOpen={load}>
      <div class="stack security-log" data-testid="security-log">
        <h3>{t('log.title')}</h3>
        <button type="button" class="button secondary small" onClick={load}>
          {t('log.refresh')}
        </button>
        {error !== null && (
          <p class="field-error" role="alert">
            {error}
          </p>
        )}
        {entries !== null && entries.length === 0 && <p class="hint">{t('log.empty')}</p>}
        {entries !== null && entries.length > 0 && (
          <ol class="log-list">
            {entries.map((entry, i) => (
              <li key={`${entry.at}-${i}`} data-testid="log-entry" data-type={entry.type}>
                <time dateTime={new Date(entry.at).toISOString()}>{new Date(entry.at).toLocaleTimeString()}</time>{' '}
                {who(entry.actor, roster, t)} {logTypeText(entry.type, t)} {who(entry.subject, roster, t)}
                {entry.detail !== undefined ? ` (${entry.detail})` : ''}
              </li>
            ))}
          </ol>
        )}
      </div>
    </Disclosure>
  );
}

export function EndMeetingButton({ meeting, session }: { meeting: MeetingView; session: MeetingSession }) {
  const { t } = useLang();
  const [confirming, setConfirming] = useState(false);
  const [error, run] = useAction();
  const confirmRef = useRef<HTMLButtonElement>(null);
  useEffect(() => {
    if (confirming) confirmRef.current?.focus();
  }, [confirming]);
  if (meeting.role !== 'host') return null;
  return (
    <div class="host-tool">
      {!confirming ? (
        <button type="button" class="button danger" data-testid="end-meeting" onClick={() => setConfirming(true)}>
          {t('host.endMeeting')}
        </button>
      ) : (
        <div class="notice" role="alertdialog" aria-labelledby="end-confirm-text">
          <p id="end-confirm-text">{t('host.endConfirm')}</p>
          <div class="actions">
            <button
              ref={confirmRef}
              type="button"
              class="button danger"
              data-testid="end-meeting-confirm"
              onClick={() => void run(() => session.endMeeting())}
            >
              {t('host.confirm')}
            </button>
            <button type="button" class="button secondary" onClick={() => setConfirming(false)}>
              {t('host.cancel')}
            </button>
          </div>
        </div>
      )}
      {error !== null && (
        <p class="field-error" role="alert">
          {t('host.failed', { error })}
        </p>
      )}
    </div>
  );
}

/** A host muted this participant, or asks it to unmute: said here; nothing switches on by itself. */
export function HostMuteNotices({
  meeting,
  onAccept,
  onDismiss,
}: {
  meeting: MeetingView;
  onAccept: (source: 'microphone' | 'camera') => void;
  onDismiss: () => void;
}) {
  const { t } = useLang();
  const request = meeting.unmuteRequest;
  return (
    <>
      {meeting.hostMuted.map((source) => (
        <p key={source} class="notice" role="status" data-testid="host-muted" data-source={source}>
          {t(`muted.${source}`)}
        </p>
      ))}
      {request !== null && (
        <div class="notice notice-loud" role="alertdialog" aria-labelledby="unmute-text" data-testid="unmute-request">
          <p id="unmute-text">{t(`unmute.${request.source}`, { name: request.by ?? t('unmute.someone') })}</p>
          <div class="actions">
            <button
              type="button"
              class="button primary"
              data-testid="unmute-accept"
              onClick={() => onAccept(request.source)}
            >
              {t('unmute.accept')}
            </button>
            <button type="button" class="button secondary" data-testid="unmute-dismiss" onClick={onDismiss}>
              {t('unmute.dismiss')}
            </button>
          </div>
        </div>
      )}
    </>
  );
}
