// How large each received video is shown, told to the server (`video-preferences`, see
// docs/protocol.md) so that it forwards the simulcast layer that fits: a thumbnail gets the
// quarter-size layer, a large tile the full one, and a video nobody sees (a hidden or scrolled-off
// tile, a tile that is gone) is paused.
//
// The view registers its video elements with the mid of the track they show (trackVideoElement);
// the Call's VideoPreferences watches them with ResizeObserver (rendered size in CSS pixels, times
// devicePixelRatio) and IntersectionObserver (on screen or not), and sends what changed, at most
// once per `delayMs`, at most MAX_VIDEO_PREFERENCES entries per message.

import { MAX_VIDEO_DIMENSION, MAX_VIDEO_PREFERENCES, type VideoPreference } from '../protocol/messages';

/** Watches elements for size and visibility; the browser's observers by default (tests inject). */
export interface ElementWatcher {
  observe(element: Element): void;
  unobserve(element: Element): void;
  disconnect(): void;
}
export interface WatcherFactory {
  /** Calls back with the element's rendered size in CSS pixels; null when the browser has none. */
  size(callback: (element: Element, width: number, height: number) => void): ElementWatcher | null;
  /** Calls back whether the element is on screen; null when the browser cannot tell. */
  visibility(callback: (element: Element, visible: boolean) => void): ElementWatcher | null;
}

export interface VideoPreferencesOptions {
  send: (preferences: VideoPreference[]) => void;
  /** Changes are collected this long before they are sent (a window resize fires often). */
  delayMs?: number;
  pixelRatio?: () => number;
  watchers?: WatcherFactory;
}

const DEFAULT_DELAY_MS = 250;

export const browserWatchers: WatcherFactory = {
  size(callback) {
    if (typeof ResizeObserver === 'undefined') return null;
    return new ResizeObserver((entries) => {
      for (const entry of entries) callback(entry.target, entry.contentRect.width, entry.contentRect.height);
    });
  },
  visibility(callback) {
    if (typeof IntersectionObserver === 'undefined') return null;
    return new IntersectionObserver((entries) => {
      for (const entry of entries) callback(entry.target, entry.isIntersecting);
    });
  },
};

interface Watched {
  mid: string;
  width: number;
  height: number;
  visible: boolean;
}

/** The video elements the view shows, by element: the mid of the track each one plays. */
const registry = new Map<Element, string>();
/** The instance registered elements report to: the current Call's. */
const current: { active: VideoPreferences | null } = { active: null };

/**
 * Registers a video element that shows the received track of `mid`; returns the function that
 * unregisters it (when the element goes or shows something else). Safe to call with no Call.
 */
export function trackVideoElement(mid: string, element: Element): () => void {
  registry.set(element, mid);
  current.active?.watch(element, mid);
  return () => {
    if (registry.get(element) !== mid) return;
    registry.delete(element);
    current.active?.unwatch(element);
  };
}

function clampDimension(cssPixels: number, ratio: number): number {
  const value = Math.round(cssPixels * ratio);
  return Number.isFinite(value) ? Math.min(Math.max(value, 0), MAX_VIDEO_DIMENSION) : 0;
}

export class VideoPreferences {
  private readonly mOptions: VideoPreferencesOptions;
  private readonly mWatched = new Map<Element, Watched>();
  /** What the server was told last, per mid ("WxH"). */
  private readonly mSent = new Map<string, string>();
  private readonly mSize: ElementWatcher | null;
  private readonly mVisibility: ElementWatcher | null;
  private mTimer: ReturnType<typeof setTimeout> | null = null;
  private mClosed = false;

  constructor(options: VideoPreferencesOptions) {
    this.mOptions = options;
    const watchers = options.watchers ?? browserWatchers;
    this.mSize = watchers.size((element, width, height) => {
      const watched = this.mWatched.get(element);
      if (!watched) return;
      watched.width = width;
      watched.height = height;
      this.schedule();
    });
    this.mVisibility = watchers.visibility((element, visible) => {
      const watched = this.mWatched.get(element);
      if (!watched) return;
      watched.visible = visible;
      this.schedule();
    });
  }

