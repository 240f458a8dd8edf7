// The chat messages this page shows: decrypted, in memory only (never stored, never sent back),
// with self-destruct. It outlives a membership (a reconnect keeps the conversation on screen).
// No DOM.

import type { FileManifest } from '../e2ee';
import { REAL_TIMERS, type TimerHandle, type Timers } from './timers';

export interface ChatEntry {
  /** Unique per sender and message: `<senderId>/<message id>`. */
  key: string;
  senderId: string;
  /** The sender's verified name when the message arrived; null for this participant's own messages. */
  senderName: string | null;
  self: boolean;
  text: string;
  /** The sender's clock. */
  sentAt: number;
  /** This client's clock. */
  receivedAt: number;
  /** When this client deletes the message (self-destruct), or null. */
  deleteAt: number | null;
  file: FileManifest | null;
  /**
   * A notice instead of a message: this many messages from the sender are missing (its signed
   * counters skipped them: the server withheld or lost them). Absent or 0 for a message.
   */
  missing?: number;
}

/** Most messages kept; older ones drop off the top. */
export const MAX_CHAT_ENTRIES = 500;

export class ChatLog {
  private mEntries: ChatEntry[] = [];
  private readonly mListeners = new Set<() => void>();
  private readonly mTimers: Timers;
  private mTimer: TimerHandle | null = null;
  private mTimerAt: number | null = null;

  constructor(timers: Timers = REAL_TIMERS) {
    this.mTimers = timers;
  }

  get entries(): readonly ChatEntry[] {
    return this.mEntries;
  }

  subscribe(listener: () => void): () => void {
    this.mListeners.add(listener);
    return () => {
      this.mListeners.delete(listener);
    };
  }

  /** Adds a message unless it is there already or already expired; true when added. */
  add(entry: ChatEntry): boolean {
    if (this.mEntries.some((e) => e.key === entry.key)) return false;
    if (entry.deleteAt !== null && entry.deleteAt <= this.mTimers.now()) return false;
    this.mEntries = [...this.mEntries, entry].slice(-MAX_CHAT_ENTRIES);
    this.schedule();
    this.notify();
    return true;
  }

  /** Changes the missing count of a gap notice; 0 removes it. */
  setMissing(key: string, missing: number): void {
    const index = this.mEntries.findIndex((e) => e.key === key);
    const entry = this.mEntries[index];
    if (entry === undefined) return;
    this.mEntries =
      missing > 0
        ? this.mEntries.map((e, i) => (i === index ? { ...entry, missing } : e))
        : this.mEntries.filter((_, i) => i !== index);
    this.notify();
  }

  /** Deletes every message whose time has come. */
  expire(): void {
    const now = this.mTimers.now();
    const kept = this.mEntries.filter((e) => e.deleteAt === null || e.deleteAt > now);
    if (kept.length !== this.mEntries.length) {
      this.mEntries = kept;
      this.notify();
    }
    this.schedule();
  }

  clear(): void {
    this.mEntries = [];
    this.schedule();
    this.notify();
  }

  dispose(): void {
    if (this.mTimer !== null) this.mTimers.clearTimeout(this.mTimer);
    this.mTimer = null;
    this.mTimerAt = null;
    this.mListeners.clear();
  }

  private schedule(): void {
    let next: number | null = null;
    for (const e of this.mEntries) if (e.deleteAt !== null && (next === null || e.deleteAt < next)) next = e.deleteAt;
    if (next === this.mTimerAt) return;
    if (this.mTimer !== null) this.mTimers.clearTimeout(this.mTimer);
    this.mTimer = null;
    this.mTimerAt = next;
    if (next === null) return;
    this.mTimer = this.mTimers.setTimeout(
      () => {
        this.mTimer = null;
        this.mTimerAt = null;
        this.expire();
      },
      Math.max(0, next - this.mTimers.now()),
    );
  }

  private notify(): void {
    for (const listener of [...this.mListeners]) listener();
  }
}
