// The banner of a session that lost its connection: why ("the server is restarting", "offline",
// "the connection was lost"), when the next try is, and a button to try now.
import { useEffect, useState } from 'preact/hooks';
import type { MeetingSession, SessionState } from '../session';
import { useLang } from './lang';

/** "Reconnecting…" with why, when the next try is, and a button to try now. */
export function ConnectionStatus(props: {
  state: Extract<SessionState, { kind: 'reconnecting' }>;
  session: MeetingSession;
}) {
  const { t } = useLang();
  const [now, setNow] = useState(() => Date.now());
  useEffect(() => {
    const timer = setInterval(() => setNow(Date.now()), 500);
    return () => clearInterval(timer);
  }, []);
  const { retryAt, reason } = props.state;
  const seconds = retryAt === null ? 0 : Math.max(0, Math.ceil((retryAt - now) / 1000));
  const text =
    reason === 'restart'
      ? t('status.restarting')
      : reason === 'offline'
        ? t('status.offline')
        : reason === 'moving'
          ? t('status.moving')
          : t('status.reconnecting');

  return (
    <div class="notice reconnecting" data-testid="connection-status" data-reason={reason}>
      <p role="status">
        <strong>{text}</strong>
      </p>
      {props.state.call !== null && <p class="hint">{t('status.notLive')}</p>}
      {retryAt !== null && seconds >= 2 && <p class="hint">{t('status.reconnectIn', { seconds })}</p>}
      <div class="actions">
        <button
          type="button"
          class="button secondary"
          data-testid="reconnect-now"
          disabled={retryAt === null || reason === 'offline'}
          onClick={() => props.session.reconnectNow()}
        >
          {t('status.reconnectNow')}
        </button>
        {props.state.call === null && (
          <button
            type="button"
            class="button danger"
            data-testid="leave-button"
            onClick={() => void props.session.leave()}
          >
            {t('room.leave')}
          </button>
        )}
      </div>
    </div>
  );
}
