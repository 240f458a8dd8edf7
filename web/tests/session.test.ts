import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { encodeProfile } from '../src/profile';
import { backoffDelay, MeetingSession, type Announcement, type SessionState } from '../src/session';
import { ALICE_ID, BOB_ID, fakeFactory, flush, ROOM_ID, SELF_ID, type FakeSocket } from './fake-socket';

function setup() {
  const { factory, sockets } = fakeFactory();
  const states: SessionState[] = [];
  const announcements: Announcement[] = [];
  const session = new MeetingSession({
    roomId: ROOM_ID,
    url: 'wss://host/ws',
    socketFactory: factory,
    onState: (s) => states.push(s),
    onAnnounce: (a) => announcements.push(a),
    random: () => 0.5,
    pingIntervalMs: 20000,
    requestTimeoutMs: 5000,
  });
  const socket = (i: number): FakeSocket => {
    const s = sockets[i];
    if (!s) throw new Error(`no socket ${i}`);
    return s;
  };
  const last = (): SessionState => states.at(-1) ?? { kind: 'idle' };
  return { session, sockets, socket, states, announcements, last };
}

/** Plays the server side of hello → welcome and join → joined on one socket. */
async function acceptJoin(socket: FakeSocket, others: { id: string; profile: string }[] = [], selfId = SELF_ID) {
  socket.open();
  await flush();
  const hello = socket.lastSent();
  expect(hello['type']).toBe('hello');
  socket.receive({ type: 'welcome', id: hello['id'], version: 1, server: 'test', maxMessageBytes: 65536 });
  await flush();
  const join = socket.lastSent();
  expect(join['type']).toBe('join');
  expect(join['roomId']).toBe(ROOM_ID);
  socket.receive({ type: 'joined', id: join['id'], roomId: ROOM_ID, participantId: selfId, participants: others });
  await flush();
  return join;
}

describe('backoffDelay', () => {
  it('grows exponentially with jitter and a ceiling', () => {
    expect(backoffDelay(1, 0.5)).toBe(1000);
    expect(backoffDelay(2, 0.5)).toBe(2000);
    expect(backoffDelay(3, 0.5)).toBe(4000);
    expect(backoffDelay(20, 0.5)).toBe(30000);
    expect(backoffDelay(1, 0)).toBe(750);
    expect(backoffDelay(1, 0.999)).toBe(1250);
  });
});

