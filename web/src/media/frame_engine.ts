// What the frame-transform worker does (src/media/e2ee_worker.ts is only its shell): SFrame
// encryption of every outgoing encoded frame and decryption of every incoming one, with the keys
// the main thread posts, and per-track counters for the view's encryption badges and the tests.
// No DOM and no worker globals, so the unit tests run it directly.
//
// - Sending: one MediaEncryptor per sending transform (per track source). Frames wait for nothing:
//   without a key a frame is dropped, never sent in the clear.
// - Receiving: one MediaDecryptor per receiving transform, bound to the participant the server's
//   subscribe offer names for that m-section (frames under another member's key are refused). A
//   frame that does not decrypt is dropped: the decoder never sees it.
// - The codec decides which leading bytes stay in the clear (VP8 frame tag / key frame header,
//   Opus TOC): taken from the frame's metadata (mimeType) where the browser gives it, else from the
//   track kind (the SFU forwards only Opus and VP8).
// - After a key switch the sender asks its encoder for a key frame where the browser can
//   (generateKeyFrame); a receiver asks the sender (sendKeyFrameRequest) when a new generation
//   starts decrypting or decryption recovers after failures.

import { KeyRing, MediaDecryptor, MediaEncryptor, SenderKey, type MediaCodec } from '../e2ee';
import type { MediaKind } from '../protocol/messages';

export type TransformOptions =
  | { role: 'send'; kind: MediaKind; source: string }
  | { role: 'receive'; kind: MediaKind; mid: string; participantId: string | null; source: string | null };

/** Messages from the main thread (src/media/frame_crypto.ts). Key material is raw bytes. */
export type FrameCryptoRequest =
  /** A new membership: old transforms stop; keys are forgotten. */
  | { type: 'reset' }
  | { type: 'send-key'; tag: number; generation: number; material: Uint8Array }
  | { type: 'add-sender'; participantId: string; tag: number }
  | { type: 'remove-sender'; participantId: string }
  | { type: 'receive-key'; participantId: string; generation: number; material: Uint8Array }
  /** Someone left: no ratchet of any sender key until its rotated key arrives. */
  | { type: 'expect-rotation' }
  | { type: 'assign'; mid: string; participantId: string | null; source: string | null }
  /** createEncodedStreams() fallback: the streams of one sender or receiver. */
  | { type: 'streams'; options: TransformOptions; readable: ReadableStream; writable: WritableStream };

export type FrameCryptoMessage = { type: 'stats'; tracks: TrackCryptoStats[] };

/** The part of RTCEncodedVideoFrame / RTCEncodedAudioFrame the engine uses. */
export interface EncodedFrameLike {
  data: ArrayBuffer;
  getMetadata?: () => { mimeType?: string };
}

export interface TransformHooks {
  generateKeyFrame?: () => void;
  requestKeyFrame?: () => void;
}

export type TrackCryptoState = 'ok' | 'failing' | 'idle';

export interface TrackCryptoStats {
  role: 'send' | 'receive';
  kind: MediaKind;
  /** Sending: the track source. Receiving: the source the server named for the m-section. */
  source: string | null;
  mid: string | null;
  participantId: string | null;
  /** Frames encrypted (send) or decrypted (receive). */
  ok: number;
  /** Frames dropped: no key, no decryption, wrong sender, replay, malformed. */
  failed: number;
  lastError: string | null;
  /** Key generation of the last good frame. */
  generation: number | null;
  /** ok: a good frame in the last 2 s; failing: only bad ones; idle: nothing. */
  state: TrackCryptoState;
}

export interface FrameProcessor {
  /** Encrypts or decrypts `frame.data` in place; false: drop the frame. */
  process(frame: EncodedFrameLike): Promise<boolean>;
  close(): void;
}

const RECENT_MS = 2000;
const KEYFRAME_REQUEST_INTERVAL_MS = 500;

function codecOf(kind: MediaKind, frame: EncodedFrameLike): MediaCodec | null {
  let mime: string | undefined;
  try {
    mime = frame.getMetadata?.().mimeType;
  } catch {
    mime = undefined;
  }
  if (mime === undefined || mime === '') return kind === 'audio' ? 'opus' : 'vp8';
  const lower = mime.toLowerCase();
  if (lower === 'audio/opus') return 'opus';
  if (lower === 'video/vp8') return 'vp8';
  return null;
}

