import { afterEach, describe, expect, it, vi } from 'vitest';
import type { Participant } from '../src/protocol/messages';
import { parseServerFrame, validateServerMessage } from '../src/protocol/validate';
import { SignalingClient, SignalingError, signalingUrl, type CloseInfo } from '../src/protocol/client';
import {
  buildInviteLink,
  createRoom,
  generateSecret,
  isValidSecret,
  parseInviteLink,
  parseRoomLocation,
  RoomApiError,
  type FetchLike,
} from '../src/protocol/invite';
import { base64UrlEncode } from '../src/e2ee/util';
import { ALICE_ID, BOB_ID, fakeFactory, flush, ROOM_ID, SELF_ID, type FakeSocket } from './fake-socket';

const GOOD: Record<string, unknown>[] = [
  { type: 'welcome', id: 1, version: 1, server: 'conclave/0.1.0', maxMessageBytes: 65536 },
  { type: 'joined', id: 'req-2', roomId: ROOM_ID, participantId: SELF_ID, participants: [] },
  {
    type: 'joined',
    id: 2,
    roomId: ROOM_ID,
    participantId: SELF_ID,
    participants: [
      { id: ALICE_ID, profile: '{"name":"Alice"}' },
      { id: BOB_ID, profile: '' },
    ],
  },
  { type: 'participant-joined', participant: { id: ALICE_ID, profile: 'opaque' } },
  { type: 'participant-updated', participant: { id: ALICE_ID, profile: 'x'.repeat(8192) } },
  { type: 'participant-left', participantId: BOB_ID },
  { type: 'profile-updated', id: 3 },
  { type: 'left', id: 4 },
  { type: 'pong', id: 0 },
  { type: 'goodbye', reason: 'server-shutdown' },
  { type: 'goodbye', reason: 'server-restart', retryAfterMs: 500 },
  { type: 'error', id: 5, code: 'room-not-found', message: 'no such room' },
  { type: 'error', code: 'rate-limited', message: '' },
  { type: 'relayed', id: 6 },
  { type: 'relay', from: ALICE_ID, payload: '{"v":1,"t":"key-request"}' },
  { type: 'relay', from: BOB_ID, payload: 'x'.repeat(49152) },
  {
    type: 'file-upload-ready',
    id: 7,
    fileId: 'AbC_-012345678901234567',
    uploadToken: 'tok_en-1',
    url: '/api/files/AbC_-012345678901234567',
  },
];

