// Only in the end-to-end build (`vite build --mode e2e`, see vite.config.ts): lets the browser
// tests read what the media side received, per participant, through `window.__conclaveTest`.
// The production build contains none of this (the call site is removed as dead code).
import type { MediaController } from '../media/controller';

export interface ConclaveTestHook {
  /** Receive counters per remote participant and source, send counters per published source. */
  stats: () => Promise<unknown>;
  /** The remote tracks per participant as the view sees them. */
  remote: () => {
    participantId: string;
    tracks: { mid: string; kind: string; source: string; readyState: string }[];
  }[];
  /** Subscribe m-sections with their negotiated direction. */
  subscribeSections: () => { mid: string; currentDirection: string | null }[];
  offersAnswered: () => number;
  publishedMids: () => Record<string, string>;
  states: () => Record<string, string>;
}

export function exposeTestHook(controller: MediaController): void {
  const hook: ConclaveTestHook = {
    stats: () => controller.stats(),
    remote: () =>
      controller.snapshot().remote.map((r) => ({
        participantId: r.participantId,
        tracks: r.tracks.map((t) => ({ mid: t.mid, kind: t.kind, source: t.source, readyState: t.track.readyState })),
      })),
    subscribeSections: () => controller.call?.subscribeSections() ?? [],
    offersAnswered: () => controller.call?.offersAnswered ?? 0,
    publishedMids: () => ({ ...(controller.call?.publishedMids() ?? {}) }),
    states: () => ({ ...controller.snapshot().states }),
  };
  (window as unknown as { __conclaveTest?: ConclaveTestHook }).__conclaveTest = hook;
}
