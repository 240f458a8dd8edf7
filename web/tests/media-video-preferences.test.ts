import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { sendEncodingsFor } from '../src/media/simulcast';
import {
  trackVideoElement,
  VideoPreferences,
  type ElementWatcher,
  type WatcherFactory,
} from '../src/media/video_preferences';
import type { VideoPreference } from '../src/protocol/messages';
import { validateClientMessage } from '../src/protocol/validate';

/** Observers the test drives: size and visibility callbacks by hand. */
class FakeWatchers implements WatcherFactory {
  sizeCallback: ((element: Element, width: number, height: number) => void) | null = null;
  visibilityCallback: ((element: Element, visible: boolean) => void) | null = null;
  observed = new Set<Element>();

  private watcher(): ElementWatcher {
    return {
      observe: (element) => this.observed.add(element),
      unobserve: (element) => this.observed.delete(element),
      disconnect: () => this.observed.clear(),
    };
  }
  size(callback: (element: Element, width: number, height: number) => void): ElementWatcher {
    this.sizeCallback = callback;
    return this.watcher();
  }
  visibility(callback: (element: Element, visible: boolean) => void): ElementWatcher {
    this.visibilityCallback = callback;
    return this.watcher();
  }
  resize(element: Element, width: number, height: number): void {
    this.sizeCallback?.(element, width, height);
  }
  show(element: Element, visible: boolean): void {
    this.visibilityCallback?.(element, visible);
  }
}

/** Registered elements: the registry is the module's, each test leaves it empty. */
const untracks: (() => void)[] = [];
function track(mid: string, e: Element): () => void {
  const untrack = trackVideoElement(mid, e);
  untracks.push(untrack);
  return untrack;
}

function element(): Element {
  return { getBoundingClientRect: () => ({ width: 0, height: 0 }) } as unknown as Element;
}

describe('VideoPreferences', () => {
  let sent: VideoPreference[][];
  let watchers: FakeWatchers;
  let preferences: VideoPreferences;

  beforeEach(() => {
    vi.useFakeTimers();
    sent = [];
    watchers = new FakeWatchers();
    preferences = new VideoPreferences({
      send: (p) => sent.push(p),
      delayMs: 250,
      pixelRatio: () => 2,
      watchers,
    });
    preferences.activate();
  });
  afterEach(() => {
    for (const untrack of untracks.splice(0)) untrack();
    preferences.close();
    vi.useRealTimers();
  });

  it('reports each video at its rendered size in device pixels, once per delay', () => {
    const a = element();
    const b = element();
    const untrackA = track('1', a);
    track('3', b);
    watchers.resize(a, 160, 90);
    watchers.resize(b, 640.4, 360);
    watchers.resize(a, 150, 84.6); // a burst of resizes: only the last one counts
    expect(sent).toEqual([]);
    vi.advanceTimersByTime(250);
    expect(sent).toEqual([
      [
        { mid: '1', width: 300, height: 169 },
        { mid: '3', width: 1281, height: 720 },
      ],
    ]);
    // Only what changed is sent again; a removed element means "not shown".
    watchers.resize(b, 640.4, 360);
    untrackA();
    vi.advanceTimersByTime(250);
    expect(sent[1]).toEqual([{ mid: '1', width: 0, height: 0 }]);
    vi.advanceTimersByTime(1000);
    expect(sent).toHaveLength(2);
  });

  it('reports a video that is off screen as 0x0 and its size again when it comes back', () => {
    const a = element();
    track('1', a);
    watchers.resize(a, 400, 300);
    vi.advanceTimersByTime(250);
    watchers.show(a, false);
    vi.advanceTimersByTime(250);
    watchers.show(a, true);
    vi.advanceTimersByTime(250);
    expect(sent).toEqual([
      [{ mid: '1', width: 800, height: 600 }],
      [{ mid: '1', width: 0, height: 0 }],
      [{ mid: '1', width: 800, height: 600 }],
    ]);
  });

  it('takes the largest size when one video is shown twice, and resends everything after invalidate', () => {
    const small = element();
    const large = element();
    track('5', small);
    track('5', large);
    watchers.resize(small, 100, 50);
    watchers.resize(large, 800, 450);
    vi.advanceTimersByTime(250);
    expect(sent).toEqual([[{ mid: '5', width: 1600, height: 900 }]]);
    preferences.invalidate();
    vi.advanceTimersByTime(250);
    expect(sent[1]).toEqual([{ mid: '5', width: 1600, height: 900 }]);
  });

  it('splits more than 64 changes into messages the server accepts', () => {
    for (let i = 0; i < 70; i++) {
      const e = element();
      track(String(i), e);
      watchers.resize(e, 10000, 10); // clamped to the protocol's largest dimension
    }
    vi.advanceTimersByTime(250);
    expect(sent.map((m) => m.length)).toEqual([64, 6]);
    for (const message of sent) {
      expect(validateClientMessage({ type: 'video-preferences', preferences: message })).toBeNull();
      for (const p of message) expect(p.width).toBe(16384);
    }
  });

  it('watches elements registered before it was activated, and stops when closed', () => {
    preferences.close();
    const early = element();
    track('7', early);
    const next = new VideoPreferences({ send: (p) => sent.push(p), pixelRatio: () => 1, watchers });
    next.activate();
    expect(watchers.observed.has(early)).toBe(true);
    watchers.resize(early, 320, 180);
    next.flush();
    expect(sent).toEqual([[{ mid: '7', width: 320, height: 180 }]]);
    next.close();
    watchers.resize(early, 640, 360);
    vi.advanceTimersByTime(1000);
    expect(sent).toHaveLength(1);
  });
});

describe('simulcast encodings', () => {
  it('sends the camera as three layers, lowest first, and screens as one', () => {
    const camera = sendEncodingsFor('camera');
    expect(camera?.map((e) => e.rid)).toEqual(['q', 'h', 'f']);
    expect(camera?.map((e) => e.scaleResolutionDownBy)).toEqual([4, 2, 1]);
    expect(sendEncodingsFor('screen')).toBeUndefined();
    expect(sendEncodingsFor('microphone')).toBeUndefined();
  });
});
