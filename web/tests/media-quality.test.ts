import { describe, expect, it } from 'vitest';
import { classifyQuality, receiveCounters, type ReceiveCounters } from '../src/media/quality';

/** Counters where every packet is video unless `videoPacketsReceived` says otherwise. */
function counters(over: Partial<ReceiveCounters>): ReceiveCounters {
  return {
    videoPacketsReceived: over.packetsReceived ?? 0,
    timestamp: 0,
    packetsReceived: 0,
    packetsLost: 0,
    jitter: 0.005,
    framesDecoded: 0,
    totalFreezesDuration: 0,
    hasVideo: true,
    ...over,
  };
}

const start = counters({});

describe('classifyQuality', () => {
  it('is unknown without a previous report or when nothing arrived', () => {
    expect(classifyQuality(undefined, counters({ timestamp: 2000 }), true).level).toBe('unknown');
    expect(classifyQuality(start, counters({ timestamp: 2000 }), true).level).toBe('unknown');
    // A counter that went back (a new stream) restarts the count.
    expect(classifyQuality(counters({ packetsReceived: 500 }), counters({ timestamp: 2000 }), true).level).toBe(
      'unknown',
    );
  });

  it('is good with little loss, low jitter and fluent video', () => {
    const q = classifyQuality(
      start,
      counters({ timestamp: 2000, packetsReceived: 990, packetsLost: 10, framesDecoded: 60 }),
      true,
    );
    expect(q).toMatchObject({ level: 'good', loss: 0.01, fps: 30 });
  });

  it('is fair from 3 % loss, 40 ms jitter, or under 12 frames/s', () => {
    const t = 2000;
    expect(
      classifyQuality(start, counters({ timestamp: t, packetsReceived: 95, packetsLost: 5, framesDecoded: 60 }), true)
        .level,
    ).toBe('fair');
    expect(
      classifyQuality(start, counters({ timestamp: t, packetsReceived: 100, jitter: 0.05, framesDecoded: 60 }), true)
        .level,
    ).toBe('fair');
    expect(
      classifyQuality(start, counters({ timestamp: t, packetsReceived: 100, framesDecoded: 20 }), true).level,
    ).toBe('fair');
  });

  it('is poor from 10 % loss, 100 ms jitter, 20 % frozen, or under 4 frames/s', () => {
    const t = 2000;
    expect(
      classifyQuality(start, counters({ timestamp: t, packetsReceived: 90, packetsLost: 10, framesDecoded: 60 }), true)
        .level,
    ).toBe('poor');
    expect(
      classifyQuality(start, counters({ timestamp: t, packetsReceived: 100, jitter: 0.12, framesDecoded: 60 }), true)
        .level,
    ).toBe('poor');
    expect(
      classifyQuality(
        start,
        counters({ timestamp: t, packetsReceived: 100, framesDecoded: 60, totalFreezesDuration: 0.5 }),
        true,
      ).level,
    ).toBe('poor');
    expect(classifyQuality(start, counters({ timestamp: t, packetsReceived: 100, framesDecoded: 4 }), true).level).toBe(
      'poor',
    );
  });

  it('does not judge the frame rate of video that does not arrive (a paused, hidden tile)', () => {
    const q = classifyQuality(
      counters({ packetsReceived: 10, videoPacketsReceived: 5 }),
      counters({ timestamp: 2000, packetsReceived: 110, videoPacketsReceived: 5 }),
      true,
    );
    expect(q).toMatchObject({ level: 'good', fps: null });
  });

  it('does not judge the frame rate of a camera that is off', () => {
    const q = classifyQuality(start, counters({ timestamp: 2000, packetsReceived: 100, framesDecoded: 2 }), false);
    expect(q).toMatchObject({ level: 'good', fps: null });
  });
});

describe('receiveCounters', () => {
  it('sums inbound streams per participant by mid or track id and ignores the rest', () => {
    const report = [
      {
        type: 'inbound-rtp',
        kind: 'audio',
        mid: '0',
        timestamp: 1000,
        packetsReceived: 50,
        packetsLost: 1,
        jitter: 0.01,
      },
      {
        type: 'inbound-rtp',
        kind: 'video',
        trackIdentifier: 'cam-a',
        timestamp: 1000,
        packetsReceived: 300,
        packetsLost: -2,
        jitter: 0.03,
        framesDecoded: 30,
        totalFreezesDuration: 0.2,
      },
      { type: 'inbound-rtp', kind: 'video', mid: '9', timestamp: 1000, packetsReceived: 7 },
      { type: 'outbound-rtp', mid: '0', packetsSent: 5 },
      null,
      'junk',
    ];
    const owners = new Map([
      ['0', 'alice'],
      ['cam-a', 'alice'],
    ]);
    const out = receiveCounters(report, (mid, track) => owners.get(mid ?? '') ?? owners.get(track ?? ''));
    expect([...out.keys()]).toEqual(['alice']);
    expect(out.get('alice')).toEqual({
      timestamp: 1000,
      packetsReceived: 350,
      packetsLost: 1,
      jitter: 0.03,
      videoPacketsReceived: 300,
      framesDecoded: 30,
      totalFreezesDuration: 0.2,
      hasVideo: true,
    });
  });
});
