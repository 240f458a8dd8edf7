// Small building blocks for media in the view: video and audio elements fed from tracks, and
// the icons of the call controls (inline SVG, no external resources).
import { useEffect, useMemo, useRef, useState, type MutableRef } from 'preact/hooks';
import { trackVideoElement } from '../media/video_preferences';

/** A MediaStream holding `tracks`, rebuilt only when the tracks change. */
export function useStream(tracks: (MediaStreamTrack | null | undefined)[]): MediaStream | null {
  const present = tracks.filter((t): t is MediaStreamTrack => t !== null && t !== undefined);
  const key = present.map((t) => t.id).join(',');
  // The ids are the identity of the tracks: a new array with the same tracks keeps the stream.
  // eslint-disable-next-line react-hooks/exhaustive-deps -- `key` stands for `present`, see above
  return useMemo(() => (present.length > 0 ? new MediaStream(present) : null), [key]);
}

interface VideoProps {
  stream: MediaStream | null;
  /** Own camera: shown mirrored, like a mirror. */
  mirrored?: boolean;
  /** Screens are shown whole; cameras fill the tile. */
  fit?: 'cover' | 'contain';
  testId?: string;
  label?: string;
  /** Receives the video element (e.g. for an observer of its rendered size). */
  videoRef?: MutableRef<HTMLVideoElement | null>;
  /** The mid of a received video: how large it is shown goes to the server (simulcast layer). */
  mid?: string | undefined;
}

/**
 * A muted, autoplaying video element (sound goes through AudioSink). It stays invisible until
 * the first frame is there, so whatever is behind it (an avatar) shows while media connects.
 */
export function Video({ stream, mirrored = false, fit = 'cover', testId, label, videoRef, mid }: VideoProps) {
  const ownRef = useRef<HTMLVideoElement | null>(null);
  const ref = videoRef ?? ownRef;
  const [hasFrames, setHasFrames] = useState(false);
  useEffect(() => {
    const element = ref.current;
    return element && mid !== undefined ? trackVideoElement(mid, element) : undefined;
  }, [mid, ref]);
  useEffect(() => {
    const element = ref.current;
    if (!element) return;
    if (element.srcObject !== stream) element.srcObject = stream;
    const check = (): void => setHasFrames(element.videoWidth > 0);
    check();
    element.addEventListener('loadeddata', check);
    element.addEventListener('resize', check);
    // Autoplay of muted video is allowed; play() only fails if the element is gone again.
    if (stream) element.play().catch(() => undefined);
    return () => {
      element.removeEventListener('loadeddata', check);
      element.removeEventListener('resize', check);
    };
  }, [stream, ref]);
  const classes = [
    'video',
    fit === 'contain' ? 'video-contain' : '',
    mirrored ? 'video-mirrored' : '',
    hasFrames ? '' : 'video-waiting',
  ]
    .filter(Boolean)
    .join(' ');
  return (
    <video
      ref={ref}
      class={classes}
      autoplay
      playsInline
      muted
      disablePictureInPicture
      data-testid={testId}
      data-mid={mid}
      data-playing={hasFrames ? 'true' : 'false'}
      aria-label={label}
    />
  );
}

interface AudioProps {
  track: MediaStreamTrack;
  /** A speaker deviceId for setSinkId, where the browser supports it; null for the default. */
  sinkId: string | null;
  participantId: string;
  /** setSinkId refused the speaker (sound then stays on the default one). */
  onSinkError?: (sinkId: string, error: unknown) => void;
}

type SinkElement = HTMLAudioElement & { setSinkId?: (id: string) => Promise<void> };

/** Plays one remote audio track on the chosen speaker. */
export function AudioSink({ track, sinkId, participantId, onSinkError }: AudioProps) {
  const ref = useRef<SinkElement>(null);
  const stream = useStream([track]);
  useEffect(() => {
    const element = ref.current;
    if (!element) return;
    element.srcObject = stream;
    element.play().catch(() => undefined);
  }, [stream]);
  useEffect(() => {
    const element = ref.current;
    if (!element || typeof element.setSinkId !== 'function') return;
    element.setSinkId(sinkId ?? '').catch((error: unknown) => {
      if (sinkId !== null) onSinkError?.(sinkId, error);
    });
    // The handler is the view's; only a new speaker needs a new setSinkId.
    // eslint-disable-next-line react-hooks/exhaustive-deps
  }, [sinkId]);
  return <audio ref={ref} autoplay data-testid="remote-audio" data-participant-id={participantId} />;
}

/** Whether this browser can choose the speaker (HTMLMediaElement.setSinkId). */
export function canChooseSpeaker(): boolean {
  return typeof HTMLMediaElement !== 'undefined' && 'setSinkId' in HTMLMediaElement.prototype;
}

// ---------------------------------------------------------------------------------------------
// Icons: 24×24, stroked with currentColor, hidden from assistive technology (buttons have text).

function Icon({ children }: { children: preact.ComponentChildren }) {
  return (
    <svg
      class="icon"
      viewBox="0 0 24 24"
      width="24"
      height="24"
      fill="none"
      stroke="currentColor"
      stroke-width="2"
      stroke-linecap="round"
      stroke-linejoin="round"
      aria-hidden="true"
      focusable="false"
    >
      {children}
    </svg>
  );
}

export function MicIcon({ off = false }: { off?: boolean }) {
  return (
    <Icon>
      <rect x="9" y="3" width="6" height="11" rx="3" />
      <path d="M5 11a7 7 0 0 0 14 0M12 18v3" />
      {off && <path d="M4 4l16 16" />}
    </Icon>
  );
}

export function CameraIcon({ off = false }: { off?: boolean }) {
  return (
    <Icon>
      <rect x="3" y="6" width="12" height="12" rx="2" />
      <path d="M15 10l6-3v10l-6-3" />
      {off && <path d="M3 3l18 18" />}
    </Icon>
  );
}

export function ScreenIcon() {
  return (
    <Icon>
      <rect x="3" y="4" width="18" height="12" rx="2" />
      <path d="M8 20h8M12 16v4M12 13V7M9 10l3-3 3 3" />
    </Icon>
  );
}

export function PinIcon() {
  return (
    <Icon>
      <path d="M9 4h6l-1 6 3 3H7l3-3zM12 13v7" />
    </Icon>
  );
}

export function LeaveIcon() {
  return (
    <Icon>
      <path d="M4 14c5-4 11-4 16 0l-2 3-3-1v-2.5a9 9 0 0 0-6 0V16l-3 1z" />
    </Icon>
  );
}

export function LockIcon() {
  return (
    <Icon>
      <rect x="5" y="11" width="14" height="10" rx="2" />
      <path d="M8 11V8a4 4 0 0 1 8 0v3" />
    </Icon>
  );
}

export function WarningIcon() {
  return (
    <Icon>
      <path d="M12 3l10 18H2z" />
      <path d="M12 10v5M12 18v.5" />
    </Icon>
  );
}

export function AttachIcon() {
  return (
    <Icon>
      <path d="M20 11.5l-8.2 8.2a5 5 0 0 1-7.1-7.1l8.5-8.5a3.3 3.3 0 0 1 4.7 4.7l-8.5 8.5a1.7 1.7 0 0 1-2.4-2.4l7.8-7.8" />
    </Icon>
  );
}
