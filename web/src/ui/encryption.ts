// What the encryption badge on a participant's tile says. Pure logic over the roster and the frame
// transforms' counters, so the unit tests cover every case.

import type { TransformMode } from '../media/frame_crypto';
import type { TrackCryptoStats } from '../media/frame_engine';
import type { RosterEntry } from '../session';

export type BadgeState = 'encrypted' | 'verifying' | 'waiting' | 'unverified' | 'no-key' | 'failing' | 'unsupported';

/** The states that mean "this stream is not protected": shown loudly. */
export const LOUD_BADGES: ReadonlySet<BadgeState> = new Set(['unverified', 'no-key', 'failing', 'unsupported']);

export function participantBadge(
  entry: RosterEntry,
  tracks: readonly TrackCryptoStats[],
  mode: TransformMode,
): BadgeState {
  if (mode === 'none') return 'unsupported';
  if (entry.self) {
    const sending = tracks.filter((t) => t.role === 'send');
    return sending.some((t) => t.state === 'failing') ? 'failing' : 'encrypted';
  }
  if (entry.trust === 'verifying') return 'verifying';
  if (entry.trust === 'unverified') return 'unverified';
  if (entry.key === 'missing') return 'no-key';
  // Frames that arrive before the key cannot decrypt yet: not an alarm while the key is on its way.
  if (entry.key === 'waiting') return 'waiting';
  const received = tracks.filter((t) => t.role === 'receive' && t.participantId === entry.id);
  if (received.some((t) => t.state === 'failing')) return 'failing';
  return 'encrypted';
}