describe('MeetingSession', () => {
  beforeEach(() => {
    vi.useFakeTimers();
  });
  afterEach(() => {
    vi.useRealTimers();
  });

  it('joins with the encoded profile and lists everyone including itself', async () => {
    const { session, socket, last, announcements } = setup();
    session.join('Me');
    expect(last()).toEqual({ kind: 'connecting' });
    const join = await acceptJoin(socket(0), [{ id: ALICE_ID, profile: encodeProfile({ name: 'Alice' }) }]);
    expect(join['profile']).toBe('{"name":"Me"}');
    expect(last()).toEqual({
      kind: 'joined',
      selfId: SELF_ID,
      roster: [
        { id: SELF_ID, name: 'Me', self: true },
        { id: ALICE_ID, name: 'Alice', self: false },
      ],
    });
    expect(announcements).toEqual([{ kind: 'self-joined' }]);
  });

  it('keeps the roster up to date and announces changes', async () => {
    const { session, socket, last, announcements } = setup();
    session.join('Me');
    await acceptJoin(socket(0));
    const s = socket(0);
    s.receive({ type: 'participant-joined', participant: { id: BOB_ID, profile: encodeProfile({ name: 'Bob' }) } });
    s.receive({ type: 'participant-joined', participant: { id: ALICE_ID, profile: 'garbage' } });
    s.receive({ type: 'participant-updated', participant: { id: BOB_ID, profile: encodeProfile({ name: 'Robert' }) } });
    s.receive({ type: 'participant-left', participantId: ALICE_ID });
    s.receive({ type: 'participant-left', participantId: 'unknownunknownunknown0' });
    expect(last()).toMatchObject({
      kind: 'joined',
      roster: [
        { id: SELF_ID, name: 'Me', self: true },
        { id: BOB_ID, name: 'Robert', self: false },
      ],
    });
    expect(announcements.slice(1)).toEqual([
      { kind: 'joined', name: 'Bob' },
      { kind: 'joined', name: null },
      { kind: 'renamed', old: 'Bob', name: 'Robert' },
      { kind: 'left', name: null },
    ]);
  });

  it('reconnects with backoff after the connection drops, and joins again', async () => {
    const { session, sockets, socket, last } = setup();
    session.join('Me');
    await acceptJoin(socket(0));
    socket(0).serverClose(1006, '');
    expect(last()).toMatchObject({ kind: 'reconnecting', attempt: 1 });
    expect(sockets).toHaveLength(1);
    vi.advanceTimersByTime(999);
    expect(sockets).toHaveLength(1);
    vi.advanceTimersByTime(1);
    expect(sockets).toHaveLength(2);
    // The second attempt fails before opening: the next delay doubles.
    socket(1).serverClose(1006, '');
    await flush();
    expect(last()).toMatchObject({ kind: 'reconnecting', attempt: 2 });
    vi.advanceTimersByTime(1999);
    expect(sockets).toHaveLength(2);
    vi.advanceTimersByTime(1);
    expect(sockets).toHaveLength(3);
    const join = await acceptJoin(socket(2), [], 'newIdnewIdnewIdnewId00');
    expect(join['profile']).toBe('{"name":"Me"}');
    expect(last()).toMatchObject({ kind: 'joined', selfId: 'newIdnewIdnewIdnewId00' });
  });

  it('reconnects at once when asked to', async () => {
    const { session, sockets, socket, last } = setup();
    session.join('Me');
    await acceptJoin(socket(0));
    socket(0).serverClose(1008, 'rate limit exceeded');
    expect(last()).toMatchObject({ kind: 'reconnecting' });
    session.reconnectNow();
    expect(sockets).toHaveLength(2);
    expect(last()).toMatchObject({ kind: 'reconnecting', retryAt: null });
  });

  it('shows the shutdown after goodbye and does not reconnect', async () => {
    const { session, sockets, socket, last } = setup();
    session.join('Me');
    await acceptJoin(socket(0));
    socket(0).receive({ type: 'goodbye', reason: 'server-shutdown' });
    expect(last()).toEqual({ kind: 'shutdown' });
    socket(0).serverClose(1001, '');
    expect(last()).toEqual({ kind: 'shutdown' });
    vi.advanceTimersByTime(60000);
    expect(sockets).toHaveLength(1);
  });

  it('fails for good when the room does not exist', async () => {
    const { session, sockets, socket, last } = setup();
    session.join('Me');
    const s = socket(0);
    s.open();
    await flush();
    s.receive({ type: 'welcome', id: s.lastSent()['id'], version: 1, server: 't', maxMessageBytes: 65536 });
    await flush();
    s.receive({ type: 'error', id: s.lastSent()['id'], code: 'room-not-found', message: 'no' });
    await flush();
    expect(last()).toEqual({ kind: 'failed', code: 'room-not-found' });
    expect(s.closed?.code).toBe(1000);
    vi.advanceTimersByTime(60000);
    expect(sockets).toHaveLength(1);
  });

  it('leaves: sends leave, closes the connection, allows rejoining', async () => {
    const { session, sockets, socket, last } = setup();
    session.join('Me');
    await acceptJoin(socket(0));
    const leaving = session.leave();
    const leave = socket(0).lastSent();
    expect(leave['type']).toBe('leave');
    socket(0).receive({ type: 'left', id: leave['id'] });
    await leaving;
    expect(socket(0).closed?.code).toBe(1000);
    expect(last()).toEqual({ kind: 'left' });
    vi.advanceTimersByTime(60000);
    expect(sockets).toHaveLength(1);
    session.join('Me again');
    const join = await acceptJoin(socket(1));
    expect(join['profile']).toBe('{"name":"Me again"}');
    expect(last()).toMatchObject({ kind: 'joined' });
  });

  it('renames with update-profile', async () => {
    const { session, socket, last } = setup();
    session.join('Me');
    await acceptJoin(socket(0));
    const renaming = session.rename('New');
    const update = socket(0).lastSent();
    expect(update).toMatchObject({ type: 'update-profile', profile: '{"name":"New"}' });
    socket(0).receive({ type: 'profile-updated', id: update['id'] });
    await renaming;
    expect(last()).toMatchObject({ roster: [{ id: SELF_ID, name: 'New', self: true }] });
  });

  it('pings to keep the connection alive and reconnects when a ping gets no answer', async () => {
    const { session, sockets, socket, last } = setup();
    session.join('Me');
    await acceptJoin(socket(0));
    vi.advanceTimersByTime(20000);
    const ping = socket(0).lastSent();
    expect(ping['type']).toBe('ping');
    socket(0).receive({ type: 'pong', id: ping['id'] });
    await flush();
    expect(last()).toMatchObject({ kind: 'joined' });
    vi.advanceTimersByTime(20000);
    expect(socket(0).lastSent()['type']).toBe('ping');
    vi.advanceTimersByTime(5000);
    await flush();
    expect(last()).toMatchObject({ kind: 'reconnecting', attempt: 1 });
    expect(socket(0).closed?.code).toBe(1000);
    vi.advanceTimersByTime(1000);
    expect(sockets).toHaveLength(2);
  });

  it('stops everything on dispose', async () => {
    const { session, sockets, socket, states } = setup();
    session.join('Me');
    await acceptJoin(socket(0));
    const count = states.length;
    session.dispose();
    expect(socket(0).closed?.code).toBe(1000);
    socket(0).serverClose(1006);
    vi.advanceTimersByTime(60000);
    expect(sockets).toHaveLength(1);
    expect(states).toHaveLength(count);
  });
});
