// The signaling client (docs/protocol.md, "Signaling over WebSocket"): one WebSocket to the
// server, requests matched to their replies by id, events for everything else. No DOM code here:
// tests drive it with a fake socket. It never sees the invite secret.

import {
  CLOSE_NORMAL,
  DEFAULT_MAX_MESSAGE_BYTES,
  MAX_PUBLISHED_TRACKS,
  MAX_RELAY_PAYLOAD_LENGTH,
  MAX_SDP_LENGTH,
  PROTOCOL_VERSION,
  type ClientMessage,
  type HelloMessage,
  type JoinedMessage,
  type MediaConnection,
  type MeetingSettings,
  type MuteSource,
  type Participant,
  type RelayKind,
  type Role,
  type SecurityLogEntry,
  type ReceiptSignature,
  type SettingsChange,
  type UnmuteSource,
  type WaitingMessage,
  type PublishedTrack,
  type RequestId,
  type ServerMessage,
  type ServerMessageType,
  type SubscribedTrack,
  type TurnCredentials,
  type VideoPreference,
  type WelcomeMessage,
} from './messages';
import { parseServerFrame } from './validate';

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
  /** The server is going away (`server-restart`: it comes back; first try after about `retryAfterMs`). */
  goodbye: (reason: string, retryAfterMs: number | null) => void;
  /** The server offers the subscribe connection's new state; answer with subscribeAnswer(). */
  'subscribe-offer': (offer: { sdp: string; tracks: SubscribedTrack[] }) => void;
  /** The server lost ICE consent on one of the media connections; restart its ICE. */
  'media-failed': (connection: MediaConnection) => void;
  /**
   * Another participant relayed an opaque payload to this one (or to everyone); `kind` as the
   * server stamped it (`control` when it stamped nothing).
   */
  relay: (from: string, payload: string, kind: RelayKind) => void;
  /** A join that waited (`waiting`) was admitted: the `joined` that ends the wait. */
  admitted: (joined: JoinedMessage) => void;
  /** To hosts and moderators: everyone waiting now. */
  lobby: (waiting: Participant[]) => void;
  settings: (settings: MeetingSettings) => void;
  role: (participantId: string, role: Role, grant?: string) => void;
  /** A host or moderator muted one of this participant's sources; the server stopped forwarding it. */
  'muted-by-host': (source: string, by: string) => void;
  /** A host or moderator asks this participant to unmute (nothing switches on by itself). */
  'unmute-request': (source: string, by: string) => void;
  /** New TURN credentials replaced the ones of `joined` (see iceServers). */
  'ice-servers': (servers: IceServer[]) => void;
  /** An `error` from the server that answers no pending request (e.g. `rate-limited`). */
  'server-error': (error: SignalingError) => void;
  /** The server sent something that does not match the protocol; the message was dropped. */
  'protocol-violation': (reason: string) => void;
  close: (info: CloseInfo) => void;
}

type EventName = keyof SignalingEvents;

/** Client messages the server answers (the others are notifications). */
type RequestType = Exclude<ClientMessage['type'], 'video-preferences'>;

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
  'turn-refresh': 'turn-credentials',
  'set-settings': 'settings-updated',
  admit: 'admitted',
  deny: 'denied',
  'set-role': 'role-set',
  mute: 'muted',
  'request-unmute': 'unmute-requested',
  unmute: 'unmuted',
  remove: 'removed',
  'end-meeting': 'ended',
  'move-meeting': 'meeting-moved',
  'get-security-log': 'security-log',
  'privacy-receipt': 'privacy-receipt',
} as const satisfies Record<RequestType, ServerMessageType>;

/** Replies a request may get besides its own (a join that has to wait gets `waiting`). */
const OTHER_REPLY_TYPES: Partial<Record<ClientMessage['type'], readonly ServerMessageType[]>> = {
  join: ['waiting'],
};

type ReplyFor<T extends RequestType> = Extract<
  ServerMessage,
  { type: (typeof REPLY_TYPE)[T] | (T extends 'join' ? 'waiting' : never) }
>;

/** A participant's own credentials for a join: the host token and the meeting's PIN. */
export interface JoinCredentials {
  hostToken?: string | null;
  pin?: string | null;
}

export class SignalingError extends Error {
  /** A server error code (SERVER_ERROR_CODES) or a client one (CLIENT_ERROR_CODES). */
  readonly code: string;
  /** `blocked`: when another try may succeed (ms from when the error came); null otherwise. */
  readonly retryAfterMs: number | null;
  constructor(code: string, message: string, retryAfterMs: number | null = null) {
    super(message);
    this.name = 'SignalingError';
    this.code = code;
    this.retryAfterMs = retryAfterMs;
  }
}

interface Pending {
  expect: ServerMessageType;
  /** Other reply types that settle it. */
  alsoExpect: readonly ServerMessageType[];
  resolve: (message: ServerMessage) => void;
  reject: (error: SignalingError) => void;
  timer: ReturnType<typeof setTimeout>;
}

