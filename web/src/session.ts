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
//
// Meeting security (docs/protocol.md, "Meeting security"): the server decides who is admitted
// (host token, PIN, lock, lobby); a join may wait (`waiting`) until a host admits it. Keys go only
// to participants that are in the server's roster and verified, so a lobby entry never gets one.
// A host can move the meeting to a new room and secret: the instruction travels sealed pairwise
// to every verified member, and each session rejoins there keeping the call on screen.

import { generateIdentity, RoomKeys, type Bytes, type FileInfo, type FileManifest, type Identity } from './e2ee';
import type { MediaAttachment } from './media/controller';
import { openMemberProfile, sealOwnProfile } from './profile';
import { generateSecret } from './protocol/invite';
import {
  MUTE_SOURCES,
  type JoinedMessage,
  type MeetingSettings,
  type MuteSource,
  type Participant,
  type PolicyName,
  type Role,
  type ReceiptSignature,
  type SecurityLogEntry,
  type SettingsChange,
  type UnmuteSource,
} from './protocol/messages';
import { RESTART_WINDOW_MS, retryDelay, type ReconnectCause } from './reconnect';
import { SignalingClient, SignalingError, type CloseInfo, type SocketFactory } from './protocol/client';
import type { FetchLike } from './protocol/invite';
import { ChatLog } from './secure/chat_log';
import { downloadFile, uploadFile } from './secure/file_share';
import {
  SecureRoom,
  type KeyState,
  type MoveInstruction,
  type PeerMediaState,
  type PeerSecurity,
  type SecuritySnapshot,
  type Trust,
} from './secure/secure_room';

export interface RosterEntry {
  id: string;
  /** Verified members and this participant only; null otherwise (or when the profile has no name). */
  name: string | null;
  self: boolean;
  /** This participant is always `verified`. */
  trust: Trust;
  /** Verified members: whether their media key arrived. */
  key: KeyState;
  role: Role;
  /** What a verified member announced about its own media (end-to-end encrypted); null: nothing yet or self. */
  media: PeerMediaState | null;
}

/** Someone waiting in the lobby, as hosts and moderators see them. */
export interface LobbyEntry {
  id: string;
  /** The name in its profile, when the profile opens with the room secret (null: no name given). */
  name: string | null;
  /** Its profile opened with this room's secret; false: unknown (a wrong link?), true: not yet known. */
  verified: boolean | null;
}

/** After the security code was marked as compared: what changed since. */
export interface ComparedCode {
  /** The code differs from the one compared. */
  changed: boolean;
  /** Verified members (by name) who joined or left since. */
  joined: (string | null)[];
  left: (string | null)[];
}

/** The security-related state of the meeting (server-side roles and settings, host actions). */
export interface MeetingView {
  role: Role;
  /** Null from a server that reports none. */
  settings: MeetingSettings | null;
  /** Hosts and moderators: who is waiting. */
  lobby: LobbyEntry[];
  /** This participant's sources a host muted (until it unmutes itself). */
  hostMuted: MuteSource[];
  /** The last open request to unmute (nothing switches on by itself). */
  unmuteRequest: { source: UnmuteSource; by: string | null } | null;
  compared: ComparedCode | null;
}

/** The call as the view last showed it. */
export interface CallView {
  selfId: string;
  roomId: string;
  roster: RosterEntry[];
  security: SecuritySnapshot;
  meeting: MeetingView;
}

/** Why the session is reconnecting: the server restarts, the connection broke, the browser is offline, or the meeting moves. */
export type ReconnectReason = ReconnectCause | 'offline' | 'moving';

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
  /** Admitted by the server only later: in the lobby, or until a host arrives. */
  | { kind: 'waiting'; reason: string }
  /** The meeting has a PIN: ask for it (`wrong`: the last one was wrong). */
  | { kind: 'pin'; wrong: boolean }
  | { kind: 'left' }
  /**
   * A final error, or a final `goodbye` (removed, denied, meeting-ended, meeting-moved). `retryAt`:
   * when a `blocked` join may be tried again.
   */
  | { kind: 'failed'; code: string; retryAt?: number };

