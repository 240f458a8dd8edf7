// Helpers for the E2EE integration suites: a manual clock, real room keys and identities, and a
// fake relay "server" that connects several members' SecureRooms.
import { generateIdentity, RoomKeys, type Identity, type SenderKey } from '../../src/e2ee';
import type { MediaKeySink } from '../../src/secure/key_manager';
import type { TimerHandle, Timers } from '../../src/secure/timers';
import { ROOM_ID } from '../fake-socket';

export const SECRET = 'c2VjcmV0LXNlY3JldC1zZWNyZXQtc2VjcmV0LXNlY3I';
export const WRONG_SECRET = 'd3Jvbmctd3Jvbmctd3Jvbmctd3Jvbmctd3Jvbmctd3I';

export async function roomKeys(secret = SECRET, roomId = ROOM_ID): Promise<RoomKeys> {
  const derived = await RoomKeys.derive(secret, roomId);
  if (!derived.ok) throw new Error('bad test secret');
  return derived.room;
}

export { generateIdentity, type Identity };

/** Timers the test advances by hand. */
export class ManualTimers implements Timers {
  private mNow = 1_000_000;
  private mNext = 1;
  private readonly mTimers = new Map<number, { at: number; fn: () => void }>();

  now(): number {
    return this.mNow;
  }

  setTimeout(fn: () => void, ms: number): number {
    const id = this.mNext++;
    this.mTimers.set(id, { at: this.mNow + ms, fn });
    return id;
  }

  clearTimeout(handle: TimerHandle): void {
    this.mTimers.delete(handle as number);
  }

  get pending(): number {
    return this.mTimers.size;
  }

  /** Moves the clock forward, running every timer that comes due, in order. */
  advance(ms: number): void {
    const end = this.mNow + ms;
    for (;;) {
      let next: [number, { at: number; fn: () => void }] | null = null;
      for (const entry of this.mTimers)
        if (entry[1].at <= end && (next === null || entry[1].at < next[1].at)) next = entry;
      if (next === null) break;
      this.mTimers.delete(next[0]);
      this.mNow = next[1].at;
      next[1].fn();
    }
    this.mNow = end;
  }
}

/** One turn of the event loop (setImmediate is Node's; the client's tsconfig has no Node types). */
function nextTurn(): Promise<void> {
  return new Promise((resolve) =>
    (globalThis as unknown as { setImmediate: (fn: () => void) => void }).setImmediate(resolve),
  );
}

/** Lets real async work (WebCrypto runs off the main thread in Node) finish. */
export async function until(condition: () => boolean, what = 'condition', timeoutMs = 5000): Promise<void> {
  // performance.now(): the session tests fake Date.
  const deadline = performance.now() + timeoutMs;
  while (!condition()) {
    if (performance.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await nextTurn();
  }
}

/** Waits for `promise` while letting the event loop turn. */
export async function settled(): Promise<void> {
  for (let i = 0; i < 20; i++) await nextTurn();
}

/** A MediaKeySink that remembers what reached the "worker". */
export class RecordingSink implements MediaKeySink {
  readonly log: string[] = [];
  sendKey: SenderKey | null = null;
  readonly received = new Map<string, SenderKey[]>();
  readonly senders = new Map<string, number>();
  /** Called inside addSender (tests use it to make events land mid-operation). */
  onAdd: ((participantId: string) => void) | null = null;

  setSendKey(key: SenderKey, tag: number): void {
    this.sendKey = key;
    this.log.push(`send-key ${key.generation} ${tag}`);
  }
  addSender(participantId: string, tag: number): void {
    this.senders.set(participantId, tag);
    this.log.push(`add ${participantId}`);
    this.onAdd?.(participantId);
  }
  removeSender(participantId: string): void {
    this.senders.delete(participantId);
    this.log.push(`remove ${participantId}`);
  }
  expectRotation(): void {
    this.log.push('expect-rotation');
  }
  setReceiveKey(participantId: string, key: SenderKey): void {
    this.received.set(participantId, [...(this.received.get(participantId) ?? []), key]);
    this.log.push(`receive ${participantId} ${key.generation}`);
  }
}
