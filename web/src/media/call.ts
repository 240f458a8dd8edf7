// One participant's media in one meeting: the publish and the subscribe RTCPeerConnection of
// docs/protocol.md ("Media"). No DOM code; the view renders what `remote` and `states` report.
//
// - publish: every local track is a `sendonly` transceiver of one connection; this side offers
//   (`publish`) and the server answers. Adding or stopping a track (screen share) renegotiates.
// - subscribe: the server offers (`subscribe-offer`), this side answers (`subscribe-answer`). The
//   offer's `tracks` list says whose track each m-section carries; that mapping is kept here.
// - ICE: when a connection fails, or the server says `media-failed`, its ICE is restarted (a new
//   publish offer with new credentials, or `subscribe-restart` and the server's new offer). If
//   the connection is not back within `iceRestartTimeoutMs`, `onLost` asks for a full rejoin.
//   A connection that stays `disconnected` (the browser's checks get no answer: its address
//   changed, the path broke) is not left to wait for `failed` (about 30 s): after
//   DISCONNECTED_GRACE_MS the signaling connection is checked with a quick ping. No answer: the
//   signaling connection died with the path, so `onLost` (a full rejoin) at once; an answer: an
//   ICE restart over it.
// Negotiations of one connection never overlap: each connection has its own queue.
//
// A Call lives as long as one signaling connection's membership: when the session reconnects (and
// rejoins as a new participant), the old Call is closed and a new one built.
//
// End-to-end encryption: every sender and receiver gets a frame transform (FrameTransforms,
// src/media/frame_crypto.ts) before any media flows, and each receiver is told whose track its
// m-section carries. Without a transform API nothing is published (media never leaves in the
// clear) and every subscription is declined (media that cannot be checked is never rendered).

import type {
  MediaConnection,
  MediaKind,
  PublishedTrack,
  SubscribedTrack,
  TrackSource,
  VideoPreference,
} from '../protocol/messages';
import { SignalingError, type IceServer, type SignalingEvents } from '../protocol/client';
import { constantBitrateAudio, preferSupportedCodecs } from './codecs';
import type { FrameTransforms } from './frame_crypto';
import { Renegotiator, SerialQueue, type NegotiationRequest } from './queue';
import { sendEncodingsFor } from './simulcast';
import { VideoPreferences } from './video_preferences';
import { SubscriptionMap, type RemoteParticipantMedia } from './tracks';

/** What the Call needs from the signaling client (SignalingClient implements it). */
export interface MediaSignaling {
  publish(sdp: string, tracks: PublishedTrack[]): Promise<string>;
  subscribeAnswer(sdp: string): Promise<void>;
  subscribeRestart(): Promise<void>;
  /** A round trip to the server within `timeoutMs`; rejects when the connection is dead. */
  ping?(timeoutMs: number): Promise<void>;
  on<E extends 'subscribe-offer' | 'media-failed' | 'ice-servers'>(event: E, handler: SignalingEvents[E]): () => void;
  /** How large each received video is shown (simulcast); no reply. */
  videoPreferences?(preferences: VideoPreference[]): void;
  /** The server's TURN servers with a valid credential (none: media goes straight to the server). */
  readonly iceServers?: IceServer[];
}

export const PEER_CONNECTION_CONFIG: RTCConfiguration = {
  bundlePolicy: 'max-bundle',
  rtcpMuxPolicy: 'require',
  iceServers: [],
};

/** Codes of a request that never reached the server or got no answer: not a refusal. */
const CONNECTION_CODES = new Set(['closed', 'timeout', 'not-connected']);

/** The server's error code when it refused a request; null when the request got no answer. */
function refusalCode(error: unknown): string | null {
  const code = typeof error === 'object' && error !== null && 'code' in error ? error.code : null;
  return typeof code === 'string' && !CONNECTION_CODES.has(code) ? code : null;
}

export type CodecCapabilities = (kind: MediaKind) => { codecs: RTCRtpCodec[] } | null;

