// Bookkeeping of the subscribe connection: which m-section (mid) carries whose track, grouped by
// participant, and the receive statistics per participant. Pure logic over plain data, so the
// unit tests drive it without WebRTC.

import type { MediaKind, SubscribedTrack } from '../protocol';

/** A received track with what the server said about it. */
export interface RemoteTrack<T = MediaStreamTrack> {
  mid: string;
  kind: MediaKind;
  /** microphone, camera, screen, screen-audio (or a source a later server adds). */
  source: string;
  track: T;
}

/** Everything received from one other participant, in the order of the offer. */
export interface RemoteParticipantMedia<T = MediaStreamTrack> {
  participantId: string;
  tracks: RemoteTrack<T>[];
}

export interface SubscriptionChange {
  /** Mids that now carry a track they did not carry before (new, or reused by someone else). */
  added: SubscribedTrack[];
  /** Mids whose track ended (the section is inactive now) or changed owner. */
  removed: SubscribedTrack[];
}

function sameTrack(a: SubscribedTrack, b: SubscribedTrack): boolean {
  return a.participantId === b.participantId && a.kind === b.kind && a.source === b.source;
}

/** The current mid → track mapping of the subscribe connection, replaced by every offer. */
export class SubscriptionMap {
  private mByMid = new Map<string, SubscribedTrack>();

  /**
   * Takes the `tracks` list of a new subscribe offer (one entry per active m-section). Tracks of
   * `selfId` are dropped: a participant never receives its own media.
   */
  update(tracks: readonly SubscribedTrack[], selfId: string | null = null): SubscriptionChange {
    const next = new Map<string, SubscribedTrack>();
    for (const track of tracks) {
      if (track.participantId === selfId) continue;
      next.set(track.mid, { ...track });
    }
    const added: SubscribedTrack[] = [];
    const removed: SubscribedTrack[] = [];
    for (const [mid, old] of this.mByMid) {
      const now = next.get(mid);
      if (!now || !sameTrack(old, now)) removed.push(old);
    }
    for (const [mid, now] of next) {
      const old = this.mByMid.get(mid);
      if (!old || !sameTrack(old, now)) added.push(now);
    }
    this.mByMid = next;
    return { added, removed };
  }

  get(mid: string): SubscribedTrack | undefined {
    return this.mByMid.get(mid);
  }

  get size(): number {
    return this.mByMid.size;
  }

  tracks(): SubscribedTrack[] {
    return [...this.mByMid.values()];
  }

  participantIds(): string[] {
    return [...new Set(this.tracks().map((t) => t.participantId))];
  }

  clear(): void {
    this.mByMid.clear();
  }

  /**
   * Groups the active tracks by participant. `trackFor` finds the received track of a mid (the
   * receiver of the transceiver with that mid); mids it cannot resolve are left out.
   */
  group<T>(trackFor: (mid: string) => T | null): RemoteParticipantMedia<T>[] {
    const byParticipant = new Map<string, RemoteParticipantMedia<T>>();
    for (const info of this.mByMid.values()) {
      const track = trackFor(info.mid);
      if (track === null) continue;
      let entry = byParticipant.get(info.participantId);
      if (!entry) {
        entry = { participantId: info.participantId, tracks: [] };
        byParticipant.set(info.participantId, entry);
      }
      entry.tracks.push({ mid: info.mid, kind: info.kind, source: info.source, track });
    }
    return [...byParticipant.values()];
  }
}

/** The first track of `source` a participant sends, if any. */
export function trackOf<T>(media: RemoteParticipantMedia<T> | undefined, source: string): RemoteTrack<T> | null {
  return media?.tracks.find((t) => t.source === source) ?? null;
}

// ---------------------------------------------------------------------------------------------
// Statistics

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
  subscriptions: SubscriptionMap,
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
  }
  return [...byMid.values()];
}
