// One person's presence in one meeting: connects, joins, keeps the roster, and comes back by
// itself when the connection goes away (a server restart, a crash, a network drop, media that
// cannot be restored): it rejoins the same meeting under the same name with the same devices
// (src/reconnect.ts says when). No DOM code; the view renders the state it reports. While it
// reconnects, the state keeps the call as it was, so the view can keep it on screen.
//
// End-to-end encryption is always on: every join generates a new identity and seals the profile
// with the room secret (src/profile.ts); a SecureRoom per membership verifies the others, keeps
// the keys, the security code and the chat (src/secure/secure_room.ts). Names come only from
// verified profiles.

import { generateIdentity, RoomKeys, type Bytes, type FileInfo, type FileManifest, type Identity } from './e2ee';
import type { MediaAttachment } from './media/controller';
import { sealOwnProfile } from './profile';
import type { Participant } from './protocol/messages';
import { RESTART_WINDOW_MS, retryDelay, type ReconnectCause } from './reconnect';
import { SignalingClient, SignalingError, type CloseInfo, type SocketFactory } from './protocol/client';
import type { FetchLike } from './protocol/invite';
import { ChatLog } from './secure/chat_log';
import { downloadFile, uploadFile } from './secure/file_share';
import { SecureRoom, type KeyState, type PeerSecurity, type SecuritySnapshot, type Trust } from './secure/secure_room';

export interface RosterEntry {
  id: string;
  /** Verified members and this participant only; null otherwise (or when the profile has no name). */
  name: string | null;
  self: boolean;
  /** This participant is always `verified`. */
  trust: Trust;
  /** Verified members: whether their media key arrived. */
  key: KeyState;
}

/** The call as the view last showed it. */
export interface CallView {
  selfId: string;
  roster: RosterEntry[];
  security: SecuritySnapshot;
}

/** Why the session is reconnecting: the server restarts, the connection broke, the browser is offline. */
export type ReconnectReason = ReconnectCause | 'offline';

export type SessionState =
  | { kind: 'idle' }
  | { kind: 'connecting' }
  | ({ kind: 'joined' } & CallView)
  | {
      kind: 'reconnecting';
      reason: ReconnectReason;
      attempt: number;
      /** When the next try starts (null: trying now, or waiting for the network). */
      retryAt: number | null;
      /** The call as it was when the connection went away; null if it never got that far. */
      call: CallView | null;
    }
  | { kind: 'left' }
  | { kind: 'failed'; code: string };

export type Announcement =
  | { kind: 'self-joined' }
  | { kind: 'joined'; name: string | null }
  /** A participant whose profile does not prove membership. */
  | { kind: 'unverified' }
  | { kind: 'left'; name: string | null }
  | { kind: 'renamed'; old: string | null; name: string | null };

export interface MeetingSessionOptions {
  roomId: string;
  /** The room secret from the link's fragment: the root of membership and of every key. */
  secret: string;
  url: string;
  socketFactory: SocketFactory;
  onState: (state: SessionState) => void;
  onAnnounce?: (announcement: Announcement) => void;
  /** The media side: attached after every `joined`, detached when the connection goes away. */
  media?: MediaAttachment;
  /** Decrypted chat messages (kept across reconnects); a new one if absent. */
  chat?: ChatLog;
  /** For file uploads and downloads (`/api/files/...`). */
  fetch?: FetchLike;
  /** Relay failures and the like, for logging; the session recovers by itself. */
  onError?: (error: unknown) => void;
  /** Random numbers in [0, 1) for backoff jitter. */
  random?: () => number;
  pingIntervalMs?: number;
  requestTimeoutMs?: number;
}

/** Self-destruct choices the view offers (ms); null keeps the message. */
export const CHAT_LIFETIMES = [null, 60_000, 600_000, 3_600_000] as const;

// Codes that describe a connection problem: worth another attempt. Any other error is final.
const TRANSIENT_CODES = new Set(['closed', 'timeout', 'not-connected', 'rate-limited', 'internal']);

/** Offline: a try now and then anyway, in case the browser's online event never comes. */
const OFFLINE_RETRY_MS = 15_000;

export class MeetingSession {
  private readonly mOptions: MeetingSessionOptions;
  private mState: SessionState = { kind: 'idle' };
  private mClient: SignalingClient | null = null;
  private mName = '';
  private mAttempt = 0;
  /** Why and since when the connection is gone (null while joined). */
  private mLost: { cause: ReconnectCause; since: number; retryAfterMs: number | null } | null = null;
  private mOffline = false;
  private mLastCall: CallView | null = null;
  private mRetryTimer: ReturnType<typeof setTimeout> | null = null;
  private mPingTimer: ReturnType<typeof setInterval> | null = null;
  /** Participant IDs in the order they came (this participant first). */
  private mOrder: string[] = [];
  private mSelfId = '';
  private mDisposed = false;
  private mRoomKeys: Promise<RoomKeys | null> | null = null;
  private mSecure: SecureRoom | null = null;
  /** Participants already there when this one joined: their verdicts are not announced. */
  private mPresentAtJoin = new Set<string>();
  readonly chat: ChatLog;