/** The bytes as an ArrayBuffer of exactly their length (no copy when they already are one). */
function exactBuffer(bytes: Uint8Array<ArrayBuffer>): ArrayBuffer {
  return bytes.byteOffset === 0 && bytes.byteLength === bytes.buffer.byteLength ? bytes.buffer : bytes.slice().buffer;
}

abstract class Transform implements FrameProcessor {
  ok = 0;
  failed = 0;
  lastError: string | null = null;
  generation: number | null = null;
  lastOkAt = -Infinity;
  lastFailAt = -Infinity;
  closed = false;

  constructor(
    protected readonly mEngine: FrameCryptoEngine,
    readonly epoch: number,
    readonly kind: MediaKind,
    protected readonly mHooks: TransformHooks,
  ) {}

  abstract process(frame: EncodedFrameLike): Promise<boolean>;
  abstract stats(now: number): TrackCryptoStats;

  close(): void {
    this.closed = true;
    this.mEngine.forget(this);
  }

  protected fail(error: string): false {
    this.failed += 1;
    this.lastError = error;
    this.lastFailAt = this.mEngine.now();
    return false;
  }

  protected succeed(generation: number | null): void {
    this.ok += 1;
    this.generation = generation;
    this.lastOkAt = this.mEngine.now();
  }

  protected state(now: number): TrackCryptoState {
    if (now - this.lastOkAt < RECENT_MS) return 'ok';
    if (now - this.lastFailAt < RECENT_MS) return 'failing';
    return 'idle';
  }
}

class SendTransform extends Transform {
  private mEncryptor: MediaEncryptor | null = null;
  private mTag: number | null = null;
  /** The last key switch, until its key is derived and the key frame asked for. */
  ready: Promise<void> = Promise.resolve();

  constructor(
    engine: FrameCryptoEngine,
    epoch: number,
    kind: MediaKind,
    hooks: TransformHooks,
    readonly source: string,
  ) {
    super(engine, epoch, kind, hooks);
  }

  setKey(tag: number, key: SenderKey): void {
    if (this.mTag !== tag || this.mEncryptor === null) {
      this.mEncryptor = new MediaEncryptor(tag, this.source);
      this.mTag = tag;
    }
    const encryptor = this.mEncryptor;
    const switching = encryptor.generation !== null;
    this.ready = encryptor.setKey(key).then(() => {
      if (switching && this.kind === 'video' && encryptor === this.mEncryptor) this.mHooks.generateKeyFrame?.();
    });
  }

  dropKey(): void {
    this.mEncryptor = null;
    this.mTag = null;
  }

  async process(frame: EncodedFrameLike): Promise<boolean> {
    if (this.epoch !== this.mEngine.epoch) return this.fail('stale');
    const codec = codecOf(this.kind, frame);
    if (codec === null) return this.fail('codec');
    const encryptor = this.mEncryptor;
    if (encryptor === null || encryptor.generation === null) return this.fail('no-key');
    const out = await encryptor.encrypt(codec, new Uint8Array(frame.data));
    if (out === null) return this.fail('malformed');
    frame.data = exactBuffer(out);
    this.succeed(encryptor.generation);
    return true;
  }

  stats(now: number): TrackCryptoStats {
    return {
      role: 'send',
      kind: this.kind,
      source: this.source,
      mid: null,
      participantId: null,
      ok: this.ok,
      failed: this.failed,
      lastError: this.lastError,
      generation: this.generation,
      state: this.state(now),
    };
  }
}

class ReceiveTransform extends Transform {
  private mDecryptor: MediaDecryptor | null = null;
  private mFailStreak = 0;
  private mLastRequestAt = -Infinity;
  participantId: string | null = null;
  source: string | null = null;

  constructor(
    engine: FrameCryptoEngine,
    epoch: number,
    kind: MediaKind,
    hooks: TransformHooks,
    readonly mid: string,
  ) {
    super(engine, epoch, kind, hooks);
  }

  assign(participantId: string | null, source: string | null, ring: KeyRing): void {
    if (participantId === this.participantId && source === this.source && this.mDecryptor !== null) return;
    this.participantId = participantId;
    this.source = source;
    this.rebuild(ring);
  }

  rebuild(ring: KeyRing): void {
    const known = this.participantId !== null && this.source !== null;
    this.mDecryptor = known ? new MediaDecryptor(ring, this.source ?? '', this.participantId) : null;
    this.generation = null;
  }

