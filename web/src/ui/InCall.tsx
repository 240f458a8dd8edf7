// The meeting itself: a grid of tiles (cameras, avatars, shared screens) each with its encryption
// badge, or the speaker view (one large tile, the others in a filmstrip), the security code, the
// controls bar, and a side panel with the people, the encrypted chat, renaming and the invite link.
// Tiles show each person's state as that person announced it over the end-to-end encrypted relay
// (microphone, camera, screen), who speaks and how well each one comes through, all measured here.
import { useEffect, useRef, useState, type MutableRef } from 'preact/hooks';
import { countText, errorText } from '../i18n';
import type { MediaController, MediaSnapshot } from '../media/controller';
import { trackOf, type RemoteParticipantMedia } from '../media/tracks';
import { MAX_NAME_LENGTH, normalizeName } from '../profile';
import type { SecuritySnapshot } from '../secure/secure_room';
import type { MeetingSession, MeetingView, RosterEntry, SessionState } from '../session';
import {
  EndMeetingButton,
  HostMuteNotices,
  isModerator,
  LobbyPanel,
  MeetingStatus,
  ParticipantMenu,
  RemovedOffer,
  RoleBadge,
  SecurityLogPanel,
  SettingsPanel,
} from './HostControls';
import { Chat } from './Chat';
import { ConnectionStatus } from './ConnectionStatus';
import { participantBadge, selfMediaProblem, type BadgeState, type MediaStatus } from './encryption';
import { InviteLink } from './InviteLink';
import { PrivacyReceiptPanel } from './PrivacyReceipt';
import { useLang } from './lang';
import { DeviceMenu, DeviceNotice } from './DeviceMenu';
import { QualityBadge, useQuality, useSpeakers } from './awareness';
import { focusTile, type Layout } from './layout';
import type { Quality } from '../media/quality';
import { AudioSink, CameraIcon, LeaveIcon, MicIcon, PinIcon, ScreenIcon, useStream, Video } from './media';
import { avatarClass, initial } from './people';
import { ToggleButton } from './PreJoin';
import { displayName, EncryptionBadge, SecurityAlerts, SecurityCode } from './Security';
import { loadSetting, saveSetting } from './storage';

interface Props {
  roster: RosterEntry[];
  security: SecuritySnapshot;
  session: MeetingSession;
  controller: MediaController;
  media: MediaSnapshot;
  link: string;
  meeting: MeetingView;
  /** The session lost its connection: the call is shown as it was, not live. */
  reconnecting: Extract<SessionState, { kind: 'reconnecting' }> | null;
}

interface TileModel {
  key: string;
  participantId: string;
  name: string;
  self: boolean;
  kind: 'camera' | 'screen';
  video: MediaStreamTrack | null;
  /** The subscribe m-section carrying `video` (null: own tile, or no video received). */
  mid: string | null;
  /** Camera turned off, microphone muted, screen shared (own, or as the person announced it). */
  cameraOff: boolean;
  muted: boolean;
  sharing: boolean;
  badge: BadgeState;
}

/** Columns for `count` camera tiles: 1, 2 (up to 4), 3 (up to 9), then 4. */
export function columnsFor(count: number): number {
  if (count <= 1) return 1;
  if (count <= 4) return 2;
  if (count <= 9) return 3;
  return 4;
}

/**
 * The grid's column and row classes. Beside a shared screen the cameras form one strip; more
 * than four rows scroll.
 */
export function gridClass(count: number, withScreen: boolean): string {
  const cols = withScreen ? Math.min(Math.max(count, 1), 4) : columnsFor(count);
  const rows = Math.min(Math.max(1, Math.ceil(count / cols)), withScreen ? 1 : 4);
  return `cols-${cols} rows-${rows}`;
}

function mediaStatus(media: MediaSnapshot, reconnecting: boolean): MediaStatus {
  return {
    mode: media.encryption.mode,
    tracks: media.encryption.tracks,
    reconnecting,
    states: media.states,
    publishError: media.publishError,
    publishing: media.publishing,
    offered: new Set(media.remote.map((r) => r.participantId)),
  };
}