  constructor(options: MeetingSessionOptions) {
    this.mOptions = options;
    this.chat = options.chat ?? new ChatLog();
  }

  get state(): SessionState {
    return this.mState;
  }

  /** The E2EE state of the current membership (null when not joined). */
  get secure(): SecureRoom | null {
    return this.mSecure;
  }

  /** Joins (or rejoins) the meeting under `name`. */
  join(name: string): void {
    if (this.mDisposed) return;
    if (this.mState.kind === 'connecting' || this.mState.kind === 'joined') return;
    this.mName = name;
    this.mAttempt = 0;
    this.mLost = null;
    this.mLastCall = null;
    this.clearRetry();
    this.setState({ kind: 'connecting' });
    void this.attempt();
  }

  /** Skips the remaining delay before the next try. */
  reconnectNow(): void {
    if (this.mState.kind !== 'reconnecting' || this.mState.retryAt === null) return;
    this.clearRetry();
    void this.attempt();
  }

  /**
   * The browser's network went away (`offline`) or came back (`online`). Offline, the session
   * stops trying (but for a rare try in case the event was wrong); online, it tries at once.
   */
  setOnline(online: boolean): void {
    if (this.mDisposed || this.mOffline === !online) return;
    this.mOffline = !online;
    const state = this.mState.kind;
    if (!online) {
      if (state === 'joined' || state === 'reconnecting') this.scheduleReconnect('dropped');
      return;
    }
    if (state !== 'reconnecting') return;
    this.mAttempt = 0;
    if (this.mLost) this.mLost.since = Date.now();
    this.clearRetry();
    void this.attempt();
  }

  /**
   * The media connections could not be restored by ICE restarts: a full rejoin (new connections
   * from scratch) is the remaining remedy.
   */
  mediaLost(): void {
    if (this.mState.kind !== 'joined') return;
    this.scheduleReconnect('dropped');
  }

  async rename(name: string): Promise<void> {
    const client = this.mClient;
    const secure = this.mSecure;
    if (this.mState.kind !== 'joined' || !client || !secure)
      throw new SignalingError('not-joined', 'not in the meeting');
    await client.updateProfile(await secure.sealProfile(name));
    this.mName = name;
    this.publishRoster();
  }

  /** Sends an encrypted, signed chat message to everyone; `lifetimeMs` null keeps it. */
  async sendChat(text: string, lifetimeMs: number | null): Promise<void> {
    const secure = this.mSecure;
    if (this.mState.kind === 'reconnecting') throw new SignalingError('reconnecting', 'reconnecting to the meeting');
    if (this.mState.kind !== 'joined' || !secure) throw new SignalingError('not-joined', 'not in the meeting');
    await secure.sendChat(text, lifetimeMs);
  }

  /**
   * Encrypts a file with a fresh key, uploads the ciphertext and announces it (name, size, key,
   * checksum) in an encrypted chat message.
   */
  async shareFile(data: Bytes, info: FileInfo, lifetimeMs: number | null): Promise<void> {
    const client = this.mClient;
    const secure = this.mSecure;
    if (this.mState.kind === 'reconnecting') throw new SignalingError('reconnecting', 'reconnecting to the meeting');
    if (this.mState.kind !== 'joined' || !client || !secure)
      throw new SignalingError('not-joined', 'not in the meeting');
    const manifest = await uploadFile(data, info, (size) => client.fileUpload(size), this.fetchFn());
    await secure.sendChat('', lifetimeMs, manifest);
  }

  /** Downloads, decrypts and verifies a shared file. */
  fetchFile(manifest: FileManifest): Promise<Bytes> {
    return downloadFile(manifest, this.fetchFn());
  }

  /** Leaves the meeting: says `leave`, then closes the connection. */
  async leave(): Promise<void> {
    const client = this.mClient;
    this.clearRetry();
    this.stopPing();
    if (client && this.mState.kind === 'joined') {
      try {
        await client.leave();
      } catch {
        // Closing the connection below leaves the room as well.
      }
    }
    this.dropClient();
    this.mLost = null;
    this.mLastCall = null;
    if (!this.mDisposed) this.setState({ kind: 'left' });
  }

