// The host-account HTTP API (docs/protocol.md, "Host accounts"): login with an optional second
// step, the account's password and 2-step login, and its persistent rooms. The session is the
// server's HttpOnly cookie; this module keeps only the CSRF token the server hands out and sends
// it with every state-changing request. Every answer is checked before it is used.

import { field, isBase64Url, isPlainObject, isRoomId } from '../protocol/validate';
import type { FetchLike } from '../protocol/invite';

export interface AccountUser {
  username: string;
  totp: boolean;
}

export type LoginResult =
  { kind: 'signed-in'; user: AccountUser; csrf: string } | { kind: 'totp-required'; ticket: string };

export interface PersistentRoom {
  roomId: string;
  name?: string;
  role: 'owner' | 'moderator';
  settings?: Record<string, unknown>;
  moderators?: string[];
}

export class AccountApiError extends Error {
  readonly code: string;
  readonly status: number;
  readonly retryAfterMs?: number;
  constructor(code: string, status: number, message: string, retryAfterMs?: number) {
    super(message);
    this.name = 'AccountApiError';
    this.code = code;
    this.status = status;
    if (retryAfterMs !== undefined) this.retryAfterMs = retryAfterMs;
  }
}

const TOKEN_LENGTH = 43;
const MAX_NAME = 100;

function protocolError(status: number, what: string): AccountApiError {
  return new AccountApiError('protocol', status, `the server sent ${what}`);
}

function isToken(value: unknown): value is string {
  return typeof value === 'string' && value.length === TOKEN_LENGTH && isBase64Url(value);
}

function parseUser(value: unknown, status: number): AccountUser {
  if (!isPlainObject(value)) throw protocolError(status, 'no user');
  const username = field(value, 'username');
  const totp = field(value, 'totp');
  if (typeof username !== 'string' || username.length === 0 || username.length > 64 || typeof totp !== 'boolean')
    throw protocolError(status, 'an invalid user');
  return { username, totp };
}

function parseRoom(value: unknown, status: number): PersistentRoom {
  if (!isPlainObject(value)) throw protocolError(status, 'an invalid room');
  const roomId = field(value, 'roomId');
  const role = field(value, 'role');
  const name = field(value, 'name');
  const settings = field(value, 'settings');
  const moderators = field(value, 'moderators');
  if (typeof roomId !== 'string' || !isRoomId(roomId)) throw protocolError(status, 'an invalid room ID');
  if (role !== 'owner' && role !== 'moderator') throw protocolError(status, 'an invalid room role');
  const room: PersistentRoom = { roomId, role };
  if (name !== undefined) {
    if (typeof name !== 'string' || name.length > MAX_NAME) throw protocolError(status, 'an invalid room name');
    room.name = name;
  }
  if (settings !== undefined) {
    if (!isPlainObject(settings)) throw protocolError(status, 'invalid room settings');
    room.settings = settings;
  }
  if (moderators !== undefined) {
    if (!Array.isArray(moderators) || !moderators.every((m) => typeof m === 'string'))
      throw protocolError(status, 'an invalid moderator list');
    room.moderators = moderators;
  }
  return room;
}

/** One browser's view of its account. Construct with `fetch` (tests pass a fake). */
const SIGNED_IN_KEY = 'conclave.signedIn';

/** Whether this browser had a session (a hint only: the cookie is HttpOnly, the server decides). */
function signedInBefore(): boolean {
  try {
    return window.localStorage.getItem(SIGNED_IN_KEY) === '1';
  } catch {
    return true;
  }
}

function rememberSignIn(yes: boolean): void {
  try {
    if (yes) window.localStorage.setItem(SIGNED_IN_KEY, '1');
    else window.localStorage.removeItem(SIGNED_IN_KEY);
  } catch {
    // Without storage the home page asks every time.
  }
}

export class AccountClient {
  private csrf: string | null = null;
  private readonly fetchFn: FetchLike;

  constructor(fetchFn: FetchLike) {
    this.fetchFn = fetchFn;
  }

  /** The CSRF token of the current session, for other state-changing requests (POST /api/rooms). */
  get csrfToken(): string | null {
    return this.csrf;
  }

  private async request(method: string, path: string, body?: unknown): Promise<{ status: number; body: unknown }> {
    const headers: Record<string, string> = {};
    if (body !== undefined) headers['Content-Type'] = 'application/json';
    if (method !== 'GET' && this.csrf !== null) headers['X-Conclave-CSRF'] = this.csrf;
    let response: Response;
    try {
      response = await this.fetchFn(path, {
        method,
        headers,
        body: body === undefined ? null : JSON.stringify(body),
        credentials: 'same-origin',
        cache: 'no-store',
        referrerPolicy: 'no-referrer',
      });
    } catch (err) {
      throw new AccountApiError('network', 0, err instanceof Error ? err.message : 'network error');
    }
    let parsed: unknown;
    if (response.status !== 204) {
      try {
        parsed = await response.json();
      } catch {
        parsed = undefined;
      }
    }
    if (!response.ok) {
      const error = isPlainObject(parsed) ? field(parsed, 'error') : undefined;
      const code = isPlainObject(error) ? field(error, 'code') : undefined;
      const message = isPlainObject(error) ? field(error, 'message') : undefined;
      const retry = isPlainObject(error) ? field(error, 'retryAfterMs') : undefined;
      if (response.status === 401) this.csrf = null;
      throw new AccountApiError(
        typeof code === 'string' ? code.slice(0, 64) : 'http-error',
        response.status,
        typeof message === 'string' ? message.slice(0, 1024) : `HTTP ${response.status}`,
        typeof retry === 'number' && Number.isInteger(retry) && retry > 0 ? retry : undefined,
      );
    }
    return { status: response.status, body: parsed };
  }

