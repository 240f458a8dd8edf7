// How a person is drawn without video: a colored circle with the first letter of the name.

export function avatarClass(id: string): string {
  let hash = 0;
  for (let i = 0; i < id.length; i++) hash = (hash * 31 + id.charCodeAt(i)) >>> 0;
  return `avatar avatar-${hash % 8}`;
}

export function initial(name: string | null): string {
  const first = name === null ? '?' : (Array.from(name)[0] ?? '?');
  return first.toLocaleUpperCase();
}
