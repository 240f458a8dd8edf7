// Small, failure-tolerant wrappers around localStorage (it throws in some private modes).
// Only the display name, the language choice and the host credentials of rooms this browser
// created (by room ID) are kept here; never a meeting's secret. (The permanent rooms of a signed-in
// account keep their link secret in this browser too, on purpose: src/account/roomKeys.ts.)

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

const HOST_TOKEN_PREFIX = `${PREFIX}hostToken.`;

/** The host credential this browser holds for a room (from creating it, or from a move). */
export function loadHostToken(roomId: string): string | null {
  try {
    return window.localStorage.getItem(HOST_TOKEN_PREFIX + roomId);
  } catch {
    return null;
  }
}

export function saveHostToken(roomId: string, token: string): void {
  try {
    window.localStorage.setItem(HOST_TOKEN_PREFIX + roomId, token);
  } catch {
    // Without storage this browser is a host only until the page goes away.
  }
}

export function forgetHostToken(roomId: string): void {
  try {
    window.localStorage.removeItem(HOST_TOKEN_PREFIX + roomId);
  } catch {
    // Nothing was kept.
  }
}

export const HOST_TOKENS = { load: loadHostToken, save: saveHostToken, forget: forgetHostToken };