  async process(frame: EncodedFrameLike): Promise<boolean> {
    if (this.epoch !== this.mEngine.epoch) return this.fail('stale');
    const codec = codecOf(this.kind, frame);
    if (codec === null) return this.fail('codec');
    const decryptor = this.mDecryptor;
    if (decryptor === null) return this.fail('unassigned');
    const result = await decryptor.decrypt(codec, new Uint8Array(frame.data), this.mEngine.now());
    if (!result.ok) {
      this.mFailStreak += 1;
      return this.fail(result.error);
    }
    // An empty frame carries nothing and proves nothing.
    if (result.senderId === null) return true;
    if (this.kind === 'video' && (this.mFailStreak > 0 || result.generation !== this.generation))
      this.requestKeyFrame();
    this.mFailStreak = 0;
    frame.data = exactBuffer(result.frame);
    this.succeed(result.generation);
    return true;
  }

  stats(now: number): TrackCryptoStats {
    return {
      role: 'receive',
      kind: this.kind,
      source: this.source,
      mid: this.mid,
      participantId: this.participantId,
      ok: this.ok,
      failed: this.failed,
      lastError: this.lastError,
      generation: this.generation,
      state: this.state(now),
    };
  }

  private requestKeyFrame(): void {
    const now = this.mEngine.now();
    if (now - this.mLastRequestAt < KEYFRAME_REQUEST_INTERVAL_MS) return;
    this.mLastRequestAt = now;
    this.mHooks.requestKeyFrame?.();
  }
}

export class FrameCryptoEngine {
  private mRing = new KeyRing();
  private mSendKey: { tag: number; key: SenderKey } | null = null;
  private readonly mTransforms = new Set<Transform>();
  private mEpoch = 0;

  constructor(private readonly mClock: () => number = () => Date.now()) {}

  get epoch(): number {
    return this.mEpoch;
  }

  now(): number {
    return this.mClock();
  }

  /** Resolves once the sending keys given so far are in use (they are derived asynchronously). */
  async settled(): Promise<void> {
    const pending: Promise<void>[] = [];
    for (const t of this.mTransforms) if (t instanceof SendTransform) pending.push(t.ready);
    await Promise.all(pending);
  }

  /** Applies one main-thread message (all but `streams`, which the worker shell pipes). */
  handle(request: FrameCryptoRequest): void {
    switch (request.type) {
      case 'reset':
        this.reset();
        return;
      case 'send-key': {
        const key = SenderKey.fromMaterial(request.generation, new Uint8Array(request.material));
        if (key === null) return;
        this.mSendKey = { tag: request.tag, key };
        for (const t of this.mTransforms) if (t instanceof SendTransform) t.setKey(request.tag, key);
        return;
      }
      case 'add-sender':
        this.mRing.addSender(request.participantId, request.tag);
        return;
      case 'remove-sender':
        this.mRing.removeSender(request.participantId);
        return;
      case 'receive-key': {
        const key = SenderKey.fromMaterial(request.generation, new Uint8Array(request.material));
        if (key !== null) this.mRing.setKey(request.participantId, key, this.now());
        return;
      }
      case 'expect-rotation':
        this.mRing.expectRotation(this.now());
        return;
      case 'assign':
        for (const t of this.mTransforms) {
          if (t instanceof ReceiveTransform && t.mid === request.mid && t.epoch === this.mEpoch) {
            t.assign(request.participantId, request.source, this.mRing);
          }
        }
        return;
      case 'streams':
        return;
    }
  }

  /** A transform for one sender or receiver, in the current epoch. */
  createTransform(options: TransformOptions, hooks: TransformHooks = {}): FrameProcessor {
    if (options.role === 'send') {
      const transform = new SendTransform(this, this.mEpoch, options.kind, hooks, options.source);
      if (this.mSendKey !== null) transform.setKey(this.mSendKey.tag, this.mSendKey.key);
      this.mTransforms.add(transform);
      return transform;
    }
    const transform = new ReceiveTransform(this, this.mEpoch, options.kind, hooks, options.mid);
    transform.assign(options.participantId, options.source, this.mRing);
    this.mTransforms.add(transform);
    return transform;
  }

  /** Counters of the current epoch's transforms. */
  stats(): TrackCryptoStats[] {
    const now = this.now();
    const out: TrackCryptoStats[] = [];
    for (const t of this.mTransforms) if (t.epoch === this.mEpoch) out.push(t.stats(now));
    return out;
  }

  forget(transform: Transform): void {
    this.mTransforms.delete(transform);
  }

  private reset(): void {
    this.mEpoch += 1;
    // The old membership's transforms drop everything from now on and leave the statistics.
    this.mTransforms.clear();
    this.mRing = new KeyRing();
    this.mSendKey = null;
  }
}