export interface CallOptions {
  signaling: MediaSignaling;
  /** This participant's id: its own tracks are never shown as remote ones. */
  selfId: string;
  /** The end-to-end encryption of every frame sent and received. */
  transforms: FrameTransforms;
  /** Called when the remote tracks or a connection state changed. */
  onChange: () => void;
  /** A negotiation failed (the call goes on; the next change or ICE restart tries again). */
  onError?: (connection: MediaConnection, error: unknown) => void;
  /** An ICE restart did not bring `connection` back in time: only a full rejoin can. */
  onLost?: (connection: MediaConnection) => void;
  /** How long an ICE restart may take before `onLost` (default ICE_RESTART_TIMEOUT_MS). */
  iceRestartTimeoutMs?: number;
  createPeerConnection?: (config: RTCConfiguration) => RTCPeerConnection;
  /** RTCRtpSender.getCapabilities where available; null to keep the browser's codec list. */
  codecCapabilities?: CodecCapabilities | null;
}

export type ConnectionState = RTCPeerConnectionState | 'none';

/** ICE checks, DTLS and the first packets after a restart take well under a second when all is well. */
export const ICE_RESTART_TIMEOUT_MS = 8000;
/** How long a connection may stay `disconnected` before it is treated as broken (brief loss heals itself). */
export const DISCONNECTED_GRACE_MS = 2000;
/** The liveness ping of a stalled connection: the server answers within milliseconds when it is reachable. */
export const STALL_PING_TIMEOUT_MS = 2500;

function defaultCapabilities(): CodecCapabilities | null {
  const sender = (globalThis as { RTCRtpSender?: typeof RTCRtpSender }).RTCRtpSender;
  if (!sender || typeof sender.getCapabilities !== 'function') return null;
  return (kind) => sender.getCapabilities(kind);
}

export class Call {
  private readonly mOptions: CallOptions;
  private readonly mCreatePc: (config: RTCConfiguration) => RTCPeerConnection;
  private readonly mCapabilities: CodecCapabilities | null;
  private readonly mSubscribePc: RTCPeerConnection;
  private mPublishPc: RTCPeerConnection | null = null;
  private readonly mPublished = new Map<TrackSource, RTCRtpTransceiver>();
  private readonly mPublishNegotiator: Renegotiator;
  private readonly mSubscribeQueue = new SerialQueue();
  private readonly mSubscriptions = new SubscriptionMap();
  private mRemote: RemoteParticipantMedia[] = [];
  private mSubscribeRestartPending = false;
  private readonly mProtectedReceivers = new WeakSet<object>();
  private mClosed = false;
  private readonly mUnsubscribe: (() => void)[] = [];
  /** The server refused the last publish offer (its error code); null after one it accepted. */
  private mPublishError: string | null = null;
  /** A restart in progress per connection: gives up (onLost) when it fires. */
  private readonly mRestartWatch = new Map<MediaConnection, ReturnType<typeof setTimeout>>();
  /** A connection that went `disconnected`: checked (checkStalled) when it fires. */
  private readonly mStallWatch = new Map<MediaConnection, ReturnType<typeof setTimeout>>();
  /** Reports the sizes the view shows received videos at (the server picks layers from them). */
  private readonly mVideoPreferences: VideoPreferences;

  constructor(options: CallOptions) {
    this.mOptions = options;
    this.mVideoPreferences = new VideoPreferences({
      send: (preferences) => options.signaling.videoPreferences?.(preferences),
    });
    this.mVideoPreferences.activate();
    this.mCreatePc = options.createPeerConnection ?? ((config) => new RTCPeerConnection(config));
    this.mCapabilities = options.codecCapabilities === undefined ? defaultCapabilities() : options.codecCapabilities;
    this.mPublishNegotiator = new Renegotiator(
      (request) => this.negotiatePublish(request),
      (error) => this.report('publish', error),
    );
    // The subscribe connection exists from the start: the server may offer right after `joined`.
    this.mSubscribePc = this.createPc('subscribe');
    this.mUnsubscribe.push(
      options.signaling.on('subscribe-offer', (offer) => this.onSubscribeOffer(offer.sdp, offer.tracks)),
      options.signaling.on('media-failed', (connection) => this.restartIce(connection)),
      options.signaling.on('ice-servers', (servers) => this.setIceServers(servers)),
    );
  }

