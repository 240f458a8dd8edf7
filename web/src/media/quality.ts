// The connection quality shown on each tile, from this browser's own receive statistics of that
// person's streams (getStats of the subscribe connection): packet loss, jitter, decoded frames per
// second and freezes. No server message: what the receiver measures is what it experiences.
// Pure logic over plain report entries, so the tests drive it without WebRTC.

export type QualityLevel = 'good' | 'fair' | 'poor' | 'unknown';

/** Cumulative receive counters of one participant, summed over its inbound RTP streams. */
export interface ReceiveCounters {
  /** Report time, ms. */
  timestamp: number;
  packetsReceived: number;
  packetsLost: number;
  /** Highest jitter of its streams, seconds (not cumulative). */
  jitter: number;
  /** Video only: packets of the video streams (also counted in packetsReceived). */
  videoPacketsReceived: number;
  /** Video only. */
  framesDecoded: number;
  /** Video only: summed freeze time, seconds (Chromium; absent elsewhere: 0). */
  totalFreezesDuration: number;
  hasVideo: boolean;
}

export interface Quality {
  level: QualityLevel;
  /** Fraction of packets lost over the interval, 0..1. */
  loss: number;
  jitterMs: number;
  /** Decoded video frames per second over the interval (null: no video). */
  fps: number | null;
  /** Fraction of the interval the video was frozen, 0..1. */
  frozen: number;
}

export const UNKNOWN_QUALITY: Quality = { level: 'unknown', loss: 0, jitterMs: 0, fps: null, frozen: 0 };

/** Where the levels change; see classifyQuality(). */
export const QUALITY_LIMITS = {
  fair: { loss: 0.03, jitterMs: 40, frozen: 0.05, fps: 12 },
  poor: { loss: 0.1, jitterMs: 100, frozen: 0.2, fps: 4 },
} as const;

function num(value: unknown): number {
  return typeof value === 'number' && Number.isFinite(value) && value >= 0 ? value : 0;
}

/**
 * Sums a getStats() report's `inbound-rtp` entries per participant. `ownerOf` names the
 * participant of an entry from its `mid` or, where the browser gives no mid, its
 * `trackIdentifier` (undefined: not a stream this view shows).
 */
export function receiveCounters(
  report: Iterable<unknown>,
  ownerOf: (mid: string | null, trackIdentifier: string | null) => string | undefined,
): Map<string, ReceiveCounters> {
  const out = new Map<string, ReceiveCounters>();
  for (const raw of report) {
    if (typeof raw !== 'object' || raw === null) continue;
    const entry = raw as Record<string, unknown>;
    if (entry['type'] !== 'inbound-rtp') continue;
    const mid = typeof entry['mid'] === 'string' ? entry['mid'] : null;
    const trackId = typeof entry['trackIdentifier'] === 'string' ? entry['trackIdentifier'] : null;
    const owner = ownerOf(mid, trackId);
    if (owner === undefined) continue;
    let counters = out.get(owner);
    if (counters === undefined) {
      counters = {
        timestamp: 0,
        packetsReceived: 0,
        packetsLost: 0,
        jitter: 0,
        videoPacketsReceived: 0,
        framesDecoded: 0,
        totalFreezesDuration: 0,
        hasVideo: false,
      };
      out.set(owner, counters);
    }
    counters.timestamp = Math.max(counters.timestamp, num(entry['timestamp']));
    counters.packetsReceived += num(entry['packetsReceived']);
    // packetsLost may be negative (duplicates); num() treats that as none.
    counters.packetsLost += num(entry['packetsLost']);
    counters.jitter = Math.max(counters.jitter, num(entry['jitter']));
    if (entry['kind'] === 'video') {
      counters.hasVideo = true;
      counters.videoPacketsReceived += num(entry['packetsReceived']);
      counters.framesDecoded += num(entry['framesDecoded']);
      counters.totalFreezesDuration += num(entry['totalFreezesDuration']);
    }
  }
  return out;
}

/**
 * The quality between two reports of the same participant. `videoExpected`: the person says its
 * camera is on (a camera that is off sends a few black frames a second, which is no freeze). The
 * frame rate counts only while video packets arrive (a paused, hidden tile's video is no freeze).
 * Poor: ≥ 10 % loss, ≥ 100 ms jitter, frozen ≥ 20 % of the time, or under 4 frames/s; fair: ≥ 3 %,
 * ≥ 40 ms, ≥ 5 %, under 12 frames/s; good otherwise. Unknown without a previous report or when
 * nothing arrived in between (a counter that went back, e.g. a new stream, restarts the count).
 */
export function classifyQuality(
  previous: ReceiveCounters | undefined,
  current: ReceiveCounters,
  videoExpected: boolean,
): Quality {
  if (previous === undefined) return UNKNOWN_QUALITY;
  const seconds = (current.timestamp - previous.timestamp) / 1000;
  const received = current.packetsReceived - previous.packetsReceived;
  const lost = current.packetsLost - previous.packetsLost;
  if (seconds <= 0 || received < 0 || lost < 0 || received + lost === 0) return UNKNOWN_QUALITY;
  const loss = lost / (received + lost);
  const jitterMs = current.jitter * 1000;
  let fps: number | null = null;
  let frozen = 0;
  const videoFlowing = current.videoPacketsReceived > previous.videoPacketsReceived;
  if (current.hasVideo && videoExpected && videoFlowing) {
    const frames = current.framesDecoded - previous.framesDecoded;
    fps = frames >= 0 ? frames / seconds : null;
    const freezes = current.totalFreezesDuration - previous.totalFreezesDuration;
    frozen = freezes > 0 ? Math.min(freezes / seconds, 1) : 0;
  }
  const beyond = (limits: (typeof QUALITY_LIMITS)['fair' | 'poor']): boolean =>
    loss >= limits.loss || jitterMs >= limits.jitterMs || frozen >= limits.frozen || (fps !== null && fps < limits.fps);
  const level: QualityLevel = beyond(QUALITY_LIMITS.poor) ? 'poor' : beyond(QUALITY_LIMITS.fair) ? 'fair' : 'good';
  return { level, loss, jitterMs, fps, frozen };
}
