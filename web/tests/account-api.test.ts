import { describe, expect, it } from 'vitest';
import { AccountApiError, AccountClient } from '../src/account/api';
import type { FetchLike } from '../src/protocol/invite';

const CSRF = 'c'.repeat(43);
const TICKET = 't'.repeat(43);
const TOKEN = 'h'.repeat(43);
const ROOM_ID = 'A'.repeat(32);

interface Call {
  input: string;
  init: RequestInit | undefined;
}

/** A fetch that records its calls and answers from a queue. */
function fakeFetch(answers: Array<{ status: number; body?: unknown }>): { fetch: FetchLike; calls: Call[] } {
  const calls: Call[] = [];
  const fetch: FetchLike = (input, init) => {
    calls.push({ input, init });
    const answer = answers.shift();
    if (!answer) return Promise.reject(new Error('no answer queued'));
    const text = answer.body === undefined ? '' : JSON.stringify(answer.body);
    return Promise.resolve(new Response(answer.status === 204 ? null : text, { status: answer.status }));
  };
  return { fetch, calls };
}

const bodyOf = (call: Call | undefined): string => {
  const body = call?.init?.body;
  return typeof body === 'string' ? body : '';
};

const headersOf = (call: Call | undefined): Record<string, string> =>
  (call?.init?.headers ?? {}) as Record<string, string>;

describe('AccountClient', () => {
  it('signs in, keeps the CSRF token and sends it only with state-changing requests', async () => {
    const { fetch, calls } = fakeFetch([
      { status: 200, body: { csrf: CSRF, user: { username: 'alice', totp: false } } },
      { status: 200, body: { rooms: [] } },
      { status: 201, body: { roomId: ROOM_ID, hostToken: TOKEN } },
    ]);
    const client = new AccountClient(fetch);
    const result = await client.login('alice', 'secret password');
    expect(result).toEqual({ kind: 'signed-in', user: { username: 'alice', totp: false }, csrf: CSRF });
    expect(calls[0]?.input).toBe('/api/account/login');
    expect(calls[0]?.init?.method).toBe('POST');
    expect(calls[0]?.init?.credentials).toBe('same-origin');
    expect(JSON.parse(bodyOf(calls[0]))).toEqual({ username: 'alice', password: 'secret password' });
    expect(headersOf(calls[0])['X-Conclave-CSRF']).toBeUndefined();

    expect(await client.rooms()).toEqual([]);
    expect(headersOf(calls[1])['X-Conclave-CSRF']).toBeUndefined();
    expect(await client.createRoom('Team')).toEqual({ roomId: ROOM_ID, hostToken: TOKEN });
    expect(headersOf(calls[2])['X-Conclave-CSRF']).toBe(CSRF);
    expect(JSON.parse(bodyOf(calls[2]))).toEqual({ name: 'Team' });
    expect(client.csrfToken).toBe(CSRF);
  });

  it('goes through the second step with a ticket', async () => {
    const { fetch, calls } = fakeFetch([
      { status: 200, body: { totpRequired: true, ticket: TICKET } },
      { status: 200, body: { csrf: CSRF, user: { username: 'alice', totp: true } } },
    ]);
    const client = new AccountClient(fetch);
    expect(await client.login('alice', 'pw')).toEqual({ kind: 'totp-required', ticket: TICKET });
    expect(client.csrfToken).toBeNull();
    const done = await client.loginTotp(TICKET, ' 123456 ');
    expect(done.kind).toBe('signed-in');
    expect(JSON.parse(bodyOf(calls[1]))).toEqual({ ticket: TICKET, code: '123456' });
  });

  it('turns server errors into AccountApiError with the code and the retry time', async () => {
    const { fetch } = fakeFetch([
      { status: 429, body: { error: { code: 'blocked', message: 'wait', retryAfterMs: 2000 } } },
      { status: 401, body: { error: { code: 'bad-credentials', message: 'no' } } },
      { status: 500, body: 'not json at all' },
    ]);
    const client = new AccountClient(fetch);
    const blocked = await client.login('alice', 'x').catch((e: unknown) => e);
    expect(blocked).toBeInstanceOf(AccountApiError);
    expect((blocked as AccountApiError).code).toBe('blocked');
    expect((blocked as AccountApiError).retryAfterMs).toBe(2000);
    await expect(client.login('alice', 'x')).rejects.toMatchObject({ code: 'bad-credentials', status: 401 });
    await expect(client.rooms()).rejects.toMatchObject({ code: 'http-error', status: 500 });
  });

  it('reports no user for a browser without a session, and a network failure as such', async () => {
    const { fetch } = fakeFetch([{ status: 401, body: { error: { code: 'login-required', message: 'sign in' } } }]);
    const client = new AccountClient(fetch);
    expect(await client.me()).toBeNull();
    await expect(client.me()).rejects.toMatchObject({ code: 'network', status: 0 });
  });

  it('refuses answers that do not have the promised shape', async () => {
    const { fetch } = fakeFetch([
      { status: 200, body: { csrf: 'short', user: { username: 'alice', totp: false } } },
      { status: 200, body: { rooms: [{ roomId: 'not a room id', role: 'owner' }] } },
      { status: 200, body: { rooms: [{ roomId: ROOM_ID, role: 'admin' }] } },
      { status: 200, body: { recoveryCodes: ['only one'] } },
      { status: 200, body: { secret: 'lowercase', uri: 'otpauth://totp/x' } },
      { status: 200, body: { hostToken: 'x' } },
    ]);
    const client = new AccountClient(fetch);
    await expect(client.login('a', 'b')).rejects.toMatchObject({ code: 'protocol' });
    await expect(client.rooms()).rejects.toMatchObject({ code: 'protocol' });
    await expect(client.rooms()).rejects.toMatchObject({ code: 'protocol' });
    await expect(client.confirmTotp('123456')).rejects.toMatchObject({ code: 'protocol' });
    await expect(client.setupTotp()).rejects.toMatchObject({ code: 'protocol' });
    await expect(client.hostToken(ROOM_ID)).rejects.toMatchObject({ code: 'protocol' });
  });

  it('manages rooms: moderators, tokens, deletion; logout forgets the CSRF token', async () => {
    const { fetch, calls } = fakeFetch([
      { status: 200, body: { csrf: CSRF, user: { username: 'alice', totp: false } } },
      {
        status: 200,
        body: { roomId: ROOM_ID, role: 'owner', name: 'Team', settings: { lobby: true }, moderators: ['bob'] },
      },
      { status: 200, body: { moderatorToken: TOKEN } },
      { status: 204 },
      { status: 204 },
    ]);
    const client = new AccountClient(fetch);
    await client.me();
    const room = await client.updateRoom(ROOM_ID, { moderators: ['bob'] });
    expect(room).toEqual({
      roomId: ROOM_ID,
      role: 'owner',
      name: 'Team',
      settings: { lobby: true },
      moderators: ['bob'],
    });
    expect(calls[1]?.init?.method).toBe('PATCH');
    expect(calls[1]?.input).toBe(`/api/account/rooms/${ROOM_ID}`);
    expect(await client.moderatorToken(ROOM_ID)).toBe(TOKEN);
    expect(calls[2]?.input).toBe(`/api/account/rooms/${ROOM_ID}/moderator-token`);
    await client.deleteRoom(ROOM_ID);
    expect(calls[3]?.init?.method).toBe('DELETE');
    expect(headersOf(calls[3])['X-Conclave-CSRF']).toBe(CSRF);
    await client.logout();
    expect(client.csrfToken).toBeNull();
  });
});