function tiles(
  roster: RosterEntry[],
  media: MediaSnapshot,
  status: MediaStatus,
  nameOf: (entry: RosterEntry) => string,
): { screens: TileModel[]; cameras: TileModel[] } {
  const remote = new Map<string, RemoteParticipantMedia>(media.remote.map((r) => [r.participantId, r]));
  const screens: TileModel[] = [];
  const cameras: TileModel[] = [];
  for (const entry of roster) {
    const badge = participantBadge(entry, status);
    const name = nameOf(entry);
    if (entry.self) {
      const screen = media.screen?.getVideoTracks()[0] ?? null;
      if (screen) {
        screens.push({
          key: `screen-${entry.id}`,
          participantId: entry.id,
          name,
          self: true,
          kind: 'screen',
          video: screen,
          mid: null,
          cameraOff: false,
          muted: false,
          sharing: false,
          badge,
        });
      }
      cameras.push({
        key: `camera-${entry.id}`,
        participantId: entry.id,
        name,
        self: true,
        kind: 'camera',
        video: media.camera.track,
        mid: null,
        cameraOff: !media.camera.enabled || media.camera.track === null,
        muted: !media.microphone.enabled || media.microphone.track === null,
        sharing: media.screen !== null,
        badge,
      });
      continue;
    }
    const received = remote.get(entry.id);
    const screen = trackOf(received, 'screen');
    if (screen) {
      screens.push({
        key: `screen-${entry.id}-${screen.mid}`,
        participantId: entry.id,
        name,
        self: false,
        kind: 'screen',
        video: screen.track,
        mid: screen.mid,
        cameraOff: false,
        muted: false,
        sharing: false,
        badge,
      });
    }
    const camera = trackOf(received, 'camera');
    // What the person announced (null until it did): a camera that is off sends black frames.
    const announced = entry.media;
    cameras.push({
      key: `camera-${entry.id}-${camera?.mid ?? 'none'}`,
      participantId: entry.id,
      name,
      self: false,
      kind: 'camera',
      video: camera?.track ?? null,
      mid: camera?.mid ?? null,
      cameraOff: camera === null || announced?.camera === false,
      muted: announced?.microphone === false,
      sharing: announced?.screen === true || screen !== null,
      badge,
    });
  }
  return { screens, cameras };
}