  /** Becomes the instance registered elements report to (the current Call's). */
  activate(): void {
    if (current.active && current.active !== this) current.active.deactivate();
    current.active = this;
    for (const [element, mid] of registry) this.watch(element, mid);
  }

  /** Stops watching; nothing more is sent. */
  close(): void {
    this.deactivate();
    this.mClosed = true;
  }

  /** The server's consumers changed (a new subscribe offer): everything is sent again. */
  invalidate(): void {
    this.mSent.clear();
    this.schedule();
  }

  /** @internal registry → instance */
  watch(element: Element, mid: string): void {
    if (this.mClosed) return;
    const known = this.mWatched.get(element);
    if (known) {
      known.mid = mid;
    } else {
      const rect = element.getBoundingClientRect();
      // Until the observers report, the element counts as visible at its current size.
      this.mWatched.set(element, { mid, width: rect.width, height: rect.height, visible: true });
      this.mSize?.observe(element);
      this.mVisibility?.observe(element);
    }
    this.schedule();
  }

  /** @internal */
  unwatch(element: Element): void {
    if (!this.mWatched.delete(element)) return;
    this.mSize?.unobserve(element);
    this.mVisibility?.unobserve(element);
    this.schedule();
  }

  /** What each mid should get now: the largest size it is shown at, 0x0 when not shown. */
  current(): Map<string, VideoPreference> {
    const ratio = this.mOptions.pixelRatio?.() ?? (typeof devicePixelRatio === 'number' ? devicePixelRatio : 1);
    const out = new Map<string, VideoPreference>();
    // Mids told before whose elements are gone: no longer shown.
    for (const mid of this.mSent.keys()) out.set(mid, { mid, width: 0, height: 0 });
    const seen = new Set<string>();
    for (const w of this.mWatched.values()) {
      const width = w.visible ? clampDimension(w.width, ratio) : 0;
      const height = w.visible ? clampDimension(w.height, ratio) : 0;
      const before = seen.has(w.mid) ? out.get(w.mid) : undefined;
      seen.add(w.mid);
      if (before && before.width * before.height >= width * height) continue;
      out.set(w.mid, { mid: w.mid, width, height });
    }
    return out;
  }

  /** Sends what changed since the last message (now; normally after the delay). */
  flush(): void {
    if (this.mTimer !== null) clearTimeout(this.mTimer);
    this.mTimer = null;
    if (this.mClosed) return;
    const changed: VideoPreference[] = [];
    for (const [mid, preference] of this.current()) {
      const value = `${preference.width}x${preference.height}`;
      if (this.mSent.get(mid) === value) continue;
      changed.push(preference);
      if (preference.width === 0 && !this.isWatched(mid)) this.mSent.delete(mid);
      else this.mSent.set(mid, value);
    }
    for (let i = 0; i < changed.length; i += MAX_VIDEO_PREFERENCES) {
      this.mOptions.send(changed.slice(i, i + MAX_VIDEO_PREFERENCES));
    }
  }

  private isWatched(mid: string): boolean {
    for (const w of this.mWatched.values()) if (w.mid === mid) return true;
    return false;
  }

  private deactivate(): void {
    if (current.active === this) current.active = null;
    if (this.mTimer !== null) clearTimeout(this.mTimer);
    this.mTimer = null;
    this.mSize?.disconnect();
    this.mVisibility?.disconnect();
    this.mWatched.clear();
  }

  private schedule(): void {
    if (this.mClosed || this.mTimer !== null) return;
    this.mTimer = setTimeout(() => this.flush(), this.mOptions.delayMs ?? DEFAULT_DELAY_MS);
  }
}