/** A TURN server with its credential, as RTCConfiguration.iceServers takes it. */
export interface IceServer {
  urls: string[];
  username: string;
  credential: string;
}

/** When a failed TURN refresh is tried again. */
const TURN_RETRY_MS = 15000;

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
  private mIceServers: IceServer[] = [];
  private mTurnTimer: ReturnType<typeof setTimeout> | null = null;
  /** Counts stopTurn() calls: a refresh answered after leave() is dropped. */
  private mTurnEpoch = 0;
  /** The join got `waiting`: the next `joined` admits this participant. */
  private mWaiting = false;

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

  /**
   * Joins a room: resolves with `joined`, or with `waiting` when the meeting makes this
   * participant wait (the `admitted` event brings the `joined` later, or `goodbye` `denied`).
   */
  async join(
    roomId: string,
    profile: string,
    credentials: JoinCredentials = {},
  ): Promise<JoinedMessage | WaitingMessage> {
    const message: Omit<Extract<ClientMessage, { type: 'join' }>, 'id'> = { type: 'join', roomId, profile };
    if (credentials.hostToken) message.hostToken = credentials.hostToken;
    if (credentials.pin) message.pin = credentials.pin;
    const reply = await this.request(message);
    if (reply.type === 'joined') {
      this.mWaiting = false;
      if (reply.turn) this.setTurn(reply.turn);
    } else {
      this.mWaiting = true;
    }
    return reply;
  }

  async setSettings(change: SettingsChange): Promise<void> {
    await this.request({ type: 'set-settings', ...change });
  }

  /** Admits one waiting participant, or (null) everyone waiting. */
  async admit(participantId: string | null): Promise<void> {
    await this.request(participantId === null ? { type: 'admit', all: true } : { type: 'admit', participantId });
  }

  async deny(participantId: string): Promise<void> {
    await this.request({ type: 'deny', participantId });
  }

  async setRole(participantId: string, role: Role): Promise<void> {
    await this.request({ type: 'set-role', participantId, role });
  }

  async mute(participantId: string, source: MuteSource): Promise<void> {
    await this.request({ type: 'mute', participantId, source });
  }

  async requestUnmute(participantId: string, source: UnmuteSource): Promise<void> {
    await this.request({ type: 'request-unmute', participantId, source });
  }

  /** Unmutes one of this participant's own sources after a host muted it. */
  async unmute(source: MuteSource): Promise<void> {
    await this.request({ type: 'unmute', source });
  }

  /** Removes a participant (joined or waiting); the server bans its source for the meeting. */
  async remove(participantId: string): Promise<void> {
    await this.request({ type: 'remove', participantId });
  }

  async endMeeting(): Promise<void> {
    await this.request({ type: 'end-meeting' });
  }

  /** Moves the meeting to a new room ID: resolves with it and the host and moderator tokens for it. */
  async moveMeeting(): Promise<{ roomId: string; hostToken: string; moderatorToken: string }> {
    const reply = await this.request({ type: 'move-meeting' });
    return { roomId: reply.roomId, hostToken: reply.hostToken, moderatorToken: reply.moderatorToken };
  }

  async securityLog(limit: number, before?: number): Promise<SecurityLogEntry[]> {
    const reply = await this.request(
      before === undefined ? { type: 'get-security-log', limit } : { type: 'get-security-log', limit, before },
    );
    return reply.entries;
  }

  /** The meeting's privacy receipt as the server signed it: `{ receipt, signature }`, the downloadable form. */
  async privacyReceipt(): Promise<{ receipt: Record<string, unknown>; signature: ReceiptSignature }> {
    const reply = await this.request({ type: 'privacy-receipt' });
    return { receipt: reply.receipt, signature: reply.signature };
  }

  /**
   * The TURN servers of this membership with a valid credential (empty when the server has
   * none). A credential is renewed halfway through its lifetime while the client stays joined;
   * `ice-servers` reports each renewal.
   */
  get iceServers(): IceServer[] {
    return this.mIceServers;
  }

  async updateProfile(profile: string): Promise<void> {
    await this.request({ type: 'update-profile', profile });
  }

  async leave(): Promise<void> {
    this.stopTurn();
    await this.request({ type: 'leave' });
  }

  /** A round trip to the server; `timeoutMs` overrides the request timeout (a quick liveness check). */
  async ping(timeoutMs?: number): Promise<void> {
    await this.request({ type: 'ping' }, timeoutMs);
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

  /**
   * Tells the server how large each received video is shown (simulcast layer choice; 0x0 pauses
   * it). No reply; dropped when not connected (the sizes are sent again after a new offer).
   */
  videoPreferences(preferences: VideoPreference[]): void {
    if (this.mState !== 'open' || !this.mSocket || preferences.length === 0) return;
    this.mSocket.send(JSON.stringify({ type: 'video-preferences', preferences }));
  }

  /** Asks the server to restart ICE on the subscribe connection; a new offer follows. */
  async subscribeRestart(): Promise<void> {
    await this.request({ type: 'subscribe-restart' });
  }

  /**
   * Relays an opaque payload to one participant (`to`) or to everyone else in the room; resolves
   * when the server accepted it (`relayed`).
   */
  async relay(payload: string, to?: string, kind: RelayKind = 'control'): Promise<void> {
    if (payload.length === 0 || payload.length > MAX_RELAY_PAYLOAD_LENGTH) {
      throw new SignalingError('too-large-local', 'relay payload empty or too large');
    }
    // `control` is the server's default: said only when it is `chat`.
    const message: Omit<Extract<ClientMessage, { type: 'relay' }>, 'id'> = { type: 'relay', payload };
    if (to !== undefined) message.to = to;
    if (kind === 'chat') message.kind = kind;
    await this.request(message);
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
  request<T extends RequestType>(
    message: Omit<Extract<ClientMessage, { type: T }>, 'id'> & { type: T },
    timeoutMs?: number,
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
    const alsoExpect = OTHER_REPLY_TYPES[message.type] ?? [];
    const socket = this.mSocket;
    return new Promise<ReplyFor<T>>((resolve, reject) => {
      const timer = setTimeout(
        () => {
          this.mPending.delete(id);
          reject(new SignalingError('timeout', `no reply to ${message.type}`));
        },
        timeoutMs ?? this.mOptions.requestTimeoutMs ?? 10000,
      );
      this.mPending.set(id, {
        expect,
        alsoExpect,
        resolve: resolve as (m: ServerMessage) => void,
        reject,
        timer,
      });
      socket.send(text);
    });
  }

  private setTurn(turn: TurnCredentials): void {
    this.mIceServers = [{ urls: turn.urls, username: turn.username, credential: turn.credential }];
    this.scheduleTurnRefresh(Math.max(1000, (turn.ttl * 1000) / 2));
  }

  private scheduleTurnRefresh(delayMs: number): void {
    if (this.mTurnTimer !== null) clearTimeout(this.mTurnTimer);
    const epoch = this.mTurnEpoch;
    this.mTurnTimer = setTimeout(() => {
      this.mTurnTimer = null;
      this.request({ type: 'turn-refresh' }).then(
        (reply) => {
          if (this.mState !== 'open' || epoch !== this.mTurnEpoch) return;
          this.setTurn(reply.turn);
          this.emit('ice-servers', this.mIceServers);
        },
        (error: unknown) => {
          // Closed or left: nothing to renew. Anything else (a timeout, rate-limited): later.
          const code = error instanceof SignalingError ? error.code : '';
          if (
            this.mState === 'open' &&
            epoch === this.mTurnEpoch &&
            code !== 'not-joined' &&
            code !== 'media-unavailable'
          )
            this.scheduleTurnRefresh(TURN_RETRY_MS);
        },
      );
    }, delayMs);
  }

  private stopTurn(): void {
    this.mTurnEpoch++;
    if (this.mTurnTimer !== null) clearTimeout(this.mTurnTimer);
    this.mTurnTimer = null;
    this.mIceServers = [];
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
    if (message.type === 'joined' && this.mWaiting && (message.id === undefined || !this.mPending.has(message.id))) {
      // The end of a wait: the server admitted this participant.
      this.mWaiting = false;
      if (message.turn) this.setTurn(message.turn);
      this.emit('admitted', message);
      return;
    }
    if (message.id !== undefined) {
      this.settle(message.id, message);
      return;
    }
    switch (message.type) {
      case 'lobby':
        this.emit('lobby', message.waiting);
        return;
      case 'settings':
        this.emit('settings', message.settings);
        return;
      case 'role':
        this.emit('role', message.participantId, message.role, message.grant);
        return;
      case 'muted-by-host':
        this.emit('muted-by-host', message.source, message.by);
        return;
      case 'unmute-request':
        this.emit('unmute-request', message.source, message.by);
        return;
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
        this.emit('relay', message.from, message.payload, message.kind ?? 'control');
        return;
      case 'goodbye':
        this.mGotGoodbye = true;
        this.emit('goodbye', message.reason, message.retryAfterMs ?? null);
        return;
      case 'error':
        this.emit('server-error', new SignalingError(message.code, message.message, message.retryAfterMs ?? null));
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
      pending.reject(new SignalingError(message.code, message.message, message.retryAfterMs ?? null));
    } else if (message.type !== pending.expect && !pending.alsoExpect.includes(message.type)) {
      pending.reject(new SignalingError('protocol', `expected ${pending.expect}, got ${message.type}`));
    } else {
      pending.resolve(message);
    }
  }

  private handleClose(code: number, reason: string): void {
    if (this.mState === 'closed') return;
    this.mState = 'closed';
    this.stopTurn();
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