export function InCall({ roster, security, session, controller, media, link, meeting, reconnecting }: Props) {
  const lang = useLang();
  const { t } = lang;
  const [removed, setRemoved] = useState(false);
  const [actionError, setActionError] = useState<string | null>(null);
  const mayCamera = session.may('camera');
  const mayScreen = session.may('screen');
  useEffect(() => {
    // A policy that forbids a source: it is not published (the server would refuse the whole offer).
    controller.setSourceAllowed('camera', mayCamera);
    controller.setSourceAllowed('screen', mayScreen);
  }, [controller, mayCamera, mayScreen]);
  const moderator = isModerator(meeting.role);
  const removeUnverified = moderator
    ? async (id: string): Promise<void> => {
        setActionError(null);
        try {
          await session.remove(id);
          setRemoved(true);
        } catch (err) {
          setActionError(errorText(lang.lang, err instanceof Error && 'code' in err ? String(err.code) : 'internal'));
        }
      }
    : null;
  const unmute = async (source: 'microphone' | 'camera'): Promise<void> => {
    setActionError(null);
    try {
      await session.unmuteSelf(source);
      if (source === 'microphone') controller.setMicrophoneEnabled(true);
      else controller.setCameraEnabled(true);
    } catch (err) {
      setActionError(errorText(lang.lang, err instanceof Error && 'code' in err ? String(err.code) : 'internal'));
    }
  };
  const sorted = [...roster].sort((a, b) => Number(b.self) - Number(a.self));
  const headingRef = useRef<HTMLHeadingElement>(null);
  useEffect(() => headingRef.current?.focus(), []);
  const nameOf = (entry: RosterEntry): string => displayName(entry, t);
  const status = mediaStatus(media, reconnecting !== null);
  const { screens, cameras } = tiles(sorted, media, status, nameOf);
  const selfEntry = sorted.find((e) => e.self);
  const selfProblem = selfEntry ? selfMediaProblem(participantBadge(selfEntry, status), status) : null;
  const verifiedNames = new Map(
    roster.filter((e) => !e.self && e.trust === 'verified' && e.name !== null).map((e) => [e.id, e.name ?? '']),
  );
  const audio = media.remote.flatMap((r) =>
    r.tracks.filter((track) => track.kind === 'audio').map((track) => ({ participantId: r.participantId, ...track })),
  );
  const mediaReconnecting =
    reconnecting === null && (media.states.publish === 'failed' || media.states.subscribe === 'failed');

  // Own state, announced to the members (end-to-end encrypted) whenever it changes.
  const micOn = media.microphone.enabled && media.microphone.track !== null;
  const cameraOn = media.camera.enabled && media.camera.track !== null;
  const sharingScreen = media.screen !== null;
  useEffect(
    () => session.setMediaState({ microphone: micOn, camera: cameraOn, screen: sharingScreen }),
    [session, micOn, cameraOn, sharingScreen],
  );
  // Who speaks: the levels of the decrypted microphone audio of each person, and of one's own.
  const voices = new Map<string, MediaStreamTrack>();
  for (const person of media.remote) {
    const mic = person.tracks.find((track) => track.source === 'microphone');
    if (mic) voices.set(person.participantId, mic.track);
  }
  if (selfEntry && media.microphone.track) voices.set(selfEntry.id, media.microphone.track);
  const speakers = useSpeakers(voices);
  const cameraOffOf = new Map(cameras.map((c) => [c.participantId, c.cameraOff]));
  const quality = useQuality(controller, media.remote, (id) => cameraOffOf.get(id) === false);
  const [layout, setLayout] = useState<Layout>('grid');
  const [pinned, setPinned] = useState<string | null>(null);
  const pinnedId = cameras.some((c) => c.participantId === pinned) ? pinned : null;
  const togglePin = (id: string): void => {
    if (pinnedId === id) {
      setPinned(null);
      return;
    }
    setPinned(id);
    setLayout('speaker');
  };
  const focus = layout === 'speaker' ? focusTile(cameras, pinnedId, speakers.dominant) : null;
  const tileProps = (tile: TileModel): TileProps => ({
    tile,
    speaking: speakers.speaking.has(tile.participantId) && !tile.muted && tile.kind === 'camera',
    quality: tile.self ? undefined : quality.get(tile.participantId),
    pinned: pinnedId === tile.participantId && tile.kind === 'camera',
    onPin: tile.kind === 'camera' && cameras.length > 1 ? () => togglePin(tile.participantId) : null,
  });

  return (
    <div class="call" data-testid="call" data-live={reconnecting === null ? 'true' : 'false'}>
      <div class="call-main">
        <div class="room-header">
          <h1 id="room-title" ref={headingRef} tabIndex={-1}>
            {t('room.inMeeting')}
          </h1>
          <span class="badge" data-testid="roster-count">
            {countText(lang.lang, sorted.length)}
          </span>
          <LayoutSwitch layout={layout} onChange={setLayout} />
        </div>
        <MeetingStatus meeting={meeting} roster={sorted} />
        {moderator && (
          <div class="host-tools" role="group" aria-label={t('settings.title')}>
            <SettingsPanel meeting={meeting} session={session} />
            <SecurityLogPanel meeting={meeting} session={session} roster={sorted} />
            <EndMeetingButton meeting={meeting} session={session} />
          </div>
        )}
        <div class="host-tools" role="group" aria-label={t('receipt.group')}>
          <PrivacyReceiptPanel session={session} roster={sorted} />
        </div>
        {removed && <RemovedOffer meeting={meeting} session={session} onDismiss={() => setRemoved(false)} />}
        <HostMuteNotices
          meeting={meeting}
          onAccept={(source) => void unmute(source)}
          onDismiss={() => session.dismissUnmuteRequest()}
        />
        {actionError !== null && (
          <p class="field-error" role="alert" data-testid="action-error">
            {t('host.failed', { error: actionError })}
          </p>
        )}
        {reconnecting !== null && <ConnectionStatus state={reconnecting} session={session} />}
        {!security.wrongLink && <SecurityCode security={security} compared={meeting.compared} session={session} />}
        <SecurityAlerts security={security} roster={sorted} mode={media.encryption.mode} onRemove={removeUnverified} />
        {selfProblem !== null && reconnecting === null && (
          <p class="notice notice-loud" role="status" data-testid="self-media-status" data-problem={selfProblem.key}>
            {t(selfProblem.key, { code: selfProblem.code })}
          </p>
        )}
        {media.error !== null && media.error !== media.publishError && reconnecting === null && (
          <p class="notice" role="status" data-testid="media-error">
            {t('call.mediaError', { code: media.error })}
          </p>
        )}
        {mediaReconnecting && (
          <p class="notice" role="status">
            {t('call.mediaReconnecting')}
          </p>
        )}
        <DeviceNotice controller={controller} media={media} />
        {screens.length > 0 && (
          <div class="stage">
            {screens.map((tile) => (
              <Tile key={tile.key} {...tileProps(tile)} />
            ))}
          </div>
        )}
        {focus === null ? (
          <div class="tiles-area">
            <ul
              class={`tiles ${gridClass(cameras.length, screens.length > 0)}`}
              data-testid="tiles"
              data-layout="grid"
              aria-label={t('call.people')}
            >
              {cameras.map((tile) => (
                <Tile key={tile.key} {...tileProps(tile)} />
              ))}
            </ul>
          </div>
        ) : (
          <div class="speaker-view" data-testid="tiles" data-layout="speaker">
            <div class="speaker-main" data-testid="speaker-main">
              <Tile key={focus.key} {...tileProps(focus)} element="div" />
            </div>
            {cameras.length > 1 && (
              <ul class="filmstrip" aria-label={t('call.filmstrip')} data-testid="filmstrip">
                {cameras
                  .filter((tile) => tile !== focus)
                  .map((tile) => (
                    <Tile key={tile.key} {...tileProps(tile)} compact />
                  ))}
              </ul>
            )}
          </div>
        )}
        <Controls controller={controller} media={media} session={session} onUnmute={(s) => void unmute(s)} />
      </div>
      <aside class="call-side" aria-labelledby="people-title">
        <LobbyPanel meeting={meeting} session={session} />
        <h2 id="people-title">{t('call.people')}</h2>
        <ul class="roster" data-testid="roster" aria-labelledby="people-title">
          {sorted.map((entry) => (
            <li
              key={entry.id}
              class="roster-item"
              data-testid="roster-item"
              data-self={entry.self ? 'true' : 'false'}
              data-trust={entry.trust}
              data-role={entry.role}
              data-participant-id={entry.id}
            >
              <span class={avatarClass(entry.id)} aria-hidden="true">
                {initial(entry.self || entry.trust === 'verified' ? entry.name : null)}
              </span>
              <span class="roster-name">
                <span data-testid="roster-name">{nameOf(entry)}</span>
                {entry.self && <span class="you"> {t('room.you')}</span>}
              </span>
              <RoleBadge role={entry.role} />
              <EncryptionBadge state={participantBadge(entry, status)} compact />
              <ParticipantMenu entry={entry} meeting={meeting} session={session} onRemoved={() => setRemoved(true)} />
            </li>
          ))}
        </ul>
        <Chat
          session={session}
          names={verifiedNames}
          canChat={session.may('chat')}
          canShareFiles={session.may('files')}
        />
        <RenameForm session={session} />
        <details class="disclosure">
          <summary>{t('room.inviteOthers')}</summary>
          <InviteLink link={link} id="room-invite" />
        </details>
      </aside>
      <div class="audio-sinks visually-hidden">
        {audio.map((a) => (
          <AudioSink
            key={`${a.participantId}-${a.mid}`}
            track={a.track}
            sinkId={media.speakerId}
            participantId={a.participantId}
            onSinkError={(id, error) => controller.speakerFailed(id, error)}
          />
        ))}
      </div>
    </div>
  );
}

