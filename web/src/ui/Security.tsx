// The visible side of end-to-end encryption: the badge on every tile (calm when a stream is
// encrypted, loud when it is not), the security code everyone compares, and the alerts for a
// wrong link, unverified participants and browsers that cannot encrypt.
import type { SecuritySnapshot } from '../secure/secure_room';
import type { TransformMode } from '../media/frame_crypto';
import type { ComparedCode, MeetingSession, RosterEntry } from '../session';
import { LOUD_BADGES, type BadgeState } from './encryption';
import { useLang } from './lang';
import { LockIcon, WarningIcon } from './media';

export function EncryptionBadge({ state, compact = false }: { state: BadgeState; compact?: boolean }) {
  const { t } = useLang();
  const loud = LOUD_BADGES.has(state);
  const text = t(`e2ee.badge.${state}`);
  const look = loud ? 'e2ee-loud' : state === 'encrypted' ? 'e2ee-ok' : 'e2ee-pending';
  return (
    <span
      class={`e2ee-badge ${look}${compact ? ' e2ee-compact' : ''}`}
      data-testid="e2ee-badge"
      data-state={state}
      title={text}
      role={compact ? 'img' : undefined}
      aria-label={compact ? text : undefined}
    >
      {loud ? (
        <WarningIcon />
      ) : state === 'encrypted' || state === 'verifying' || state === 'waiting' ? (
        <LockIcon />
      ) : null}
      {!compact && <span class="e2ee-text">{text}</span>}
    </span>
  );
}

/** The name shown for a roster entry: only verified members (and oneself) have one. */
export function displayName(entry: RosterEntry, t: ReturnType<typeof useLang>['t']): string {
  if (entry.self || entry.trust === 'verified') return entry.name ?? t('room.unnamed');
  return entry.trust === 'unverified' ? t('e2ee.unverifiedName') : t('e2ee.verifyingName');
}

/** Names for "joined / left since": unnamed members get the usual placeholder. */
function names(list: (string | null)[], t: ReturnType<typeof useLang>['t']): string {
  return list.map((name) => name ?? t('room.unnamed')).join(', ');
}

export function SecurityCode({
  security,
  compared = null,
  session = null,
}: {
  security: SecuritySnapshot;
  /** Set once the code was marked as compared: what changed since. */
  compared?: ComparedCode | null;
  session?: MeetingSession | null;
}) {
  const { t } = useLang();
  const changed = compared !== null && (compared.changed || compared.joined.length > 0 || compared.left.length > 0);
  return (
    <div
      class={changed ? 'security security-changed' : 'security'}
      data-testid="security-panel"
      data-compared={compared === null ? 'no' : changed ? 'changed' : 'same'}
    >
      <p class="security-hint">
        <LockIcon />
        <span>
          {security.code === null ? (
            t('e2ee.codePending')
          ) : (
            <>
              {t('e2ee.codeHint', { code: '' })}
              <span class="security-code" data-testid="security-code" aria-label={t('e2ee.codeLabel')}>
                {/* 12 groups of 5 digits, read in rows of four. */}
                {security.code.split(' ').map((group, i) => (
                  <span key={i} class="security-group">
                    {i > 0 ? ' ' : ''}
                    {group}
                  </span>
                ))}
              </span>
            </>
          )}
        </span>
      </p>
      {compared !== null && !changed && (
        <p class="hint" data-testid="code-compared">
          {t('code.compared')}
        </p>
      )}
      {changed && (
        <div class="alert" role="alert" data-testid="code-changed">
          {compared.changed && <p>{t('code.changed')}</p>}
          {compared.joined.length > 0 && <p>{t('code.joinedSince', { names: names(compared.joined, t) })}</p>}
          {compared.left.length > 0 && <p>{t('code.leftSince', { names: names(compared.left, t) })}</p>}
        </div>
      )}
      {session !== null && security.code !== null && (compared === null || changed) && (
        <button
          type="button"
          class="button secondary small"
          data-testid="code-mark"
          onClick={() => session.markCodeCompared()}
        >
          {t('code.mark')}
        </button>
      )}
      <details class="security-more">
        <summary>{t('e2ee.codeWhat')}</summary>
        <p class="hint">{t('e2ee.codeExplain')}</p>
      </details>
    </div>
  );
}

interface AlertsProps {
  security: SecuritySnapshot;
  roster: RosterEntry[];
  mode: TransformMode;
  /** Hosts and moderators: removes an unverified participant, from its warning. */
  onRemove?: ((participantId: string) => Promise<void>) | null;
}

export function SecurityAlerts({ security, roster, mode, onRemove = null }: AlertsProps) {
  const { t } = useLang();
  const unverifiedEntries = roster.filter((e) => !e.self && e.trust === 'unverified');
  const unverified = unverifiedEntries.length > 0;
  return (
    <>
      {mode === 'none' && (
        <div class="alert e2ee-alert" role="alert" data-testid="e2ee-unsupported">
          <WarningIcon />
          <p>{t('e2ee.unsupported')}</p>
        </div>
      )}
      {security.wrongLink ? (
        <div class="alert e2ee-alert" role="alert" data-testid="wrong-link">
          <WarningIcon />
          <div>
            <p>
              <strong data-testid="wrong-link-title">{t('link.invalidTitle')}</strong>
            </p>
            <p>{t('e2ee.wrongLinkHint')}</p>
          </div>
        </div>
      ) : (
        unverified && (
          <div class="alert e2ee-alert" role="alert" data-testid="unverified-alert">
            <WarningIcon />
            <div>
              <p>{t('e2ee.unverifiedAlert')}</p>
              {onRemove !== null && (
                <ul class="unverified-list">
                  {unverifiedEntries.map((entry, i) => (
                    <li key={entry.id}>
                      {t('e2ee.unverifiedName')} {unverifiedEntries.length > 1 ? i + 1 : ''}{' '}
                      <button
                        type="button"
                        class="button danger small"
                        data-testid="remove-unverified"
                        data-participant-id={entry.id}
                        onClick={() => void onRemove(entry.id)}
                      >
                        {t('host.removeUnverified')}
                      </button>
                    </li>
                  ))}
                </ul>
              )}
            </div>
          </div>
        )
      )}
    </>
  );
}
