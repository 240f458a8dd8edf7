// Who is speaking, decided in this browser from the audio it plays and its own microphone. The
// server never learns it: the RFC 6464 audio-level header extension stays stripped
// (src/media/codecs.ts), so levels are measured here on the decrypted audio (src/media/levels.ts)
// and fed to this detector. Pure logic: levels and time come in as arguments, so the tests drive
// it without WebAudio or clocks.
//
// Each participant's level (RMS, 0..1) is averaged over a sliding window; a participant whose
// average is at or above `threshold` is speaking. The dominant speaker (for the speaker view) is
// the loudest speaking participant, but it changes only when the current one has been silent for
// `holdMs`, or another has been louder by `margin` for `holdMs`: a cough or a short overlap does
// not move the big tile.

export interface SpeakerDetectorOptions {
  /** Sliding window the levels are averaged over. Default 600 ms. */
  windowMs?: number;
  /** Average RMS level at which someone counts as speaking. Default 0.01 (about -40 dBFS). */
  threshold?: number;
  /** How long a change of dominant speaker must last before it is taken. Default 1000 ms. */
  holdMs?: number;
  /** Another speaker takes over from a speaking one only when louder by this factor. Default 1.5. */
  margin?: number;
  /** Samples kept per participant (bounds memory whatever the caller does). Default 64. */
  maxSamples?: number;
}

interface Track {
  /** Ring of (time, level) samples, oldest first. */
  times: number[];
  levels: number[];
}

export interface SpeakerState {
  /** The dominant speaker, sticky: the last one who spoke stays until another takes over. */
  dominant: string | null;
  /** Everyone whose averaged level is at or above the threshold right now. */
  speaking: ReadonlySet<string>;
}

function clampLevel(level: number): number {
  return Number.isFinite(level) ? Math.min(Math.max(level, 0), 1) : 0;
}

export class SpeakerDetector {
  private readonly mWindowMs: number;
  private readonly mThreshold: number;
  private readonly mHoldMs: number;
  private readonly mMargin: number;
  private readonly mMaxSamples: number;
  private readonly mTracks = new Map<string, Track>();
  private mDominant: string | null = null;
  /** A candidate for dominant speaker and since when it qualifies. */
  private mCandidate: { id: string | null; since: number } | null = null;
  private mSpeaking: ReadonlySet<string> = new Set();

  constructor(options: SpeakerDetectorOptions = {}) {
    this.mWindowMs = options.windowMs ?? 600;
    this.mThreshold = options.threshold ?? 0.01;
    this.mHoldMs = options.holdMs ?? 1000;
    this.mMargin = options.margin ?? 1.5;
    this.mMaxSamples = Math.max(1, options.maxSamples ?? 64);
  }

  /**
   * One round of measurements at time `now` (ms, monotonic): the level of every participant that
   * has audio. A participant left out has no audio any more and is forgotten.
   */
  update(levels: ReadonlyMap<string, number>, now: number): SpeakerState {
    for (const id of this.mTracks.keys()) if (!levels.has(id)) this.mTracks.delete(id);
    const averages = new Map<string, number>();
    for (const [id, raw] of levels) {
      let track = this.mTracks.get(id);
      if (track === undefined) {
        track = { times: [], levels: [] };
        this.mTracks.set(id, track);
      }
      track.times.push(now);
      track.levels.push(clampLevel(raw));
      while (track.times.length > this.mMaxSamples || (track.times[0] ?? now) < now - this.mWindowMs) {
        track.times.shift();
        track.levels.shift();
      }
      averages.set(id, track.levels.reduce((a, b) => a + b, 0) / track.levels.length);
    }
    const speaking = new Set<string>();
    let loudest: string | null = null;
    for (const [id, average] of averages) {
      if (average < this.mThreshold) continue;
      speaking.add(id);
      if (loudest === null || average > (averages.get(loudest) ?? 0)) loudest = id;
    }
    this.mSpeaking = speaking;
    this.decideDominant(loudest, averages, now);
    return this.state();
  }

  state(): SpeakerState {
    return { dominant: this.mDominant, speaking: this.mSpeaking };
  }

  private decideDominant(loudest: string | null, averages: ReadonlyMap<string, number>, now: number): void {
    const current = this.mDominant;
    if (current !== null && !averages.has(current)) {
      // The dominant speaker's audio is gone (it left, or stopped sending): hand over at once.
      this.mDominant = loudest;
      this.mCandidate = null;
      return;
    }
    let wanted: string | null = current;
    if (loudest !== null && loudest !== current) {
      const currentLevel = current === null ? 0 : (averages.get(current) ?? 0);
      const currentSpeaking = current !== null && this.mSpeaking.has(current);
      const louder = (averages.get(loudest) ?? 0) >= currentLevel * this.mMargin;
      if (current === null || !currentSpeaking || louder) wanted = loudest;
    }
    if (wanted === current) {
      this.mCandidate = null;
      return;
    }
    if (current === null) {
      // Nobody held the floor yet: the first speaker takes it at once.
      this.mDominant = wanted;
      this.mCandidate = null;
      return;
    }
    if (this.mCandidate === null || this.mCandidate.id !== wanted) this.mCandidate = { id: wanted, since: now };
    if (now - this.mCandidate.since >= this.mHoldMs) {
      this.mDominant = wanted;
      this.mCandidate = null;
    }
  }
}
