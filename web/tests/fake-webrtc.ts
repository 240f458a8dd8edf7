// Minimal stand-ins for RTCPeerConnection and the signaling client, enough to drive the Call's
// bookkeeping: mids appear at setLocalDescription (publish) or setRemoteDescription (subscribe).
import type { SenderKey } from '../src/e2ee';
import type { MediaSignaling } from '../src/media/call';
import type { FrameCrypto, TransformMode } from '../src/media/frame_crypto';
import type { TrackCryptoStats } from '../src/media/frame_engine';
import type { MediaKind, PublishedTrack, SubscribedTrack, TrackSource } from '../src/protocol/messages';
import type { IceServer, SignalingEvents } from '../src/protocol/client';

export class FakeTrack {
  static next = 1;
  readonly id = `track-${FakeTrack.next++}`;
  enabled = true;
  stopped = false;
  contentHint = '';
  readyState: MediaStreamTrackState = 'live';
  private readonly mListeners = new Map<string, (() => void)[]>();
  constructor(
    readonly kind: 'audio' | 'video',
    readonly deviceId = '',
  ) {}
  stop(): void {
    this.stopped = true;
    this.readyState = 'ended';
  }
  getSettings(): MediaTrackSettings {
    return this.deviceId ? { deviceId: this.deviceId } : {};
  }
  addEventListener(type: string, listener: () => void): void {
    this.mListeners.set(type, [...(this.mListeners.get(type) ?? []), listener]);
  }
  /** What the browser does when the device goes away or the user stops sharing. */
  end(): void {
    this.readyState = 'ended';
    for (const listener of this.mListeners.get('ended') ?? []) listener();
  }
}

/** Enough of MediaStream for the controller (installed as globalThis.MediaStream in tests). */
export class FakeMediaStream {
  private mTracks: FakeTrack[];
  constructor(tracks: FakeTrack[] = []) {
    this.mTracks = [...tracks];
  }
  getTracks(): FakeTrack[] {
    return [...this.mTracks];
  }
  getAudioTracks(): FakeTrack[] {
    return this.mTracks.filter((t) => t.kind === 'audio');
  }
  getVideoTracks(): FakeTrack[] {
    return this.mTracks.filter((t) => t.kind === 'video');
  }
  addTrack(track: FakeTrack): void {
    if (!this.mTracks.includes(track)) this.mTracks.push(track);
  }
  removeTrack(track: FakeTrack): void {
    this.mTracks = this.mTracks.filter((t) => t !== track);
  }
}

export class FakeTransceiver {
  mid: string | null = null;
  direction: RTCRtpTransceiverDirection;
  codecPreferences: RTCRtpCodec[] | null = null;
  readonly sender: {
    track: FakeTrack | null;
    streams: unknown[];
    replaceTrack: (track: FakeTrack | null) => Promise<void>;
    setStreams: (...streams: unknown[]) => void;
  };
  readonly receiver: { track: FakeTrack };

  constructor(
    direction: RTCRtpTransceiverDirection,
    kind: 'audio' | 'video',
    track: FakeTrack | null,
    streams: unknown[],
  ) {
    this.direction = direction;
    this.receiver = { track: new FakeTrack(kind) };
    const sender = {
      track,
      streams,
      replaceTrack: (next: FakeTrack | null) => {
        sender.track = next;
        return Promise.resolve();
      },
      setStreams: (...next: unknown[]) => {
        sender.streams = next;
      },
    };
    this.sender = sender;
  }

  setCodecPreferences(codecs: RTCRtpCodec[]): void {
    this.codecPreferences = codecs;
  }
}

type Description = { type: RTCSdpType; sdp?: string };

export class FakePeerConnection {
  static created: FakePeerConnection[] = [];
  readonly log: string[] = [];
  readonly transceivers: FakeTransceiver[] = [];
  signalingState: RTCSignalingState = 'stable';
  connectionState: RTCPeerConnectionState = 'new';
  localDescription: Description | null = null;
  remoteDescription: Description | null = null;
  closed = false;
  offerOptions: RTCOfferOptions[] = [];
  stats: Record<string, unknown>[] = [];
  /** When set, setRemoteDescription waits for it (to test that negotiations do not overlap). */
  gate: Promise<void> | null = null;
  private mNextMid = 0;
  private mOffers = 0;
  private readonly mListeners: (() => void)[] = [];

  /** Every setConfiguration() call, in order. */
  readonly reconfigured: RTCConfiguration[] = [];

  constructor(readonly config: RTCConfiguration) {
    FakePeerConnection.created.push(this);
  }