/** Grid or speaker view: two toggle buttons (aria-pressed), so the choice is one key press away. */
function LayoutSwitch({ layout, onChange }: { layout: Layout; onChange: (layout: Layout) => void }) {
  const { t } = useLang();
  return (
    <div class="layout-switch" role="group" aria-label={t('call.layout')}>
      {(['grid', 'speaker'] as const).map((option) => (
        <button
          key={option}
          type="button"
          class="layout-option"
          aria-pressed={layout === option}
          data-testid={`layout-${option}`}
          onClick={() => onChange(option)}
        >
          {t(option === 'grid' ? 'call.layoutGrid' : 'call.layoutSpeaker')}
        </button>
      ))}
    </div>
  );
}

interface TileProps {
  tile: TileModel;
  speaking: boolean;
  quality: Quality | undefined;
  pinned: boolean;
  /** Pins or unpins this tile (null: nothing to pin it against). */
  onPin: (() => void) | null;
  /** A list item in the grid and filmstrip; a plain box as the speaker view's large tile. */
  element?: 'li' | 'div';
  /** A small tile (filmstrip): the encryption badge as an icon only. */
  compact?: boolean;
  /**
   * The video element of this tile, for observers of its rendered size (e.g. the video
   * preferences that pick a simulcast layer; `tile.mid` names its stream).
   */
  videoRef?: MutableRef<HTMLVideoElement | null>;
}