const BAD: [string, unknown][] = [
  ['a string', 'welcome'],
  ['null', null],
  ['an array', [{ type: 'pong' }]],
  ['no type', { id: 1 }],
  ['numeric type', { type: 7 }],
  ['unknown type', { type: 'hello', version: 1 }],
  ['negative id', { type: 'pong', id: -1 }],
  ['fractional id', { type: 'pong', id: 1.5 }],
  ['id beyond 2^53', { type: 'pong', id: 2 ** 53 + 2 }],
  ['long string id', { type: 'pong', id: 'x'.repeat(65) }],
  ['object id', { type: 'pong', id: { n: 1 } }],
  ['welcome version 2', { type: 'welcome', version: 2, server: 's', maxMessageBytes: 65536 }],
  ['welcome version as string', { type: 'welcome', version: '1', server: 's', maxMessageBytes: 65536 }],
  ['welcome without server', { type: 'welcome', version: 1, maxMessageBytes: 65536 }],
  ['welcome tiny maxMessageBytes', { type: 'welcome', version: 1, server: 's', maxMessageBytes: 10 }],
  ['welcome maxMessageBytes as string', { type: 'welcome', version: 1, server: 's', maxMessageBytes: '65536' }],
  ['joined short roomId', { type: 'joined', roomId: 'abc', participantId: SELF_ID, participants: [] }],
  ['joined roomId with +', { type: 'joined', roomId: `${'A'.repeat(31)}+`, participantId: SELF_ID, participants: [] }],
  ['joined bad participantId', { type: 'joined', roomId: ROOM_ID, participantId: 'x', participants: [] }],
  ['joined participants not array', { type: 'joined', roomId: ROOM_ID, participantId: SELF_ID, participants: {} }],
  ['joined participant is null', { type: 'joined', roomId: ROOM_ID, participantId: SELF_ID, participants: [null] }],
  [
    'joined participant without profile',
    { type: 'joined', roomId: ROOM_ID, participantId: SELF_ID, participants: [{ id: ALICE_ID }] },
  ],
  [
    'joined duplicate participant',
    {
      type: 'joined',
      roomId: ROOM_ID,
      participantId: SELF_ID,
      participants: [
        { id: ALICE_ID, profile: '' },
        { id: ALICE_ID, profile: '' },
      ],
    },
  ],
  ['participant-joined without participant', { type: 'participant-joined' }],
  ['participant-joined profile not string', { type: 'participant-joined', participant: { id: ALICE_ID, profile: {} } }],
  [
    'participant-updated profile too long',
    { type: 'participant-updated', participant: { id: ALICE_ID, profile: 'x'.repeat(8193) } },
  ],
  ['participant-left without id', { type: 'participant-left' }],
  ['participant-left numeric id', { type: 'participant-left', participantId: 12 }],
  ['goodbye without reason', { type: 'goodbye' }],
  ['error without code', { type: 'error', message: 'm' }],
  ['error without message', { type: 'error', code: 'internal' }],
  ['error with huge message', { type: 'error', code: 'internal', message: 'm'.repeat(2000) }],
  ['relay without from', { type: 'relay', payload: 'p' }],
  ['relay from a bad id', { type: 'relay', from: 'x', payload: 'p' }],
  ['relay without payload', { type: 'relay', from: ALICE_ID }],
  ['relay payload too long', { type: 'relay', from: ALICE_ID, payload: 'x'.repeat(49153) }],
  ['file-upload-ready without token', { type: 'file-upload-ready', fileId: 'abc', url: '/api/files/abc' }],
  [
    'file-upload-ready elsewhere',
    { type: 'file-upload-ready', fileId: 'abc', uploadToken: 't', url: 'https://evil.example/api/files/abc' },
  ],
  [
    'file-upload-ready other file',
    { type: 'file-upload-ready', fileId: 'abc', uploadToken: 't', url: '/api/files/abd' },
  ],
  ['file-upload-ready bad id', { type: 'file-upload-ready', fileId: '../x', uploadToken: 't', url: '/api/files/../x' }],
  [
    'file-upload-ready empty token',
    { type: 'file-upload-ready', fileId: 'abc', uploadToken: '', url: '/api/files/abc' },
  ],
];

describe('validateServerMessage', () => {
  it.each(GOOD.map((m) => [m['type'], m] as const))('accepts a good %s', (_type, message) => {
    const result = validateServerMessage(message);
    expect(result.ok).toBe(true);
    if (result.ok) expect(result.message).toEqual(message);
  });

  it.each(BAD)('rejects %s', (_name, message) => {
    const result = validateServerMessage(message);
    expect(result.ok).toBe(false);
  });

  it('drops fields it does not know', () => {
    const result = validateServerMessage({ type: 'pong', id: 1, extra: 'x', nested: { a: 1 } });
    expect(result).toEqual({ ok: true, message: { type: 'pong', id: 1 } });
  });

  it('drops unknown fields inside participants', () => {
    const result = validateServerMessage({
      type: 'participant-joined',
      participant: { id: ALICE_ID, profile: 'p', ip: '10.0.0.1' },
    });
    expect(result).toEqual({
      ok: true,
      message: { type: 'participant-joined', participant: { id: ALICE_ID, profile: 'p' } },
    });
  });

  it('is not fooled by inherited properties', () => {
    const message = JSON.parse('{"type":"goodbye","__proto__":{"reason":"x"}}') as unknown;
    expect(validateServerMessage(message).ok).toBe(false);
  });
});

