import { describe, expect, it } from 'vitest';
import { ChatLog, MAX_CHAT_ENTRIES, type ChatEntry } from '../../src/secure/chat_log';
import { ManualTimers } from './helpers';

function entry(key: string, receivedAt: number, deleteAt: number | null = null): ChatEntry {
  return {
    key,
    senderId: 's',
    senderName: 'S',
    self: false,
    text: key,
    sentAt: receivedAt,
    receivedAt,
    deleteAt,
    file: null,
  };
}

describe('ChatLog', () => {
  it('keeps messages in arrival order, once each, and tells its listeners', () => {
    const timers = new ManualTimers();
    const log = new ChatLog(timers);
    let calls = 0;
    const off = log.subscribe(() => calls++);
    expect(log.add(entry('a', timers.now()))).toBe(true);
    expect(log.add(entry('b', timers.now()))).toBe(true);
    expect(log.add(entry('a', timers.now()))).toBe(false);
    expect(log.entries.map((e) => e.key)).toEqual(['a', 'b']);
    expect(calls).toBe(2);
    off();
    log.clear();
    expect(calls).toBe(2);
  });

  it('deletes self-destructing messages when their time comes, and refuses expired ones', () => {
    const timers = new ManualTimers();
    const log = new ChatLog(timers);
    const now = timers.now();
    log.add(entry('keep', now));
    log.add(entry('late', now, now + 60_000));
    log.add(entry('soon', now, now + 1_000));
    expect(log.add(entry('past', now - 5, now))).toBe(false);
    timers.advance(999);
    expect(log.entries.map((e) => e.key)).toEqual(['keep', 'late', 'soon']);
    timers.advance(1);
    expect(log.entries.map((e) => e.key)).toEqual(['keep', 'late']);
    timers.advance(59_000);
    expect(log.entries.map((e) => e.key)).toEqual(['keep']);
    expect(timers.pending).toBe(0);
  });

  it('holds at most MAX_CHAT_ENTRIES messages', () => {
    const log = new ChatLog(new ManualTimers());
    for (let i = 0; i < MAX_CHAT_ENTRIES + 5; i++) log.add(entry(String(i), 0));
    expect(log.entries).toHaveLength(MAX_CHAT_ENTRIES);
    expect(log.entries[0]?.key).toBe('5');
  });
});