function Tile({ tile, speaking, quality, pinned, onPin, element, compact = false, videoRef }: TileProps) {
  const { t } = useLang();
  const ownVideoRef = useRef<HTMLVideoElement | null>(null);
  const videoElement = videoRef ?? ownVideoRef;
  const stream = useStream([tile.video]);
  const name = tile.name;
  const caption =
    tile.kind === 'screen'
      ? tile.self
        ? t('call.yourScreen')
        : t('call.screenOf', { name })
      : tile.self
        ? `${name} ${t('room.you')}`
        : name;
  const showVideo = stream !== null && !tile.cameraOff;
  const Element = element ?? (tile.kind === 'screen' ? 'div' : 'li');
  const classes = ['tile', 'tile-frame'];
  if (tile.kind === 'screen') classes.push('tile-screen');
  if (speaking) classes.push('tile-speaking');
  return (
    <Element
      class={classes.join(' ')}
      data-testid="tile"
      data-participant-id={tile.participantId}
      data-kind={tile.kind}
      data-self={tile.self ? 'true' : 'false'}
      data-video={showVideo ? 'true' : 'false'}
      data-e2ee={tile.badge}
      data-speaking={speaking ? 'true' : 'false'}
      data-muted={tile.muted ? 'true' : 'false'}
      data-camera-off={tile.cameraOff ? 'true' : 'false'}
      data-sharing={tile.sharing ? 'true' : 'false'}
      data-pinned={pinned ? 'true' : 'false'}
    >
      {tile.kind === 'camera' && (
        <div class="tile-placeholder" data-testid={showVideo ? undefined : 'tile-avatar'}>
          <span class={`${avatarClass(tile.participantId)} avatar-large`} aria-hidden="true">
            {initial(tile.badge === 'unverified' || tile.badge === 'verifying' ? null : tile.name)}
          </span>
        </div>
      )}
      <span class="tile-badge">
        <EncryptionBadge state={tile.badge} compact={compact} />
      </span>
      {showVideo && (
        <Video
          stream={stream}
          mirrored={tile.self && tile.kind === 'camera'}
          fit={tile.kind === 'screen' ? 'contain' : 'cover'}
          testId="tile-video"
          videoRef={videoElement}
          mid={tile.mid ?? undefined}
        />
      )}
      <span class="tile-footer">
        <span class="tile-name" data-testid="tile-name">
          {tile.muted && (
            <span class="tile-muted" title={t('call.muted')} data-testid="tile-muted">
              <MicIcon off />
              <span class="visually-hidden">{t('call.muted')}</span>
            </span>
          )}
          {caption}
          {speaking && <span class="visually-hidden"> ({t('call.speaking')})</span>}
        </span>
        <span class="tile-status">
          {tile.kind === 'camera' && tile.sharing && (
            <span class="tile-icon" title={t('call.sharingScreen')} data-testid="tile-sharing">
              <ScreenIcon />
              <span class="visually-hidden">{t('call.sharingScreen')}</span>
            </span>
          )}
          {tile.kind === 'camera' && tile.cameraOff && (
            <span class="tile-icon" title={t('call.cameraIsOff')} data-testid="tile-camera-off">
              <CameraIcon off />
              <span class="visually-hidden">{t('call.cameraIsOff')}</span>
            </span>
          )}
          {tile.kind === 'camera' && <QualityBadge quality={quality} />}
          {onPin !== null && (
            <button
              type="button"
              class="tile-pin"
              aria-pressed={pinned}
              title={t(pinned ? 'call.unpin' : 'call.pin', { name })}
              aria-label={t(pinned ? 'call.unpin' : 'call.pin', { name })}
              data-testid="tile-pin"
              onClick={onPin}
            >
              <PinIcon />
            </button>
          )}
        </span>
      </span>
    </Element>
  );
}