describe('parseServerFrame', () => {
  it('parses JSON text', () => {
    expect(parseServerFrame('{"type":"pong","id":9}')).toEqual({ ok: true, message: { type: 'pong', id: 9 } });
  });
  it('rejects binary frames and broken JSON', () => {
    expect(parseServerFrame(new ArrayBuffer(4)).ok).toBe(false);
    expect(parseServerFrame('{"type":"pong"').ok).toBe(false);
    expect(parseServerFrame('').ok).toBe(false);
  });
});

describe('signalingUrl', () => {
  it('maps https to wss and http to ws, always /ws', () => {
    expect(signalingUrl('https://meet.example:8443')).toBe('wss://meet.example:8443/ws');
    expect(signalingUrl('http://localhost:5173')).toBe('ws://localhost:5173/ws');
  });
});

async function connected(): Promise<{ client: SignalingClient; socket: FakeSocket; sockets: FakeSocket[] }> {
  const { factory, sockets } = fakeFactory();
  const client = new SignalingClient({ url: 'wss://host/ws', socketFactory: factory, clientName: 'test' });
  const welcome = client.connect();
  const socket = sockets[0];
  if (!socket) throw new Error('no socket');
  socket.open();
  await flush();
  const hello = socket.lastSent();
  expect(hello).toEqual({ type: 'hello', version: 1, client: 'test', id: hello['id'] });
  socket.receive({ type: 'welcome', id: hello['id'], version: 1, server: 'conclave', maxMessageBytes: 4096 });
  await welcome;
  return { client, socket, sockets };
}

