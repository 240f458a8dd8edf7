// Media statistics for the browser tests, in the end-to-end build only (see hook.ts): what a page
// receives per participant and source, and what it sends per source, from the getStats() reports
// of its peer connections. The product shows none of this, so none of it ships in dist/.

import type { MediaKind, SubscribedTrack } from '../protocol/messages';

/** Receive counters of one participant's track, summed over its inbound RTP streams. */
export interface TrackStats {
  participantId: string;
  source: string;
  kind: MediaKind;
  mid: string;
  packetsReceived: number;
  bytesReceived: number;
  /** Video only. */
  framesDecoded: number;
  frameWidth: number;
  frameHeight: number;
  /** Audio only: samples played out, and how many of them the jitter buffer had to conceal. */
  totalSamplesReceived: number;
  concealedSamples: number;
  /** Packets lost and NACKs sent, as the receiver counts them. */
  packetsLost: number;
  nackCount: number;
  /** Video only: freezes as the browser counts them (Chromium), and their total length in s. */
  freezeCount: number;
  totalFreezesDuration: number;
}

/** Send counters of one published track. */
export interface SentStats {
  source: string;
  mid: string;
  kind: string;
  packetsSent: number;
  framesEncoded: number;
  /** Simulcast: one entry per layer, by rid ('' without simulcast). */
  rid: string;
  frameWidth: number;
  bytesSent: number;
  /** Why the encoder sends less than it could: 'none', 'bandwidth', 'cpu' or 'other'. */
  qualityLimitationReason: string;
}

export interface PageStats {
  received: TrackStats[];
  sent: SentStats[];
}

/** Whose track each m-section of the subscribe connection carries (a SubscriptionMap, or a Map). */
export interface SubscriptionLookup {
  get(mid: string): SubscribedTrack | undefined;
}

/** The fields of an `inbound-rtp` stats entry this module reads (RTCInboundRtpStreamStats). */
interface InboundEntry {
  type: string;
  kind?: string;
  mid?: string;
  trackIdentifier?: string;
  packetsReceived?: number;
  bytesReceived?: number;
  framesDecoded?: number;
  frameWidth?: number;
  frameHeight?: number;
  totalSamplesReceived?: number;
  concealedSamples?: number;
  packetsLost?: number;
  nackCount?: number;
  freezeCount?: number;
  totalFreezesDuration?: number;
}

function num(value: unknown): number {
  return typeof value === 'number' && Number.isFinite(value) ? value : 0;
}

/**
 * Per-participant receive statistics from a subscribe connection's getStats() report. An entry is
 * matched to its m-section by `mid`, or else by the receiving track's id through `midOfTrack`.
 */
export function receiveStats(
  report: Iterable<unknown>,
  subscriptions: SubscriptionLookup,
  midOfTrack: (trackId: string) => string | null = () => null,
): TrackStats[] {
  const byMid = new Map<string, TrackStats>();
  for (const raw of report) {
    if (typeof raw !== 'object' || raw === null) continue;
    const entry = raw as InboundEntry;
    if (entry.type !== 'inbound-rtp') continue;
    const mid =
      typeof entry.mid === 'string'
        ? entry.mid
        : typeof entry.trackIdentifier === 'string'
          ? midOfTrack(entry.trackIdentifier)
          : null;
    if (mid === null) continue;
    const info = subscriptions.get(mid);
    if (!info) continue;
    let stats = byMid.get(mid);
    if (!stats) {
      stats = {
        participantId: info.participantId,
        source: info.source,
        kind: info.kind,
        mid,
        packetsReceived: 0,
        bytesReceived: 0,
        framesDecoded: 0,
        frameWidth: 0,
        frameHeight: 0,
        totalSamplesReceived: 0,
        concealedSamples: 0,
        packetsLost: 0,
        nackCount: 0,
        freezeCount: 0,
        totalFreezesDuration: 0,
      };
      byMid.set(mid, stats);
    }
    stats.packetsReceived += num(entry.packetsReceived);
    stats.bytesReceived += num(entry.bytesReceived);
    stats.framesDecoded += num(entry.framesDecoded);
    stats.frameWidth = Math.max(stats.frameWidth, num(entry.frameWidth));
    stats.frameHeight = Math.max(stats.frameHeight, num(entry.frameHeight));
    stats.totalSamplesReceived += num(entry.totalSamplesReceived);
    stats.concealedSamples += num(entry.concealedSamples);
    stats.packetsLost += num(entry.packetsLost);
    stats.nackCount += num(entry.nackCount);
    stats.freezeCount += num(entry.freezeCount);
    stats.totalFreezesDuration += num(entry.totalFreezesDuration);
  }
  return [...byMid.values()];
}

/** Per-source send statistics from a publish connection's getStats() report. */
export function sendStats(report: Iterable<unknown>, sourceOfMid: (mid: string) => string | undefined): SentStats[] {
  const sent: SentStats[] = [];
  for (const raw of report) {
    if (typeof raw !== 'object' || raw === null) continue;
    const entry = raw as Record<string, unknown>;
    if (entry['type'] !== 'outbound-rtp' || typeof entry['mid'] !== 'string') continue;
    const source = sourceOfMid(entry['mid']);
    if (source === undefined) continue;
    sent.push({
      source,
      mid: entry['mid'],
      kind: typeof entry['kind'] === 'string' ? entry['kind'] : '',
      packetsSent: num(entry['packetsSent']),
      framesEncoded: num(entry['framesEncoded']),
      rid: typeof entry['rid'] === 'string' ? entry['rid'] : '',
      frameWidth: num(entry['frameWidth']),
      bytesSent: num(entry['bytesSent']),
      qualityLimitationReason:
        typeof entry['qualityLimitationReason'] === 'string' ? entry['qualityLimitationReason'] : '',
    });
  }
  return sent;
}

/** The minimum of an RTCPeerConnection these statistics read (tests pass a fake). */
export interface StatsConnection {
  getStats(): Promise<{ values(): IterableIterator<unknown> }>;
  getTransceivers(): { mid: string | null; receiver: { track: { id: string } }; sender: { track: unknown } }[];
}

/**
 * What a call receives (subscribe connection, labelled through `subscriptions`) and sends
 * (publish connection, labelled through `sourceOfTrack`, the source of a local track).
 */
export async function callStats(
  subscribe: StatsConnection | null,
  publish: StatsConnection | null,
  subscriptions: SubscriptionLookup,
  sourceOfTrack: (track: unknown) => string | undefined,
): Promise<PageStats> {
  let received: TrackStats[] = [];
  if (subscribe) {
    const trackMids = new Map<string, string>();
    for (const t of subscribe.getTransceivers()) if (t.mid !== null) trackMids.set(t.receiver.track.id, t.mid);
    const report = await subscribe.getStats();
    received = receiveStats(report.values(), subscriptions, (id) => trackMids.get(id) ?? null);
  }
  let sent: SentStats[] = [];
  if (publish) {
    const sources = new Map<string, string>();
    for (const t of publish.getTransceivers()) {
      const source = t.sender.track ? sourceOfTrack(t.sender.track) : undefined;
      if (t.mid !== null && source !== undefined) sources.set(t.mid, source);
    }
    const report = await publish.getStats();
    sent = sendStats(report.values(), (mid) => sources.get(mid));
  }
  return { received, sent };
}
