import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { MeetingSession, type Announcement, type SessionState } from '../src/session';
import { ALICE_ID, BOB_ID, fakeFactory, flush, ROOM_ID, SELF_ID, type FakeSocket } from './fake-socket';
import { SECRET, until, WRONG_SECRET } from './secure/helpers';
import { acceptJoin, memberProfile, nameIn, SESSION_FAKE_TIMERS, signingKeyOf, verified } from './session-helpers';

function setup(secret = SECRET) {
  const { factory, sockets } = fakeFactory();
  const states: SessionState[] = [];
  const announcements: Announcement[] = [];
  const session = new MeetingSession({
    roomId: ROOM_ID,
    secret,
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

function relays(socket: FakeSocket): Record<string, unknown>[] {
  return socket.sentMessages.filter((m) => m['type'] === 'relay');
}

describe('MeetingSession', () => {
  beforeEach(() => {
    vi.useFakeTimers({ toFake: [...SESSION_FAKE_TIMERS.toFake] });
  });
  afterEach(() => {
    vi.useRealTimers();
  });

  it('joins with a sealed profile and lists everyone, names only from verified profiles', async () => {
    const { session, socket, last, announcements } = setup();
    session.join('Me');
    expect(last()).toEqual({ kind: 'connecting' });
    const join = await acceptJoin(socket(0), [{ id: ALICE_ID, profile: await memberProfile('Alice') }]);
    // Only base64url values (the name 'Me' may occur in random base64 by chance: look at the fields).
    const sealed = JSON.parse(String(join['profile'])) as Record<string, unknown>;
    expect(Object.keys(sealed).sort()).toEqual(['box', 'ed', 'j', 'proof', 'sig', 'v', 'x']);
    expect(Object.values(sealed).filter((v) => typeof v === 'string' && !/^[A-Za-z0-9_-]+$/.test(v))).toEqual([]);
    expect(await nameIn(join['profile'])).toBe('Me');
    expect(last()).toMatchObject({
      kind: 'joined',
      roster: [
        { id: SELF_ID, name: 'Me', self: true, trust: 'verified' },
        { id: ALICE_ID, name: null, self: false, trust: 'verifying' },
      ],
    });
    await verified(session);
    expect(last()).toMatchObject({
      kind: 'joined',
      selfId: SELF_ID,
      roster: [
        { id: SELF_ID, name: 'Me', self: true, trust: 'verified', key: 'received' },
        { id: ALICE_ID, name: 'Alice', self: false, trust: 'verified', key: 'waiting' },
      ],
      security: { wrongLink: false },
    });
    const state = last();
    expect(state.kind === 'joined' && state.security.code).toMatch(/^\d{5}( \d{5}){11}$/);
    // Alice (verified) got this participant's key, wrapped for her alone.
    const [keyRelay] = relays(socket(0));
    expect(keyRelay).toMatchObject({ type: 'relay', to: ALICE_ID });
    expect(JSON.parse(String(keyRelay?.['payload']))).toMatchObject({ v: 2, t: 'key', g: 0 });
    expect(announcements).toEqual([{ kind: 'self-joined' }]);
  });

  it('keeps the roster up to date and announces verified changes', async () => {
    const { session, socket, last, announcements } = setup();
    session.join('Me');
    await acceptJoin(socket(0));
    await verified(session);
    const s = socket(0);
    s.receive({ type: 'participant-joined', participant: { id: BOB_ID, profile: await memberProfile('Bob') } });
    await verified(session);
    s.receive({ type: 'participant-joined', participant: { id: ALICE_ID, profile: 'garbage' } });
    await verified(session);
    s.receive({ type: 'participant-updated', participant: { id: BOB_ID, profile: await memberProfile('Robert') } });
    await verified(session);
    // A new identity for Bob: the session stops trusting him.
    expect(last()).toMatchObject({
      roster: [{ id: SELF_ID }, { id: BOB_ID, trust: 'unverified', name: null }, { id: ALICE_ID, trust: 'unverified' }],
    });
    s.receive({ type: 'participant-left', participantId: ALICE_ID });
    s.receive({ type: 'participant-left', participantId: 'unknownunknownunknown0' });
    expect(last()).toMatchObject({ kind: 'joined', roster: [{ id: SELF_ID, name: 'Me', self: true }, { id: BOB_ID }] });
    expect(announcements.slice(1)).toEqual([
      { kind: 'joined', name: 'Bob' },
      { kind: 'unverified' },
      { kind: 'unverified' },
      { kind: 'left', name: null },
    ]);
  });

  it('announces a rename by a verified member (same identity, new name)', async () => {
    const { session, socket, last, announcements } = setup();
    session.join('Me');
    await acceptJoin(socket(0));
    await verified(session);
    // The other member is a real session too, so it can rename itself.
    const other = setup();
    other.session.join('Bob');
    await acceptJoin(other.socket(0), [], BOB_ID);
    const bobJoin = other.socket(0).sentMessages.find((m) => m['type'] === 'join');
    socket(0).receive({
      type: 'participant-joined',
      participant: { id: BOB_ID, profile: String(bobJoin?.['profile']) },
    });
    await verified(session);
    const renaming = other.session.rename('Robert');
    await until(() => other.socket(0).lastSent()['type'] === 'update-profile', 'update-profile');
    const update = other.socket(0).lastSent();
    other.socket(0).receive({ type: 'profile-updated', id: update['id'] });
    await renaming;
    socket(0).receive({ type: 'participant-updated', participant: { id: BOB_ID, profile: String(update['profile']) } });
    await verified(session);
    expect(last()).toMatchObject({ roster: [{ id: SELF_ID }, { id: BOB_ID, name: 'Robert', trust: 'verified' }] });
    expect(announcements.slice(1)).toEqual([
      { kind: 'joined', name: 'Bob' },
      { kind: 'renamed', old: 'Bob', name: 'Robert' },
    ]);
    other.session.dispose();
  });

  it('says the link is wrong when every other participant fails the membership proof', async () => {
    const { session, socket, last } = setup(WRONG_SECRET);
    session.join('Mallory');
    await acceptJoin(socket(0), [
      { id: ALICE_ID, profile: await memberProfile('Alice') },
      { id: BOB_ID, profile: await memberProfile('Bob') },
    ]);
    await verified(session);
    expect(last()).toMatchObject({
      roster: [
        { id: SELF_ID, name: 'Mallory' },
        { id: ALICE_ID, name: null, trust: 'unverified' },
        { id: BOB_ID, name: null, trust: 'unverified' },
      ],
      security: { wrongLink: true },
    });
    // Nobody gets a key from this page, nor does it accept one.
    expect(relays(socket(0))).toEqual([]);
  });

  it('refuses a link whose secret is not one, without joining', async () => {
    const { session, socket, last } = setup('tooShort');
    session.join('Me');
    await until(() => last().kind === 'failed', 'failure');
    expect(last()).toEqual({ kind: 'failed', code: 'bad-secret' });
    expect(socket(0).sent).toEqual([]);
    expect(socket(0).closed?.code).toBe(1000);
  });

  it('reconnects with backoff after the connection drops, and joins again with a new identity', async () => {
    const { session, sockets, socket, last } = setup();
    session.join('Me');
    const first = await acceptJoin(socket(0));
    socket(0).serverClose(1006, '');
    // The call stays as it was while the session reconnects.
    expect(last()).toMatchObject({
      kind: 'reconnecting',
      reason: 'dropped',
      attempt: 1,
      call: { selfId: SELF_ID, roster: [{ id: SELF_ID, self: true }] },
    });
    expect(sockets).toHaveLength(1);
    vi.advanceTimersByTime(499);
    expect(sockets).toHaveLength(1);
    vi.advanceTimersByTime(1);
    await until(() => sockets.length === 2, 'second socket');
    // The second attempt fails before opening: the next delay doubles.
    socket(1).serverClose(1006, '');
    await until(
      () =>
        last().kind === 'reconnecting' &&
        last().kind === 'reconnecting' &&
        (last() as { attempt: number }).attempt === 2,
      'attempt 2',
    );
    vi.advanceTimersByTime(999);
    expect(sockets).toHaveLength(2);
    vi.advanceTimersByTime(1);
    await until(() => sockets.length === 3, 'third socket');
    const join = await acceptJoin(socket(2), [], 'newIdnewIdnewIdnewId00');
    expect(await nameIn(join['profile'])).toBe('Me');
    expect(signingKeyOf(join['profile'])).not.toBe(signingKeyOf(first['profile']));
    expect(last()).toMatchObject({ kind: 'joined', selfId: 'newIdnewIdnewIdnewId00' });
  });

  it('reconnects at once when asked to', async () => {
    const { session, sockets, socket, last } = setup();
    session.join('Me');
    await acceptJoin(socket(0));
    socket(0).serverClose(1008, 'rate limit exceeded');
    expect(last()).toMatchObject({ kind: 'reconnecting' });
    session.reconnectNow();
    await until(() => sockets.length === 2, 'second socket');
    expect(last()).toMatchObject({ kind: 'reconnecting', retryAt: null });
  });

  it('comes back by itself after a restart goodbye: first try after retryAfterMs, then quick tries', async () => {
    const { session, sockets, socket, last, states } = setup();
    session.join('Me');
    await acceptJoin(socket(0));
    socket(0).receive({ type: 'goodbye', reason: 'server-restart', retryAfterMs: 800 });
    expect(last()).toMatchObject({ kind: 'reconnecting', reason: 'restart', attempt: 1, call: { selfId: SELF_ID } });
    socket(0).serverClose(1001, '');
    expect(last()).toMatchObject({ kind: 'reconnecting', reason: 'restart', attempt: 1 });
    // Never a state without the call in between (the view keeps the call on screen).
    expect(states.filter((s) => s.kind !== 'joined' && s.kind !== 'reconnecting' && s.kind !== 'connecting')).toEqual(
      [],
    );
    vi.advanceTimersByTime(799);
    expect(sockets).toHaveLength(1);
    vi.advanceTimersByTime(1);
    await until(() => sockets.length === 2, 'second socket');
    // The server is not back yet: connection refused. The tries stay under 2 s apart.
    for (let i = 2; i < 10; i++) {
      socket(i - 1).serverClose(1006, '');
      await until(() => (last() as { attempt?: number }).attempt === i, `attempt ${i}`);
      const state = last();
      if (state.kind !== 'reconnecting' || state.retryAt === null) throw new Error('not waiting');
      expect(state.retryAt - Date.now()).toBeLessThanOrEqual(1875);
      expect(state.reason).toBe('restart');
      vi.advanceTimersByTime(state.retryAt - Date.now());
      await until(() => sockets.length === i + 1, `socket ${i + 1}`);
    }
    await acceptJoin(socket(9), [], 'newIdnewIdnewIdnewId00');
    expect(last()).toMatchObject({ kind: 'joined', selfId: 'newIdnewIdnewIdnewId00' });
  });

  it('reconnects after an old server goodbye too, with the usual delays', async () => {
    const { session, sockets, socket, last } = setup();
    session.join('Me');
    await acceptJoin(socket(0));
    socket(0).receive({ type: 'goodbye', reason: 'server-shutdown' });
    expect(last()).toMatchObject({ kind: 'reconnecting', reason: 'dropped' });
    socket(0).serverClose(1001, '');
    vi.advanceTimersByTime(500);
    await until(() => sockets.length === 2, 'second socket');
  });

  it('says a chat message was not sent while reconnecting (the view keeps the text)', async () => {
    const { session, socket } = setup();
    session.join('Me');
    await acceptJoin(socket(0));
    socket(0).serverClose(1006, '');
    await expect(session.sendChat('hello?', null)).rejects.toMatchObject({ code: 'reconnecting' });
  });

  it('stops trying while offline and tries at once when the network is back', async () => {
    const { session, sockets, socket, last } = setup();
    session.join('Me');
    await acceptJoin(socket(0));
    session.setOnline(false);
    expect(last()).toMatchObject({ kind: 'reconnecting', reason: 'offline', call: { selfId: SELF_ID } });
    expect(socket(0).closed?.code).toBe(1000);
    vi.advanceTimersByTime(10000);
    expect(sockets).toHaveLength(1);
    session.setOnline(true);
    await until(() => sockets.length === 2, 'second socket');
    await acceptJoin(socket(1), [], 'newIdnewIdnewIdnewId00');
    expect(last()).toMatchObject({ kind: 'joined', selfId: 'newIdnewIdnewIdnewId00' });
  });

  it('rejoins from scratch when the media side says its connections are lost', async () => {
    const { session, sockets, socket, last } = setup();
    session.join('Me');
    await acceptJoin(socket(0));
    session.mediaLost();
    expect(last()).toMatchObject({ kind: 'reconnecting', reason: 'dropped', attempt: 1 });
    vi.advanceTimersByTime(500);
    await until(() => sockets.length === 2, 'second socket');
  });

  it('fails for good when the room does not exist', async () => {
    const { session, sockets, socket, last } = setup();
    session.join('Me');
    const s = socket(0);
    s.open();
    await until(() => s.sent.length === 1, 'hello');
    s.receive({ type: 'welcome', id: s.lastSent()['id'], version: 1, server: 't', maxMessageBytes: 65536 });
    await until(() => s.sent.length === 2, 'join');
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
    await until(() => sockets.length === 2, 'second socket');
    const join = await acceptJoin(socket(1));
    expect(await nameIn(join['profile'])).toBe('Me again');
    expect(last()).toMatchObject({ kind: 'joined' });
  });

  it('renames with update-profile, keeping its identity', async () => {
    const { session, socket, last } = setup();
    session.join('Me');
    const join = await acceptJoin(socket(0));
    const renaming = session.rename('New');
    await until(() => socket(0).lastSent()['type'] === 'update-profile', 'update-profile');
    const update = socket(0).lastSent();
    expect(await nameIn(update['profile'])).toBe('New');
    expect(signingKeyOf(update['profile'])).toBe(signingKeyOf(join['profile']));
    socket(0).receive({ type: 'profile-updated', id: update['id'] });
    await renaming;
    expect(last()).toMatchObject({ roster: [{ id: SELF_ID, name: 'New', self: true }] });
  });

  it('sends chat as an encrypted relay to everyone and shows it', async () => {
    const { session, socket } = setup();
    session.join('Me');
    await acceptJoin(socket(0), [{ id: ALICE_ID, profile: await memberProfile('Alice') }]);
    await verified(session);
    const sending = session.sendChat('Hello there', 60000);
    await until(() => relays(socket(0)).some((m) => m['to'] === undefined), 'chat relay');
    const relay = relays(socket(0)).find((m) => m['to'] === undefined) ?? {};
    expect(String(relay['payload'])).not.toContain('Hello');
    expect(JSON.parse(String(relay['payload']))).toMatchObject({
      v: 2,
      t: 'chat',
      chat: { v: 1, from: SELF_ID, g: 0, n: 1 },
    });
    socket(0).receive({ type: 'relayed', id: relay['id'] });
    await sending;
    expect(session.chat.entries.map((e) => [e.text, e.self])).toEqual([['Hello there', true]]);
    vi.advanceTimersByTime(60000);
    expect(session.chat.entries).toEqual([]);
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
    vi.advanceTimersByTime(500);
    await until(() => sockets.length === 2, 'second socket');
  });

  it('stops everything on dispose', async () => {
    const { session, sockets, socket, states } = setup();
    session.join('Me');
    await acceptJoin(socket(0));
    await verified(session);
    const count = states.length;
    session.dispose();
    expect(socket(0).closed?.code).toBe(1000);
    socket(0).serverClose(1006);
    vi.advanceTimersByTime(60000);
    expect(sockets).toHaveLength(1);
    expect(states).toHaveLength(count);
  });
});
