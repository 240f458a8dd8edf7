// How a person is drawn without video: a colored circle with the initials of the name, made here
// from the name (never an image fetched from anywhere).

export function avatarClass(id: string): string {
  let hash = 0;
  for (let i = 0; i < id.length; i++) hash = (hash * 31 + id.charCodeAt(i)) >>> 0;
  return `avatar avatar-${hash % 8}`;
}

/** The first letter of the first and of the last word ("Ada King Lovelace" → "AL"); "?" without a name. */
export function initial(name: string | null): string {
  const words = (name ?? '').split(/\s+/u).filter((w) => w.length > 0);
  const first = words[0];
  if (first === undefined) return '?';
  const letter = (word: string): string => Array.from(word)[0] ?? '';
  const last = words.length > 1 ? letter(words[words.length - 1] ?? '') : '';
  return (letter(first) + last).toLocaleUpperCase();
}