  /** Stops everything without telling the view (the page is going away). */
  dispose(): void {
    this.mDisposed = true;
    this.clearRetry();
    this.stopPing();
    this.dropClient();
    this.chat.dispose();
  }

  private fetchFn(): FetchLike {
    return this.mOptions.fetch ?? ((input, init) => fetch(input, init));
  }

  private roomKeys(): Promise<RoomKeys | null> {
    this.mRoomKeys ??= RoomKeys.derive(this.mOptions.secret, this.mOptions.roomId).then((r) => (r.ok ? r.room : null));
    return this.mRoomKeys;
  }

  /** A fresh identity and the sealed profile to join with. */
  private async prepare(room: RoomKeys): Promise<{ identity: Identity; profile: string }> {
    const identity = await generateIdentity();
    return { identity, profile: await sealOwnProfile(room, identity, { name: this.mName }) };
  }

  private async attempt(): Promise<void> {
    this.dropClient();
    if (this.mState.kind === 'reconnecting') this.setState({ ...this.mState, retryAt: null });
    const client = new SignalingClient({
      url: this.mOptions.url,
      socketFactory: this.mOptions.socketFactory,
      clientName: 'conclave-web',
      ...(this.mOptions.requestTimeoutMs === undefined ? {} : { requestTimeoutMs: this.mOptions.requestTimeoutMs }),
    });
    this.mClient = client;
    this.listen(client);
    try {
      // Connecting and the key work (room keys, a fresh identity, the sealed profile) overlap.
      const connected = client.connect();
      connected.catch(() => undefined);
      const room = await this.roomKeys();
      if (room === null) throw new SignalingError('bad-secret', 'the link is incomplete or wrong');
      const [{ identity, profile }] = await Promise.all([this.prepare(room), connected]);
      if (client !== this.mClient) return;
      const joined = await client.join(this.mOptions.roomId, profile);
      if (client !== this.mClient) return;
      this.mSelfId = joined.participantId;
      this.mOrder = [joined.participantId, ...joined.participants.map((p) => p.id)];
      this.mPresentAtJoin = new Set(joined.participants.map((p) => p.id));
      this.mAttempt = 0;
      this.mLost = null;
      this.startPing(client);
      // Synchronously after `joined`: the server's first subscribe offer may follow right away.
      // The media side resets its frame transforms first; the keys below then reach them.
      this.mOptions.media?.attach(client, joined.participantId, () => {
        if (client === this.mClient) this.mediaLost();
      });
      const secure = new SecureRoom({
        room,
        identity,
        selfId: joined.participantId,
        signaling: client,
        media: this.mOptions.media?.keys ?? null,
        chat: this.chat,
        onChange: () => {
          if (secure === this.mSecure) this.publishRoster();
        },
        onVerdict: (peer, previous) => {
          if (secure === this.mSecure) this.announceVerdict(peer, previous);
        },
        ...(this.mOptions.onError ? { onError: this.mOptions.onError } : {}),
      });
      this.mSecure = secure;
      secure.start(joined.participants);
      this.publishRoster();
      this.mOptions.onAnnounce?.({ kind: 'self-joined' });
    } catch (err) {
      if (client !== this.mClient) return;
      const code = err instanceof SignalingError ? err.code : 'internal';
      if (TRANSIENT_CODES.has(code)) {
        this.scheduleReconnect(this.mLost?.cause ?? 'dropped');
      } else {
        this.dropClient();
        this.setState({ kind: 'failed', code });
      }
    }
  }

  private listen(client: SignalingClient): void {
    const mine = (): boolean => client === this.mClient && this.mState.kind === 'joined';
    client.on('participant-joined', (p: Participant) => {
      if (!mine() || p.id === this.mSelfId || this.mOrder.includes(p.id)) return;
      this.mOrder = [...this.mOrder, p.id];
      // Announced once its profile is checked (announceVerdict).
      this.mSecure?.participantJoined(p);
      this.publishRoster();
    });
    client.on('participant-updated', (p: Participant) => {
      if (!mine() || p.id === this.mSelfId) return;
      if (!this.mOrder.includes(p.id)) this.mOrder = [...this.mOrder, p.id];
      this.mSecure?.participantUpdated(p);
    });
    client.on('participant-left', (id) => {
      if (!mine() || id === this.mSelfId || !this.mOrder.includes(id)) return;
      const old = this.mSecure?.peer(id) ?? null;
      this.mOrder = this.mOrder.filter((other) => other !== id);
      this.mSecure?.participantLeft(id);
      this.publishRoster();
      this.mOptions.onAnnounce?.({ kind: 'left', name: old?.trust === 'verified' ? old.name : null });
    });
    client.on('relay', (from, payload) => {
      if (!mine()) return;
      this.mSecure?.relay(from, payload).catch((err: unknown) => this.mOptions.onError?.(err));
    });
    client.on('goodbye', (reason, retryAfterMs) => {
      if (client !== this.mClient) return;
      this.stopPing();
      // Any goodbye means "gone for now": a restart comes back soon, so the tries come fast.
      const cause: ReconnectCause = reason === 'server-restart' ? 'restart' : 'dropped';
      this.mLost = { cause, since: Date.now(), retryAfterMs: retryAfterMs ?? null };
      this.mAttempt = 0;
      this.scheduleReconnect(cause);
    });
    client.on('close', (info: CloseInfo) => {
      if (client !== this.mClient || info.byClient) return;
      this.stopPing();
      if (this.mState.kind === 'joined') this.scheduleReconnect('dropped');
      // While connecting, the failed request promise schedules the retry.
    });
  }