export type Announcement =
  | { kind: 'self-joined' }
  | { kind: 'joined'; name: string | null }
  /** A participant whose profile does not prove membership. */
  | { kind: 'unverified' }
  | { kind: 'left'; name: string | null }
  | { kind: 'renamed'; old: string | null; name: string | null }
  | { kind: 'moved' }
  | { kind: 'role'; role: Role }
  | { kind: 'muted-by-host'; source: string }
  | { kind: 'waiting' };

/** Where a browser keeps the host credentials of its rooms (localStorage in the page). */
export interface HostTokenStore {
  load(roomId: string): string | null;
  save(roomId: string, token: string): void;
  forget(roomId: string): void;
}

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
  /** Host credentials by room ID; the session sends the current room's with `join`. */
  hostTokens?: HostTokenStore;
  /** A host muted one of this participant's sources: switch it off here too. */
  onHostMute?: (source: MuteSource) => void;
  /** The meeting moved to a new room and secret (the page updates its address and invite link). */
  onMoved?: (roomId: string, secret: string) => void;
}

/** Goodbye reasons after which coming back makes no sense. */
const FINAL_GOODBYES = new Set(['removed', 'denied', 'meeting-ended', 'meeting-moved', 'lobby-timeout']);

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
  /** This participant's media state, announced to the members of every membership. */
  private mMediaState: PeerMediaState | null = null;
  /** Participants already there when this one joined: their verdicts are not announced. */
  private mPresentAtJoin = new Set<string>();
  readonly chat: ChatLog;
  private mRoomId: string;
  private mSecret: string;
  private mPin: string | null = null;
  /** The server refused the stored host token for this room (`not-allowed`): joins go without it. */
  private mTokenRefused = false;
  /** A join that got `waiting`: what it needs once admitted. */
  private mWaiting: { room: RoomKeys; identity: Identity } | null = null;
  private mRole: Role = 'participant';
  private readonly mRoles = new Map<string, Role>();
  private mSettings: MeetingSettings | null = null;
  private mLobby: Participant[] = [];
  /** Lobby profile -> what it says (opened once). */
  private readonly mLobbyNames = new Map<string, { name: string | null; verified: boolean }>();
  private readonly mHostMuted = new Set<MuteSource>();
  /** Sources a host asked this participant to unmute since their mute. */
  private readonly mUnmuteAllowed = new Set<MuteSource>();
  private mUnmuteRequest: { source: UnmuteSource; by: string } | null = null;
  private mCompared: { code: string; names: (string | null)[] } | null = null;

  constructor(options: MeetingSessionOptions) {
    this.mOptions = options;
    this.mRoomId = options.roomId;
    this.mSecret = options.secret;
    this.chat = options.chat ?? new ChatLog();
  }

  /** The meeting's current room (it changes when a host moves the meeting). */
  get roomId(): string {
    return this.mRoomId;
  }

  get secret(): string {
    return this.mSecret;
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
    if (this.mState.kind === 'connecting' || this.mState.kind === 'joined' || this.mState.kind === 'waiting') return;
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

  /**
   * This participant's microphone, camera and screen share as they are now: announced to the
   * members over the end-to-end encrypted relay (now and after every rejoin), never to the server.
   */
  setMediaState(state: PeerMediaState): void {
    this.mMediaState = { ...state };
    this.mSecure?.setMediaState(state);
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
    if (client && (this.mState.kind === 'joined' || this.mState.kind === 'waiting')) {
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
    this.mRoomKeys ??= RoomKeys.derive(this.mSecret, this.mRoomId).then((r) => (r.ok ? r.room : null));
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
      const reply = await client.join(this.mRoomId, profile, {
        hostToken: this.mTokenRefused ? null : (this.mOptions.hostTokens?.load(this.mRoomId) ?? null),
        pin: this.mPin,
      });
      if (client !== this.mClient) return;
      if (reply.type === 'waiting') {
        this.mWaiting = { room, identity };
        this.mSelfId = reply.participantId;
        this.mAttempt = 0;
        this.mLost = null;
        this.startPing(client);
        this.setState({ kind: 'waiting', reason: reply.reason });
        this.mOptions.onAnnounce?.({ kind: 'waiting' });
        return;
      }
      this.enter(client, reply, room, identity);
    } catch (err) {
      if (client !== this.mClient) return;
      this.joinFailed(err);
    }
  }

  /** `joined` arrived (at once or after a wait): the call starts. */
  private enter(client: SignalingClient, joined: JoinedMessage, room: RoomKeys, identity: Identity): void {
    try {
      this.mWaiting = null;
      this.mSelfId = joined.participantId;
      this.mOrder = [joined.participantId, ...joined.participants.map((p) => p.id)];
      this.mPresentAtJoin = new Set(joined.participants.map((p) => p.id));
      this.mRole = joined.role ?? 'participant';
      this.mSettings = joined.settings ?? null;
      this.mRoles.clear();
      for (const p of joined.participants) this.mRoles.set(p.id, p.role ?? 'participant');
      this.mLobby = [];
      // A new membership: the server forwards this participant's media afresh.
      this.mHostMuted.clear();
      this.mUnmuteAllowed.clear();
      this.mUnmuteRequest = null;
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
        onMove: (from, move) => {
          if (secure === this.mSecure) this.obeyMove(from, move);
        },
        ...(this.mOptions.onError ? { onError: this.mOptions.onError } : {}),
      });
      this.mSecure = secure;
      if (this.mMediaState !== null) secure.setMediaState(this.mMediaState);
      secure.start(joined.participants);
      this.publishRoster();
      this.mOptions.onAnnounce?.({ kind: 'self-joined' });
    } catch (err) {
      if (client !== this.mClient) return;
      this.joinFailed(err);
    }
  }

  private joinFailed(err: unknown): void {
    const code = err instanceof SignalingError ? err.code : 'internal';
    if (TRANSIENT_CODES.has(code)) {
      this.scheduleReconnect(this.mLost?.cause ?? 'dropped');
      return;
    }
    this.dropClient();
    if (code === 'not-allowed' && !this.mTokenRefused && this.mOptions.hostTokens?.load(this.mRoomId)) {
      // A stale credential (the server's key changed): join as everyone else does.
      this.mTokenRefused = true;
      void this.attempt();
      return;
    }
    this.mLost = null;
    if (code === 'pin-required' || code === 'wrong-pin') {
      this.setState({ kind: 'pin', wrong: code === 'wrong-pin' });
      return;
    }
    const retryAfterMs = err instanceof SignalingError ? err.retryAfterMs : null;
    this.setState(
      code === 'blocked' && retryAfterMs !== null
        ? { kind: 'failed', code, retryAt: Date.now() + retryAfterMs }
        : { kind: 'failed', code },
    );
  }

  /** Tries to join again with the meeting's PIN (after `pin-required` or `wrong-pin`). */
  submitPin(pin: string): void {
    if (this.mDisposed || this.mState.kind !== 'pin') return;
    this.mPin = pin;
    this.mAttempt = 0;
    this.setState({ kind: 'connecting' });
    void this.attempt();
  }

  // --- Host and moderator actions (the server checks the role; errors reach the caller) -------

  private connected(): SignalingClient {
    const client = this.mClient;
    if (this.mState.kind !== 'joined' || client === null) throw new SignalingError('not-joined', 'not in the meeting');
    return client;
  }

  changeSettings(change: SettingsChange): Promise<void> {
    return this.connected().setSettings(change);
  }

  /** Admits one waiting participant, or (null) everyone waiting. */
  admit(participantId: string | null): Promise<void> {
    return this.connected().admit(participantId);
  }

  deny(participantId: string): Promise<void> {
    return this.connected().deny(participantId);
  }

  setRole(participantId: string, role: Role): Promise<void> {
    return this.connected().setRole(participantId, role);
  }

  mute(participantId: string, source: MuteSource): Promise<void> {
    return this.connected().mute(participantId, source);
  }

  requestUnmute(participantId: string, source: UnmuteSource): Promise<void> {
    return this.connected().requestUnmute(participantId, source);
  }

  remove(participantId: string): Promise<void> {
    return this.connected().remove(participantId);
  }

  async endMeeting(): Promise<void> {
    await this.connected().endMeeting();
    this.finish('meeting-ended');
  }

  securityLog(limit = 100, before?: number): Promise<SecurityLogEntry[]> {
    return this.connected().securityLog(limit, before);
  }

  /** What the server holds about this meeting now, signed by it (docs/privacy.md). */
  privacyReceipt(): Promise<{ receipt: Record<string, unknown>; signature: ReceiptSignature }> {
    return this.connected().privacyReceipt();
  }

  /** Whether this participant may do what `policy` governs (the server enforces the same). */
  may(policy: PolicyName): boolean {
    return this.mRole !== 'participant' || this.mSettings?.policies[policy] !== 'moderators';
  }

  /** Whether this participant may switch `source` on again (always, unless a host muted it). */
  mayUnmute(source: MuteSource): boolean {
    return !this.mHostMuted.has(source) || this.may('unmute') || this.mUnmuteAllowed.has(source);
  }

  /**
   * Before switching a source on: after a host's mute, the server must agree (`unmute`); throws
   * `forbidden-by-policy` when it does not. Nothing to ask otherwise.
   */
  async unmuteSelf(source: MuteSource): Promise<void> {
    if (this.mHostMuted.has(source)) {
      await this.connected().unmute(source);
      this.mHostMuted.delete(source);
      this.mUnmuteAllowed.delete(source);
    }
    if (this.mUnmuteRequest?.source === source) this.mUnmuteRequest = null;
    this.publishRoster();
  }

  /** The user saw the request to unmute and chose not to (or did, through unmuteSelf). */
  dismissUnmuteRequest(): void {
    this.mUnmuteRequest = null;
    this.publishRoster();
  }

  /** The security code as it is now was compared with the others: report changes from here on. */
  markCodeCompared(): void {
    const code = this.mSecure?.snapshot().code ?? null;
    if (code === null) return;
    this.mCompared = { code, names: this.verifiedNames() };
    this.publishRoster();
  }

  /**
   * Hosts: moves the meeting to a new room ID (from the server) and a new secret (made here),
   * tells every verified member over the pairwise channels, then rejoins there. Everyone who
   * does not get the message (a removed participant who still knows the old secret) stays behind.
   */
  async moveMeeting(): Promise<void> {
    const client = this.connected();
    const secure = this.mSecure;
    if (secure === null) throw new SignalingError('not-joined', 'not in the meeting');
    const { roomId, hostToken, moderatorToken } = await client.moveMeeting();
    const secret = generateSecret();
    this.mOptions.hostTokens?.save(roomId, hostToken);
    const sends = secure
      .peers()
      .filter((peer) => peer.trust === 'verified')
      .map((peer) => {
        const move: MoveInstruction = { r: roomId, s: secret };
        const role = this.mRoles.get(peer.id);
        if (role === 'host') move.h = hostToken;
        else if (role === 'moderator') move.m = moderatorToken;
        return secure.sendMove(peer.id, move).catch((err: unknown) => this.mOptions.onError?.(err));
      });
    await Promise.all(sends);
    this.moveTo(roomId, secret);
  }

  /** A move instruction from a verified member: obeyed only from a host. */
  private obeyMove(from: string, move: MoveInstruction): void {
    if (this.mState.kind !== 'joined' || this.mRoles.get(from) !== 'host') return;
    const token = move.h ?? move.m;
    if (token !== undefined) this.mOptions.hostTokens?.save(move.r, token);
    this.moveTo(move.r, move.s);
  }

  /** Rejoins in another room with another secret, keeping the call on screen meanwhile. */
  private moveTo(roomId: string, secret: string): void {
    if (this.mDisposed) return;
    this.dropClient();
    this.clearRetry();
    this.stopPing();
    this.mRoomId = roomId;
    this.mSecret = secret;
    this.mRoomKeys = null;
    this.mPin = null;
    this.mTokenRefused = false;
    this.mAttempt = 0;
    this.mLost = null;
    // The code covers the room ID: it changes for everyone who moved, so compare it afresh.
    this.mCompared = null;
    this.mOptions.onMoved?.(roomId, secret);
    this.mOptions.onAnnounce?.({ kind: 'moved' });
    this.setState({ kind: 'reconnecting', reason: 'moving', attempt: 0, retryAt: null, call: this.mLastCall });
    void this.attempt();
  }

  /** The meeting is over for this participant (removed, denied, ended, moved without it). */
  private finish(code: string): void {
    this.clearRetry();
    this.stopPing();
    this.dropClient();
    this.mLost = null;
    this.mLastCall = null;
    this.setState({ kind: 'failed', code });
  }

  private verifiedNames(): (string | null)[] {
    const secure = this.mSecure;
    if (secure === null) return [];
    return secure
      .peers()
      .filter((p) => p.trust === 'verified')
      .map((p) => p.name);
  }

  private comparedView(code: string | null): ComparedCode | null {
    const compared = this.mCompared;
    if (compared === null) return null;
    const now = this.verifiedNames();
    const minus = (a: (string | null)[], b: (string | null)[]): (string | null)[] => {
      const rest = [...b];
      return a.filter((name) => {
        const i = rest.indexOf(name);
        if (i < 0) return true;
        rest.splice(i, 1);
        return false;
      });
    };
    return {
      changed: code !== null && code !== compared.code,
      joined: minus(now, compared.names),
      left: minus(compared.names, now),
    };
  }

  private updateLobby(waiting: Participant[]): void {
    this.mLobby = waiting;
    const profiles = new Set(waiting.map((p) => p.profile));
    for (const profile of [...this.mLobbyNames.keys()]) if (!profiles.has(profile)) this.mLobbyNames.delete(profile);
    const secure = this.mSecure;
    for (const p of waiting) {
      if (this.mLobbyNames.has(p.profile)) continue;
      void this.roomKeys()
        .then((room) => (room === null ? null : openMemberProfile(room, p.profile)))
        .then((opened) => {
          if (secure !== this.mSecure || !this.mLobby.some((w) => w.profile === p.profile)) return;
          this.mLobbyNames.set(
            p.profile,
            opened?.ok ? { name: opened.profile?.name ?? null, verified: true } : { name: null, verified: false },
          );
          this.publishRoster();
        })
        .catch((err: unknown) => this.mOptions.onError?.(err));
    }
    this.publishRoster();
  }

  private listen(client: SignalingClient): void {
    const mine = (): boolean => client === this.mClient && this.mState.kind === 'joined';
    client.on('admitted', (joined) => {
      const waiting = this.mWaiting;
      if (client !== this.mClient || waiting === null) return;
      this.enter(client, joined, waiting.room, waiting.identity);
    });
    client.on('lobby', (waiting) => {
      if (mine()) this.updateLobby(waiting);
    });
    client.on('settings', (settings) => {
      if (client !== this.mClient) return;
      this.mSettings = settings;
      if (this.mState.kind === 'joined') this.publishRoster();
    });
    client.on('role', (id, role, grant) => {
      if (!mine()) return;
      if (id === this.mSelfId) {
        // The credential that gives a handed-out role back after a reconnect; a demotion takes
        // away whatever this browser held for the meeting.
        if (grant !== undefined) this.mOptions.hostTokens?.save(this.mRoomId, grant);
        else if (role === 'participant') this.mOptions.hostTokens?.forget(this.mRoomId);
        if (this.mRole === role) return;
        this.mRole = role;
        if (role === 'participant') this.mLobby = [];
        this.mOptions.onAnnounce?.({ kind: 'role', role });
      } else {
        this.mRoles.set(id, role);
      }
      this.publishRoster();
    });
    client.on('muted-by-host', (source) => {
      if (!mine() || !(MUTE_SOURCES as readonly string[]).includes(source)) return;
      const muted = source as MuteSource;
      this.mHostMuted.add(muted);
      this.mUnmuteAllowed.delete(muted);
      if (this.mUnmuteRequest?.source === muted) this.mUnmuteRequest = null;
      this.mOptions.onHostMute?.(muted);
      this.mOptions.onAnnounce?.({ kind: 'muted-by-host', source: muted });
      this.publishRoster();
    });
    client.on('unmute-request', (source, by) => {
      if (!mine() || (source !== 'microphone' && source !== 'camera')) return;
      this.mUnmuteAllowed.add(source);
      this.mUnmuteRequest = { source, by };
      this.publishRoster();
    });
    client.on('participant-joined', (p: Participant) => {
      if (!mine() || p.id === this.mSelfId || this.mOrder.includes(p.id)) return;
      this.mOrder = [...this.mOrder, p.id];
      this.mRoles.set(p.id, p.role ?? 'participant');
      // Announced once its profile is checked (announceVerdict).
      this.mSecure?.participantJoined(p);
      this.publishRoster();
    });
    client.on('participant-updated', (p: Participant) => {
      if (!mine() || p.id === this.mSelfId) return;
      if (!this.mOrder.includes(p.id)) this.mOrder = [...this.mOrder, p.id];
      if (p.role !== undefined) this.mRoles.set(p.id, p.role);
      this.mSecure?.participantUpdated(p);
    });
    client.on('participant-left', (id) => {
      if (!mine() || id === this.mSelfId || !this.mOrder.includes(id)) return;
      const old = this.mSecure?.peer(id) ?? null;
      this.mOrder = this.mOrder.filter((other) => other !== id);
      this.mRoles.delete(id);
      this.mSecure?.participantLeft(id);
      this.publishRoster();
      this.mOptions.onAnnounce?.({ kind: 'left', name: old?.trust === 'verified' ? old.name : null });
    });
    client.on('relay', (from, payload, kind) => {
      if (!mine()) return;
      this.mSecure?.relay(from, payload, kind).catch((err: unknown) => this.mOptions.onError?.(err));
    });
    client.on('goodbye', (reason, retryAfterMs) => {
      if (client !== this.mClient) return;
      this.stopPing();
      if (FINAL_GOODBYES.has(reason)) {
        this.finish(reason);
        return;
      }
      // Any goodbye means "gone for now": a restart comes back soon, so the tries come fast.
      const cause: ReconnectCause = reason === 'server-restart' ? 'restart' : 'dropped';
      this.mLost = { cause, since: Date.now(), retryAfterMs: retryAfterMs ?? null };
      this.mAttempt = 0;
      this.scheduleReconnect(cause);
    });
    client.on('close', (info: CloseInfo) => {
      if (client !== this.mClient || info.byClient) return;
      this.stopPing();
      if (this.mState.kind === 'joined' || this.mState.kind === 'waiting') this.scheduleReconnect('dropped');
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
        roster.push({
          id,
          name: this.mName,
          self: true,
          trust: 'verified',
          key: 'received',
          role: this.mRole,
          media: null,
        });
        continue;
      }
      const peer = secure.peer(id);
      roster.push({
        id,
        name: peer?.trust === 'verified' ? peer.name : null,
        self: false,
        trust: peer?.trust ?? 'verifying',
        key: peer?.key ?? 'waiting',
        role: this.mRoles.get(id) ?? 'participant',
        media: peer?.media ?? null,
      });
    }
    const security = secure.snapshot();
    const meeting: MeetingView = {
      role: this.mRole,
      settings: this.mSettings,
      lobby:
        this.mRole === 'participant'
          ? []
          : this.mLobby.map((p) => {
              const opened = this.mLobbyNames.get(p.profile);
              return { id: p.id, name: opened?.name ?? null, verified: opened?.verified ?? null };
            }),
      hostMuted: MUTE_SOURCES.filter((source) => this.mHostMuted.has(source)),
      unmuteRequest: this.mUnmuteRequest && {
        source: this.mUnmuteRequest.source,
        by: (() => {
          const by = secure.peer(this.mUnmuteRequest.by);
          return by?.trust === 'verified' ? by.name : null;
        })(),
      },
      compared: this.comparedView(security.code),
    };
    this.mLastCall = { selfId: this.mSelfId, roomId: this.mRoomId, roster, security, meeting };
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
    this.mWaiting = null;
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
