// What the browser tests read through the e2e build's test hook (window.__conclaveTest, see
// src/testing/hook.ts), typed once for all of them.
import type { Page } from 'playwright-core';

/** Receive counters of one remote track (src/testing/stats.ts TrackStats). */
export interface TrackStats {
  participantId: string;
  source: string;
  kind: string;
  mid: string;
  packetsReceived: number;
  framesDecoded: number;
  frameWidth: number;
  frameHeight: number;
  totalSamplesReceived: number;
  concealedSamples: number;
  packetsLost: number;
  nackCount: number;
  /** Chromium only (0 elsewhere): freezes the browser counted, and their total length in s. */
  freezeCount: number;
  totalFreezesDuration: number;
}

export interface PageStats {
  received: TrackStats[];
  sent: {
    source: string;
    mid: string;
    kind: string;
    packetsSent: number;
    framesEncoded: number;
    rid: string;
    frameWidth: number;
    bytesSent: number;
    qualityLimitationReason: string;
  }[];
}

/** One frame transform's counters (src/media/frame_engine.ts TrackCryptoStats). */
export interface CryptoTrack {
  role: 'send' | 'receive';
  kind: string;
  source: string | null;
  participantId: string | null;
  ok: number;
  failed: number;
  lastError: string | null;
  generation: number | null;
  state: string;
}

export interface CryptoStats {
  mode: string;
  tracks: CryptoTrack[];
}

/** One local device as the page's controller has it (src/testing/hook.ts LocalDeviceView). */
export interface LocalDeviceView {
  deviceId: string | null;
  problem: string | null;
  track: { id: string; label: string; readyState: string } | null;
}

export type LocalDevices = Record<'camera' | 'microphone', LocalDeviceView> & { speakerId: string | null };

/** window.__conclaveTest, as far as the tests use it. */
export interface TestHook {
  stats: () => Promise<PageStats>;
  remote: () => {
    participantId: string;
    tracks: { mid: string; kind: string; source: string; readyState: string }[];
  }[];
  subscribeSections: () => { mid: string; currentDirection: string | null }[];
  crypto: () => CryptoStats;
  securityCode: () => string | null;
  devices: () => Record<'camera' | 'microphone', LocalDeviceView> & { speakerId: string | null };
  endDevice: (source: 'camera' | 'microphone') => boolean;
  sendChat: (text: string, lifetimeMs: number | null) => Promise<void>;
  sendKeyGeneration: () => number | null;
  spyNextJoin: () => Promise<void>;
  selectedCandidates: () => Promise<Record<'publish' | 'subscribe', SelectedCandidate | null>>;
  turnUsernames: () => Record<'publish' | 'subscribe', string[]>;
}

/** The selected ICE candidate pair of one connection (src/testing/hook.ts SelectedCandidate). */
export interface SelectedCandidate {
  localType: string;
  localProtocol: string;
  relayProtocol: string | null;
  remoteAddress: string;
  remotePort: number;
}

type WithHook = { __conclaveTest?: TestHook };

// Each reader below runs in the page (page.evaluate sends the function's text), so each names the
// hook itself; the page's CSP allows no eval to share that line.

export function pageStats(page: Page): Promise<PageStats> {
  return page.evaluate(() => {
    const hook = (window as unknown as WithHook).__conclaveTest;
    if (!hook) throw new Error('no test hook: build with --mode e2e');
    return hook.stats();
  });
}

export function selectedCandidates(page: Page): Promise<Record<'publish' | 'subscribe', SelectedCandidate | null>> {
  return page.evaluate(() => {
    const hook = (window as unknown as WithHook).__conclaveTest;
    if (!hook) throw new Error('no test hook: build with --mode e2e');
    return hook.selectedCandidates();
  });
}

export function turnUsernames(page: Page): Promise<Record<'publish' | 'subscribe', string[]>> {
  return page.evaluate(() => {
    const hook = (window as unknown as WithHook).__conclaveTest;
    if (!hook) throw new Error('no test hook: build with --mode e2e');
    return hook.turnUsernames();
  });
}

export function cryptoStats(page: Page): Promise<CryptoStats> {
  return page.evaluate(() => {
    const hook = (window as unknown as WithHook).__conclaveTest;
    if (!hook) throw new Error('no test hook: build with --mode e2e');
    return hook.crypto();
  });
}

/** Remote participant IDs as the view has them. */
export function remoteParticipants(page: Page): Promise<string[]> {
  return page.evaluate(() => {
    const hook = (window as unknown as WithHook).__conclaveTest;
    if (!hook) throw new Error('no test hook: build with --mode e2e');
    return hook.remote().map((r) => r.participantId);
  });
}

export function subscribeSections(page: Page): Promise<{ mid: string; currentDirection: string | null }[]> {
  return page.evaluate(() => {
    const hook = (window as unknown as WithHook).__conclaveTest;
    if (!hook) throw new Error('no test hook: build with --mode e2e');
    return hook.subscribeSections();
  });
}

export function securityCode(page: Page): Promise<string | null> {
  return page.evaluate(() => {
    const hook = (window as unknown as WithHook).__conclaveTest;
    if (!hook) throw new Error('no test hook: build with --mode e2e');
    return hook.securityCode();
  });
}

/** The generation of the key the page's frames are encrypted with now (null: none yet). */
export function sendKeyGeneration(page: Page): Promise<number | null> {
  return page.evaluate(() => {
    const hook = (window as unknown as WithHook).__conclaveTest;
    if (!hook) throw new Error('no test hook: build with --mode e2e');
    return hook.sendKeyGeneration();
  });
}

export function sendChat(page: Page, text: string, lifetimeMs: number | null): Promise<void> {
  return page.evaluate(
    ([t, l]) => {
      const hook = (window as unknown as WithHook).__conclaveTest;
      if (!hook) throw new Error('no test hook: build with --mode e2e');
      return hook.sendChat(t, l);
    },
    [text, lifetimeMs] as const,
  );
}

export function spyNextJoin(page: Page): Promise<void> {
  return page.evaluate(() => {
    const hook = (window as unknown as WithHook).__conclaveTest;
    if (!hook) throw new Error('no test hook: build with --mode e2e');
    return hook.spyNextJoin();
  });
}

/** The counters of `participantId`'s `source` in a list of tracks, if there. */
export function findTrack<T extends { participantId: string | null; source: string | null }>(
  list: readonly T[],
  participantId: string,
  source: string,
): T | undefined {
  return list.find((t) => t.participantId === participantId && t.source === source);
}

/** The page's local devices (chosen ids, problems, the tracks sent now). */
export function localDevices(page: Page): Promise<LocalDevices> {
  return page.evaluate(() => {
    const hook = (window as unknown as WithHook).__conclaveTest;
    if (!hook) throw new Error('no test hook: build with --mode e2e');
    return hook.devices();
  });
}

/** Ends the page's camera or microphone track as an unplugged device does. */
export function endDevice(page: Page, source: 'camera' | 'microphone'): Promise<boolean> {
  return page.evaluate((s) => {
    const hook = (window as unknown as WithHook).__conclaveTest;
    if (!hook) throw new Error('no test hook: build with --mode e2e');
    return hook.endDevice(s);
  }, source);
}
