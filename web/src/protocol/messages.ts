// Conclave wire protocol, version 1: the messages of docs/protocol.md as TypeScript types, and
// the protocol's constants. tests/contract/protocol holds an example of every message.

export const PROTOCOL_VERSION = 1;
export const ROOM_ID_LENGTH = 32;
export const PARTICIPANT_ID_LENGTH = 22;
export const MAX_PROFILE_LENGTH = 8192;
export const MAX_REQUEST_ID_LENGTH = 64;
export const DEFAULT_MAX_MESSAGE_BYTES = 65536;
/** Longest SDP the server accepts in `publish` and `subscribe-answer`. */
export const MAX_SDP_LENGTH = 60000;
/** Most tracks one `publish` may list. */
export const MAX_PUBLISHED_TRACKS = 16;
/** Longest `relay` payload (bytes; relay payloads are ASCII JSON, so characters too). */
export const MAX_RELAY_PAYLOAD_LENGTH = 49152;
/** Most a `goodbye` may ask clients to wait before coming back (ms). */
export const MAX_GOODBYE_RETRY_AFTER_MS = 60000;

export type RequestId = number | string;

export interface Participant {
  id: string;
  profile: string;
  /** What the server lets this participant do (absent from servers before issue 10: participant). */
  role?: Role;
}

/** Roles in a meeting (docs/protocol.md, "Meeting security"). */
export const ROLES = ['host', 'moderator', 'participant'] as const;
export type Role = (typeof ROLES)[number];

/** Who may do what a policy governs: everyone, or hosts and moderators only. */
export const POLICY_VALUES = ['everyone', 'moderators'] as const;
export type PolicyValue = (typeof POLICY_VALUES)[number];
export const POLICY_NAMES = ['unmute', 'camera', 'screen', 'chat', 'files'] as const;
export type PolicyName = (typeof POLICY_NAMES)[number];
export type Policies = Record<PolicyName, PolicyValue>;

/** A meeting's settings as the server reports them (the PIN itself never comes back). */
export interface MeetingSettings {
  locked: boolean;
  lobby: boolean;
  hostMustBePresent: boolean;
  pinSet: boolean;
  maxParticipants: number;
  policies: Policies;
}

/** A change to the settings (`set-settings`): any subset; `pin` a new PIN, or null to clear it. */
export interface SettingsChange {
  locked?: boolean;
  lobby?: boolean;
  hostMustBePresent?: boolean;
  maxParticipants?: number;
  policies?: Partial<Policies>;
  pin?: string | null;
}

export const MAX_PARTICIPANTS_SETTING = 1000;
/** Host and moderator tokens: base64url of an HMAC-SHA256 (43 characters). */
export const HOST_TOKEN_LENGTH = 43;
export const PIN_PATTERN = /^[0-9]{6,12}$/;
/** Most people a `lobby` lists. */
export const MAX_LOBBY = 1000;
/** The sources a host may mute, and those whose unmuting it may ask for. */
export const MUTE_SOURCES = ['microphone', 'camera', 'screen'] as const;
export type MuteSource = (typeof MUTE_SOURCES)[number];
export const UNMUTE_SOURCES = ['microphone', 'camera'] as const;
export type UnmuteSource = (typeof UNMUTE_SOURCES)[number];
export const WAITING_REASONS = ['lobby', 'host-absent'] as const;
/** `lobby`, `host-absent`, or a reason a later server adds. */
export type WaitingReason = string;
export const MAX_SECURITY_LOG_LIMIT = 200;
/** Most a `blocked` error may ask a client to wait (ms). */
export const MAX_ERROR_RETRY_AFTER_MS = 86400000;

/** One entry of a meeting's security log: pseudonymous participant IDs, no names, no addresses. */
export interface SecurityLogEntry {
  at: number;
  type: string;
  actor?: string;
  subject?: string;
  detail?: string;
}

export interface HelloMessage {
  type: 'hello';
  id?: RequestId;
  version: number;
  client?: string;
}
export interface JoinMessage {
  type: 'join';
  id?: RequestId;
  roomId: string;
  profile: string;
  /** The host credential of this room, kept by the browser that created it. */
  hostToken?: string;
  /** The meeting's PIN, when the server asked for one. */
  pin?: string;
}
export interface UpdateProfileMessage {
  type: 'update-profile';
  id?: RequestId;
  profile: string;
}
export interface LeaveMessage {
  type: 'leave';
  id?: RequestId;
}
export interface PingMessage {
  type: 'ping';
  id?: RequestId;
}

