// The encryption badge logic and the worker bridge (frame_crypto.ts) with a fake worker.
import { describe, expect, it } from 'vitest';
import { SenderKey } from '../src/e2ee';
import { WorkerFrameCrypto, type WorkerPort } from '../src/media/frame_crypto';
import type { FrameCryptoMessage, FrameCryptoRequest, TrackCryptoStats } from '../src/media/frame_engine';
import type { RosterEntry } from '../src/session';
import { LOUD_BADGES, participantBadge, selfMediaProblem, type MediaStatus } from '../src/ui/encryption';
import { ALICE_ID, BOB_ID, SELF_ID } from './fake-socket';

function entry(over: Partial<RosterEntry>): RosterEntry {
  return {
    id: ALICE_ID,
    name: 'Alice',
    self: false,
    trust: 'verified',
    key: 'received',
    role: 'participant',
    media: null,
    ...over,
  };
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

function media(over: Partial<MediaStatus>): MediaStatus {
  return {
    mode: 'script',
    tracks: [],
    reconnecting: false,
    states: { publish: 'connected', subscribe: 'connected' },
    publishError: null,
    publishing: true,
    offered: new Set([ALICE_ID]),
    ...over,
  };
}

const self = (): RosterEntry => entry({ id: SELF_ID, self: true });
const sending = (over: Partial<TrackCryptoStats> = {}): TrackCryptoStats =>
  track({ role: 'send', participantId: null, mid: null, ...over });

describe('participantBadge', () => {
  it('says encrypted only while frames from that member decrypt', () => {
    expect(participantBadge(entry({}), media({ tracks: [track({})] }))).toBe('encrypted');
    // No frame decrypted (yet, or any more): not encrypted, whatever else is fine.
    expect(participantBadge(entry({}), media({ mode: 'streams' }))).toBe('no-media-yet');
    expect(participantBadge(entry({}), media({ tracks: [track({ state: 'idle' })] }))).toBe('no-media-yet');
    // Another participant's good frames do not count.
    expect(participantBadge(entry({}), media({ tracks: [track({ participantId: BOB_ID })] }))).toBe('no-media-yet');
    expect(participantBadge(entry({ trust: 'verifying' }), media({}))).toBe('verifying');
    expect(participantBadge(entry({ key: 'waiting' }), media({}))).toBe('waiting');
    // Frames that came before the key are not an alarm yet.
    expect(participantBadge(entry({ key: 'waiting' }), media({ tracks: [track({ ok: 0, state: 'failing' })] }))).toBe(
      'waiting',
    );
  });

  it('tells no media yet, no media at all and failed media apart', () => {
    expect(participantBadge(entry({}), media({}))).toBe('no-media-yet');
    expect(participantBadge(entry({}), media({ offered: new Set() }))).toBe('no-media');
    expect(participantBadge(entry({}), media({ states: { publish: 'connected', subscribe: 'failed' } }))).toBe(
      'media-failed',
    );
    // Frames still decrypting win over a connection state that lags behind.
    expect(
      participantBadge(entry({}), media({ tracks: [track({})], states: { publish: 'none', subscribe: 'failed' } })),
    ).toBe('encrypted');
  });

  it('marks everyone as not live while the session reconnects', () => {
    expect(participantBadge(entry({}), media({ tracks: [track({})], reconnecting: true }))).toBe('reconnecting');
    expect(participantBadge(self(), media({ tracks: [sending()], reconnecting: true }))).toBe('reconnecting');
    expect(LOUD_BADGES.has('reconnecting')).toBe(false);
  });

  it("says what happens to one's own media: sent, refused, failed, nothing to send, connecting", () => {
    expect(participantBadge(self(), media({ tracks: [sending()] }))).toBe('encrypted');
    expect(participantBadge(self(), media({ tracks: [sending()], publishError: 'too-many-tracks' }))).toBe(
      'publish-refused',
    );
    expect(
      participantBadge(self(), media({ tracks: [sending()], states: { publish: 'failed', subscribe: 'connected' } })),
    ).toBe('media-failed');
    expect(participantBadge(self(), media({ publishing: false }))).toBe('no-media');
    expect(participantBadge(self(), media({ tracks: [sending({ state: 'idle' })] }))).toBe('no-media-yet');
    // Frames encrypted but the connection not up: they reach no one yet.
    expect(
      participantBadge(
        self(),
        media({ tracks: [sending()], states: { publish: 'connecting', subscribe: 'connected' } }),
      ),
    ).toBe('no-media-yet');
    expect(participantBadge(self(), media({ tracks: [sending({ state: 'failing' })] }))).toBe('failing');
  });

  it("gives the reason one's own media is not reaching the others", () => {
    const refused = media({ publishError: 'too-many-tracks' });
    expect(selfMediaProblem(participantBadge(self(), refused), refused)).toEqual({
      key: 'self.refused',
      code: 'too-many-tracks',
    });
    const failed = media({ states: { publish: 'failed', subscribe: 'connected' } });
    expect(selfMediaProblem(participantBadge(self(), failed), failed)).toEqual({ key: 'self.failed', code: 'failed' });
    expect(selfMediaProblem('no-media', media({ publishing: false }))?.key).toBe('self.nothing');
    expect(selfMediaProblem('encrypted', media({}))).toBeNull();
    expect(selfMediaProblem('no-media-yet', media({}))).toBeNull();
    expect(selfMediaProblem('reconnecting', media({}))).toBeNull();
  });

  it('is loud for anyone not secured and for media that failed or was refused', () => {
    expect(
      participantBadge(
        entry({ trust: 'unverified', name: null }),
        media({ tracks: [track({ ok: 0, state: 'failing' })] }),
      ),
    ).toBe('unverified');
    expect(participantBadge(entry({ key: 'missing' }), media({}))).toBe('no-key');
    expect(participantBadge(entry({}), media({ tracks: [track({ state: 'failing' })] }))).toBe('failing');
    expect(participantBadge(entry({}), media({ mode: 'none' }))).toBe('unsupported');
    expect(participantBadge(self(), media({ mode: 'none' }))).toBe('unsupported');
    for (const state of ['unverified', 'no-key', 'failing', 'unsupported', 'media-failed', 'publish-refused'] as const)
      expect(LOUD_BADGES.has(state)).toBe(true);
    for (const state of ['encrypted', 'verifying', 'waiting', 'no-media-yet', 'no-media'] as const)
      expect(LOUD_BADGES.has(state)).toBe(false);
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