describe('SignalingClient', () => {
  afterEach(() => {
    vi.useRealTimers();
  });

  it('says hello with version 1 and resolves with welcome', async () => {
    const { client, socket } = await connected();
    expect(socket.url).toBe('wss://host/ws');
    expect(client.state).toBe('open');
    expect(client.welcome).toMatchObject({ server: 'conclave', maxMessageBytes: 4096 });
  });

  it('sends join with roomId and profile and resolves with joined', async () => {
    const { client, socket } = await connected();
    const joined = client.join(ROOM_ID, '{"name":"Me"}');
    const request = socket.lastSent();
    expect(request).toMatchObject({ type: 'join', roomId: ROOM_ID, profile: '{"name":"Me"}' });
    expect(Object.keys(request).sort()).toEqual(['id', 'profile', 'roomId', 'type']);
    socket.receive({
      type: 'joined',
      id: request['id'],
      roomId: ROOM_ID,
      participantId: SELF_ID,
      participants: [{ id: ALICE_ID, profile: 'a' }],
    });
    await expect(joined).resolves.toMatchObject({ participantId: SELF_ID, participants: [{ id: ALICE_ID }] });
  });

  it('gives every request its own id and matches replies that arrive out of order', async () => {
    const { client, socket } = await connected();
    const ping = client.ping();
    const pingId = socket.lastSent()['id'];
    const update = client.updateProfile('p');
    const updateId = socket.lastSent()['id'];
    expect(pingId).not.toEqual(updateId);
    const order: string[] = [];
    void ping.then(() => order.push('ping'));
    void update.then(() => order.push('update'));
    socket.receive({ type: 'profile-updated', id: updateId });
    await flush();
    expect(order).toEqual(['update']);
    socket.receive({ type: 'pong', id: pingId });
    await flush();
    expect(order).toEqual(['update', 'ping']);
  });

  it('sends leave and update-profile with the documented fields only', async () => {
    const { client, socket } = await connected();
    void client.leave();
    expect(Object.keys(socket.lastSent()).sort()).toEqual(['id', 'type']);
    expect(socket.lastSent()['type']).toBe('leave');
    void client.updateProfile('new');
    expect(socket.lastSent()).toMatchObject({ type: 'update-profile', profile: 'new' });
  });

  it('rejects a request with the code of an error reply', async () => {
    const { client, socket } = await connected();
    const joined = client.join(ROOM_ID, 'p');
    socket.receive({ type: 'error', id: socket.lastSent()['id'], code: 'room-not-found', message: 'unknown room' });
    await expect(joined).rejects.toBeInstanceOf(SignalingError);
    await expect(joined).rejects.toMatchObject({ code: 'room-not-found', message: 'unknown room' });
  });

  it('rejects hello with unsupported-version', async () => {
    const { factory, sockets } = fakeFactory();
    const client = new SignalingClient({ url: 'wss://h/ws', socketFactory: factory });
    const welcome = client.connect();
    sockets[0]?.open();
    await flush();
    const id = sockets[0]?.lastSent()['id'];
    sockets[0]?.receive({ type: 'error', id, code: 'unsupported-version', message: 'v' });
    await expect(welcome).rejects.toMatchObject({ code: 'unsupported-version' });
  });

  it('rejects a reply of the wrong type with a protocol error', async () => {
    const { client, socket } = await connected();
    const pong = client.ping();
    socket.receive({ type: 'left', id: socket.lastSent()['id'] });
    await expect(pong).rejects.toMatchObject({ code: 'protocol' });
  });

  it('reports invalid messages and replies to unknown ids as protocol violations', async () => {
    const { client, socket } = await connected();
    const violations: string[] = [];
    const joined: Participant[] = [];
    client.on('protocol-violation', (reason) => violations.push(reason));
    client.on('participant-joined', (p) => joined.push(p));
    socket.receive('not json');
    socket.receive({ type: 'participant-joined', participant: { id: 'short', profile: '' } });
    socket.receive({ type: 'pong', id: 999 });
    socket.receive({ type: 'pong' });
    expect(violations).toHaveLength(4);
    expect(joined).toEqual([]);
  });

  it('relays payloads to one participant or to everyone, and emits relayed ones', async () => {
    const { client, socket } = await connected();
    const toOne = client.relay('{"v":1}', ALICE_ID);
    expect(socket.lastSent()).toEqual({ type: 'relay', payload: '{"v":1}', to: ALICE_ID, id: socket.lastSent()['id'] });
    socket.receive({ type: 'relayed', id: socket.lastSent()['id'] });
    await expect(toOne).resolves.toBeUndefined();
    void client.relay('all');
    expect(Object.keys(socket.lastSent()).sort()).toEqual(['id', 'payload', 'type']);
    const failed = client.relay('p', BOB_ID);
    socket.receive({ type: 'error', id: socket.lastSent()['id'], code: 'participant-not-found', message: 'gone' });
    await expect(failed).rejects.toMatchObject({ code: 'participant-not-found' });
    await expect(client.relay('')).rejects.toMatchObject({ code: 'too-large-local' });
    await expect(client.relay('x'.repeat(49153))).rejects.toMatchObject({ code: 'too-large-local' });
    const got: string[] = [];
    client.on('relay', (from, payload, kind) => got.push(`${from} ${payload} ${kind}`));
    socket.receive({ type: 'relay', from: ALICE_ID, payload: 'opaque' });
    socket.receive({ type: 'relay', from: ALICE_ID, payload: 'said', kind: 'chat' });
    expect(got).toEqual([`${ALICE_ID} opaque control`, `${ALICE_ID} said chat`]);
    // Chat is said to the server (it applies the chat policy); control is its default.
    void client.relay('text', undefined, 'chat');
    expect(socket.lastSent()).toMatchObject({ type: 'relay', payload: 'text', kind: 'chat' });
  });

  it('reserves a file upload', async () => {
    const { client, socket } = await connected();
    const ready = client.fileUpload(1234);
    expect(socket.lastSent()).toMatchObject({ type: 'file-upload', size: 1234 });
    socket.receive({
      type: 'file-upload-ready',
      id: socket.lastSent()['id'],
      fileId: 'f1',
      uploadToken: 't1',
      url: '/api/files/f1',
    });
    await expect(ready).resolves.toEqual({ fileId: 'f1', uploadToken: 't1', url: '/api/files/f1' });
    const tooLarge = client.fileUpload(5);
    socket.receive({ type: 'error', id: socket.lastSent()['id'], code: 'file-too-large', message: 'no' });
    await expect(tooLarge).rejects.toMatchObject({ code: 'file-too-large' });
    await expect(client.fileUpload(0)).rejects.toMatchObject({ code: 'too-large-local' });
  });

  it('emits roster events', async () => {
    const { client, socket } = await connected();
    const events: string[] = [];
    client.on('participant-joined', (p) => events.push(`joined ${p.id} ${p.profile}`));
    client.on('participant-updated', (p) => events.push(`updated ${p.id} ${p.profile}`));
    client.on('participant-left', (id) => events.push(`left ${id}`));
    socket.receive({ type: 'participant-joined', participant: { id: ALICE_ID, profile: 'a' } });
    socket.receive({ type: 'participant-updated', participant: { id: ALICE_ID, profile: 'b' } });
    socket.receive({ type: 'participant-left', participantId: ALICE_ID });
    expect(events).toEqual([`joined ${ALICE_ID} a`, `updated ${ALICE_ID} b`, `left ${ALICE_ID}`]);
  });

  it('stops calling a handler after unsubscribing', async () => {
    const { client, socket } = await connected();
    const seen: string[] = [];
    const off = client.on('participant-left', (id) => seen.push(id));
    socket.receive({ type: 'participant-left', participantId: ALICE_ID });
    off();
    socket.receive({ type: 'participant-left', participantId: BOB_ID });
    expect(seen).toEqual([ALICE_ID]);
  });

  it('reports an unsolicited error as server-error', async () => {
    const { client, socket } = await connected();
    const errors: SignalingError[] = [];
    client.on('server-error', (e) => errors.push(e));
    socket.receive({ type: 'error', code: 'rate-limited', message: 'slow down' });
    expect(errors.map((e) => e.code)).toEqual(['rate-limited']);
  });

  it('handles goodbye and the 1001 close that follows', async () => {
    const { client, socket } = await connected();
    const pending = client.ping();
    const reasons: [string, number | null][] = [];
    const closes: CloseInfo[] = [];
    client.on('goodbye', (reason, retryAfterMs) => reasons.push([reason, retryAfterMs]));
    client.on('close', (info) => closes.push(info));
    socket.receive({ type: 'goodbye', reason: 'server-restart', retryAfterMs: 500 });
    socket.serverClose(1001, 'shutdown');
    expect(reasons).toEqual([['server-restart', 500]]);
    expect(closes).toEqual([{ code: 1001, reason: 'shutdown', afterGoodbye: true, byClient: false }]);
    await expect(pending).rejects.toMatchObject({ code: 'closed' });
    expect(client.state).toBe('closed');
  });

  it('reports close codes such as 1008 and refuses requests afterwards', async () => {
    const { client, socket } = await connected();
    const closes: CloseInfo[] = [];
    client.on('close', (info) => closes.push(info));
    socket.serverClose(1008, 'rate limit exceeded');
    expect(closes).toEqual([{ code: 1008, reason: 'rate limit exceeded', afterGoodbye: false, byClient: false }]);
    await expect(client.ping()).rejects.toMatchObject({ code: 'not-connected' });
  });

  it('closes with 1000 when the client closes', async () => {
    const { client, socket } = await connected();
    const closes: CloseInfo[] = [];
    client.on('close', (info) => closes.push(info));
    client.close();
    expect(socket.closed?.code).toBe(1000);
    expect(closes).toEqual([{ code: 1000, reason: 'closed by client', afterGoodbye: false, byClient: true }]);
    client.close();
    expect(closes).toHaveLength(1);
  });

  it('rejects connect when the socket closes before it opens', async () => {
    const { factory, sockets } = fakeFactory();
    const client = new SignalingClient({ url: 'wss://h/ws', socketFactory: factory });
    const welcome = client.connect();
    sockets[0]?.serverClose(1006);
    await expect(welcome).rejects.toMatchObject({ code: 'closed' });
  });

  it('rejects connect when close() is called while connecting', async () => {
    const { factory } = fakeFactory();
    const client = new SignalingClient({ url: 'wss://h/ws', socketFactory: factory });
    const welcome = client.connect();
    client.close();
    await expect(welcome).rejects.toMatchObject({ code: 'closed' });
  });

  it('times out a request without a reply', async () => {
    vi.useFakeTimers();
    const { factory, sockets } = fakeFactory();
    const client = new SignalingClient({ url: 'wss://h/ws', socketFactory: factory, requestTimeoutMs: 500 });
    const welcome = client.connect();
    sockets[0]?.open();
    await flush();
    const expectation = expect(welcome).rejects.toMatchObject({ code: 'timeout' });
    vi.advanceTimersByTime(501);
    await expectation;
  });

  it('keeps the TURN credential of joined and renews it halfway through its lifetime until leave', async () => {
    const { client, socket } = await connected();
    vi.useFakeTimers();
    const turn = (username: string) => ({
      urls: ['turn:10.0.0.1:3478?transport=udp', 'turns:turn.example.org:443?transport=tcp'],
      username,
      credential: 'rdRes6D4AdS5DA7lyYxp56skEtQ=',
      ttl: 600,
    });
    expect(client.iceServers).toEqual([]);
    const joined = client.join(ROOM_ID, 'p');
    socket.receive({
      type: 'joined',
      id: socket.lastSent()['id'],
      roomId: ROOM_ID,
      participantId: SELF_ID,
      participants: [],
      turn: turn('1700000600:a'),
    });
    await joined;
    expect(client.iceServers).toEqual([
      { urls: turn('').urls, username: '1700000600:a', credential: 'rdRes6D4AdS5DA7lyYxp56skEtQ=' },
    ]);
    const renewed: unknown[] = [];
    client.on('ice-servers', (servers) => renewed.push(servers));

    const sent = socket.sent.length;
    vi.advanceTimersByTime(299_000);
    expect(socket.sent.length).toBe(sent);
    vi.advanceTimersByTime(1_000);
    const refresh = socket.lastSent();
    expect(refresh).toEqual({ type: 'turn-refresh', id: refresh['id'] });
    socket.receive({ type: 'turn-credentials', id: refresh['id'], turn: turn('1700000900:b') });
    await flush();
    expect(client.iceServers[0]?.username).toBe('1700000900:b');
    expect(renewed).toHaveLength(1);

    // After leave, nothing is renewed and the old credential is forgotten.
    const left = client.leave();
    expect(client.iceServers).toEqual([]);
    socket.receive({ type: 'left', id: socket.lastSent()['id'] });
    await left;
    const afterLeave = socket.sent.length;
    vi.advanceTimersByTime(3_600_000);
    expect(socket.sent.length).toBe(afterLeave);
  });

  it('refuses to send a message above maxMessageBytes', async () => {
    const { client, socket } = await connected();
    const sentBefore = socket.sent.length;
    await expect(client.updateProfile('x'.repeat(5000))).rejects.toMatchObject({ code: 'too-large-local' });
    expect(socket.sent.length).toBe(sentBefore);
  });
});