/** What a published track carries; `kind` follows from it (audio for microphone and screen-audio). */
export const TRACK_SOURCES = ['microphone', 'camera', 'screen', 'screen-audio'] as const;
export type TrackSource = (typeof TRACK_SOURCES)[number];
export type MediaKind = 'audio' | 'video';

export interface PublishedTrack {
  mid: string;
  source: TrackSource;
}
export interface PublishMessage {
  type: 'publish';
  id?: RequestId;
  sdp: string;
  tracks: PublishedTrack[];
}
export interface SubscribeAnswerMessage {
  type: 'subscribe-answer';
  id?: RequestId;
  sdp: string;
}
export interface SubscribeRestartMessage {
  type: 'subscribe-restart';
  id?: RequestId;
}
/**
 * What a relay carries, as far as the server must know: a chat message (the meeting's chat policy
 * applies) or control traffic (keys, profiles, moves; the default).
 */
export const RELAY_KINDS = ['chat', 'control'] as const;
export type RelayKind = (typeof RELAY_KINDS)[number];

/** An opaque payload for one participant (`to`) or everyone else in the room. */
export interface RelayMessage {
  type: 'relay';
  id?: RequestId;
  payload: string;
  to?: string;
  /** Absent: "control". */
  kind?: RelayKind;
}
export interface FileUploadMessage {
  type: 'file-upload';
  id?: RequestId;
  size: number;
}
/** Asks for a new TURN credential before the current one expires (joined participants only). */
export interface TurnRefreshMessage {
  type: 'turn-refresh';
  id?: RequestId;
}
export interface SetSettingsMessage extends SettingsChange {
  type: 'set-settings';
  id?: RequestId;
}
export interface AdmitMessage {
  type: 'admit';
  id?: RequestId;
  participantId?: string;
  all?: boolean;
}
export interface DenyMessage {
  type: 'deny';
  id?: RequestId;
  participantId: string;
}
export interface SetRoleMessage {
  type: 'set-role';
  id?: RequestId;
  participantId: string;
  role: Role;
}
export interface MuteMessage {
  type: 'mute';
  id?: RequestId;
  participantId: string;
  source: MuteSource;
}
export interface RequestUnmuteMessage {
  type: 'request-unmute';
  id?: RequestId;
  participantId: string;
  source: UnmuteSource;
}
/** Unmutes oneself after a host's mute (allowed by policy, role, or a request since the mute). */
export interface UnmuteMessage {
  type: 'unmute';
  id?: RequestId;
  source: MuteSource;
}
export interface RemoveMessage {
  type: 'remove';
  id?: RequestId;
  participantId: string;
}
export interface EndMeetingMessage {
  type: 'end-meeting';
  id?: RequestId;
}
export interface MoveMeetingMessage {
  type: 'move-meeting';
  id?: RequestId;
}
export interface GetSecurityLogMessage {
  type: 'get-security-log';
  id?: RequestId;
  before?: number;
  limit: number;
}
/** The size at which one received video is shown, in device pixels (0x0: not shown). */
export interface VideoPreference {
  /** The subscribe connection's m-section. */
  mid: string;
  width: number;
  height: number;
}
/** Most entries in one `video-preferences`; largest width or height. */
export const MAX_VIDEO_PREFERENCES = 64;
export const MAX_VIDEO_DIMENSION = 16384;
/** Tile sizes for simulcast (no reply: sent whenever they change). */
export interface VideoPreferencesMessage {
  type: 'video-preferences';
  id?: RequestId;
  preferences: VideoPreference[];
}
/** Asks for the meeting's privacy receipt (members only). */
export interface PrivacyReceiptRequestMessage {
  type: 'privacy-receipt';
  id?: RequestId;
}
export type ClientMessage =
  | HelloMessage
  | JoinMessage
  | UpdateProfileMessage
  | LeaveMessage
  | PingMessage
  | PublishMessage
  | SubscribeAnswerMessage
  | SubscribeRestartMessage
  | RelayMessage
  | FileUploadMessage
  | TurnRefreshMessage
  | SetSettingsMessage
  | AdmitMessage
  | DenyMessage
  | SetRoleMessage
  | MuteMessage
  | RequestUnmuteMessage
  | UnmuteMessage
  | RemoveMessage
  | EndMeetingMessage
  | MoveMeetingMessage
  | GetSecurityLogMessage
  | VideoPreferencesMessage
  | PrivacyReceiptRequestMessage;