  private signedIn(status: number, body: unknown): LoginResult {
    if (!isPlainObject(body)) throw protocolError(status, 'no answer');
    const csrf = field(body, 'csrf');
    if (!isToken(csrf)) throw protocolError(status, 'no CSRF token');
    this.csrf = csrf;
    rememberSignIn(true);
    return { kind: 'signed-in', user: parseUser(field(body, 'user'), status), csrf };
  }

  /**
   * The signed-in user, or null when this browser has no (valid) session. With `ifSignedInBefore`
   * (the home page) a browser that never signed in asks nothing: most visitors have no account, and
   * the 401 would only add a request and a console error to their page.
   */
  async me(options: { ifSignedInBefore?: boolean } = {}): Promise<AccountUser | null> {
    if (options.ifSignedInBefore && !signedInBefore()) return null;
    try {
      const { status, body } = await this.request('GET', '/api/account');
      const result = this.signedIn(status, body);
      return result.kind === 'signed-in' ? result.user : null;
    } catch (err) {
      if (err instanceof AccountApiError && err.status === 401) {
        rememberSignIn(false);
        return null;
      }
      throw err;
    }
  }

  async login(username: string, password: string): Promise<LoginResult> {
    const { status, body } = await this.request('POST', '/api/account/login', { username, password });
    if (isPlainObject(body) && field(body, 'totpRequired') === true) {
      const ticket = field(body, 'ticket');
      if (!isToken(ticket)) throw protocolError(status, 'no ticket');
      return { kind: 'totp-required', ticket };
    }
    return this.signedIn(status, body);
  }

  /** The second step: a 6-digit code or a recovery code. */
  async loginTotp(ticket: string, code: string): Promise<LoginResult> {
    const { status, body } = await this.request('POST', '/api/account/login/totp', { ticket, code: code.trim() });
    return this.signedIn(status, body);
  }

  async logout(): Promise<void> {
    rememberSignIn(false);
    await this.request('POST', '/api/account/logout');
    this.csrf = null;
  }

  async changePassword(oldPassword: string, newPassword: string): Promise<void> {
    await this.request('POST', '/api/account/password', { old: oldPassword, new: newPassword });
  }

  async setupTotp(): Promise<{ secret: string; uri: string }> {
    const { status, body } = await this.request('POST', '/api/account/totp/setup');
    const secret = isPlainObject(body) ? field(body, 'secret') : undefined;
    const uri = isPlainObject(body) ? field(body, 'uri') : undefined;
    if (typeof secret !== 'string' || !/^[A-Z2-7]{16,128}$/.test(secret)) throw protocolError(status, 'no secret');
    if (typeof uri !== 'string' || !uri.startsWith('otpauth://totp/') || uri.length > 1024)
      throw protocolError(status, 'no otpauth URI');
    return { secret, uri };
  }

  /** Confirms 2-step login with a first code; returns the recovery codes (shown once). */
  async confirmTotp(code: string): Promise<string[]> {
    const { status, body } = await this.request('POST', '/api/account/totp/confirm', { code: code.trim() });
    const codes = isPlainObject(body) ? field(body, 'recoveryCodes') : undefined;
    if (!Array.isArray(codes) || codes.length !== 10 || !codes.every((c) => typeof c === 'string' && c.length <= 32))
      throw protocolError(status, 'no recovery codes');
    return codes as string[];
  }

  async disableTotp(password: string, code: string): Promise<void> {
    await this.request('POST', '/api/account/totp/disable', { password, code: code.trim() });
  }

  async rooms(): Promise<PersistentRoom[]> {
    const { status, body } = await this.request('GET', '/api/account/rooms');
    const rooms = isPlainObject(body) ? field(body, 'rooms') : undefined;
    if (!Array.isArray(rooms)) throw protocolError(status, 'no room list');
    return rooms.map((r) => parseRoom(r, status));
  }

  async createRoom(name?: string): Promise<{ roomId: string; hostToken: string }> {
    const { status, body } = await this.request('POST', '/api/account/rooms', name ? { name } : {});
    const roomId = isPlainObject(body) ? field(body, 'roomId') : undefined;
    const hostToken = isPlainObject(body) ? field(body, 'hostToken') : undefined;
    if (typeof roomId !== 'string' || !isRoomId(roomId) || !isToken(hostToken)) throw protocolError(status, 'no room');
    return { roomId, hostToken };
  }

  async hostToken(roomId: string): Promise<string> {
    const { status, body } = await this.request('GET', `/api/account/rooms/${encodeURIComponent(roomId)}/host-token`);
    const token = isPlainObject(body) ? field(body, 'hostToken') : undefined;
    if (!isToken(token)) throw protocolError(status, 'no host token');
    return token;
  }

  async moderatorToken(roomId: string): Promise<string> {
    const { status, body } = await this.request(
      'GET',
      `/api/account/rooms/${encodeURIComponent(roomId)}/moderator-token`,
    );
    const token = isPlainObject(body) ? field(body, 'moderatorToken') : undefined;
    if (!isToken(token)) throw protocolError(status, 'no moderator token');
    return token;
  }

  async updateRoom(
    roomId: string,
    change: { settings?: Record<string, unknown>; moderators?: string[] },
  ): Promise<PersistentRoom> {
    const { status, body } = await this.request('PATCH', `/api/account/rooms/${encodeURIComponent(roomId)}`, change);
    return parseRoom(body, status);
  }

  async deleteRoom(roomId: string): Promise<void> {
    await this.request('DELETE', `/api/account/rooms/${encodeURIComponent(roomId)}`);
  }
}
