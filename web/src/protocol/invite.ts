// Rooms and invite links (docs/protocol.md, "Room IDs and invite links"): creating a room over
// HTTP, the room secret, and the link `https://HOST/r/<roomId>#<secret>`. Only these helpers see
// the secret, and they only make, build and parse it; it never goes into any message.

import { MAX_SECRET_LENGTH, MIN_SECRET_BYTES } from '../e2ee/membership';
import { base64UrlEncode } from '../e2ee/util';
import { HOST_TOKEN_LENGTH } from './messages';
import { BASE64URL, field, isPlainObject, isRoomId } from './validate';

export type FetchLike = (input: string, init?: RequestInit) => Promise<Response>;

export class RoomApiError extends Error {
  readonly code: string;
  readonly status: number;
  constructor(code: string, status: number, message: string) {
    super(message);
    this.name = 'RoomApiError';
    this.code = code;
    this.status = status;
  }
}

/** A new room: its ID, and the host credential (null from a server that issues none). */
export interface CreatedRoom {
  roomId: string;
  hostToken: string | null;
}

/** A request that failed for the network (a browser aborts requests when its network changes) is tried once more after this. */
const NETWORK_RETRY_MS = 500;

/** Asks the server for a new room (`POST /api/rooms`). Sends no body and no secret. */
export async function createRoom(fetchFn: FetchLike, retryDelayMs = NETWORK_RETRY_MS): Promise<CreatedRoom> {
  const post = () =>
    fetchFn('/api/rooms', { method: 'POST', credentials: 'omit', cache: 'no-store', referrerPolicy: 'no-referrer' });
  let response: Response;
  try {
    // A room made by a request whose answer was lost costs nothing: room IDs are not stored.
    response = await post().catch(async () => {
      await new Promise((resolve) => setTimeout(resolve, retryDelayMs));
      return post();
    });
  } catch (err) {
    throw new RoomApiError('network', 0, err instanceof Error ? err.message : 'network error');
  }
  let body: unknown;
  try {
    body = await response.json();
  } catch {
    body = undefined;
  }
  if (!response.ok) {
    const error = isPlainObject(body) ? field(body, 'error') : undefined;
    const code = isPlainObject(error) ? field(error, 'code') : undefined;
    const message = isPlainObject(error) ? field(error, 'message') : undefined;
    throw new RoomApiError(
      typeof code === 'string' ? code.slice(0, 64) : 'http-error',
      response.status,
      typeof message === 'string' ? message.slice(0, 1024) : `HTTP ${response.status}`,
    );
  }
  const roomId = isPlainObject(body) ? field(body, 'roomId') : undefined;
  if (typeof roomId !== 'string' || !isRoomId(roomId)) {
    throw new RoomApiError('protocol', response.status, 'the server sent no valid room ID');
  }
  const token = isPlainObject(body) ? field(body, 'hostToken') : undefined;
  const hostToken =
    typeof token === 'string' && token.length === HOST_TOKEN_LENGTH && BASE64URL.test(token) ? token : null;
  return { roomId, hostToken };
}

export const SECRET_BYTES = 32;
/** Secrets shorter than MIN_SECRET_BYTES (128 bits: 22 base64url characters) are refused. */
const MIN_SECRET_LENGTH = Math.ceil((MIN_SECRET_BYTES * 4) / 3);

type RandomSource = Pick<Crypto, 'getRandomValues'>;

/** A fresh 256-bit room secret, base64url without padding (43 characters). */
export function generateSecret(random: RandomSource = globalThis.crypto): string {
  const bytes = new Uint8Array(SECRET_BYTES);
  random.getRandomValues(bytes);
  return base64UrlEncode(bytes);
}

export function isValidSecret(secret: string): boolean {
  return (
    secret.length >= MIN_SECRET_LENGTH &&
    secret.length <= MAX_SECRET_LENGTH &&
    secret.length % 4 !== 1 &&
    BASE64URL.test(secret)
  );
}

/** `https://HOST/r/<roomId>#<secret>` for a page served from `origin`. */
export function buildInviteLink(origin: string, roomId: string, secret: string): string {
  if (!isRoomId(roomId)) throw new Error('invalid room ID');
  if (!isValidSecret(secret)) throw new Error('invalid secret');
  return `${new URL(origin).origin}/r/${roomId}#${secret}`;
}

export type RoomLink =
  | { ok: true; roomId: string; secret: string }
  | { ok: false; problem: 'not-a-room' | 'bad-room-id' | 'missing-secret' | 'bad-secret' };

/** Parses the path and fragment of a room page (`/r/<roomId>` and `#<secret>`). */
export function parseRoomLocation(pathname: string, hash: string): RoomLink {
  const match = /^\/r\/([^/]*)\/?$/.exec(pathname);
  if (!match) return { ok: false, problem: 'not-a-room' };
  const roomId = match[1] ?? '';
  if (!isRoomId(roomId)) return { ok: false, problem: 'bad-room-id' };
  const secret = hash.startsWith('#') ? hash.slice(1) : hash;
  if (secret === '') return { ok: false, problem: 'missing-secret' };
  if (!isValidSecret(secret)) return { ok: false, problem: 'bad-secret' };
  return { ok: true, roomId, secret };
}

/** Parses a whole invite link. */
export function parseInviteLink(link: string): RoomLink {
  let url: URL;
  try {
    url = new URL(link);
  } catch {
    return { ok: false, problem: 'not-a-room' };
  }
  if (url.protocol !== 'https:' && url.protocol !== 'http:') return { ok: false, problem: 'not-a-room' };
  return parseRoomLocation(url.pathname, url.hash);
}
