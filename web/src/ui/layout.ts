// Which camera tile the speaker view shows large. Pure logic, no DOM.

export type Layout = 'grid' | 'speaker';

/**
 * The tile shown large in the speaker view: the pinned one, else the dominant speaker, else the
 * first other person (oneself only when alone). Null without camera tiles.
 */
export function focusTile<T extends { participantId: string; self: boolean }>(
  cameras: readonly T[],
  pinned: string | null,
  dominant: string | null,
): T | null {
  const byId = (id: string | null): T | undefined =>
    id === null ? undefined : cameras.find((c) => c.participantId === id);
  const speaker = byId(dominant);
  return (
    byId(pinned) ??
    (speaker && !speaker.self ? speaker : undefined) ??
    cameras.find((c) => !c.self) ??
    cameras[0] ??
    null
  );
}
