// Small, failure-tolerant wrappers around localStorage (it throws in some private modes).
// Only the display name and the language choice are kept; never the room secret.

const PREFIX = 'conclave.';

export function loadSetting(key: 'displayName' | 'lang'): string | null {
  try {
    return window.localStorage.getItem(PREFIX + key);
  } catch {
    return null;
  }
}

export function saveSetting(key: 'displayName' | 'lang', value: string): void {
  try {
    window.localStorage.setItem(PREFIX + key, value);
  } catch {
    // Not remembering is fine.
  }
}
