// The encryption badge logic and the worker bridge (frame_crypto.ts) with a fake worker.
import { describe, expect, it } from 'vitest';
import { SenderKey } from '../src/e2ee';
import { WorkerFrameCrypto, type WorkerPort } from '../src/media/frame_crypto';
import type { FrameCryptoMessage, FrameCryptoRequest, TrackCryptoStats } from '../src/media/frame_engine';
import type { RosterEntry } from '../src/session';
import { LOUD_BADGES, participantBadge } from '../src/ui/encryption';
import { ALICE_ID, BOB_ID, SELF_ID } from './fake-socket';

function entry(over: Partial<RosterEntry>): RosterEntry {
  return { id: ALICE_ID, name: 'Alice', self: false, trust: 'verified', key: 'received', ...over };
}

function track(over: Partial<TrackCryptoStats>): TrackCryptoStats {
  return {
    role: 'receive',
    kind: 'video',
    source: 'camera',
    mid: '1',
    participantId: ALICE_ID,
    ok: 10,
    failed: 0,
    lastError: null,
    generation: 0,
    state: 'ok',
    ...over,
  };
}

describe('participantBadge', () => {
  it('is calm only for verified members whose key arrived and whose frames decrypt', () => {
    expect(participantBadge(entry({}), [track({})], 'script')).toBe('encrypted');
    expect(participantBadge(entry({}), [], 'streams')).toBe('encrypted');
    expect(participantBadge(entry({ trust: 'verifying' }), [], 'script')).toBe('verifying');
    expect(participantBadge(entry({ key: 'waiting' }), [], 'script')).toBe('waiting');
    // Frames that came before the key are not an alarm yet.
    expect(participantBadge(entry({ key: 'waiting' }), [track({ ok: 0, state: 'failing' })], 'script')).toBe('waiting');
  });

  it('is loud for anyone not secured', () => {
    expect(
      participantBadge(entry({ trust: 'unverified', name: null }), [track({ ok: 0, state: 'failing' })], 'script'),
    ).toBe('unverified');
    expect(participantBadge(entry({ key: 'missing' }), [], 'script')).toBe('no-key');
    expect(participantBadge(entry({}), [track({ state: 'failing' })], 'script')).toBe('failing');
    // Another participant's failing track does not count.
    expect(participantBadge(entry({}), [track({ participantId: BOB_ID, state: 'failing' })], 'script')).toBe(
      'encrypted',
    );
    expect(participantBadge(entry({}), [], 'none')).toBe('unsupported');
    expect(participantBadge(entry({ id: SELF_ID, self: true }), [], 'none')).toBe('unsupported');
    expect(
      participantBadge(entry({ id: SELF_ID, self: true }), [track({ role: 'send', state: 'failing' })], 'script'),
    ).toBe('failing');
    for (const state of ['unverified', 'no-key', 'failing', 'unsupported'] as const)
      expect(LOUD_BADGES.has(state)).toBe(true);
    for (const state of ['encrypted', 'verifying', 'waiting'] as const) expect(LOUD_BADGES.has(state)).toBe(false);
  });
});

class FakeWorker implements WorkerPort {
  readonly posted: { message: FrameCryptoRequest; transfer: Transferable[] }[] = [];
  terminated = false;
  onmessage: ((event: MessageEvent<FrameCryptoMessage>) => void) | null = null;
  postMessage(message: FrameCryptoRequest, transfer: Transferable[] = []): void {
    this.posted.push({ message, transfer });
  }
  terminate(): void {
    this.terminated = true;
  }
}

describe('WorkerFrameCrypto', () => {
  it('posts keys as copies and reports the worker statistics', () => {
    const worker = new FakeWorker();
    const reports: TrackCryptoStats[][] = [];
    const bridge = new WorkerFrameCrypto(worker, 'script', (s) => reports.push(s));
    expect(bridge.peerConnectionConfig).toEqual({});
    const key = SenderKey.generate(2);
    bridge.reset();
    bridge.setSendKey(key, 77);
    bridge.addSender(ALICE_ID, 5);
    bridge.setReceiveKey(ALICE_ID, key);
    bridge.removeSender(ALICE_ID);
    bridge.assignReceiver('3', { mid: '3', kind: 'video', participantId: BOB_ID, source: 'screen' });
    bridge.assignReceiver('3', null);
    expect(worker.posted.map((p) => p.message)).toEqual([
      { type: 'reset' },
      { type: 'send-key', tag: 77, generation: 2, material: key.material },
      { type: 'add-sender', participantId: ALICE_ID, tag: 5 },
      { type: 'receive-key', participantId: ALICE_ID, generation: 2, material: key.material },
      { type: 'remove-sender', participantId: ALICE_ID },
      { type: 'assign', mid: '3', participantId: BOB_ID, source: 'screen' },
      { type: 'assign', mid: '3', participantId: null, source: null },
    ]);
    const sent = worker.posted[1]?.message;
    expect(sent?.type === 'send-key' && sent.material !== key.material).toBe(true);
    worker.onmessage?.({ data: { type: 'stats', tracks: [track({})] } } as MessageEvent<FrameCryptoMessage>);
    expect(bridge.stats()).toEqual([track({})]);
    expect(reports).toHaveLength(1);
    bridge.dispose();
    expect(worker.terminated).toBe(true);
  });

  it('hands the encoded streams of every sender and receiver to the worker in the fallback mode', () => {
    const worker = new FakeWorker();
    const bridge = new WorkerFrameCrypto(worker, 'streams', () => undefined);
    expect(bridge.peerConnectionConfig).toEqual({ encodedInsertableStreams: true });
    let created = 0;
    const streams = () => {
      created += 1;
      return { readable: new ReadableStream(), writable: new WritableStream() };
    };
    const sender = { createEncodedStreams: streams } as unknown as RTCRtpSender;
    const receiver = { createEncodedStreams: streams } as unknown as RTCRtpReceiver;
    bridge.protectSender(sender, 'camera', 'video');
    bridge.protectSender(sender, 'camera', 'video');
    bridge.protectReceiver(receiver, '4', 'audio', {
      mid: '4',
      kind: 'audio',
      participantId: ALICE_ID,
      source: 'microphone',
    });
    expect(created).toBe(2);
    expect(worker.posted.map((p) => [p.message.type, p.transfer.length])).toEqual([
      ['streams', 2],
      ['streams', 2],
    ]);
    const [first, second] = worker.posted.map((p) => p.message);
    expect(first?.type === 'streams' && first.options).toEqual({ role: 'send', kind: 'video', source: 'camera' });
    expect(second?.type === 'streams' && second.options).toEqual({
      role: 'receive',
      kind: 'audio',
      mid: '4',
      participantId: ALICE_ID,
      source: 'microphone',
    });
  });
});
