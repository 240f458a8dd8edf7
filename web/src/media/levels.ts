// Audio levels measured in this browser (WebAudio AnalyserNode): of the decrypted audio it plays
// and of its own microphone. They feed the speaker detector (src/media/speaker.ts) and the
// microphone meter before joining. Nothing leaves the browser; the analysers are connected to no
// output, so measuring adds no sound.

/** The part of an AudioContext this module uses (tests and browsers without WebAudio pass none). */
type AudioContextLike = Pick<AudioContext, 'createMediaStreamSource' | 'createAnalyser' | 'resume' | 'close' | 'state'>;

interface Meter {
  track: MediaStreamTrack;
  source: MediaStreamAudioSourceNode;
  analyser: AnalyserNode;
}

const FFT_SIZE = 1024;

function defaultContext(): AudioContextLike | null {
  return typeof AudioContext === 'function' ? new AudioContext() : null;
}

/** RMS of time-domain samples in -1..1. */
export function rms(samples: ArrayLike<number>): number {
  if (samples.length === 0) return 0;
  let sum = 0;
  for (let i = 0; i < samples.length; i++) {
    const s = samples[i] ?? 0;
    sum += s * s;
  }
  return Math.sqrt(sum / samples.length);
}

/** One analyser per audio track, by a caller's key (a participant ID). */
export class LevelMeter {
  private readonly mCreate: () => AudioContextLike | null;
  private mContext: AudioContextLike | null = null;
  private readonly mMeters = new Map<string, Meter>();
  private readonly mBuffer = new Float32Array(FFT_SIZE);
  private mClosed = false;

  constructor(createContext: () => AudioContextLike | null = defaultContext) {
    this.mCreate = createContext;
  }

  /** Measures exactly these tracks from now on (a key whose track changed gets a new analyser). */
  setTracks(tracks: ReadonlyMap<string, MediaStreamTrack>): void {
    if (this.mClosed) return;
    for (const [key, meter] of this.mMeters) {
      if (tracks.get(key) !== meter.track) {
        meter.source.disconnect();
        this.mMeters.delete(key);
      }
    }
    for (const [key, track] of tracks) {
      if (this.mMeters.has(key) || track.readyState === 'ended') continue;
      const context = this.context();
      if (context === null) return;
      try {
        const source = context.createMediaStreamSource(new MediaStream([track]));
        const analyser = context.createAnalyser();
        analyser.fftSize = FFT_SIZE;
        source.connect(analyser);
        this.mMeters.set(key, { track, source, analyser });
      } catch {
        // A track WebAudio cannot read (e.g. no audio in it yet): measured as silent.
      }
    }
  }

  /** The current RMS level (0..1) of every measured track. */
  levels(): Map<string, number> {
    const out = new Map<string, number>();
    for (const [key, meter] of this.mMeters) {
      meter.analyser.getFloatTimeDomainData(this.mBuffer);
      out.set(key, meter.track.enabled ? rms(this.mBuffer) : 0);
    }
    return out;
  }

  close(): void {
    this.mClosed = true;
    for (const meter of this.mMeters.values()) meter.source.disconnect();
    this.mMeters.clear();
    void this.mContext?.close().catch(() => undefined);
    this.mContext = null;
  }

  /**
   * Lets a suspended context run: browsers keep audio suspended until the user interacts (the
   * meter before joining, Firefox), so the view calls this on a click or key press.
   */
  resume(): void {
    if (this.mContext?.state === 'suspended') void this.mContext.resume().catch(() => undefined);
  }

  private context(): AudioContextLike | null {
    if (this.mContext === null) {
      try {
        this.mContext = this.mCreate();
      } catch {
        this.mContext = null;
      }
      // Started from a click (join, unmute) the browser lets it run; otherwise see resume().
      void this.mContext?.resume().catch(() => undefined);
    }
    return this.mContext;
  }
}
