// Conclave wire protocol, version 1 (see docs/protocol.md). No DOM code here: this module is
// shared by the UI and the unit tests, which drive it with a fake socket and a fake fetch.
//
// Privacy: nothing in this module ever sees the invite secret except the link helpers at the
// bottom, which only build and parse links. The signaling client and createRoom() take no secret.

import { base64UrlEncode } from './e2ee/util';

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
/** Longest SDP the client accepts from the server (far above any real offer). */
const MAX_SERVER_SDP_LENGTH = 1 << 20;
/** Most m-sections the client accepts in one subscribe offer. */
const MAX_SUBSCRIBED_TRACKS = 4096;

// ---------------------------------------------------------------------------------------------
// Message types

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
/** An opaque payload for one participant (`to`) or everyone else in the room. */
export interface RelayMessage {
  type: 'relay';
  id?: RequestId;
  payload: string;
  to?: string;
}
export interface FileUploadMessage {
  type: 'file-upload';
  id?: RequestId;
  size: number;
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
  | FileUploadMessage;

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
export interface GoodbyeMessage {
  type: 'goodbye';
  id?: RequestId;
  reason: string;
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
  | FileUploadReadyMessage;

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
  'internal',
] as const;

/** Codes the client itself produces when a request fails without a server `error` reply. */
export const CLIENT_ERROR_CODES = ['timeout', 'closed', 'not-connected', 'protocol', 'too-large-local'] as const;

export const CLOSE_NORMAL = 1000;
export const CLOSE_GOING_AWAY = 1001;
export const CLOSE_POLICY = 1008;
export const CLOSE_TOO_BIG = 1009;

// ---------------------------------------------------------------------------------------------
// Validation of server messages. Every field is checked before the message is used. Fields the
// client does not know are dropped (the server may add fields in a later version), unknown
// message types are refused.

export type ValidationResult =
  | { ok: true; message: ServerMessage }
  | { ok: false; reason: string };

const BASE64URL = /^[A-Za-z0-9_-]*$/;

type Json = Record<string, unknown>;

class Invalid extends Error {}

function isPlainObject(value: unknown): value is Json {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function field(obj: Json, name: string): unknown {
  return Object.prototype.hasOwnProperty.call(obj, name) ? obj[name] : undefined;
}

function str(obj: Json, name: string, maxLength: number): string {
  const value = field(obj, name);
  if (typeof value !== 'string') throw new Invalid(`${name}: expected a string`);
  if (value.length > maxLength) throw new Invalid(`${name}: longer than ${maxLength}`);
  return value;
}

function int(obj: Json, name: string, min: number, max: number): number {
  const value = field(obj, name);
  if (typeof value !== 'number' || !Number.isSafeInteger(value)) {
    throw new Invalid(`${name}: expected an integer`);
  }
  if (value < min || value > max) throw new Invalid(`${name}: out of range`);
  return value;
}

function base64UrlId(obj: Json, name: string, length: number): string {
  const value = str(obj, name, length);
  if (value.length !== length || !BASE64URL.test(value)) {
    throw new Invalid(`${name}: expected ${length} URL-safe base64 characters`);
  }
  return value;
}

export function isRoomId(value: string): boolean {
  return value.length === ROOM_ID_LENGTH && BASE64URL.test(value);
}

export function isParticipantId(value: string): boolean {
  return value.length === PARTICIPANT_ID_LENGTH && BASE64URL.test(value);
}

export function isRequestId(value: unknown): value is RequestId {
  if (typeof value === 'number') {
    return Number.isSafeInteger(value) && value >= 0;
  }
  return typeof value === 'string' && value.length <= MAX_REQUEST_ID_LENGTH;
}

function participant(value: unknown, name: string): Participant {
  if (!isPlainObject(value)) throw new Invalid(`${name}: expected an object`);
  return {
    id: base64UrlId(value, 'id', PARTICIPANT_ID_LENGTH),
    profile: str(value, 'profile', MAX_PROFILE_LENGTH),
  };
}

// Upper bound on the roster a client accepts in one `joined`; far above any sane room limit.
const MAX_PARTICIPANTS = 10000;

function participants(obj: Json): Participant[] {
  const value = field(obj, 'participants');
  if (!Array.isArray(value)) throw new Invalid('participants: expected an array');
  if (value.length > MAX_PARTICIPANTS) throw new Invalid('participants: too many');
  const list = value.map((item: unknown, index) => participant(item, `participants[${index}]`));
  const ids = new Set(list.map((p) => p.id));
  if (ids.size !== list.length) throw new Invalid('participants: duplicate id');
  return list;
}

// An SDP `mid` is a token; Chromium uses small integers, the server its own short names.
const MID = /^[A-Za-z0-9!#$%&'*+.^_`{|}~-]{1,32}$/;

function mid(obj: Json): string {
  const value = str(obj, 'mid', 32);
  if (!MID.test(value)) throw new Invalid('mid: not an SDP token');
  return value;
}

function oneOf<T extends string>(obj: Json, name: string, allowed: readonly T[]): T {
  const value = str(obj, name, 64);
  if (!(allowed as readonly string[]).includes(value)) throw new Invalid(`${name}: unknown value`);
  return value as T;
}

function subscribedTracks(obj: Json): SubscribedTrack[] {
  const value = field(obj, 'tracks');
  if (!Array.isArray(value)) throw new Invalid('tracks: expected an array');
  if (value.length > MAX_SUBSCRIBED_TRACKS) throw new Invalid('tracks: too many');
  const list = value.map((item: unknown, index): SubscribedTrack => {
    if (!isPlainObject(item)) throw new Invalid(`tracks[${index}]: expected an object`);
    return {
      mid: mid(item),
      kind: oneOf(item, 'kind', ['audio', 'video'] as const),
      participantId: base64UrlId(item, 'participantId', PARTICIPANT_ID_LENGTH),
      source: str(item, 'source', 64),
    };
  });
  if (new Set(list.map((t) => t.mid)).size !== list.length) throw new Invalid('tracks: duplicate mid');
  return list;
}

type BodyParser = (obj: Json) => Omit<ServerMessage, 'type' | 'id'>;

// The declarative table: one parser per server message type.
const SERVER_SCHEMAS: Record<ServerMessageType, BodyParser> = {
  welcome: (o) => ({
    version: int(o, 'version', PROTOCOL_VERSION, PROTOCOL_VERSION),
    server: str(o, 'server', 256),
    maxMessageBytes: int(o, 'maxMessageBytes', 1024, Number.MAX_SAFE_INTEGER),
  }),
  joined: (o) => ({
    roomId: base64UrlId(o, 'roomId', ROOM_ID_LENGTH),
    participantId: base64UrlId(o, 'participantId', PARTICIPANT_ID_LENGTH),
    participants: participants(o),
  }),
  'participant-joined': (o) => ({ participant: participant(field(o, 'participant'), 'participant') }),
  'participant-updated': (o) => ({ participant: participant(field(o, 'participant'), 'participant') }),
  'participant-left': (o) => ({
    participantId: base64UrlId(o, 'participantId', PARTICIPANT_ID_LENGTH),
  }),
  'profile-updated': () => ({}),
  left: () => ({}),
  pong: () => ({}),
  goodbye: (o) => ({ reason: str(o, 'reason', 64) }),
  error: (o) => ({ code: str(o, 'code', 64), message: str(o, 'message', 1024) }),
  'publish-answer': (o) => ({ sdp: str(o, 'sdp', MAX_SERVER_SDP_LENGTH) }),
  'subscribe-ok': () => ({}),
  'subscribe-offer': (o) => ({ sdp: str(o, 'sdp', MAX_SERVER_SDP_LENGTH), tracks: subscribedTracks(o) }),
  'media-failed': (o) => ({ connection: oneOf(o, 'connection', ['publish', 'subscribe'] as const) }),
  relayed: () => ({}),
  relay: (o) => ({
    from: base64UrlId(o, 'from', PARTICIPANT_ID_LENGTH),
    payload: str(o, 'payload', MAX_RELAY_PAYLOAD_LENGTH),
  }),
  'file-upload-ready': (o) => {
    const fileId = str(o, 'fileId', 128);
    if (fileId.length === 0 || !BASE64URL.test(fileId)) throw new Invalid('fileId: expected URL-safe base64');
    const url = str(o, 'url', 256);
    if (url !== `/api/files/${fileId}`) throw new Invalid('url: not the file\'s /api/files/ path');
    const uploadToken = str(o, 'uploadToken', 256);
    if (uploadToken.length === 0 || !BASE64URL.test(uploadToken)) throw new Invalid('uploadToken: expected URL-safe base64');
    return { fileId, uploadToken, url };
  },
};

function isServerMessageType(value: string): value is ServerMessageType {
  return Object.prototype.hasOwnProperty.call(SERVER_SCHEMAS, value);
}

/** Validates a server message that was already parsed from JSON. */
export function validateServerMessage(value: unknown): ValidationResult {
  if (!isPlainObject(value)) return { ok: false, reason: 'not a JSON object' };
  const type = field(value, 'type');
  if (typeof type !== 'string') return { ok: false, reason: 'type: expected a string' };
  if (!isServerMessageType(type)) return { ok: false, reason: `unknown type "${type.slice(0, 40)}"` };
  const id = field(value, 'id');
  if (id !== undefined && !isRequestId(id)) return { ok: false, reason: 'id: invalid' };
  try {
    const body = SERVER_SCHEMAS[type](value);
    const message = { type, ...body, ...(id === undefined ? {} : { id }) } as ServerMessage;
    return { ok: true, message };
  } catch (err) {
    if (err instanceof Invalid) return { ok: false, reason: `${type}: ${err.message}` };
    throw err;
  }
}

/** Parses and validates one WebSocket text frame from the server. */
export function parseServerFrame(data: unknown): ValidationResult {
  if (typeof data !== 'string') return { ok: false, reason: 'not a text frame' };
  let parsed: unknown;
  try {
    parsed = JSON.parse(data);
  } catch {
    return { ok: false, reason: 'not JSON' };
  }
  return validateServerMessage(parsed);
}

// ---------------------------------------------------------------------------------------------
// Signaling client

/** The part of the browser WebSocket the client uses, so tests can pass a fake. */
export interface SocketLike {
  send(data: string): void;
  close(code?: number, reason?: string): void;
  onopen: ((event: unknown) => void) | null;
  onmessage: ((event: { data: unknown }) => void) | null;
  onclose: ((event: { code: number; reason: string }) => void) | null;
  onerror: ((event: unknown) => void) | null;
}

export type SocketFactory = (url: string) => SocketLike;

export class SignalingError extends Error {
  /** A server error code (SERVER_ERROR_CODES) or a client one (CLIENT_ERROR_CODES). */
  readonly code: string;
  constructor(code: string, message: string) {
    super(message);
    this.name = 'SignalingError';
    this.code = code;
  }
}

export interface CloseInfo {
  code: number;
  reason: string;
  /** The server sent `goodbye` before closing. */
  afterGoodbye: boolean;
  /** close() was called on this client. */
  byClient: boolean;
}

export interface SignalingEvents {
  'participant-joined': (participant: Participant) => void;
  'participant-updated': (participant: Participant) => void;
  'participant-left': (participantId: string) => void;
  goodbye: (reason: string) => void;
  /** The server offers the subscribe connection's new state; answer with subscribeAnswer(). */
  'subscribe-offer': (offer: { sdp: string; tracks: SubscribedTrack[] }) => void;
  /** The server lost ICE consent on one of the media connections; restart its ICE. */
  'media-failed': (connection: MediaConnection) => void;
  /** Another participant relayed an opaque payload to this one (or to everyone). */
  relay: (from: string, payload: string) => void;
  /** An `error` from the server that answers no pending request (e.g. `rate-limited`). */
  'server-error': (error: SignalingError) => void;
  /** The server sent something that does not match the protocol; the message was dropped. */
  'protocol-violation': (reason: string) => void;
  close: (info: CloseInfo) => void;
}

type EventName = keyof SignalingEvents;

const REPLY_TYPE = {
  hello: 'welcome',
  join: 'joined',
  'update-profile': 'profile-updated',
  leave: 'left',
  ping: 'pong',
  publish: 'publish-answer',
  'subscribe-answer': 'subscribe-ok',
  'subscribe-restart': 'subscribe-ok',
  relay: 'relayed',
  'file-upload': 'file-upload-ready',
} as const satisfies Record<ClientMessage['type'], ServerMessageType>;

type ReplyFor<T extends ClientMessage['type']> = Extract<ServerMessage, { type: (typeof REPLY_TYPE)[T] }>;

interface Pending {
  expect: ServerMessageType;
  resolve: (message: ServerMessage) => void;
  reject: (error: SignalingError) => void;
  timer: ReturnType<typeof setTimeout>;
}

export type SignalingState = 'new' | 'connecting' | 'open' | 'closed';

export interface SignalingClientOptions {
  url: string;
  socketFactory: SocketFactory;
  /** Sent as `hello.client`. */
  clientName?: string;
  requestTimeoutMs?: number;
}

export class SignalingClient {
  private readonly mOptions: SignalingClientOptions;
  private mSocket: SocketLike | null = null;
  private mState: SignalingState = 'new';
  private mNextId = 1;
  private readonly mPending = new Map<RequestId, Pending>();
  private readonly mHandlers: { [E in EventName]?: Set<SignalingEvents[E]> } = {};
  private mMaxMessageBytes = DEFAULT_MAX_MESSAGE_BYTES;
  private mGotGoodbye = false;
  private mClosedByClient = false;
  private mWelcome: WelcomeMessage | null = null;
  private mOpenWaiter: { resolve: () => void; reject: (error: SignalingError) => void } | null = null;

  constructor(options: SignalingClientOptions) {
    this.mOptions = options;
  }

  get state(): SignalingState {
    return this.mState;
  }

  get welcome(): WelcomeMessage | null {
    return this.mWelcome;
  }

  on<E extends EventName>(event: E, handler: SignalingEvents[E]): () => void {
    const set: Set<SignalingEvents[E]> = this.mHandlers[event] ?? new Set();
    this.mHandlers[event] = set as (typeof this.mHandlers)[E];
    set.add(handler);
    return () => {
      set.delete(handler);
    };
  }

  /** Opens the socket and says hello; resolves with the server's `welcome`. */
  async connect(): Promise<WelcomeMessage> {
    if (this.mState !== 'new') throw new SignalingError('not-connected', 'connect() called twice');
    this.mState = 'connecting';
    const socket = this.mOptions.socketFactory(this.mOptions.url);
    this.mSocket = socket;
    socket.onmessage = (event) => this.handleFrame(event.data);
    socket.onclose = (event) => this.handleClose(event.code, event.reason);
    socket.onerror = () => {
      // The browser follows every error with a close event; handleClose reports it.
    };
    await new Promise<void>((resolve, reject) => {
      this.mOpenWaiter = { resolve, reject };
      socket.onopen = () => {
        this.mOpenWaiter = null;
        this.mState = 'open';
        resolve();
      };
    });
    const hello: Omit<HelloMessage, 'id'> = { type: 'hello', version: PROTOCOL_VERSION };
    if (this.mOptions.clientName !== undefined) hello.client = this.mOptions.clientName;
    const welcome = await this.request(hello);
    this.mMaxMessageBytes = welcome.maxMessageBytes;
    this.mWelcome = welcome;
    return welcome;
  }

  join(roomId: string, profile: string): Promise<JoinedMessage> {
    return this.request({ type: 'join', roomId, profile });
  }

  async updateProfile(profile: string): Promise<void> {
    await this.request({ type: 'update-profile', profile });
  }

  async leave(): Promise<void> {
    await this.request({ type: 'leave' });
  }

  async ping(): Promise<void> {
    await this.request({ type: 'ping' });
  }

  /** Sends a publish offer with the source of each sending m-section; resolves with the answer SDP. */
  async publish(sdp: string, tracks: PublishedTrack[]): Promise<string> {
    if (sdp.length > MAX_SDP_LENGTH) throw new SignalingError('too-large-local', 'offer too large');
    if (tracks.length > MAX_PUBLISHED_TRACKS) throw new SignalingError('too-large-local', 'too many tracks');
    const listed = tracks.map((t) => ({ mid: t.mid, source: t.source }));
    const answer = await this.request({ type: 'publish', sdp, tracks: listed });
    return answer.sdp;
  }

  /** Answers the last `subscribe-offer`. */
  async subscribeAnswer(sdp: string): Promise<void> {
    if (sdp.length > MAX_SDP_LENGTH) throw new SignalingError('too-large-local', 'answer too large');
    await this.request({ type: 'subscribe-answer', sdp });
  }

  /** Asks the server to restart ICE on the subscribe connection; a new offer follows. */
  async subscribeRestart(): Promise<void> {
    await this.request({ type: 'subscribe-restart' });
  }

  /**
   * Relays an opaque payload to one participant (`to`) or to everyone else in the room; resolves
   * when the server accepted it (`relayed`).
   */
  async relay(payload: string, to?: string): Promise<void> {
    if (payload.length === 0 || payload.length > MAX_RELAY_PAYLOAD_LENGTH) {
      throw new SignalingError('too-large-local', 'relay payload empty or too large');
    }
    await this.request(to === undefined ? { type: 'relay', payload } : { type: 'relay', payload, to });
  }

  /** Reserves an upload of `size` bytes of ciphertext; resolves with where and how to PUT it. */
  async fileUpload(size: number): Promise<{ fileId: string; uploadToken: string; url: string }> {
    if (!Number.isSafeInteger(size) || size < 1) throw new SignalingError('too-large-local', 'invalid file size');
    const ready = await this.request({ type: 'file-upload', size });
    return { fileId: ready.fileId, uploadToken: ready.uploadToken, url: ready.url };
  }

  /** Closes the connection normally (1000). Pending requests are rejected with `closed`. */
  close(): void {
    if (this.mState === 'closed') return;
    this.mClosedByClient = true;
    const socket = this.mSocket;
    if (socket) {
      try {
        socket.close(CLOSE_NORMAL, 'bye');
      } catch {
        // Closing an already failing socket may throw in some browsers; the state is closed anyway.
      }
    }
    this.handleClose(CLOSE_NORMAL, 'closed by client');
  }

  /** Sends a request with a fresh `id` and resolves with the matching reply. */
  request<T extends ClientMessage['type']>(
    message: Omit<Extract<ClientMessage, { type: T }>, 'id'> & { type: T },
  ): Promise<ReplyFor<T>> {
    if (this.mState !== 'open' || !this.mSocket) {
      return Promise.reject(new SignalingError('not-connected', 'not connected'));
    }
    const id = this.mNextId++;
    const text = JSON.stringify({ ...message, id });
    if (new TextEncoder().encode(text).length > this.mMaxMessageBytes) {
      return Promise.reject(new SignalingError('too-large-local', 'message too large'));
    }
    const expect: ServerMessageType = REPLY_TYPE[message.type];
    const socket = this.mSocket;
    return new Promise<ReplyFor<T>>((resolve, reject) => {
      const timer = setTimeout(() => {
        this.mPending.delete(id);
        reject(new SignalingError('timeout', `no reply to ${message.type}`));
      }, this.mOptions.requestTimeoutMs ?? 10000);
      this.mPending.set(id, {
        expect,
        resolve: resolve as (m: ServerMessage) => void,
        reject,
        timer,
      });
      socket.send(text);
    });
  }

  private emit<E extends EventName>(event: E, ...args: Parameters<SignalingEvents[E]>): void {
    const set: Set<SignalingEvents[E]> | undefined = this.mHandlers[event];
    if (!set) return;
    for (const handler of [...set]) {
      (handler as (...a: Parameters<SignalingEvents[E]>) => void)(...args);
    }
  }

  private handleFrame(data: unknown): void {
    if (this.mState === 'closed') return;
    const result = parseServerFrame(data);
    if (!result.ok) {
      this.emit('protocol-violation', result.reason);
      return;
    }
    const message = result.message;
    if (message.id !== undefined) {
      this.settle(message.id, message);
      return;
    }
    switch (message.type) {
      case 'participant-joined':
        this.emit('participant-joined', message.participant);
        return;
      case 'participant-updated':
        this.emit('participant-updated', message.participant);
        return;
      case 'participant-left':
        this.emit('participant-left', message.participantId);
        return;
      case 'subscribe-offer':
        this.emit('subscribe-offer', { sdp: message.sdp, tracks: message.tracks });
        return;
      case 'media-failed':
        this.emit('media-failed', message.connection);
        return;
      case 'relay':
        this.emit('relay', message.from, message.payload);
        return;
      case 'goodbye':
        this.mGotGoodbye = true;
        this.emit('goodbye', message.reason);
        return;
      case 'error':
        this.emit('server-error', new SignalingError(message.code, message.message));
        return;
      default:
        this.emit('protocol-violation', `unexpected ${message.type} without id`);
    }
  }

  private settle(id: RequestId, message: ServerMessage): void {
    const pending = this.mPending.get(id);
    if (!pending) {
      this.emit('protocol-violation', `reply ${message.type} to an unknown id`);
      return;
    }
    this.mPending.delete(id);
    clearTimeout(pending.timer);
    if (message.type === 'error') {
      pending.reject(new SignalingError(message.code, message.message));
    } else if (message.type !== pending.expect) {
      pending.reject(new SignalingError('protocol', `expected ${pending.expect}, got ${message.type}`));
    } else {
      pending.resolve(message);
    }
  }

  private handleClose(code: number, reason: string): void {
    if (this.mState === 'closed') return;
    this.mState = 'closed';
    const socket = this.mSocket;
    if (socket) {
      socket.onopen = null;
      socket.onmessage = null;
      socket.onclose = null;
      socket.onerror = null;
    }
    if (this.mOpenWaiter) {
      this.mOpenWaiter.reject(new SignalingError('closed', `connection closed (${code})`));
      this.mOpenWaiter = null;
    }
    for (const pending of this.mPending.values()) {
      clearTimeout(pending.timer);
      pending.reject(new SignalingError('closed', `connection closed (${code})`));
    }
    this.mPending.clear();
    this.emit('close', {
      code,
      reason,
      afterGoodbye: this.mGotGoodbye,
      byClient: this.mClosedByClient,
    });
  }
}

/** The signaling URL for a page served from `origin` (e.g. `https://host:8443`). */
export function signalingUrl(origin: string): string {
  const url = new URL('/ws', origin);
  url.protocol = url.protocol === 'http:' ? 'ws:' : 'wss:';
  return url.toString();
}

// ---------------------------------------------------------------------------------------------
// Rooms and invite links

export type FetchLike = (input: string, init?: RequestInit) => Promise<Response>;

export class RoomApiError extends Error {
  readonly code: string;
  readonly status: number;
  constructor(code: string, status: number, message: string) {
    super(message);
    this.name = 'RoomApiError';
    this.code = code;
    this.status = status;
  }
}

/** Asks the server for a new room (`POST /api/rooms`). Sends no body and no secret. */
export async function createRoom(fetchFn: FetchLike): Promise<string> {
  let response: Response;
  try {
    response = await fetchFn('/api/rooms', {
      method: 'POST',
      credentials: 'omit',
      cache: 'no-store',
      referrerPolicy: 'no-referrer',
    });
  } catch (err) {
    throw new RoomApiError('network', 0, err instanceof Error ? err.message : 'network error');
  }
  let body: unknown;
  try {
    body = await response.json();
  } catch {
    body = undefined;
  }
  if (!response.ok) {
    const error = isPlainObject(body) ? field(body, 'error') : undefined;
    const code = isPlainObject(error) ? field(error, 'code') : undefined;
    const message = isPlainObject(error) ? field(error, 'message') : undefined;
    throw new RoomApiError(
      typeof code === 'string' ? code.slice(0, 64) : 'http-error',
      response.status,
      typeof message === 'string' ? message.slice(0, 1024) : `HTTP ${response.status}`,
    );
  }
  const roomId = isPlainObject(body) ? field(body, 'roomId') : undefined;
  if (typeof roomId !== 'string' || !isRoomId(roomId)) {
    throw new RoomApiError('protocol', response.status, 'the server sent no valid room ID');
  }
  return roomId;
}

export const SECRET_BYTES = 32;
/** Secrets shorter than 128 bits (22 base64url characters) are refused. */
export const MIN_SECRET_LENGTH = 22;
export const MAX_SECRET_LENGTH = 256;

export { base64UrlEncode };

type RandomSource = Pick<Crypto, 'getRandomValues'>;

/** A fresh 256-bit room secret, base64url without padding (43 characters). */
export function generateSecret(random: RandomSource = globalThis.crypto): string {
  const bytes = new Uint8Array(SECRET_BYTES);
  random.getRandomValues(bytes);
  return base64UrlEncode(bytes);
}

export function isValidSecret(secret: string): boolean {
  return (
    secret.length >= MIN_SECRET_LENGTH &&
    secret.length <= MAX_SECRET_LENGTH &&
    secret.length % 4 !== 1 &&
    BASE64URL.test(secret)
  );
}

/** `https://HOST/r/<roomId>#<secret>` for a page served from `origin`. */
export function buildInviteLink(origin: string, roomId: string, secret: string): string {
  if (!isRoomId(roomId)) throw new Error('invalid room ID');
  if (!isValidSecret(secret)) throw new Error('invalid secret');
  return `${new URL(origin).origin}/r/${roomId}#${secret}`;
}

export type RoomLink =
  | { ok: true; roomId: string; secret: string }
  | { ok: false; problem: 'not-a-room' | 'bad-room-id' | 'missing-secret' | 'bad-secret' };

/** Parses the path and fragment of a room page (`/r/<roomId>` and `#<secret>`). */
export function parseRoomLocation(pathname: string, hash: string): RoomLink {
  const match = /^\/r\/([^/]*)\/?$/.exec(pathname);
  if (!match) return { ok: false, problem: 'not-a-room' };
  const roomId = match[1] ?? '';
  if (!isRoomId(roomId)) return { ok: false, problem: 'bad-room-id' };
  const secret = hash.startsWith('#') ? hash.slice(1) : hash;
  if (secret === '') return { ok: false, problem: 'missing-secret' };
  if (!isValidSecret(secret)) return { ok: false, problem: 'bad-secret' };
  return { ok: true, roomId, secret };
}

/** Parses a whole invite link. */
export function parseInviteLink(link: string): RoomLink {
  let url: URL;
  try {
    url = new URL(link);
  } catch {
    return { ok: false, problem: 'not-a-room' };
  }
  if (url.protocol !== 'https:' && url.protocol !== 'http:') return { ok: false, problem: 'not-a-room' };
  return parseRoomLocation(url.pathname, url.hash);
}