export interface WelcomeMessage {
  type: 'welcome';
  id?: RequestId;
  version: number;
  server: string;
  maxMessageBytes: number;
}
export interface JoinedMessage {
  type: 'joined';
  id?: RequestId;
  roomId: string;
  participantId: string;
  participants: Participant[];
  /** The server's TURN servers and a credential for them; absent when it has none. */
  turn?: TurnCredentials;
  /** This participant's role (absent from servers before issue 10: participant). */
  role?: Role;
  settings?: MeetingSettings;
}
/**
 * A time-limited TURN credential (the TURN REST API scheme): usable as an RTCIceServer, valid for
 * `ttl` seconds from when it was sent.
 */
export interface TurnCredentials {
  /** turn: and turns: URLs. */
  urls: string[];
  username: string;
  credential: string;
  ttl: number;
}
export interface TurnCredentialsMessage {
  type: 'turn-credentials';
  id?: RequestId;
  turn: TurnCredentials;
}
export interface ParticipantJoinedMessage {
  type: 'participant-joined';
  id?: RequestId;
  participant: Participant;
}
export interface ParticipantUpdatedMessage {
  type: 'participant-updated';
  id?: RequestId;
  participant: Participant;
}
export interface ParticipantLeftMessage {
  type: 'participant-left';
  id?: RequestId;
  participantId: string;
}
export interface ProfileUpdatedMessage {
  type: 'profile-updated';
  id?: RequestId;
}
export interface LeftMessage {
  type: 'left';
  id?: RequestId;
}
export interface PongMessage {
  type: 'pong';
  id?: RequestId;
}
/**
 * The server is stopping and closes the connection (1001) right after. `server-restart`: it
 * expects to be back soon; clients come back by themselves, first after about `retryAfterMs`.
 */
export interface GoodbyeMessage {
  type: 'goodbye';
  id?: RequestId;
  /** `server-restart`, or `server-shutdown` (older servers), or a reason a later server adds. */
  reason: string;
  retryAfterMs?: number;
}
export interface ErrorMessage {
  type: 'error';
  id?: RequestId;
  code: string;
  message: string;
  /** `blocked`: how long until another try may succeed. */
  retryAfterMs?: number;
}
export interface PublishAnswerMessage {
  type: 'publish-answer';
  id?: RequestId;
  sdp: string;
}
export interface SubscribeOkMessage {
  type: 'subscribe-ok';
  id?: RequestId;
}
/** One active m-section of a subscribe offer: whose track it carries. */
export interface SubscribedTrack {
  mid: string;
  kind: MediaKind;
  participantId: string;
  /** One of TRACK_SOURCES, or a source a later server version added. */
  source: string;
}
export interface SubscribeOfferMessage {
  type: 'subscribe-offer';
  id?: RequestId;
  sdp: string;
  tracks: SubscribedTrack[];
}
export type MediaConnection = 'publish' | 'subscribe';
export interface MediaFailedMessage {
  type: 'media-failed';
  id?: RequestId;
  connection: MediaConnection;
}
export interface RelayedMessage {
  type: 'relayed';
  id?: RequestId;
}
/** A payload another participant relayed (server → client `relay`). */
export interface RelayReceivedMessage {
  type: 'relay';
  id?: RequestId;
  from: string;
  payload: string;
  /**
   * Stamped by the server (absent, from older servers: "control"). Accept a chat message only from
   * a relay stamped "chat", and keys or control payloads only from one stamped "control".
   */
  kind?: RelayKind;
}
export interface FileUploadReadyMessage {
  type: 'file-upload-ready';
  id?: RequestId;
  fileId: string;
  uploadToken: string;
  /** Where to PUT the ciphertext and where the others GET it: `/api/files/<fileId>`. */
  url: string;
}
/** The join waits: in the lobby, or until a host arrives. `joined` follows when admitted. */
export interface WaitingMessage {
  type: 'waiting';
  id?: RequestId;
  participantId: string;
  reason: WaitingReason;
}
/** To hosts and moderators: everyone waiting, on every change. */
export interface LobbyMessage {
  type: 'lobby';
  id?: RequestId;
  waiting: Participant[];
}
export interface SettingsMessage {
  type: 'settings';
  id?: RequestId;
  settings: MeetingSettings;
}
export interface RoleMessage {
  type: 'role';
  id?: RequestId;
  participantId: string;
  role: Role;
  /** To the person whose role it is, only: gives the role back on a rejoin after a reconnect. */
  grant?: string;
}
export interface MutedByHostMessage {
  type: 'muted-by-host';
  id?: RequestId;
  /** One of MUTE_SOURCES, or a source a later server adds. */
  source: string;
  by: string;
}
export interface UnmuteRequestMessage {
  type: 'unmute-request';
  id?: RequestId;
  source: string;
  by: string;
}
export interface SettingsUpdatedMessage {
  type: 'settings-updated';
  id?: RequestId;
  settings?: MeetingSettings;
}
export interface AdmittedMessage {
  type: 'admitted';
  id?: RequestId;
}
export interface DeniedMessage {
  type: 'denied';
  id?: RequestId;
}
export interface RoleSetMessage {
  type: 'role-set';
  id?: RequestId;
}
export interface MutedMessage {
  type: 'muted';
  id?: RequestId;
}
export interface UnmuteRequestedMessage {
  type: 'unmute-requested';
  id?: RequestId;
}
export interface UnmutedMessage {
  type: 'unmuted';
  id?: RequestId;
}
export interface RemovedMessage {
  type: 'removed';
  id?: RequestId;
}
export interface EndedMessage {
  type: 'ended';
  id?: RequestId;
}
/** The meeting's new room and the host and moderator credentials for it (the reply to `move-meeting`). */
export interface MeetingMovedMessage {
  type: 'meeting-moved';
  id?: RequestId;
  roomId: string;
  hostToken: string;
  moderatorToken: string;
}
export interface SecurityLogMessage {
  type: 'security-log';
  id?: RequestId;
  entries: SecurityLogEntry[];
}
/** The signature of a privacy receipt (docs/privacy.md): Ed25519, lowercase hex. */
export interface ReceiptSignature {
  algorithm: string;
  publicKey: string;
  fingerprint: string;
  value: string;
}
/**
 * The privacy receipt: what the server holds about the meeting now, signed by its key. `receipt`
 * is kept whole (every field, known or not): the signature covers all of it.
 */
