// One person's presence in one meeting: connects, joins, keeps the roster, reconnects with
// backoff when the connection drops. No DOM code; the view renders the state it reports.

import type { MediaAttachment } from './media/controller';
import { decodeProfile, encodeProfile } from './profile';
import {
  SignalingClient,
  SignalingError,
  type CloseInfo,
  type Participant,
  type SocketFactory,
} from './protocol';

export interface RosterEntry {
  id: string;
  /** null when the participant's profile cannot be read. */
  name: string | null;
  self: boolean;
}

export type SessionState =
  | { kind: 'idle' }
  | { kind: 'connecting' }
  | { kind: 'joined'; selfId: string; roster: RosterEntry[] }
  | { kind: 'reconnecting'; attempt: number; retryAt: number | null }
  | { kind: 'left' }
  | { kind: 'shutdown' }
  | { kind: 'failed'; code: string };

export type Announcement =
  | { kind: 'self-joined' }
  | { kind: 'joined'; name: string | null }
  | { kind: 'left'; name: string | null }
  | { kind: 'renamed'; old: string | null; name: string | null };

export interface MeetingSessionOptions {
  roomId: string;
  url: string;
  socketFactory: SocketFactory;
  onState: (state: SessionState) => void;
  onAnnounce?: (announcement: Announcement) => void;
  /** The media side: attached after every `joined`, detached when the connection goes away. */
  media?: MediaAttachment;
  /** Random numbers in [0, 1) for backoff jitter. */
  random?: () => number;
  pingIntervalMs?: number;
  requestTimeoutMs?: number;
}

// Codes that describe a connection problem: worth another attempt. Any other error is final.
const TRANSIENT_CODES = new Set(['closed', 'timeout', 'not-connected', 'rate-limited', 'internal']);

const BACKOFF_BASE_MS = 1000;
const BACKOFF_MAX_MS = 30000;

/** The delay before reconnect attempt number `attempt` (1, 2, ...): exponential, with jitter. */
export function backoffDelay(attempt: number, random: number): number {
  const exponential = Math.min(BACKOFF_MAX_MS, BACKOFF_BASE_MS * 2 ** Math.max(0, attempt - 1));
  return Math.round(exponential * (0.75 + 0.5 * random));
}

export class MeetingSession {
  private readonly mOptions: MeetingSessionOptions;
  private mState: SessionState = { kind: 'idle' };
  private mClient: SignalingClient | null = null;
  private mName = '';
  private mAttempt = 0;
  private mRetryTimer: ReturnType<typeof setTimeout> | null = null;
  private mPingTimer: ReturnType<typeof setInterval> | null = null;
  private mRoster = new Map<string, RosterEntry>();
  private mSelfId = '';
  private mDisposed = false;

  constructor(options: MeetingSessionOptions) {
    this.mOptions = options;
  }

  get state(): SessionState {
    return this.mState;
  }

  /** Joins (or rejoins) the meeting under `name`. */
  join(name: string): void {
    if (this.mDisposed) return;
    if (this.mState.kind === 'connecting' || this.mState.kind === 'joined') return;
    this.mName = name;
    this.mAttempt = 0;
    this.clearRetry();
    this.setState({ kind: 'connecting' });
    void this.attempt();
  }

  /** Skips the remaining backoff delay. */
  reconnectNow(): void {
    if (this.mState.kind !== 'reconnecting' || this.mState.retryAt === null) return;
    this.clearRetry();
    void this.attempt();
  }

  async rename(name: string): Promise<void> {
    const client = this.mClient;
    if (this.mState.kind !== 'joined' || !client) throw new SignalingError('not-joined', 'not in the meeting');
    await client.updateProfile(encodeProfile({ name }));
    this.mName = name;
    const self = this.mRoster.get(this.mSelfId);
    if (self) self.name = name;
    this.publishRoster();
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
    if (!this.mDisposed) this.setState({ kind: 'left' });
  }

  /** Stops everything without telling the view (the page is going away). */
  dispose(): void {
    this.mDisposed = true;
    this.clearRetry();
    this.stopPing();
    this.dropClient();
  }

