// Receive-side video figures of one remote track over a window, from the page's getStats() (through
// the e2e test hook): decoded frames per second, freezes as the browser counts them (Chromium's
// freezeCount / totalFreezesDuration), the longest time the decoded-frame counter stood still (any
// browser), loss and NACKs. The network tests print these; floors are asserted where they hold.
import type { Page } from 'playwright-core';
import { findTrack, pageStats, type TrackStats } from './hook';

export interface VideoFigures {
  /** The window actually measured (polling can stretch it a little). */
  windowMs: number;
  framesDecoded: number;
  fps: number;
  /** Freezes the browser counted in the window, and their total length (0 where not counted). */
  freezeCount: number;
  freezesMs: number;
  /** The longest time no frame was decoded, at the polling resolution. */
  longestStillMs: number;
  packetsReceived: number;
  packetsLost: number;
  nackCount: number;
  frameWidth: number;
  frameHeight: number;
}

/** How often the counters are read: the resolution of longestStillMs. */
const POLL_MS = 200;

async function track(page: Page, from: string, source: string): Promise<TrackStats | undefined> {
  return findTrack((await pageStats(page)).received, from, source);
}

/** Measures `from`'s `source` as `page` receives it for `windowMs` from now. */
export async function measureVideo(
  page: Page,
  from: string,
  windowMs: number,
  source = 'camera',
): Promise<VideoFigures> {
  const zero = { framesDecoded: 0, freezeCount: 0, totalFreezesDuration: 0, packetsReceived: 0, packetsLost: 0 };
  const first = (await track(page, from, source)) ?? { ...zero, nackCount: 0, frameWidth: 0, frameHeight: 0 };
  const start = Date.now();
  let last = first;
  let lastChange = start;
  let longestStill = 0;
  for (;;) {
    await new Promise((r) => setTimeout(r, POLL_MS));
    const now = Date.now();
    const current = (await track(page, from, source)) ?? last;
    if (current.framesDecoded > last.framesDecoded) {
      longestStill = Math.max(longestStill, now - lastChange);
      lastChange = now;
    }
    last = current;
    if (now - start >= windowMs) {
      longestStill = Math.max(longestStill, now - lastChange);
      const frames = current.framesDecoded - first.framesDecoded;
      return {
        windowMs: now - start,
        framesDecoded: frames,
        fps: (frames * 1000) / (now - start),
        freezeCount: current.freezeCount - first.freezeCount,
        freezesMs: Math.round((current.totalFreezesDuration - first.totalFreezesDuration) * 1000),
        longestStillMs: longestStill,
        packetsReceived: current.packetsReceived - first.packetsReceived,
        packetsLost: current.packetsLost - first.packetsLost,
        nackCount: current.nackCount - first.nackCount,
        frameWidth: current.frameWidth,
        frameHeight: current.frameHeight,
      };
    }
  }
}

/** One line for the log: "12.3 fps, 4 freezes (2100 ms), still at most 800 ms, 640x480, ...". */
export function describeVideo(v: VideoFigures): string {
  return (
    `${v.fps.toFixed(1)} fps over ${(v.windowMs / 1000).toFixed(1)} s, ${v.freezeCount} freezes (${v.freezesMs} ms), ` +
    `still at most ${v.longestStillMs} ms, ${v.frameWidth}x${v.frameHeight}, ${v.packetsReceived} packets, ` +
    `${v.packetsLost} lost, ${v.nackCount} NACKs`
  );
}