  private announceVerdict(peer: PeerSecurity, previous: PeerSecurity | null): void {
    const announce = this.mOptions.onAnnounce;
    if (!announce) return;
    if (previous === null || previous.trust === 'verifying') {
      // Everyone already there when this participant joined is not announced.
      if (this.mPresentAtJoin.has(peer.id)) return;
      announce(peer.trust === 'verified' ? { kind: 'joined', name: peer.name } : { kind: 'unverified' });
    } else if (previous.trust === 'verified' && peer.trust === 'verified' && previous.name !== peer.name) {
      announce({ kind: 'renamed', old: previous.name, name: peer.name });
    } else if (previous.trust !== 'unverified' && peer.trust === 'unverified') {
      announce({ kind: 'unverified' });
    }
  }

  private publishRoster(): void {
    const secure = this.mSecure;
    if (secure === null) return;
    const roster: RosterEntry[] = [];
    for (const id of this.mOrder) {
      if (id === this.mSelfId) {
        roster.push({ id, name: this.mName, self: true, trust: 'verified', key: 'received' });
        continue;
      }
      const peer = secure.peer(id);
      roster.push({
        id,
        name: peer?.trust === 'verified' ? peer.name : null,
        self: false,
        trust: peer?.trust ?? 'verifying',
        key: peer?.key ?? 'waiting',
      });
    }
    const security = secure.snapshot();
    this.mLastCall = { selfId: this.mSelfId, roster, security };
    this.setState({ kind: 'joined', ...this.mLastCall });
  }

  /** Drops the connection (if any) and sets the timer of the next try. */
  private scheduleReconnect(cause: ReconnectCause): void {
    this.dropClient();
    this.clearRetry();
    const now = Date.now();
    if (this.mLost === null || this.mLost.cause !== cause) {
      this.mLost = { cause, since: now, retryAfterMs: null };
    }
    this.mAttempt += 1;
    const delay = this.mOffline
      ? OFFLINE_RETRY_MS
      : retryDelay({
          cause,
          attempt: this.mAttempt,
          elapsedMs: now - this.mLost.since,
          random: (this.mOptions.random ?? Math.random)(),
          retryAfterMs: this.mLost.retryAfterMs,
        });
    const restarting = cause === 'restart' && now - this.mLost.since < RESTART_WINDOW_MS;
    this.setState({
      kind: 'reconnecting',
      reason: this.mOffline ? 'offline' : restarting ? 'restart' : 'dropped',
      attempt: this.mAttempt,
      retryAt: now + delay,
      call: this.mLastCall,
    });
    this.mRetryTimer = setTimeout(() => {
      this.mRetryTimer = null;
      void this.attempt();
    }, delay);
  }

  private startPing(client: SignalingClient): void {
    this.stopPing();
    this.mPingTimer = setInterval(() => {
      client.ping().catch((err: unknown) => {
        // A ping that times out means the connection is dead even if no close event came.
        if (client === this.mClient && err instanceof SignalingError && err.code === 'timeout') {
          this.stopPing();
          this.scheduleReconnect('dropped');
        }
      });
    }, this.mOptions.pingIntervalMs ?? 25000);
  }

  private stopPing(): void {
    if (this.mPingTimer !== null) clearInterval(this.mPingTimer);
    this.mPingTimer = null;
  }

  private clearRetry(): void {
    if (this.mRetryTimer !== null) clearTimeout(this.mRetryTimer);
    this.mRetryTimer = null;
  }

  private dropClient(): void {
    const client = this.mClient;
    this.mClient = null;
    this.mSecure?.close();
    this.mSecure = null;
    if (client) this.mOptions.media?.detach();
    client?.close();
  }

  private setState(state: SessionState): void {
    this.mState = state;
    if (!this.mDisposed) this.mOptions.onState(state);
  }
}