function jsonResponse(status: number, body: unknown): Response {
  return new Response(JSON.stringify(body), { status, headers: { 'content-type': 'application/json' } });
}

describe('createRoom', () => {
  it('posts to /api/rooms without a body and returns the room ID', async () => {
    const calls: [string, RequestInit | undefined][] = [];
    const fetchFn: FetchLike = (input, init) => {
      calls.push([input, init]);
      return Promise.resolve(jsonResponse(201, { roomId: ROOM_ID }));
    };
    await expect(createRoom(fetchFn)).resolves.toEqual({ roomId: ROOM_ID, hostToken: null });
    expect(calls).toHaveLength(1);
    const [url, init] = calls[0] ?? [];
    expect(url).toBe('/api/rooms');
    expect(init?.method).toBe('POST');
    expect(init?.body).toBeUndefined();
    expect(init?.credentials).toBe('omit');
  });

  it('returns the host token, and ignores a malformed one', async () => {
    const token = 'T'.repeat(43);
    const reply =
      (hostToken: unknown): FetchLike =>
      () =>
        Promise.resolve(jsonResponse(201, { roomId: ROOM_ID, hostToken }));
    await expect(createRoom(reply(token))).resolves.toEqual({ roomId: ROOM_ID, hostToken: token });
    await expect(createRoom(reply('short'))).resolves.toEqual({ roomId: ROOM_ID, hostToken: null });
    await expect(createRoom(reply(`${'T'.repeat(42)}/`))).resolves.toEqual({ roomId: ROOM_ID, hostToken: null });
  });

  it('refuses a malformed room ID', async () => {
    const fetchFn: FetchLike = () => Promise.resolve(jsonResponse(201, { roomId: '../etc' }));
    await expect(createRoom(fetchFn)).rejects.toMatchObject({ code: 'protocol' });
  });

  it('reports the error code of an HTTP error', async () => {
    const fetchFn: FetchLike = () =>
      Promise.resolve(jsonResponse(503, { error: { code: 'unavailable', message: 'busy' } }));
    const promise = createRoom(fetchFn);
    await expect(promise).rejects.toBeInstanceOf(RoomApiError);
    await expect(promise).rejects.toMatchObject({ code: 'unavailable', status: 503 });
  });

  it('reports an HTTP error without a JSON body', async () => {
    const fetchFn: FetchLike = () => Promise.resolve(new Response('<html>', { status: 502 }));
    await expect(createRoom(fetchFn)).rejects.toMatchObject({ code: 'http-error', status: 502 });
  });

  it('reports a network failure that a second try does not overcome', async () => {
    let calls = 0;
    const fetchFn: FetchLike = () => {
      calls += 1;
      return Promise.reject(new TypeError('Failed to fetch'));
    };
    await expect(createRoom(fetchFn, 0)).rejects.toMatchObject({ code: 'network' });
    expect(calls).toBe(2);
  });

  it('tries once more after a network failure (a browser aborts requests when its network changes)', async () => {
    let calls = 0;
    const fetchFn: FetchLike = () => {
      calls += 1;
      return calls === 1
        ? Promise.reject(new TypeError('net::ERR_NETWORK_CHANGED'))
        : Promise.resolve(jsonResponse(201, { roomId: ROOM_ID }));
    };
    await expect(createRoom(fetchFn, 0)).resolves.toEqual({ roomId: ROOM_ID, hostToken: null });
    expect(calls).toBe(2);
  });
});

