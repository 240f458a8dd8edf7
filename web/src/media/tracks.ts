// Bookkeeping of the subscribe connection: which m-section (mid) carries whose track, grouped by
// participant. Pure logic over plain data, so the unit tests drive it without WebRTC.

import type { MediaKind, SubscribedTrack } from '../protocol/messages';

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