export interface PrivacyReceiptMessage {
  type: 'privacy-receipt';
  id?: RequestId;
  receipt: Record<string, unknown>;
  signature: ReceiptSignature;
}
export type ServerMessage =
  | WelcomeMessage
  | JoinedMessage
  | ParticipantJoinedMessage
  | ParticipantUpdatedMessage
  | ParticipantLeftMessage
  | ProfileUpdatedMessage
  | LeftMessage
  | PongMessage
  | GoodbyeMessage
  | ErrorMessage
  | PublishAnswerMessage
  | SubscribeOkMessage
  | SubscribeOfferMessage
  | MediaFailedMessage
  | RelayedMessage
  | RelayReceivedMessage
  | FileUploadReadyMessage
  | TurnCredentialsMessage
  | WaitingMessage
  | LobbyMessage
  | SettingsMessage
  | RoleMessage
  | MutedByHostMessage
  | UnmuteRequestMessage
  | SettingsUpdatedMessage
  | AdmittedMessage
  | DeniedMessage
  | RoleSetMessage
  | MutedMessage
  | UnmuteRequestedMessage
  | UnmutedMessage
  | RemovedMessage
  | EndedMessage
  | MeetingMovedMessage
  | SecurityLogMessage
  | PrivacyReceiptMessage;

export type ServerMessageType = ServerMessage['type'];

/** Error codes the server documents; the client also accepts codes it does not know yet. */
export const SERVER_ERROR_CODES = [
  'bad-json',
  'too-large',
  'unknown-type',
  'invalid-message',
  'hello-required',
  'unsupported-version',
  'already-joined',
  'not-joined',
  'room-not-found',
  'room-full',
  'rate-limited',
  'bad-sdp',
  'negotiation-failed',
  'invalid-state',
  'media-unavailable',
  'participant-not-found',
  'file-too-large',
  'quota-exceeded',
  'too-many-tracks',
  'forbidden-by-policy',
  'meeting-ended',
  'meeting-moved',
  'pin-required',
  'wrong-pin',
  'meeting-locked',
  'banned',
  'not-allowed',
  'blocked',
  'not-waiting',
  'internal',
] as const;

/** Codes of issue 10 (meeting security) the client explains; not yet in the contract fixtures. */
export const SECURITY_ERROR_CODES = [
  'pin-required',
  'wrong-pin',
  'meeting-locked',
  'banned',
  'meeting-ended',
  'meeting-moved',
  'not-allowed',
  'forbidden-by-policy',
  'blocked',
  'not-waiting',
  'login-required',
] as const;

/** Codes the client itself produces when a request fails without a server `error` reply. */
export const CLIENT_ERROR_CODES = ['timeout', 'closed', 'not-connected', 'protocol', 'too-large-local'] as const;

/** Most TURN URLs and the longest TURN credential lifetime the client accepts. */
export const MAX_TURN_URLS = 8;
export const MAX_TURN_TTL_SECONDS = 7 * 86400;

export const CLOSE_NORMAL = 1000;
export const CLOSE_GOING_AWAY = 1001;
export const CLOSE_POLICY = 1008;
export const CLOSE_TOO_BIG = 1009;