describe('secrets', () => {
  it('encodes base64url without padding (RFC 4648 vectors)', () => {
    const bytes = (s: string): Uint8Array => new TextEncoder().encode(s);
    expect(base64UrlEncode(bytes(''))).toBe('');
    expect(base64UrlEncode(bytes('f'))).toBe('Zg');
    expect(base64UrlEncode(bytes('fo'))).toBe('Zm8');
    expect(base64UrlEncode(bytes('foo'))).toBe('Zm9v');
    expect(base64UrlEncode(bytes('foobar'))).toBe('Zm9vYmFy');
    expect(base64UrlEncode(new Uint8Array([0xfb, 0xff, 0xbf]))).toBe('-_-_');
  });

  it('makes a 256-bit secret from getRandomValues', () => {
    let requested = 0;
    const source = {
      getRandomValues<T extends ArrayBufferView | null>(array: T): T {
        if (array instanceof Uint8Array) {
          requested = array.length;
          array.fill(0xff);
        }
        return array;
      },
    };
    const secret = generateSecret(source);
    expect(requested).toBe(32);
    expect(secret).toBe(`${'_'.repeat(42)}8`);
  });

  it('makes fresh secrets of 43 URL-safe characters (>= 128 bits)', () => {
    const seen = new Set<string>();
    for (let i = 0; i < 200; i++) {
      const secret = generateSecret();
      expect(secret).toMatch(/^[A-Za-z0-9_-]{43}$/);
      expect(isValidSecret(secret)).toBe(true);
      seen.add(secret);
    }
    expect(seen.size).toBe(200);
  });

  it('refuses secrets that are short, padded or use other characters', () => {
    expect(isValidSecret('a'.repeat(21))).toBe(false);
    expect(isValidSecret('a'.repeat(22))).toBe(true);
    expect(isValidSecret(`${'a'.repeat(42)}=`)).toBe(false);
    expect(isValidSecret(`${'a'.repeat(42)}+`)).toBe(false);
    expect(isValidSecret(`${'a'.repeat(42)}/`)).toBe(false);
    expect(isValidSecret('a'.repeat(25))).toBe(false); // length 1 mod 4 is not base64
    expect(isValidSecret('a'.repeat(257))).toBe(false);
  });
});