  getConfiguration(): RTCConfiguration {
    return this.reconfigured.at(-1) ?? this.config;
  }

  setConfiguration(config: RTCConfiguration): void {
    this.reconfigured.push(config);
  }

  addTransceiver(track: FakeTrack, init: RTCRtpTransceiverInit): FakeTransceiver {
    const transceiver = new FakeTransceiver(init.direction ?? 'sendrecv', track.kind, track, init.streams ?? []);
    this.transceivers.push(transceiver);
    this.log.push(`addTransceiver ${track.kind}`);
    return transceiver;
  }

  getTransceivers(): FakeTransceiver[] {
    return [...this.transceivers];
  }

  async createOffer(options: RTCOfferOptions = {}): Promise<Description> {
    await Promise.resolve();
    this.offerOptions.push(options);
    this.mOffers += 1;
    this.log.push(`createOffer${options.iceRestart ? ' iceRestart' : ''}`);
    return { type: 'offer', sdp: `offer-${this.mOffers}` };
  }

  async createAnswer(): Promise<Description> {
    await Promise.resolve();
    if (this.signalingState !== 'have-remote-offer') throw new Error('InvalidStateError: no remote offer');
    this.log.push('createAnswer');
    return { type: 'answer', sdp: `answer-to-${this.remoteDescription?.sdp ?? ''}` };
  }

  async setLocalDescription(description: Description): Promise<void> {
    await Promise.resolve();
    this.log.push(`setLocalDescription ${description.type}`);
    if (description.type === 'rollback') {
      this.signalingState = 'stable';
      return;
    }
    if (description.type === 'offer') {
      for (const t of this.transceivers) if (t.mid === null) t.mid = String(this.mNextMid++);
      const mids = this.transceivers.map((t) => `${t.mid ?? '-'}:${t.direction}`).join(',');
      this.localDescription = { type: 'offer', sdp: `${description.sdp ?? ''} [${mids}]` };
      this.signalingState = 'have-local-offer';
    } else {
      this.localDescription = { type: description.type, sdp: description.sdp ?? '' };
      this.signalingState = 'stable';
    }
  }

  async setRemoteDescription(description: Description): Promise<void> {
    if (this.gate) await this.gate;
    await Promise.resolve();
    this.log.push(`setRemoteDescription ${description.type}`);
    if (description.type === 'rollback') {
      this.signalingState = 'stable';
      return;
    }
    const sdp = description.sdp ?? '';
    if (sdp.includes('BROKEN')) throw new Error('OperationError: bad SDP');
    this.remoteDescription = { type: description.type, sdp };
    if (description.type === 'offer') {
      // Subscribe offers in these tests: "mid=kind" words, e.g. "offer-1 0=audio 1=video".
      for (const word of sdp.split(' ')) {
        const [mid, kind] = word.split('=');
        if (!mid || (kind !== 'audio' && kind !== 'video')) continue;
        if (!this.transceivers.some((t) => t.mid === mid)) {
          const t = new FakeTransceiver('recvonly', kind, null, []);
          t.mid = mid;
          this.transceivers.push(t);
        }
      }
      this.signalingState = 'have-remote-offer';
    } else {
      this.signalingState = 'stable';
    }
  }

  async getStats(): Promise<Map<string, Record<string, unknown>>> {
    await Promise.resolve();
    return new Map(this.stats.map((s, i) => [String(i), s]));
  }

  addEventListener(type: string, listener: () => void): void {
    if (type === 'connectionstatechange') this.mListeners.push(listener);
  }

  setConnectionState(state: RTCPeerConnectionState): void {
    this.connectionState = state;
    for (const listener of this.mListeners) listener();
  }

  close(): void {
    this.closed = true;
    this.connectionState = 'closed';
  }
}

export interface Deferred<T> {
  promise: Promise<T>;
  resolve: (value: T) => void;
  reject: (error: unknown) => void;
}

export function deferred<T>(): Deferred<T> {
  let resolve!: (value: T) => void;
  let reject!: (error: unknown) => void;
  const promise = new Promise<T>((res, rej) => {
    resolve = res;
    reject = rej;
  });
  return { promise, resolve, reject };
}

export type SignalCall =
  | { type: 'publish'; sdp: string; tracks: PublishedTrack[]; reply: Deferred<string> }
  | { type: 'subscribe-answer'; sdp: string; reply: Deferred<void> }
  | { type: 'subscribe-restart'; reply: Deferred<void> }
  | { type: 'ping'; timeoutMs: number; reply: Deferred<void> };

