// What the status badge on a participant's tile says. Pure logic over the roster, the media
// connections and the frame transforms' counters, so the unit tests cover every case.
//
// The badge says "end-to-end encrypted" only while frames from that person actually decrypt here
// (for oneself: while frames are encrypted and the publish connection is up). Everything else has
// its own state: the membership check, the key, no media yet, no media at all, media that failed,
// media the server refused, and a session that is reconnecting (nothing is live then).

import type { MediaConnection } from '../protocol/messages';
import type { ConnectionState } from '../media/call';
import type { TransformMode } from '../media/frame_crypto';
import type { TrackCryptoStats } from '../media/frame_engine';
import type { RosterEntry } from '../session';

export type BadgeState =
  | 'encrypted'
  | 'verifying'
  | 'waiting'
  | 'unverified'
  | 'no-key'
  | 'failing'
  | 'unsupported'
  /** The session is reconnecting: this tile shows how things were, nothing is live. */
  | 'reconnecting'
  /** Media is expected but no frame has decrypted (or been sent) in the last moments. */
  | 'no-media-yet'
  /** Nothing is sent: the person publishes no track (for oneself: no camera or microphone). */
  | 'no-media'
  /** The media connection failed (an ICE restart is under way). */
  | 'media-failed'
  /** Oneself: the server refused the media (publish). */
  | 'publish-refused';

/** The states that mean "this stream is not protected or not there": shown loudly. */
export const LOUD_BADGES: ReadonlySet<BadgeState> = new Set([
  'unverified',
  'no-key',
  'failing',
  'unsupported',
  'media-failed',
  'publish-refused',
]);

/** What the badge needs to know about the media side. */
export interface MediaStatus {
  mode: TransformMode;
  /** Counters of the current membership's frame transforms. */
  tracks: readonly TrackCryptoStats[];
  /** The session lost its connection and is coming back. */
  reconnecting: boolean;
  states: Record<MediaConnection, ConnectionState>;
  /** The server refused this participant's publish offer (its code). */
  publishError: string | null;
  /** This participant offers at least one local track. */
  publishing: boolean;
  /** Participants the server forwards at least one track of. */
  offered: ReadonlySet<string>;
}

function selfBadge(media: MediaStatus): BadgeState {
  if (media.publishError !== null) return 'publish-refused';
  if (media.states.publish === 'failed') return 'media-failed';
  if (!media.publishing) return 'no-media';
  const sending = media.tracks.filter((t) => t.role === 'send');
  if (sending.some((t) => t.state === 'failing')) return 'failing';
  const live = media.states.publish === 'connected' && sending.some((t) => t.state === 'ok');
  return live ? 'encrypted' : 'no-media-yet';
}

export function participantBadge(entry: RosterEntry, media: MediaStatus): BadgeState {
  if (media.mode === 'none') return 'unsupported';
  if (media.reconnecting) return 'reconnecting';
  if (entry.self) return selfBadge(media);
  if (entry.trust === 'verifying') return 'verifying';
  if (entry.trust === 'unverified') return 'unverified';
  if (entry.key === 'missing') return 'no-key';
  // Frames that arrive before the key cannot decrypt yet: not an alarm while the key is on its way.
  if (entry.key === 'waiting') return 'waiting';
  const received = media.tracks.filter((t) => t.role === 'receive' && t.participantId === entry.id);
  if (received.some((t) => t.state === 'failing')) return 'failing';
  if (received.some((t) => t.state === 'ok')) return 'encrypted';
  if (media.states.subscribe === 'failed') return 'media-failed';
  return media.offered.has(entry.id) ? 'no-media-yet' : 'no-media';
}

/**
 * Why one's own camera and microphone are not reaching the others (a message key and its
 * parameters), or null when they are (or are still connecting, or the session is reconnecting,
 * which the view says in its own banner).
 */
export function selfMediaProblem(
  badge: BadgeState,
  media: MediaStatus,
): { key: 'self.refused' | 'self.failed' | 'self.nothing' | 'self.failing' | 'self.unsupported'; code: string } | null {
  switch (badge) {
    case 'publish-refused':
      return { key: 'self.refused', code: media.publishError ?? 'internal' };
    case 'media-failed':
      return { key: 'self.failed', code: media.states.publish };
    case 'no-media':
      return { key: 'self.nothing', code: '' };
    case 'failing':
      return { key: 'self.failing', code: '' };
    case 'unsupported':
      return { key: 'self.unsupported', code: '' };
    default:
      return null;
  }
}
