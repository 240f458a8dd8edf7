// Per-track media encryption on top of sframe.ts and keys.ts: what the RTCRtpScriptTransform
// worker runs for each outgoing and incoming track. No DOM. Never throws on the frame path:
// results say why a frame was dropped.

import type { KeyRing, ResolvedMediaKey, SenderKey } from './keys';
import {
  openProtectedMediaFrame,
  parseProtectedMediaFrame,
  protectMediaFrame,
  type MediaCodec,
  type SFrameKey,
} from './sframe';
import type { Bytes } from './util';

interface SendState {
  generation: number;
  key: SFrameKey;
  ctr: bigint;
}

/**
 * Encrypts the frames of one outgoing track (one source). setKey() switches to a new generation
 * (new KID, CTR restarts at 0); frames in flight finish with the key they started with.
 */
export class MediaEncryptor {
  private mState: SendState | null = null;
  private mPending: Promise<void> = Promise.resolve();

  /** `tag`: senderTag() of this participant's Ed25519 key; `source`: the track's source. */
  constructor(
    private readonly mTag: number,
    private readonly mSource: string,
  ) {}

  get generation(): number | null {
    return this.mState?.generation ?? null;
  }

  /** Starts using `key`. Calls take effect in call order, however long each derivation takes. */
  setKey(key: SenderKey): Promise<void> {
    this.mPending = this.mPending.then(async () => {
      if (this.mState !== null && key.generation <= this.mState.generation) return;
      const sframeKey = await key.sframeKey(this.mTag, this.mSource, 'encrypt');
      if (this.mState === null || key.generation > this.mState.generation) {
        this.mState = { generation: key.generation, key: sframeKey, ctr: 0n };
      }
    });
    return this.mPending;
  }

  /** The protected frame, or null (no key yet, or a malformed frame): drop the frame then. */
  async encrypt(codec: MediaCodec, frame: Bytes): Promise<Bytes | null> {
    const state = this.mState;
    if (state === null) return null;
    // Taken before any await, so concurrent calls never share a CTR.
    const ctr = state.ctr++;
    try {
      return await protectMediaFrame(codec, state.key, ctr, frame);
    } catch {
      return null;
    }
  }
}

export type MediaDecryptError = 'malformed' | 'unknown-key' | 'wrong-sender' | 'replay' | 'auth-failed';
export type MediaDecryptResult =
  | { ok: true; frame: Bytes; senderId: string | null; generation: number | null }
  | { ok: false; error: MediaDecryptError };

/**
 * Decrypts the frames of one incoming track. `expectedSender` is the participant the server says
 * the track belongs to: frames under another member's key are refused, so the server cannot move
 * one member's media into another member's tile. Replay state is the KeyRing's, per (sender,
 * source, generation), shared by every decryptor: a frame recorded by the server and sent again
 * on another m-section (or after a subscribe offer reassigned this one) is refused.
 */
export class MediaDecryptor {
  constructor(
    private readonly mRing: KeyRing,
    private readonly mSource: string,
    private readonly mExpectedSender: string | null = null,
  ) {}

  async decrypt(codec: MediaCodec, frame: Bytes, now: number): Promise<MediaDecryptResult> {
    if (frame.length === 0) return { ok: true, frame, senderId: null, generation: null };
    const parsed = parseProtectedMediaFrame(codec, frame);
    if (parsed === null) return { ok: false, error: 'malformed' };
    const { kid, ctr } = parsed.sframe;
    let resolved: ResolvedMediaKey | null;
    try {
      resolved = await this.mRing.resolveMedia(kid, this.mSource, now);
    } catch {
      resolved = null;
    }
    if (resolved === null) return { ok: false, error: 'unknown-key' };
    if (this.mExpectedSender !== null && resolved.senderId !== this.mExpectedSender) {
      return { ok: false, error: 'wrong-sender' };
    }
    if (!resolved.replay.check(ctr)) return { ok: false, error: 'replay' };
    const plaintext = await openProtectedMediaFrame(resolved.key, parsed);
    if (plaintext === null) return { ok: false, error: 'auth-failed' };
    if (!resolved.replay.commit(ctr)) return { ok: false, error: 'replay' };
    resolved.confirm(now);
    return { ok: true, frame: plaintext, senderId: resolved.senderId, generation: resolved.generation };
  }
}
