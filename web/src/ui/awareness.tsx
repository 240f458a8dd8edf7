// Who speaks and how well each person comes through, for the call view: hooks that run the level
// meter and speaker detector (src/media/levels.ts, speaker.ts) and the receive-statistics quality
// (src/media/quality.ts), plus the microphone level meter and the tile icons. Everything here is
// measured in this browser; nothing is sent anywhere.
import { useEffect, useRef, useState } from 'preact/hooks';
import type { MediaController } from '../media/controller';
import { LevelMeter } from '../media/levels';
import {
  classifyQuality,
  receiveCounters,
  type Quality,
  type QualityLevel,
  type ReceiveCounters,
} from '../media/quality';
import { SpeakerDetector, type SpeakerState } from '../media/speaker';
import type { RemoteParticipantMedia } from '../media/tracks';
import { useLang } from './lang';
import { MicIcon } from './media';

const SPEAKER_INTERVAL_MS = 100;
const QUALITY_INTERVAL_MS = 2000;
const EMPTY_SPEAKERS: SpeakerState = { dominant: null, speaking: new Set() };

function sameSet(a: ReadonlySet<string>, b: ReadonlySet<string>): boolean {
  if (a.size !== b.size) return false;
  for (const x of a) if (!b.has(x)) return false;
  return true;
}

/** Resumes `meter` on every click or key press (until `stop` is called). */
function resumeOnGesture(meter: LevelMeter): () => void {
  const resume = (): void => meter.resume();
  document.addEventListener('pointerdown', resume, true);
  document.addEventListener('keydown', resume, true);
  return () => {
    document.removeEventListener('pointerdown', resume, true);
    document.removeEventListener('keydown', resume, true);
  };
}

function trackKey(tracks: ReadonlyMap<string, MediaStreamTrack>): string {
  return [...tracks].map(([id, track]) => `${id}:${track.id}`).join(',');
}

/** The speaker state from the levels of `tracks` (participant ID → audio track), ten times a second. */
export function useSpeakers(tracks: ReadonlyMap<string, MediaStreamTrack>): SpeakerState {
  const [state, setState] = useState<SpeakerState>(EMPTY_SPEAKERS);
  const meter = useRef<LevelMeter | null>(null);
  const key = trackKey(tracks);
  useEffect(() => {
    const own = new LevelMeter();
    const detector = new SpeakerDetector();
    const stopResuming = resumeOnGesture(own);
    meter.current = own;
    let last = EMPTY_SPEAKERS;
    const timer = setInterval(() => {
      const next = detector.update(own.levels(), performance.now());
      if (next.dominant === last.dominant && sameSet(next.speaking, last.speaking)) return;
      last = next;
      setState(next);
    }, SPEAKER_INTERVAL_MS);
    return () => {
      clearInterval(timer);
      stopResuming();
      own.close();
      meter.current = null;
    };
  }, []);
  useEffect(() => {
    meter.current?.setTracks(tracks);
    // `key` stands for the tracks (their ids), like useStream.
    // eslint-disable-next-line react-hooks/exhaustive-deps
  }, [key]);
  return state;
}

/** The level (0..1, on a -60..0 dBFS scale) of one track, for a meter. */
export function useLevel(track: MediaStreamTrack | null): number {
  const [level, setLevel] = useState(0);
  useEffect(() => {
    if (track === null) {
      setLevel(0);
      return;
    }
    const meter = new LevelMeter();
    meter.setTracks(new Map([['self', track]]));
    const stopResuming = resumeOnGesture(meter);
    const timer = setInterval(() => {
      const value = meter.levels().get('self') ?? 0;
      const db = value > 0 ? 20 * Math.log10(value) : -100;
      setLevel(Math.round(Math.min(Math.max((db + 60) / 60, 0), 1) * 20) / 20);
    }, SPEAKER_INTERVAL_MS);
    return () => {
      clearInterval(timer);
      stopResuming();
      meter.close();
    };
  }, [track]);
  return level;
}

/**
 * The connection quality of each other participant (by ID), from the subscribe connection's
 * statistics every 2 s. `cameraOn(id)`: whether that person says its camera is on.
 */
export function useQuality(
  controller: MediaController,
  remote: readonly RemoteParticipantMedia[],
  cameraOn: (participantId: string) => boolean,
): ReadonlyMap<string, Quality> {
  const [quality, setQuality] = useState<ReadonlyMap<string, Quality>>(new Map());
  const latest = useRef({ remote, cameraOn });
  latest.current = { remote, cameraOn };
  useEffect(() => {
    let previous = new Map<string, ReceiveCounters>();
    let summary = '';
    let stopped = false;
    const poll = async (): Promise<void> => {
      const call = controller.call;
      if (call === null) return;
      const owners = new Map<string, string>();
      for (const person of latest.current.remote) {
        for (const t of person.tracks) {
          owners.set(`mid:${t.mid}`, person.participantId);
          owners.set(`track:${t.track.id}`, person.participantId);
        }
      }
      let report: RTCStatsReport;
      try {
        report = await call.receiveStats();
      } catch {
        return;
      }
      if (stopped) return;
      const counters = receiveCounters(report.values(), (mid, trackId) =>
        mid !== null ? owners.get(`mid:${mid}`) : trackId !== null ? owners.get(`track:${trackId}`) : undefined,
      );
      const next = new Map<string, Quality>();
      for (const [id, current] of counters) {
        next.set(id, classifyQuality(previous.get(id), current, latest.current.cameraOn(id)));
      }
      previous = counters;
      const text = [...next].map(([id, q]) => `${id}=${q.level}`).join(',');
      if (text === summary) return;
      summary = text;
      setQuality(next);
    };
    const timer = setInterval(() => void poll(), QUALITY_INTERVAL_MS);
    return () => {
      stopped = true;
      clearInterval(timer);
    };
  }, [controller]);
  return quality;
}

/** The pre-join microphone meter: a bar that moves with the voice. */
export function MicLevel({ track, enabled }: { track: MediaStreamTrack | null; enabled: boolean }) {
  const { t } = useLang();
  const level = useLevel(enabled ? track : null);
  const percent = Math.round(level * 100);
  return (
    <div class="mic-level-row" title={t('prejoin.micLevel')}>
      <MicIcon off={!enabled || track === null} />
      <div
        class="mic-level"
        role="meter"
        aria-label={t('prejoin.micLevel')}
        aria-valuemin={0}
        aria-valuemax={100}
        aria-valuenow={percent}
        data-testid="mic-level"
        data-level={String(percent)}
      >
        <span class="mic-level-fill" style={{ width: `${percent}%` }} />
      </div>
    </div>
  );
}

/** Signal bars for a tile: 3 for good, 2 fair, 1 poor; nothing while unknown. */
export function QualityBadge({ quality }: { quality: Quality | undefined }) {
  const { t } = useLang();
  const level: QualityLevel = quality?.level ?? 'unknown';
  if (level === 'unknown') return null;
  const bars = level === 'good' ? 3 : level === 'fair' ? 2 : 1;
  const label = t(`quality.${level}`);
  return (
    <span class={`tile-quality quality-${level}`} title={label} data-testid="tile-quality" data-quality={level}>
      <svg viewBox="0 0 12 12" width="14" height="14" aria-hidden="true" focusable="false">
        {[0, 1, 2].map((i) => (
          <rect
            key={i}
            x={1 + i * 4}
            y={8 - i * 3}
            width="2.5"
            height={3 + i * 3}
            rx="0.5"
            class={i < bars ? 'bar-on' : 'bar-off'}
          />
        ))}
      </svg>
      <span class="visually-hidden">{label}</span>
    </span>
  );
}