  get closed(): boolean {
    return this.mClosed;
  }

  /** Everything received, grouped by participant. */
  get remote(): RemoteParticipantMedia[] {
    return this.mRemote;
  }

  /** The code of the server's refusal of the last publish offer; null when it was accepted. */
  get publishError(): string | null {
    return this.mPublishError;
  }

  /** Whether any local track is being offered to the server. */
  get publishing(): boolean {
    for (const transceiver of this.mPublished.values()) if (transceiver.direction === 'sendonly') return true;
    return false;
  }

  /** The subscribe connection's statistics (the tiles' connection quality reads them). */
  receiveStats(): Promise<RTCStatsReport> {
    return this.mSubscribePc.getStats();
  }

  get states(): Record<MediaConnection, ConnectionState> {
    return {
      publish: this.mPublishPc?.connectionState ?? 'none',
      subscribe: this.mSubscribePc.connectionState,
    };
  }

  /**
   * Sends `track` as `source`, or stops sending it (null). A new source adds a transceiver; a
   * stopped one keeps its transceiver `inactive` for later reuse. Resolves when the publish
   * negotiation this needs (if any) has ended.
   */
  async setTrack(source: TrackSource, track: MediaStreamTrack | null, stream: MediaStream | null): Promise<void> {
    if (this.mClosed) return;
    const transceiver = this.mPublished.get(source);
    if (!transceiver) {
      if (!track) return;
      if (this.mOptions.transforms.mode === 'none') {
        throw new SignalingError('e2ee-unsupported', 'this browser cannot encrypt media end to end');
      }
      const pc = this.publishPc();
      const kind = track.kind === 'audio' ? 'audio' : 'video';
      // Simulcast layers must be given here (Firefox takes them nowhere else).
      const sendEncodings = sendEncodingsFor(source);
      const added = pc.addTransceiver(track, {
        direction: 'sendonly',
        streams: stream ? [stream] : [],
        ...(sendEncodings ? { sendEncodings } : {}),
      });
      this.mOptions.transforms.protectSender(added.sender, source, kind);
      preferSupportedCodecs(added, kind, this.mCapabilities);
      this.mPublished.set(source, added);
      return this.mPublishNegotiator.request();
    }
    await transceiver.sender.replaceTrack(track);
    if (this.mClosed) return;
    const direction: RTCRtpTransceiverDirection = track ? 'sendonly' : 'inactive';
    if (transceiver.direction === direction) return;
    if (track && stream && typeof transceiver.sender.setStreams === 'function') transceiver.sender.setStreams(stream);
    transceiver.direction = direction;
    return this.mPublishNegotiator.request();
  }

  /** Restarts ICE on one connection (after `failed` or `media-failed`). */
  restartIce(connection: MediaConnection): void {
    if (this.mClosed) return;
    if (connection === 'publish') {
      if (!this.mPublishPc) return;
      this.watchRestart(connection);
      void this.mPublishNegotiator.request(true);
      return;
    }
    this.watchRestart(connection);
    if (this.mSubscribeRestartPending) return;
    this.mSubscribeRestartPending = true;
    this.mSubscribeQueue
      .run(() => this.mOptions.signaling.subscribeRestart())
      .catch((error: unknown) => this.report('subscribe', error))
      .finally(() => {
        this.mSubscribeRestartPending = false;
      });
  }

  /** Closes both connections. Local tracks stay with their owner. */
  close(): void {
    if (this.mClosed) return;
    this.mClosed = true;
    for (const timer of [...this.mRestartWatch.values(), ...this.mStallWatch.values()]) clearTimeout(timer);
    this.mRestartWatch.clear();
    this.mStallWatch.clear();
    for (const unsubscribe of this.mUnsubscribe) unsubscribe();
    this.mPublishNegotiator.close();
    this.mSubscribeQueue.close();
    this.mVideoPreferences.close();
    this.mPublishPc?.close();
    this.mSubscribePc.close();
    this.mSubscriptions.clear();
    this.mRemote = [];
  }

