// What this browser keeps for the permanent rooms of its account, in localStorage: the room's
// link secret (made here, never sent to the server) and the host or moderator token the server
// issued for it. Both stay on the owner's (or moderator's) own device, like a bookmark.

const SECRET_PREFIX = 'conclave.roomSecret.';
const HOST_PREFIX = 'conclave.hostToken.';
const MODERATOR_PREFIX = 'conclave.moderatorToken.';

function load(key: string): string | null {
  try {
    return window.localStorage.getItem(key);
  } catch {
    return null;
  }
}

function save(key: string, value: string | null): void {
  try {
    if (value === null) window.localStorage.removeItem(key);
    else window.localStorage.setItem(key, value);
  } catch {
    // Not remembering is fine: the account page can fetch tokens again.
  }
}

export const loadRoomSecret = (roomId: string): string | null => load(SECRET_PREFIX + roomId);
export const saveRoomSecret = (roomId: string, secret: string): void => save(SECRET_PREFIX + roomId, secret);
export const saveHostToken = (roomId: string, token: string): void => save(HOST_PREFIX + roomId, token);
export const saveModeratorToken = (roomId: string, token: string): void => save(MODERATOR_PREFIX + roomId, token);

export function forgetRoom(roomId: string): void {
  save(SECRET_PREFIX + roomId, null);
  save(HOST_PREFIX + roomId, null);
  save(MODERATOR_PREFIX + roomId, null);
}
