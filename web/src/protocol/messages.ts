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
  | TurnRefreshMessage;

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
  | TurnCredentialsMessage;

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
  'internal',
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
