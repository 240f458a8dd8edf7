// The "spy" of the forward-secrecy browser test, in the end-to-end build only (see hook.ts): a
// member who left comes back keeping every media key it held, with a profile that does not prove
// membership, so the others send it no new key. It is made from outside the product, by wrapping
// two things Room injects: the frame crypto (SpyFrameCrypto replays the keys of the previous
// membership into the next one) and the socket factory (spySocketFactory swaps the profile of the
// next `join` for one sealed under a wrong secret). Nothing here ships in dist/.

import { SenderKey, type Bytes } from '../e2ee';
import type { FrameCrypto } from '../media/frame_crypto';
import type { MediaKind, SubscribedTrack, TrackSource } from '../protocol/messages';
import type { SocketFactory, SocketLike } from '../protocol/client';

/** A MediaKeySink call, recorded with a copy of its key material. */
type KeyCall =
  | { type: 'send-key'; tag: number; generation: number; material: Bytes }
  | { type: 'add-sender'; participantId: string; tag: number }
  | { type: 'remove-sender'; participantId: string }
  | { type: 'receive-key'; participantId: string; generation: number; material: Bytes }
  | { type: 'expect-rotation' };

/**
 * Passes everything to the real frame crypto and remembers the key calls since the last reset.
 * After keepKeysOnNextReset(), the next reset (a new membership) replays them, so the transforms
 * of the new membership hold every key the old one had, as a client that kept them would.
 */
export class SpyFrameCrypto implements FrameCrypto {
  private readonly mInner: FrameCrypto;
  private mCalls: KeyCall[] = [];
  private mKeepKeys = false;
  private mSendGeneration: number | null = null;

  constructor(inner: FrameCrypto) {
    this.mInner = inner;
  }

  keepKeysOnNextReset(): void {
    this.mKeepKeys = true;
  }

  /** The generation of the key this membership sends with now (null before the first). */
  get sendGeneration(): number | null {
    return this.mSendGeneration;
  }

  get mode(): FrameCrypto['mode'] {
    return this.mInner.mode;
  }

  get peerConnectionConfig(): Record<string, unknown> {
    return this.mInner.peerConnectionConfig;
  }

  protectSender(sender: RTCRtpSender, source: TrackSource, kind: MediaKind): void {
    this.mInner.protectSender(sender, source, kind);
  }

  protectReceiver(receiver: RTCRtpReceiver, mid: string, kind: MediaKind, track: SubscribedTrack | null): void {
    this.mInner.protectReceiver(receiver, mid, kind, track);
  }

  assignReceiver(mid: string, track: SubscribedTrack | null): void {
    this.mInner.assignReceiver(mid, track);
  }

  setSendKey(key: SenderKey, tag: number): void {
    this.mCalls.push({ type: 'send-key', tag, generation: key.generation, material: key.material.slice() });
    this.mSendGeneration = key.generation;
    this.mInner.setSendKey(key, tag);
  }

  addSender(participantId: string, tag: number): void {
    this.mCalls.push({ type: 'add-sender', participantId, tag });
    this.mInner.addSender(participantId, tag);
  }

  removeSender(participantId: string): void {
    this.mCalls.push({ type: 'remove-sender', participantId });
    this.mInner.removeSender(participantId);
  }

  setReceiveKey(participantId: string, key: SenderKey): void {
    this.mCalls.push({
      type: 'receive-key',
      participantId,
      generation: key.generation,
      material: key.material.slice(),
    });
    this.mInner.setReceiveKey(participantId, key);
  }

  expectRotation(): void {
    this.mCalls.push({ type: 'expect-rotation' });
    this.mInner.expectRotation();
  }

  reset(): void {
    this.mInner.reset();
    this.mSendGeneration = null;
    if (!this.mKeepKeys) {
      this.mCalls = [];
      return;
    }
    this.mKeepKeys = false;
    const calls = this.mCalls;
    this.mCalls = [];
    for (const call of calls) this.replay(call);
  }

  stats(): ReturnType<FrameCrypto['stats']> {
    return this.mInner.stats();
  }

  dispose(): void {
    this.mInner.dispose();
  }

  private replay(call: KeyCall): void {
    switch (call.type) {
      case 'send-key': {
        const key = SenderKey.fromMaterial(call.generation, call.material);
        if (key) this.setSendKey(key, call.tag);
        return;
      }
      case 'add-sender':
        this.addSender(call.participantId, call.tag);
        return;
      case 'remove-sender':
        this.removeSender(call.participantId);
        return;
      case 'receive-key': {
        const key = SenderKey.fromMaterial(call.generation, call.material);
        if (key) this.setReceiveKey(call.participantId, key);
        return;
      }
      case 'expect-rotation':
        this.expectRotation();
        return;
    }
  }
}

/**
 * Wraps a socket factory: after `replaceNextJoinProfile(profile)`, the next `join` message any of
 * its sockets sends carries `profile` instead of the one the session sealed.
 */
export class SpySockets {
  private mProfile: string | null = null;

  replaceNextJoinProfile(profile: string): void {
    this.mProfile = profile;
  }

  wrap(inner: SocketFactory): SocketFactory {
    return (url) => {
      const socket = inner(url);
      const send = socket.send.bind(socket);
      const wrapped: SocketLike = socket;
      wrapped.send = (data) => send(this.rewrite(data));
      return wrapped;
    };
  }

  private rewrite(data: string): string {
    if (this.mProfile === null) return data;
    let message: unknown;
    try {
      message = JSON.parse(data);
    } catch {
      return data;
    }
    if (typeof message !== 'object' || message === null || (message as { type?: unknown }).type !== 'join') return data;
    const profile = this.mProfile;
    this.mProfile = null;
    return JSON.stringify({ ...message, profile });
  }
}