describe('invite links', () => {
  const SECRET = 'abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOP_';

  it('builds https://HOST/r/<roomId>#<secret>', () => {
    expect(buildInviteLink('https://meet.example:8443', ROOM_ID, SECRET)).toBe(
      `https://meet.example:8443/r/${ROOM_ID}#${SECRET}`,
    );
    expect(buildInviteLink('https://meet.example/some/path', ROOM_ID, SECRET)).toBe(
      `https://meet.example/r/${ROOM_ID}#${SECRET}`,
    );
  });

  it('refuses to build a link from a bad room ID or secret', () => {
    expect(() => buildInviteLink('https://h', 'short', SECRET)).toThrow();
    expect(() => buildInviteLink('https://h', ROOM_ID, 'short')).toThrow();
  });

  it('round-trips a generated link', () => {
    const secret = generateSecret();
    const link = buildInviteLink('https://localhost:8443', ROOM_ID, secret);
    expect(parseInviteLink(link)).toEqual({ ok: true, roomId: ROOM_ID, secret });
  });

  it('parses a room location', () => {
    expect(parseRoomLocation(`/r/${ROOM_ID}`, `#${SECRET}`)).toEqual({ ok: true, roomId: ROOM_ID, secret: SECRET });
    expect(parseRoomLocation(`/r/${ROOM_ID}/`, `#${SECRET}`)).toMatchObject({ ok: true });
  });

  it('tells a missing fragment from a wrong one', () => {
    expect(parseRoomLocation(`/r/${ROOM_ID}`, '')).toEqual({ ok: false, problem: 'missing-secret' });
    expect(parseRoomLocation(`/r/${ROOM_ID}`, '#')).toEqual({ ok: false, problem: 'missing-secret' });
    expect(parseRoomLocation(`/r/${ROOM_ID}`, '#tooshort')).toEqual({ ok: false, problem: 'bad-secret' });
    expect(parseRoomLocation(`/r/${ROOM_ID}`, `#${SECRET.slice(0, 40)}%20`)).toEqual({
      ok: false,
      problem: 'bad-secret',
    });
    expect(parseInviteLink(`https://h/r/${ROOM_ID}`)).toEqual({ ok: false, problem: 'missing-secret' });
  });

  it('refuses bad room paths', () => {
    expect(parseRoomLocation('/r/abc', `#${SECRET}`)).toEqual({ ok: false, problem: 'bad-room-id' });
    expect(parseRoomLocation(`/r/${ROOM_ID}x`, `#${SECRET}`)).toEqual({ ok: false, problem: 'bad-room-id' });
    expect(parseRoomLocation('/', `#${SECRET}`)).toEqual({ ok: false, problem: 'not-a-room' });
    expect(parseRoomLocation(`/x/${ROOM_ID}`, `#${SECRET}`)).toEqual({ ok: false, problem: 'not-a-room' });
    expect(parseRoomLocation(`/r/${ROOM_ID}/more`, `#${SECRET}`)).toEqual({ ok: false, problem: 'not-a-room' });
    expect(parseInviteLink('not a url')).toEqual({ ok: false, problem: 'not-a-room' });
    expect(parseInviteLink(`javascript:/r/${ROOM_ID}#${SECRET}`)).toEqual({ ok: false, problem: 'not-a-room' });
  });
});