/** Plays the server: records every media request; the test settles each reply. */
export class FakeSignaling implements MediaSignaling {
  readonly calls: SignalCall[] = [];
  private readonly mHandlers = new Map<string, Set<(...args: never[]) => void>>();

  publish(sdp: string, tracks: PublishedTrack[]): Promise<string> {
    const reply = deferred<string>();
    this.calls.push({ type: 'publish', sdp, tracks, reply });
    return reply.promise;
  }

  subscribeAnswer(sdp: string): Promise<void> {
    const reply = deferred<void>();
    this.calls.push({ type: 'subscribe-answer', sdp, reply });
    return reply.promise;
  }

  subscribeRestart(): Promise<void> {
    const reply = deferred<void>();
    this.calls.push({ type: 'subscribe-restart', reply });
    return reply.promise;
  }

  ping(timeoutMs: number): Promise<void> {
    const reply = deferred<void>();
    this.calls.push({ type: 'ping', timeoutMs, reply });
    return reply.promise;
  }

  iceServers: IceServer[] = [];

  on<E extends 'subscribe-offer' | 'media-failed' | 'ice-servers'>(event: E, handler: SignalingEvents[E]): () => void {
    const set = this.mHandlers.get(event) ?? new Set();
    this.mHandlers.set(event, set);
    set.add(handler);
    return () => set.delete(handler);
  }

  handlerCount(): number {
    let n = 0;
    for (const set of this.mHandlers.values()) n += set.size;
    return n;
  }

  offer(sdp: string, tracks: SubscribedTrack[]): void {
    for (const h of this.mHandlers.get('subscribe-offer') ?? [])
      (h as SignalingEvents['subscribe-offer'])({ sdp, tracks });
  }

  /** The client renewed its TURN credential. */
  renewIceServers(servers: IceServer[]): void {
    this.iceServers = servers;
    for (const h of this.mHandlers.get('ice-servers') ?? []) (h as SignalingEvents['ice-servers'])(servers);
  }

  mediaFailed(connection: 'publish' | 'subscribe'): void {
    for (const h of this.mHandlers.get('media-failed') ?? []) (h as SignalingEvents['media-failed'])(connection);
  }

  last<T extends SignalCall['type']>(type: T): Extract<SignalCall, { type: T }> {
    const found = this.calls.filter((c): c is Extract<SignalCall, { type: T }> => c.type === type).at(-1);
    if (!found) throw new Error(`no ${type} sent`);
    return found;
  }

  count(type: SignalCall['type']): number {
    return this.calls.filter((c) => c.type === type).length;
  }
}

/** Lets every pending promise callback run (the fakes resolve after a few microtasks). */
export async function settle(): Promise<void> {
  for (let i = 0; i < 30; i++) await Promise.resolve();
}

/** Records what the Call asks of the frame transforms (the worker side is tested on its own). */
export class FakeTransforms implements FrameCrypto {
  mode: TransformMode = 'script';
  peerConnectionConfig: Record<string, unknown> = {};
  readonly log: string[] = [];
  readonly senders: unknown[] = [];
  readonly receivers: unknown[] = [];
  /** The keys setReceiveKey was given, in order. */
  readonly receiveKeys: SenderKey[] = [];

  protectSender(sender: RTCRtpSender, source: TrackSource, kind: MediaKind): void {
    this.senders.push(sender);
    this.log.push(`send ${source} ${kind}`);
  }
  protectReceiver(receiver: RTCRtpReceiver, mid: string, kind: MediaKind, track: SubscribedTrack | null): void {
    this.receivers.push(receiver);
    this.log.push(`receive ${mid} ${kind} ${track ? `${track.participantId}/${track.source}` : '-'}`);
  }
  assignReceiver(mid: string, track: SubscribedTrack | null): void {
    this.log.push(`assign ${mid} ${track ? `${track.participantId}/${track.source}` : '-'}`);
  }
  setSendKey(key: SenderKey, tag: number): void {
    this.log.push(`send-key ${tag} ${key.generation}`);
  }
  addSender(participantId: string, tag: number): void {
    this.log.push(`add-sender ${participantId} ${tag}`);
  }
  removeSender(participantId: string): void {
    this.log.push(`remove-sender ${participantId}`);
  }
  expectRotation(): void {
    this.log.push('expect-rotation');
  }
  setReceiveKey(participantId: string, key: SenderKey): void {
    this.receiveKeys.push(key);
    this.log.push(`receive-key ${participantId} ${key.generation}`);
  }
  reset(): void {
    this.log.push('reset');
  }
  stats(): TrackCryptoStats[] {
    return [];
  }
  dispose(): void {
    this.log.push('dispose');
  }
}