function Controls({
  controller,
  media,
  session,
  onUnmute,
}: {
  controller: MediaController;
  media: MediaSnapshot;
  session: MeetingSession;
  /** Switching a source on that a host muted: the server must agree first. */
  onUnmute: (source: 'microphone' | 'camera') => void;
}) {
  const { t } = useLang();
  const mic = media.microphone;
  const cam = media.camera;
  const sharing = media.screen !== null;
  // Why a control cannot be switched on: the meeting's policy, or a host's mute.
  const micBlocked = !mic.enabled && !session.mayUnmute('microphone') ? t('forbidden.unmute') : null;
  const camBlocked = !session.may('camera')
    ? t('forbidden.camera')
    : !cam.enabled && !session.mayUnmute('camera')
      ? t('forbidden.unmute')
      : null;
  const screenBlocked = !sharing && !session.may('screen') ? t('forbidden.screen') : null;
  const hostMuted = (source: 'microphone' | 'camera'): boolean =>
    session.state.kind === 'joined' && session.state.meeting.hostMuted.includes(source);
  return (
    <div class="controls" role="group" aria-label={t('call.controls')} data-testid="controls">
      <ToggleButton
        testId="mic-button"
        label={t('call.microphone')}
        title={
          mic.track === null ? t('call.noDevice') : (micBlocked ?? (mic.enabled ? t('call.mute') : t('call.unmute')))
        }
        on={mic.enabled && mic.track !== null}
        disabled={mic.track === null || micBlocked !== null}
        onToggle={() =>
          !mic.enabled && hostMuted('microphone')
            ? onUnmute('microphone')
            : controller.setMicrophoneEnabled(!mic.enabled)
        }
        icon={<MicIcon off={!mic.enabled || mic.track === null} />}
        showLabel
      />
      <ToggleButton
        testId="camera-button"
        label={t('call.camera')}
        title={
          cam.track === null
            ? t('call.noDevice')
            : (camBlocked ?? (cam.enabled ? t('call.cameraOff') : t('call.cameraOn')))
        }
        on={cam.enabled && cam.track !== null && camBlocked === null}
        disabled={cam.track === null || camBlocked !== null}
        onToggle={() =>
          !cam.enabled && hostMuted('camera') ? onUnmute('camera') : controller.setCameraEnabled(!cam.enabled)
        }
        icon={<CameraIcon off={!cam.enabled || cam.track === null} />}
        showLabel
      />
      {media.canShareScreen && (
        <ToggleButton
          testId="share-button"
          label={t('call.share')}
          title={sharing ? t('call.stopShare') : (screenBlocked ?? t('call.startShare'))}
          on={sharing}
          disabled={screenBlocked !== null}
          onToggle={() => (sharing ? controller.stopScreenShare() : void controller.startScreenShare())}
          icon={<ScreenIcon />}
          showLabel
        />
      )}
      <DeviceMenu controller={controller} media={media} />
      <button type="button" class="toggle toggle-leave" data-testid="leave-button" onClick={() => void session.leave()}>
        <LeaveIcon />
        <span class="toggle-label">{t('room.leave')}</span>
      </button>
      {[micBlocked, camBlocked, screenBlocked]
        .filter((reason, i, all): reason is string => reason !== null && all.indexOf(reason) === i)
        .map((reason) => (
          <p key={reason} class="hint" data-testid="control-blocked">
            {reason}
          </p>
        ))}
      {media.screenProblem !== null && (
        <p class="field-error" role="alert">
          {t('call.shareFailed')}
        </p>
      )}
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
