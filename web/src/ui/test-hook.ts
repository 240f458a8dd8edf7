// Only in the end-to-end build (`vite build --mode e2e`, see vite.config.ts): lets the browser
// tests read what the media side received, per participant, through `window.__conclaveTest`.
// The production build contains none of this (the call site is removed as dead code).
import type { MediaController } from '../media/controller';
import type { TrackCryptoStats } from '../media/frame_engine';
import type { MeetingSession } from '../session';

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
  /** The frame-transform worker's per-track counters (frames encrypted/decrypted/failed). */
  crypto: () => { mode: string; tracks: TrackCryptoStats[] };
  /** The security code this page shows, or null. */
  securityCode: () => string | null;
  /** Sends a chat message with any self-destruct lifetime (the view offers 1 min and up). */
  sendChat: (text: string, lifetimeMs: number | null) => Promise<void>;
  /** This participant's active and pending sender key generations. */
  keyGenerations: () => Promise<{ active: number; pending: number | null } | null>;
  /**
   * "Spy" mode for the forward-secrecy test: the next join proves membership with a wrong secret
   * (so nobody sends this page keys) while the frame transforms keep every key they hold.
   */
  spyNextJoin: () => void;
}

export function exposeTestHook(controller: MediaController, session: MeetingSession): void {
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
    crypto: () => ({ ...controller.snapshot().encryption }),
    securityCode: () => (session.state.kind === 'joined' ? session.state.security.code : null),
    sendChat: (text, lifetimeMs) => session.sendChat(text, lifetimeMs),
    keyGenerations: async () => {
      const secure = session.secure;
      if (!secure) return null;
      const keys = await secure.keys();
      return { active: keys.activeKey.generation, pending: keys.pendingKey?.generation ?? null };
    },
    spyNextJoin: () => {
      session.testSpyNextJoin();
      controller.testKeepKeysOnNextAttach();
    },
  };
  (window as unknown as { __conclaveTest?: ConclaveTestHook }).__conclaveTest = hook;
}