  private async attempt(): Promise<void> {
    this.dropClient();
    if (this.mState.kind === 'reconnecting') {
      this.setState({ kind: 'reconnecting', attempt: this.mState.attempt, retryAt: null });
    }
    const client = new SignalingClient({
      url: this.mOptions.url,
      socketFactory: this.mOptions.socketFactory,
      clientName: 'conclave-web',
      ...(this.mOptions.requestTimeoutMs === undefined ? {} : { requestTimeoutMs: this.mOptions.requestTimeoutMs }),
    });
    this.mClient = client;
    this.listen(client);
    try {
      await client.connect();
      const joined = await client.join(this.mOptions.roomId, encodeProfile({ name: this.mName }));
      if (client !== this.mClient) return;
      this.mSelfId = joined.participantId;
      this.mRoster = new Map();
      this.mRoster.set(joined.participantId, { id: joined.participantId, name: this.mName, self: true });
      for (const p of joined.participants) this.mRoster.set(p.id, this.entry(p));
      this.mAttempt = 0;
      this.startPing(client);
      // Synchronously after `joined`: the server's first subscribe offer may follow right away.
      this.mOptions.media?.attach(client, joined.participantId);
      this.publishRoster();
      this.mOptions.onAnnounce?.({ kind: 'self-joined' });
    } catch (err) {
      if (client !== this.mClient) return;
      const code = err instanceof SignalingError ? err.code : 'internal';
      if (this.mState.kind === 'shutdown') return;
      if (TRANSIENT_CODES.has(code)) {
        this.scheduleReconnect();
      } else {
        this.dropClient();
        this.setState({ kind: 'failed', code });
      }
    }
  }

  private listen(client: SignalingClient): void {
    const mine = (): boolean => client === this.mClient && this.mState.kind === 'joined';
    client.on('participant-joined', (p) => {
      if (!mine() || p.id === this.mSelfId) return;
      const entry = this.entry(p);
      this.mRoster.set(p.id, entry);
      this.publishRoster();
      this.mOptions.onAnnounce?.({ kind: 'joined', name: entry.name });
    });
    client.on('participant-updated', (p) => {
      if (!mine() || p.id === this.mSelfId) return;
      const old = this.mRoster.get(p.id);
      const entry = this.entry(p);
      this.mRoster.set(p.id, entry);
      this.publishRoster();
      if (old && old.name !== entry.name) {
        this.mOptions.onAnnounce?.({ kind: 'renamed', old: old.name, name: entry.name });
      }
    });
    client.on('participant-left', (id) => {
      if (!mine()) return;
      const old = this.mRoster.get(id);
      if (!old || old.self) return;
      this.mRoster.delete(id);
      this.publishRoster();
      this.mOptions.onAnnounce?.({ kind: 'left', name: old.name });
    });
    client.on('goodbye', () => {
      if (client !== this.mClient) return;
      this.stopPing();
      this.mOptions.media?.detach();
      this.setState({ kind: 'shutdown' });
    });
    client.on('close', (info: CloseInfo) => {
      if (client !== this.mClient || info.byClient) return;
      this.stopPing();
      if (info.afterGoodbye || this.mState.kind === 'shutdown') {
        this.mClient = null;
        this.mOptions.media?.detach();
        this.setState({ kind: 'shutdown' });
      } else if (this.mState.kind === 'joined') {
        this.scheduleReconnect();
      }
      // While connecting, the failed request promise schedules the retry.
    });
  }

  private entry(p: Participant): RosterEntry {
    return { id: p.id, name: decodeProfile(p.profile)?.name ?? null, self: false };
  }

  private publishRoster(): void {
    const roster = [...this.mRoster.values()].map((e) => ({ ...e }));
    this.setState({ kind: 'joined', selfId: this.mSelfId, roster });
  }

  private scheduleReconnect(): void {
    this.dropClient();
    this.clearRetry();
    this.mAttempt += 1;
    const delay = backoffDelay(this.mAttempt, (this.mOptions.random ?? Math.random)());
    this.setState({ kind: 'reconnecting', attempt: this.mAttempt, retryAt: Date.now() + delay });
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
          this.scheduleReconnect();
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
    if (client) this.mOptions.media?.detach();
    client?.close();
  }

  private setState(state: SessionState): void {
    this.mState = state;
    if (!this.mDisposed) this.mOptions.onState(state);
  }
}
