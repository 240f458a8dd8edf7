// The main-thread side of media encryption: puts a frame transform on every sender and receiver
// (RTCRtpScriptTransform where the browser has it, else createEncodedStreams() with
// `encodedInsertableStreams: true`), and forwards the keys of the current membership to the
// worker (src/media/e2ee_worker.ts). A browser with neither API cannot encrypt: the Call then
// refuses to send anything (mode `none`), it never sends media in the clear.

import type { MediaKind, SubscribedTrack, TrackSource } from '../protocol/messages';
import type { SenderKey } from '../e2ee';
import type { MediaKeySink } from '../secure/key_manager';
import type { FrameCryptoMessage, FrameCryptoRequest, TrackCryptoStats, TransformOptions } from './frame_engine';

export type TransformMode = 'script' | 'streams' | 'none';

/** What the Call needs to protect its senders and receivers. */
export interface FrameTransforms {
  readonly mode: TransformMode;
  /** Extra RTCPeerConnection settings the mode needs. */
  readonly peerConnectionConfig: Record<string, unknown>;
  protectSender(sender: RTCRtpSender, source: TrackSource, kind: MediaKind): void;
  protectReceiver(receiver: RTCRtpReceiver, mid: string, kind: MediaKind, track: SubscribedTrack | null): void;
  /** Whose track an m-section carries now (null: nobody's, the section is inactive). */
  assignReceiver(mid: string, track: SubscribedTrack | null): void;
}

export interface FrameCrypto extends FrameTransforms, MediaKeySink {
  /** A new membership: old transforms stop, their counters and every key go. */
  reset(): void;
  /** The worker's last per-track counters. */
  stats(): TrackCryptoStats[];
  dispose(): void;
}

interface EncodedStreams {
  readable: ReadableStream;
  writable: WritableStream;
}
type WithEncodedStreams = { createEncodedStreams?: () => EncodedStreams };

/** Which transform API this browser has. */
export function detectTransformMode(): TransformMode {
  const g = globalThis as { RTCRtpScriptTransform?: unknown; RTCRtpSender?: { prototype: WithEncodedStreams } };
  if (typeof g.RTCRtpScriptTransform === 'function' && typeof Worker === 'function') return 'script';
  if (typeof g.RTCRtpSender?.prototype.createEncodedStreams === 'function' && typeof Worker === 'function')
    return 'streams';
  return 'none';
}

/** The minimum of a Worker the bridge uses (tests pass a fake). */
export interface WorkerPort {
  postMessage(message: FrameCryptoRequest, transfer?: Transferable[]): void;
  terminate(): void;
  onmessage: ((event: MessageEvent<FrameCryptoMessage>) => void) | null;
}

export class WorkerFrameCrypto implements FrameCrypto {
  readonly mode: 'script' | 'streams';
  readonly peerConnectionConfig: Record<string, unknown>;
  private readonly mWorker: WorkerPort;
  private mStats: TrackCryptoStats[] = [];
  private readonly mProtected = new WeakSet<object>();

  constructor(worker: WorkerPort, mode: 'script' | 'streams', onStats: (stats: TrackCryptoStats[]) => void) {
    this.mWorker = worker;
    this.mode = mode;
    this.peerConnectionConfig = mode === 'streams' ? { encodedInsertableStreams: true } : {};
    worker.onmessage = (event) => {
      if (event.data.type !== 'stats') return;
      this.mStats = event.data.tracks;
      onStats(this.mStats);
    };
  }

  protectSender(sender: RTCRtpSender, source: TrackSource, kind: MediaKind): void {
    this.attach(sender, { role: 'send', kind, source });
  }

  protectReceiver(receiver: RTCRtpReceiver, mid: string, kind: MediaKind, track: SubscribedTrack | null): void {
    this.attach(receiver, {
      role: 'receive',
      kind,
      mid,
      participantId: track?.participantId ?? null,
      source: track?.source ?? null,
    });
  }

  assignReceiver(mid: string, track: SubscribedTrack | null): void {
    this.post({ type: 'assign', mid, participantId: track?.participantId ?? null, source: track?.source ?? null });
  }

  setSendKey(key: SenderKey, tag: number): void {
    this.post({ type: 'send-key', tag, generation: key.generation, material: key.material.slice() });
  }

  addSender(participantId: string, tag: number): void {
    this.post({ type: 'add-sender', participantId, tag });
  }

  removeSender(participantId: string): void {
    this.post({ type: 'remove-sender', participantId });
  }

  setReceiveKey(participantId: string, key: SenderKey): void {
    this.post({ type: 'receive-key', participantId, generation: key.generation, material: key.material.slice() });
  }

  expectRotation(): void {
    this.post({ type: 'expect-rotation' });
  }

  reset(): void {
    this.mStats = [];
    this.post({ type: 'reset' });
  }

  stats(): TrackCryptoStats[] {
    return this.mStats;
  }

  dispose(): void {
    this.mWorker.terminate();
  }

  private post(message: FrameCryptoRequest, transfer: Transferable[] = []): void {
    this.mWorker.postMessage(message, transfer);
  }

  private attach(target: RTCRtpSender | RTCRtpReceiver, options: TransformOptions): void {
    if (this.mProtected.has(target)) return;
    this.mProtected.add(target);
    if (this.mode === 'script') {
      target.transform = new RTCRtpScriptTransform(this.mWorker as unknown as Worker, options);
      return;
    }
    const streams = (target as unknown as WithEncodedStreams).createEncodedStreams?.();
    if (!streams) return;
    this.post({ type: 'streams', options, readable: streams.readable, writable: streams.writable }, [
      streams.readable,
      streams.writable,
    ]);
  }
}

/** Stands in where the browser cannot transform frames: nothing is protected, so nothing is sent. */
export class UnsupportedFrameCrypto implements FrameCrypto {
  readonly mode = 'none' as const;
  readonly peerConnectionConfig: Record<string, unknown> = {};
  protectSender(): void {}
  protectReceiver(): void {}
  assignReceiver(): void {}
  setSendKey(): void {}
  addSender(): void {}
  removeSender(): void {}
  setReceiveKey(): void {}
  expectRotation(): void {}
  reset(): void {}
  stats(): TrackCryptoStats[] {
    return [];
  }
  dispose(): void {}
}

/** The browser's frame crypto: a module worker and the best transform API available. */
export function createFrameCrypto(onStats: (stats: TrackCryptoStats[]) => void): FrameCrypto {
  const mode = detectTransformMode();
  if (mode === 'none') return new UnsupportedFrameCrypto();
  const worker = new Worker(new URL('./e2ee_worker.ts', import.meta.url), { type: 'module', name: 'conclave-e2ee' });
  return new WorkerFrameCrypto(worker, mode, onStats);
}
