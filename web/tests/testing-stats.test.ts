import { describe, expect, it } from 'vitest';
import { SubscriptionMap } from '../src/media/tracks';
import type { SubscribedTrack } from '../src/protocol/messages';
import { callStats, receiveStats, type StatsConnection } from '../src/testing/stats';
import { ALICE_ID, BOB_ID } from './fake-socket';

const aliceMic: SubscribedTrack = { mid: '0', kind: 'audio', participantId: ALICE_ID, source: 'microphone' };
const aliceCam: SubscribedTrack = { mid: '1', kind: 'video', participantId: ALICE_ID, source: 'camera' };
const bobMic: SubscribedTrack = { mid: '2', kind: 'audio', participantId: BOB_ID, source: 'microphone' };
const bobCam: SubscribedTrack = { mid: '3', kind: 'video', participantId: BOB_ID, source: 'camera' };

describe('receiveStats', () => {
  it('sums inbound-rtp counters per mid and labels them with participant and source', () => {
    const map = new SubscriptionMap();
    map.update([aliceMic, aliceCam, bobCam]);
    const report = [
      {
        type: 'inbound-rtp',
        kind: 'audio',
        mid: '0',
        packetsReceived: 250,
        bytesReceived: 20000,
        totalSamplesReceived: 240000,
        concealedSamples: 4800,
      },
      {
        type: 'inbound-rtp',
        kind: 'video',
        mid: '1',
        packetsReceived: 900,
        bytesReceived: 800000,
        framesDecoded: 300,
        frameWidth: 640,
        frameHeight: 480,
        packetsLost: 12,
        nackCount: 7,
        freezeCount: 2,
        totalFreezesDuration: 1.5,
      },
      // An earlier stream of the same section (before a reuse) is added in.
      { type: 'inbound-rtp', kind: 'video', mid: '1', packetsReceived: 10, bytesReceived: 1000, framesDecoded: 3 },
      // Matched through the receiving track when the browser gives no mid.
      { type: 'inbound-rtp', kind: 'video', trackIdentifier: 'track-b', packetsReceived: 5, framesDecoded: 2 },
      { type: 'inbound-rtp', kind: 'video', mid: '9', packetsReceived: 1 },
      { type: 'outbound-rtp', kind: 'video', mid: '1', packetsSent: 50 },
      { type: 'candidate-pair', state: 'succeeded' },
      null,
    ];
    const stats = receiveStats(report, map, (id) => (id === 'track-b' ? '3' : null));
    expect(stats).toEqual([
      {
        participantId: ALICE_ID,
        source: 'microphone',
        kind: 'audio',
        mid: '0',
        packetsReceived: 250,
        bytesReceived: 20000,
        framesDecoded: 0,
        frameWidth: 0,
        frameHeight: 0,
        totalSamplesReceived: 240000,
        concealedSamples: 4800,
        packetsLost: 0,
        nackCount: 0,
        freezeCount: 0,
        totalFreezesDuration: 0,
      },
      {
        participantId: ALICE_ID,
        source: 'camera',
        kind: 'video',
        mid: '1',
        packetsReceived: 910,
        bytesReceived: 801000,
        framesDecoded: 303,
        frameWidth: 640,
        frameHeight: 480,
        totalSamplesReceived: 0,
        concealedSamples: 0,
        packetsLost: 12,
        nackCount: 7,
        freezeCount: 2,
        totalFreezesDuration: 1.5,
      },
      {
        participantId: BOB_ID,
        source: 'camera',
        kind: 'video',
        mid: '3',
        packetsReceived: 5,
        bytesReceived: 0,
        framesDecoded: 2,
        frameWidth: 0,
        frameHeight: 0,
        totalSamplesReceived: 0,
        concealedSamples: 0,
        packetsLost: 0,
        nackCount: 0,
        freezeCount: 0,
        totalFreezesDuration: 0,
      },
    ]);
  });

  it('leaves out sections that are no longer subscribed', () => {
    const map = new SubscriptionMap();
    map.update([aliceMic, bobMic]);
    map.update([bobMic]);
    const stats = receiveStats([{ type: 'inbound-rtp', mid: '0', packetsReceived: 7 }], map);
    expect(stats).toEqual([]);
  });
});

describe('callStats', () => {
  function connection(
    report: Record<string, unknown>[],
    transceivers: { mid: string | null; receiverTrack?: string; senderTrack?: unknown }[],
  ): StatsConnection {
    return {
      getStats: () => Promise.resolve(new Map(report.map((entry, i) => [String(i), entry]))),
      getTransceivers: () =>
        transceivers.map((t) => ({
          mid: t.mid,
          receiver: { track: { id: t.receiverTrack ?? `receiver-${t.mid}` } },
          sender: { track: t.senderTrack ?? null },
        })),
    };
  }

  it('labels what arrives with participant and source, and what is sent with its local source', async () => {
    const map = new SubscriptionMap();
    map.update([aliceMic, aliceCam, bobMic, bobCam]);
    const subscribe = connection(
      [
        { type: 'inbound-rtp', kind: 'video', mid: '1', packetsReceived: 100, framesDecoded: 40 },
        { type: 'inbound-rtp', kind: 'audio', trackIdentifier: 'bob-mic', packetsReceived: 50 },
      ],
      [{ mid: '0' }, { mid: '1' }, { mid: '2', receiverTrack: 'bob-mic' }, { mid: '3' }],
    );
    const mic = { kind: 'audio' };
    const cam = { kind: 'video' };
    const publish = connection(
      [
        { type: 'outbound-rtp', kind: 'audio', mid: '0', packetsSent: 70 },
        { type: 'outbound-rtp', kind: 'video', mid: '1', packetsSent: 90, framesEncoded: 30 },
        // A section whose track is none of the local sources is left out.
        { type: 'outbound-rtp', kind: 'video', mid: '2', packetsSent: 5 },
        { type: 'inbound-rtp', kind: 'video', mid: '1', packetsReceived: 1 },
      ],
      [
        { mid: '0', senderTrack: mic },
        { mid: '1', senderTrack: cam },
        { mid: '2', senderTrack: { kind: 'video' } },
      ],
    );
    const source = (track: unknown): string | undefined =>
      track === mic ? 'microphone' : track === cam ? 'camera' : undefined;
    const stats = await callStats(subscribe, publish, map, source);
    expect(stats.received.map((s) => [s.participantId, s.source, s.framesDecoded, s.packetsReceived])).toEqual([
      [ALICE_ID, 'camera', 40, 100],
      [BOB_ID, 'microphone', 0, 50],
    ]);
    expect(stats.sent.map((s) => [s.source, s.mid, s.kind, s.packetsSent, s.framesEncoded])).toEqual([
      ['microphone', '0', 'audio', 70, 0],
      ['camera', '1', 'video', 90, 30],
    ]);
  });

  it('reports nothing before there are connections', async () => {
    expect(await callStats(null, null, new SubscriptionMap(), () => undefined)).toEqual({ received: [], sent: [] });
  });
});