  private createPc(connection: MediaConnection): RTCPeerConnection {
    const config = {
      ...PEER_CONNECTION_CONFIG,
      ...this.mOptions.transforms.peerConnectionConfig,
      iceServers: this.mOptions.signaling.iceServers ?? [],
    };
    const pc = this.mCreatePc(config);
    pc.addEventListener('connectionstatechange', () => {
      if (this.mClosed) return;
      this.mOptions.onChange();
      if (pc.connectionState === 'connected') this.endWatch(connection);
      if (pc.connectionState === 'failed') this.restartIce(connection);
      this.watchStall(connection, pc.connectionState === 'disconnected');
    });
    return pc;
  }

  private connectionState(connection: MediaConnection): ConnectionState {
    return (connection === 'publish' ? this.mPublishPc?.connectionState : this.mSubscribePc.connectionState) ?? 'none';
  }

  /** Starts (or, when no longer `disconnected`, cancels) the grace period of a disconnected connection. */
  private watchStall(connection: MediaConnection, disconnected: boolean): void {
    const timer = this.mStallWatch.get(connection);
    if (!disconnected) {
      if (timer !== undefined) clearTimeout(timer);
      this.mStallWatch.delete(connection);
      return;
    }
    if (timer !== undefined) return;
    this.mStallWatch.set(
      connection,
      setTimeout(() => {
        this.mStallWatch.delete(connection);
        void this.checkStalled(connection);
      }, DISCONNECTED_GRACE_MS),
    );
  }

  /** Still `disconnected` after the grace period: a dead signaling connection means a rejoin, else an ICE restart. */
  private async checkStalled(connection: MediaConnection): Promise<void> {
    if (this.mClosed || this.connectionState(connection) !== 'disconnected') return;
    const signaling = this.mOptions.signaling;
    if (signaling.ping) {
      try {
        await signaling.ping(STALL_PING_TIMEOUT_MS);
      } catch (error) {
        if (this.mClosed) return;
        // A refusal (rate-limited) says the server is there; anything else says it is not.
        if (refusalCode(error) === null) {
          this.mOptions.onLost?.(connection);
          return;
        }
      }
    }
    if (this.mClosed || this.connectionState(connection) !== 'disconnected') return;
    this.restartIce(connection);
  }

  /** Starts the deadline of an ICE restart (one per connection until it is connected again). */
  private watchRestart(connection: MediaConnection): void {
    if (this.mRestartWatch.has(connection)) return;
    const timer = setTimeout(() => {
      this.mRestartWatch.delete(connection);
      if (this.mClosed) return;
      if (this.connectionState(connection) !== 'connected') this.mOptions.onLost?.(connection);
    }, this.mOptions.iceRestartTimeoutMs ?? ICE_RESTART_TIMEOUT_MS);
    this.mRestartWatch.set(connection, timer);
  }

  private endWatch(connection: MediaConnection): void {
    const timer = this.mRestartWatch.get(connection);
    if (timer === undefined) return;
    clearTimeout(timer);
    this.mRestartWatch.delete(connection);
  }

  // A renewed TURN credential: the connections use it from their next allocation on (an ICE
  // restart, a TURN refresh after the old one expired). Everything else stays as it was.
  private setIceServers(servers: IceServer[]): void {
    if (this.mClosed) return;
    for (const pc of [this.mSubscribePc, this.mPublishPc]) {
      if (!pc || pc.signalingState === 'closed') continue;
      try {
        pc.setConfiguration({ ...pc.getConfiguration(), iceServers: servers });
      } catch (error) {
        this.report(pc === this.mSubscribePc ? 'subscribe' : 'publish', error);
      }
    }
  }

  private publishPc(): RTCPeerConnection {
    this.mPublishPc ??= this.createPc('publish');
    return this.mPublishPc;
  }

