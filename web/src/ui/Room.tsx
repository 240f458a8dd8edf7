import { useEffect, useRef, useState } from 'preact/hooks';
import { errorText, type MessageKey } from '../i18n';
import { MediaController, type MediaSnapshot } from '../media/controller';
import { createFrameCrypto } from '../media/frame_crypto';
import { signalingUrl } from '../protocol/client';
import { buildInviteLink } from '../protocol/invite';
import { MeetingSession, type Announcement, type SessionState } from '../session';
import { ConnectionStatus } from './ConnectionStatus';
import { InCall } from './InCall';
import { useLang, type LangValue } from './lang';
import { PreJoin } from './PreJoin';
import { openBrowserSocket } from './socket';
import { GONE_CODES, GoneScreen, PinPrompt, WaitingScreen } from './Admission';
import { HOST_TOKENS, loadSetting } from './storage';
import { exposeTestHook, testFrameCrypto, testPeerConnection, testSocketFactory } from '../testing/hook';

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
    case 'unverified':
      return t('announce.unverified');
    case 'moved':
      return t('announce.moved');
    case 'role':
      return t(`announce.role.${a.role}`);
    case 'muted-by-host':
      return t(`announce.muted.${a.source}` as MessageKey);
    case 'waiting':
      return t('announce.waiting');
  }
}

/**
 * A room page with a valid link. The secret stays in this page: it derives the room's keys
 * (membership proofs, profiles, pairwise key transport) and is shown again in the invite link.
 */
export function Room({
  roomId: initialRoomId,
  secret: initialSecret,
  onMoved,
}: {
  roomId: string;
  secret: string;
  /** The meeting moved to another room and secret (the page remembers them for its address). */
  onMoved?: (roomId: string, secret: string) => void;
}) {
  const lang = useLang();
  const { t } = lang;
  const [state, setState] = useState<SessionState>({ kind: 'idle' });
  const [place, setPlace] = useState({ roomId: initialRoomId, secret: initialSecret });
  const { roomId, secret } = place;
  const [announcement, setAnnouncement] = useState<Announcement | null>(null);
  const [media, setMedia] = useState<MediaSnapshot | null>(null);
  // The App keys this component by room and secret, so one session and one set of devices live
  // as long as the component.
  const sessionRef = useRef<MeetingSession | null>(null);
  const [controller] = useState((): MediaController => {
    // Every frame sent and received goes through the end-to-end encryption worker.
    const frameCrypto = createFrameCrypto((tracks) => {
      created.cryptoStatsChanged(tracks);
      // A member whose frames stopped decrypting is asked for its key again.
      for (const t of tracks) {
        if (t.role === 'receive' && t.state === 'failing' && t.participantId !== null) {
          sessionRef.current?.secure?.reportUndecryptable(t.participantId);
        }
      }
    });
    const created: MediaController = new MediaController({
      // Undefined on plain http (no secure context): joining then works receive-only.
      ...(navigator.mediaDevices ? { devices: navigator.mediaDevices } : {}),
      ...(navigator.permissions ? { permissions: navigator.permissions } : {}),
      // The end-to-end build lets the browser tests see the connections and the keys.
      frameCrypto: __CONCLAVE_TEST_HOOKS__ ? testFrameCrypto(frameCrypto) : frameCrypto,
      ...(__CONCLAVE_TEST_HOOKS__ ? { createPeerConnection: testPeerConnection } : {}),
      onChange: () => setMedia(created.snapshot()),
    });
    return created;
  });
  const [session] = useState(
    () =>
      new MeetingSession({
        roomId: initialRoomId,
        secret: initialSecret,
        url: signalingUrl(window.location.origin),
        socketFactory: __CONCLAVE_TEST_HOOKS__ ? testSocketFactory(openBrowserSocket) : openBrowserSocket,
        onState: setState,
        onAnnounce: setAnnouncement,
        media: controller,
        hostTokens: HOST_TOKENS,
        // A host's mute: the server stopped forwarding the source; switch it off here too.
        onHostMute: (source) => {
          if (source === 'microphone') controller.setMicrophoneEnabled(false);
          else if (source === 'camera') controller.setCameraEnabled(false);
          else controller.stopScreenShare();
        },
        onMoved: (nextRoom, nextSecret) => {
          setPlace({ roomId: nextRoom, secret: nextSecret });
          // The address follows the meeting (without the secret, as for every room page).
          window.history.replaceState(window.history.state, '', `/r/${nextRoom}`);
          onMoved?.(nextRoom, nextSecret);
        },
      }),
  );
  sessionRef.current = session;
  useEffect(() => {
    if (__CONCLAVE_TEST_HOOKS__) exposeTestHook(controller, session, initialRoomId);
    return () => {
      session.dispose();
      controller.dispose();
    };
  }, [session, controller, initialRoomId]);
  useEffect(() => {
    // The network going away and coming back: stop trying while offline, try at once when back.
    const update = (): void => session.setOnline(navigator.onLine);
    window.addEventListener('online', update);
    window.addEventListener('offline', update);
    return () => {
      window.removeEventListener('online', update);
      window.removeEventListener('offline', update);
    };
  }, [session]);
  const sentAway = state.kind === 'left' || (state.kind === 'failed' && GONE_CODES.has(state.code));
  useEffect(() => {
    // Leaving (or being sent away) turns the camera and microphone off; rejoining asks for them again.
    if (sentAway) controller.release();
  }, [sentAway, controller]);

  const link = buildInviteLink(window.location.origin, roomId, secret);
  const snapshot = media ?? controller.snapshot();
  const rejoin = (): void => {
    void controller.acquire().then(() => session.join(loadSetting('displayName') ?? ''));
  };

  // While the session reconnects, the call stays on screen as it was (marked as not live).
  const call = state.kind === 'joined' ? state : state.kind === 'reconnecting' ? state.call : null;

  return (
    <section class={call !== null ? 'call-page' : 'card'} aria-labelledby="room-title">
      <p class="visually-hidden" aria-live="polite" data-testid="announcer">
        {announcement ? announcementText(lang, announcement) : ''}
      </p>
      {(state.kind === 'idle' ||
        state.kind === 'connecting' ||
        (state.kind === 'failed' && !GONE_CODES.has(state.code))) && (
        <PreJoin
          controller={controller}
          media={snapshot}
          busy={state.kind === 'connecting'}
          error={state.kind === 'failed' ? errorText(lang.lang, state.code) : null}
          onJoin={(name) => session.join(name)}
        />
      )}
      {state.kind === 'failed' && GONE_CODES.has(state.code) && (
        <GoneScreen code={state.code} retryAt={state.retryAt ?? null} onRetry={rejoin} />
      )}
      {state.kind === 'waiting' && <WaitingScreen reason={state.reason} session={session} />}
      {state.kind === 'pin' && <PinPrompt wrong={state.wrong} session={session} />}
      {call !== null && (
        <InCall
          roster={call.roster}
          security={call.security}
          session={session}
          controller={controller}
          media={snapshot}
          link={link}
          meeting={call.meeting}
          reconnecting={state.kind === 'reconnecting' ? state : null}
        />
      )}
      {state.kind === 'reconnecting' && call === null && (
        <div class="stack">
          <h1 id="room-title">{t('room.inMeeting')}</h1>
          <ConnectionStatus state={state} session={session} />
        </div>
      )}
      {state.kind === 'left' && <LeftMeeting onRejoin={rejoin} />}
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