  private async negotiatePublish(request: NegotiationRequest): Promise<void> {
    const pc = this.mPublishPc;
    if (!pc || this.mClosed) return;
    const offer = await pc.createOffer(request.iceRestart ? { iceRestart: true } : {});
    if (this.mClosed) return;
    await pc.setLocalDescription(offer);
    const tracks: PublishedTrack[] = [];
    for (const [source, transceiver] of this.mPublished) {
      if (transceiver.mid !== null && transceiver.direction === 'sendonly')
        tracks.push({ mid: transceiver.mid, source });
    }
    let answer: string;
    try {
      answer = await this.mOptions.signaling.publish(pc.localDescription?.sdp ?? offer.sdp ?? '', tracks);
      this.setPublishError(null);
    } catch (error) {
      const code = refusalCode(error);
      if (!this.mClosed && code !== null) this.setPublishError(code);
      // Back to `stable`, so that the next negotiation can start from a clean state.
      if (!this.mClosed && pc.signalingState === 'have-local-offer') {
        await pc.setLocalDescription({ type: 'rollback' }).catch(() => undefined);
      }
      throw error;
    }
    if (this.mClosed) return;
    // Constant-bitrate Opus, no DTX, no audio levels: packet sizes and headers must not show speech.
    await pc.setRemoteDescription({ type: 'answer', sdp: constantBitrateAudio(answer) });
  }

  private setPublishError(code: string | null): void {
    if (this.mPublishError === code) return;
    this.mPublishError = code;
    this.mOptions.onChange();
  }

  private onSubscribeOffer(sdp: string, tracks: SubscribedTrack[]): void {
    if (this.mClosed) return;
    this.mSubscribeQueue
      .run(async () => {
        if (this.mClosed) return;
        const pc = this.mSubscribePc;
        try {
          await pc.setRemoteDescription({ type: 'offer', sdp });
          // Without a transform API nothing could be decrypted or checked: decline every section
          // (the server then forwards nothing) and show nothing. The view says why (e2ee.unsupported).
          const refuse = this.mOptions.transforms.mode === 'none';
          if (refuse) for (const transceiver of pc.getTransceivers()) transceiver.direction = 'inactive';
          else this.protectReceivers(tracks);
          const answer = await pc.createAnswer();
          await pc.setLocalDescription(answer);
          if (this.mClosed) return;
          const change = this.mSubscriptions.update(refuse ? [] : tracks, this.mOptions.selfId);
          for (const gone of change.removed) {
            if (!this.mSubscriptions.get(gone.mid)) this.mOptions.transforms.assignReceiver(gone.mid, null);
          }
          for (const track of change.added) this.mOptions.transforms.assignReceiver(track.mid, track);
          this.refreshRemote();
          await this.mOptions.signaling.subscribeAnswer(pc.localDescription?.sdp ?? answer.sdp ?? '');
          // New consumers start at the top layer: they get the sizes again.
          this.mVideoPreferences.invalidate();
        } catch (error) {
          if (!this.mClosed && pc.signalingState === 'have-remote-offer') {
            await pc.setRemoteDescription({ type: 'rollback' }).catch(() => undefined);
          }
          throw error;
        }
      })
      .catch((error: unknown) => this.report('subscribe', error));
  }

  /** A decrypting transform on every receiver, before the answer lets any media in. */
  private protectReceivers(tracks: readonly SubscribedTrack[]): void {
    const byMid = new Map(tracks.map((t) => [t.mid, t]));
    for (const transceiver of this.mSubscribePc.getTransceivers()) {
      const mid = transceiver.mid;
      if (mid === null || this.mProtectedReceivers.has(transceiver.receiver)) continue;
      this.mProtectedReceivers.add(transceiver.receiver);
      const info = byMid.get(mid);
      const kind = transceiver.receiver.track.kind === 'audio' ? 'audio' : 'video';
      const owner = info && info.participantId !== this.mOptions.selfId ? info : null;
      this.mOptions.transforms.protectReceiver(transceiver.receiver, mid, kind, owner);
    }
  }

  private refreshRemote(): void {
    const receivers = new Map<string, MediaStreamTrack>();
    for (const transceiver of this.mSubscribePc.getTransceivers()) {
      if (transceiver.mid !== null) receivers.set(transceiver.mid, transceiver.receiver.track);
    }
    this.mRemote = this.mSubscriptions.group((mid) => receivers.get(mid) ?? null);
    this.mOptions.onChange();
  }

  private report(connection: MediaConnection, error: unknown): void {
    if (this.mClosed) return;
    this.mOptions.onError?.(connection, error);
  }
}
