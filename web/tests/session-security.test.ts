// Meeting security in MeetingSession against a fake server: the host token and the PIN on join,
// waiting to be admitted (no roster, no keys meanwhile), refusals and final goodbyes, the relay
// kinds, and moving the meeting to a new secret (sealed pairwise, obeyed only from a host).
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { generateIdentity, type Identity } from '../src/e2ee';
import { sealOwnProfile } from '../src/profile';
import type { MeetingSettings } from '../src/protocol/messages';
import { parseRelayPayload } from '../src/secure/payloads';
import { SecureRoom, type MoveInstruction } from '../src/secure/secure_room';
import { MeetingSession, type HostTokenStore, type SessionState } from '../src/session';
import { ALICE_ID, BOB_ID, fakeFactory, flush, ROOM_ID, SELF_ID, type FakeSocket } from './fake-socket';
import { roomKeys, SECRET, until, WRONG_SECRET } from './secure/helpers';
import { acceptJoin, memberProfile, SESSION_FAKE_TIMERS, verified } from './session-helpers';

const NEW_ROOM = 'BBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBB';
const HOST_TOKEN = 'H'.repeat(43);
const NEW_HOST_TOKEN = 'N'.repeat(43);

const SETTINGS: MeetingSettings = {
  locked: false,
  lobby: true,
  hostMustBePresent: false,
  pinSet: false,
  maxParticipants: 100,
  policies: { unmute: 'everyone', camera: 'everyone', screen: 'everyone', chat: 'moderators', files: 'everyone' },
};

class MemoryTokens implements HostTokenStore {
  readonly tokens = new Map<string, string>();
  load(roomId: string): string | null {
    return this.tokens.get(roomId) ?? null;
  }
  save(roomId: string, token: string): void {
    this.tokens.set(roomId, token);
  }
  forget(roomId: string): void {
    this.tokens.delete(roomId);
  }
}

function setup() {
  const { factory, sockets } = fakeFactory();
  const states: SessionState[] = [];
  const tokens = new MemoryTokens();
  const moves: [string, string][] = [];
  const hostMutes: string[] = [];
  const session = new MeetingSession({
    roomId: ROOM_ID,
    secret: SECRET,
    url: 'wss://host/ws',
    socketFactory: factory,
    onState: (s) => states.push(s),
    random: () => 0.5,
    pingIntervalMs: 20000,
    requestTimeoutMs: 5000,
    hostTokens: tokens,
    onMoved: (roomId, secret) => moves.push([roomId, secret]),
    onHostMute: (source) => hostMutes.push(source),
  });
  const socket = (i: number): FakeSocket => {
    const s = sockets[i];
    if (!s) throw new Error(`no socket ${i}`);
    return s;
  };
  const last = (): SessionState => states.at(-1) ?? { kind: 'idle' };
  return { session, sockets, socket, states, last, tokens, moves, hostMutes };
}

function sentOfType(socket: FakeSocket, type: string): Record<string, unknown> | undefined {
  return socket.sentMessages.filter((m) => m['type'] === type).at(-1);
}

/** hello → welcome, then waits for `join` and returns it (the test answers it). */
async function helloThenJoin(socket: FakeSocket): Promise<Record<string, unknown>> {
  socket.open();
  await until(() => sentOfType(socket, 'hello') !== undefined, 'hello');
  socket.receive({
    type: 'welcome',
    id: sentOfType(socket, 'hello')?.['id'],
    version: 1,
    server: 'test',
    maxMessageBytes: 65536,
  });
  await until(() => sentOfType(socket, 'join') !== undefined, 'join');
  return sentOfType(socket, 'join') ?? {};
}

/** A member played by the test with a real SecureRoom (it can seal and open pairwise messages). */
async function member(name: string, id: string, secret = SECRET) {
  const room = await roomKeys(secret);
  const identity: Identity = await generateIdentity();
  const profile = await sealOwnProfile(room, identity, { name });
  const sent: { payload: string; to: string | undefined; kind: string | undefined }[] = [];
  const moves: MoveInstruction[] = [];
  const secure = new SecureRoom({
    room,
    identity,
    selfId: id,
    signaling: {
      relay: (payload, to, kind) => {
        sent.push({ payload, to, kind });
        return Promise.resolve();
      },
    },
    onChange: () => undefined,
    onMove: (_from, move) => moves.push(move),
  });
  return { id, profile, secure, sent, moves };
}

/** Answers the session's newest request of `type` with `reply`. */
function answer(socket: FakeSocket, type: string, reply: Record<string, unknown>): void {
  socket.receive({ ...reply, id: sentOfType(socket, type)?.['id'] });
}

describe('MeetingSession meeting security', () => {
  beforeEach(() => {
    vi.useFakeTimers({ toFake: [...SESSION_FAKE_TIMERS.toFake] });
  });
  afterEach(() => {
    vi.useRealTimers();
  });

  it('sends the host token this browser keeps for the room, and nothing for other rooms', async () => {
    const { session, socket, tokens, last } = setup();
    tokens.save(ROOM_ID, HOST_TOKEN);
    tokens.save(NEW_ROOM, NEW_HOST_TOKEN);
    session.join('Me');
    const join = await helloThenJoin(socket(0));
    expect(join['hostToken']).toBe(HOST_TOKEN);
    expect(join).not.toHaveProperty('pin');
    answer(socket(0), 'join', {
      type: 'joined',
      roomId: ROOM_ID,
      participantId: SELF_ID,
      participants: [],
      role: 'host',
      settings: SETTINGS,
    });
    await until(() => last().kind === 'joined', 'joined');
    expect(last()).toMatchObject({ meeting: { role: 'host', settings: SETTINGS }, roster: [{ role: 'host' }] });

    const guest = setup();
    guest.session.join('Guest');
    expect(await helloThenJoin(guest.socket(0))).not.toHaveProperty('hostToken');
    guest.session.dispose();
  });

  it('waits in the lobby with no roster and no keys, then enters the call when admitted', async () => {
    const { session, socket, last, states } = setup();
    session.join('Guest');
    await helloThenJoin(socket(0));
    answer(socket(0), 'join', { type: 'waiting', participantId: SELF_ID, reason: 'lobby' });
    await until(() => last().kind === 'waiting', 'waiting');
    expect(last()).toEqual({ kind: 'waiting', reason: 'lobby' });
    // Whatever the server sends a waiting connection meanwhile is not shown and gets no key.
    const alice = await member('Alice', ALICE_ID);
    socket(0).receive({ type: 'participant-joined', participant: { id: ALICE_ID, profile: alice.profile } });
    await flush();
    expect(session.secure).toBeNull();
    expect(socket(0).sentMessages.filter((m) => m['type'] === 'relay')).toEqual([]);
    expect(states.some((s) => s.kind === 'joined')).toBe(false);
    // Admitted: the `joined` that ends the wait.
    socket(0).receive({
      type: 'joined',
      roomId: ROOM_ID,
      participantId: SELF_ID,
      participants: [{ id: ALICE_ID, profile: alice.profile, role: 'host' }],
      role: 'participant',
      settings: SETTINGS,
    });
    await verified(session);
    expect(last()).toMatchObject({
      kind: 'joined',
      roster: [{ id: SELF_ID }, { id: ALICE_ID, name: 'Alice', trust: 'verified', role: 'host' }],
    });
    const keys = socket(0).sentMessages.filter((m) => m['type'] === 'relay');
    expect(keys).toHaveLength(1);
    expect(keys[0]).toMatchObject({ to: ALICE_ID });
    expect(keys[0]).not.toHaveProperty('kind');
    // The chat policy says moderators only: this participant may not chat.
    expect(session.may('chat')).toBe(false);
    expect(session.may('camera')).toBe(true);
  });

  it('asks for the PIN, says when it was wrong, and sends it with the next join', async () => {
    const { session, socket, sockets, last } = setup();
    session.join('Me');
    await helloThenJoin(socket(0));
    answer(socket(0), 'join', { type: 'error', code: 'pin-required', message: 'PIN' });
    await until(() => last().kind === 'pin', 'pin prompt');
    expect(last()).toEqual({ kind: 'pin', wrong: false });
    session.submitPin('123456');
    await until(() => sockets.length === 2, 'second socket');
    expect((await helloThenJoin(socket(1)))['pin']).toBe('123456');
    answer(socket(1), 'join', { type: 'error', code: 'wrong-pin', message: 'no' });
    await until(() => last().kind === 'pin' && (last() as { wrong: boolean }).wrong, 'wrong pin');
    session.submitPin('654321');
    await until(() => sockets.length === 3, 'third socket');
    expect((await helloThenJoin(socket(2)))['pin']).toBe('654321');
  });

  it('shows how long a blocked join must wait, and does not retry by itself', async () => {
    const { session, socket, sockets, last } = setup();
    session.join('Me');
    await helloThenJoin(socket(0));
    const before = Date.now();
    answer(socket(0), 'join', { type: 'error', code: 'blocked', message: 'wait', retryAfterMs: 8000 });
    await until(() => last().kind === 'failed', 'blocked');
    expect(last()).toEqual({ kind: 'failed', code: 'blocked', retryAt: before + 8000 });
    vi.advanceTimersByTime(60_000);
    expect(sockets).toHaveLength(1);
  });

  it('ends the membership on a final goodbye (removed) instead of reconnecting', async () => {
    const { session, socket, sockets, last } = setup();
    session.join('Me');
    await acceptJoin(socket(0));
    socket(0).receive({ type: 'goodbye', reason: 'removed' });
    socket(0).serverClose(1000, '');
    expect(last()).toEqual({ kind: 'failed', code: 'removed' });
    vi.advanceTimersByTime(120_000);
    expect(sockets).toHaveLength(1);
  });

  it('switches a source off when a host mutes it, and asks the server before switching it on again', async () => {
    const { session, socket, last, hostMutes } = setup();
    session.join('Me');
    await helloThenJoin(socket(0));
    const settings = { ...SETTINGS, policies: { ...SETTINGS.policies, unmute: 'moderators' as const } };
    answer(socket(0), 'join', {
      type: 'joined',
      roomId: ROOM_ID,
      participantId: SELF_ID,
      participants: [],
      role: 'participant',
      settings,
    });
    await until(() => last().kind === 'joined', 'joined');
    socket(0).receive({ type: 'muted-by-host', source: 'microphone', by: ALICE_ID });
    expect(hostMutes).toEqual(['microphone']);
    expect(last()).toMatchObject({ meeting: { hostMuted: ['microphone'], unmuteRequest: null } });
    expect(session.mayUnmute('microphone')).toBe(false);
    expect(session.mayUnmute('camera')).toBe(true);
    // A request to unmute allows it; nothing is switched on by itself.
    socket(0).receive({ type: 'unmute-request', source: 'microphone', by: ALICE_ID });
    expect(last()).toMatchObject({ meeting: { unmuteRequest: { source: 'microphone', by: null } } });
    expect(session.mayUnmute('microphone')).toBe(true);
    expect(socket(0).sentMessages.some((m) => m['type'] === 'unmute')).toBe(false);
    const unmuting = session.unmuteSelf('microphone');
    await until(() => sentOfType(socket(0), 'unmute') !== undefined, 'unmute');
    expect(sentOfType(socket(0), 'unmute')).toMatchObject({ source: 'microphone' });
    answer(socket(0), 'unmute', { type: 'unmuted' });
    await unmuting;
    expect(last()).toMatchObject({ meeting: { hostMuted: [], unmuteRequest: null } });
  });

  it('moves to a new room and secret when a verified host says so, keeping the call on screen', async () => {
    const { session, socket, sockets, last, tokens, moves } = setup();
    const alice = await member('Alice', ALICE_ID);
    session.join('Me');
    const join = await acceptJoin(socket(0), [{ id: ALICE_ID, profile: alice.profile }]);
    socket(0).receive({ type: 'role', participantId: ALICE_ID, role: 'host' });
    await verified(session);
    // Alice verifies this session too (a real member), then seals the move for it alone.
    alice.secure.start([{ id: SELF_ID, profile: String(join['profile']) }]);
    await alice.secure.idle();
    const secret = 'bmV3LXNlY3JldC1uZXctc2VjcmV0LW5ldy1zZWNyZXQ';
    expect(await alice.secure.sendMove(SELF_ID, { r: NEW_ROOM, s: secret, h: NEW_HOST_TOKEN })).toBe(true);
    const sent = alice.sent.find((m) => parseRelayPayload(m.payload)?.t === 'move');
    expect(sent).toMatchObject({ to: SELF_ID, kind: 'control' });
    // The secret never travels in the clear.
    expect(sent?.payload).not.toContain(secret);
    expect(sent?.payload).not.toContain(NEW_ROOM);
    // Under the wrong kind it is dropped.
    socket(0).receive({ type: 'relay', from: ALICE_ID, payload: sent?.payload, kind: 'chat' });
    await flush();
    await session.secure?.idle();
    expect(sockets).toHaveLength(1);
    socket(0).receive({ type: 'relay', from: ALICE_ID, payload: sent?.payload, kind: 'control' });
    await until(() => sockets.length === 2, 'the move');
    expect(last()).toMatchObject({ kind: 'reconnecting', reason: 'moving', call: { selfId: SELF_ID } });
    expect(moves).toEqual([[NEW_ROOM, secret]]);
    expect(tokens.load(NEW_ROOM)).toBe(NEW_HOST_TOKEN);
    expect(session.roomId).toBe(NEW_ROOM);
    const rejoin = await helloThenJoin(socket(1));
    expect(rejoin).toMatchObject({ roomId: NEW_ROOM, hostToken: NEW_HOST_TOKEN });
    // The profile is sealed with the new secret: Alice's old room keys do not open it.
    const { openMemberProfile } = await import('../src/profile');
    expect((await openMemberProfile(await roomKeys(), String(rejoin['profile']))).ok).toBe(false);
    expect((await openMemberProfile(await roomKeys(secret, NEW_ROOM), String(rejoin['profile']))).ok).toBe(true);
    alice.secure.close();
  });

  it('ignores a move from a verified member who is not a host', async () => {
    const { session, socket, sockets } = setup();
    const bob = await member('Bob', BOB_ID);
    session.join('Me');
    const join = await acceptJoin(socket(0), [{ id: BOB_ID, profile: bob.profile }]);
    await verified(session);
    bob.secure.start([{ id: SELF_ID, profile: String(join['profile']) }]);
    await bob.secure.idle();
    expect(await bob.secure.sendMove(SELF_ID, { r: NEW_ROOM, s: 'bmV3LXNlY3JldC1uZXctc2VjcmV0LW5ldy1zZWNyZXQ' })).toBe(
      true,
    );
    const sent = bob.sent.find((m) => parseRelayPayload(m.payload)?.t === 'move');
    expect(sent).toBeDefined();
    socket(0).receive({ type: 'relay', from: BOB_ID, payload: sent?.payload, kind: 'control' });
    // SecureRoom.idle() covers the opening of the move (tracked like chat).
    await flush();
    await session.secure?.idle();
    vi.advanceTimersByTime(1000);
    await flush();
    expect(sockets).toHaveLength(1);
    expect(session.roomId).toBe(ROOM_ID);
    bob.secure.close();
  });

  it('announces its media state sealed to each verified member, and shows the states members announce', async () => {
    const { session, socket, last } = setup();
    const alice = await member('Alice', ALICE_ID);
    // Set before joining: announced once the membership exists.
    session.setMediaState({ microphone: false, camera: true, screen: false });
    session.join('Me');
    const join = await helloThenJoin(socket(0));
    answer(socket(0), 'join', {
      type: 'joined',
      roomId: ROOM_ID,
      participantId: SELF_ID,
      participants: [
        { id: ALICE_ID, profile: alice.profile },
        { id: 'mallorymallorymallory0', profile: await memberProfile('Mallory', WRONG_SECRET) },
      ],
      role: 'participant',
      settings: SETTINGS,
    });
    await verified(session);
    vi.advanceTimersByTime(500);
    const states = (): Record<string, unknown>[] =>
      socket(0).sentMessages.filter((m) => parseRelayPayload(String(m['payload']))?.t === 'state');
    await until(() => states().length > 0, 'a state relay');
    await flush();
    expect(states().map((m) => m['to'])).toEqual([ALICE_ID]);
    alice.secure.start([{ id: SELF_ID, profile: String(join['profile']) }]);
    await alice.secure.idle();
    await alice.secure.relay(SELF_ID, String(states()[0]?.['payload']), 'control');
    await alice.secure.idle();
    expect(alice.secure.peer(SELF_ID)?.media).toEqual({ microphone: false, camera: true, screen: false });

    // Alice's own state reaches the roster.
    alice.secure.setMediaState({ microphone: true, camera: false, screen: true });
    vi.advanceTimersByTime(500);
    await until(() => alice.sent.some((r) => parseRelayPayload(r.payload)?.t === 'state'), 'alice state');
    const fromAlice = alice.sent.find((r) => parseRelayPayload(r.payload)?.t === 'state');
    socket(0).receive({ type: 'relay', from: ALICE_ID, payload: fromAlice?.payload, kind: 'control' });
    await until(
      () =>
        last().kind === 'joined' &&
        (last() as Extract<SessionState, { kind: 'joined' }>).roster.some((e) => e.id === ALICE_ID && e.media !== null),
      'alice media in the roster',
    );
    expect((last() as Extract<SessionState, { kind: 'joined' }>).roster.find((e) => e.id === ALICE_ID)?.media).toEqual({
      microphone: true,
      camera: false,
      screen: true,
    });
    alice.secure.close();
  });

  it('as a host, moves the meeting: the server gives the room, each verified member gets the secret sealed for it', async () => {
    const NEW_MODERATOR_TOKEN = 'Mo_4-abcdefghijklmnopqrstuvwxyz0123456789AB';
    const { session, socket, sockets, tokens } = setup();
    tokens.save(ROOM_ID, HOST_TOKEN);
    const alice = await member('Alice', ALICE_ID);
    const bob = await member('Bob', BOB_ID);
    session.join('Me');
    const join = await helloThenJoin(socket(0));
    answer(socket(0), 'join', {
      type: 'joined',
      roomId: ROOM_ID,
      participantId: SELF_ID,
      participants: [
        { id: ALICE_ID, profile: alice.profile, role: 'host' },
        { id: BOB_ID, profile: bob.profile, role: 'moderator' },
        {
          id: 'mallorymallorymallory0',
          profile: await memberProfile('Mallory', 'd3Jvbmctd3Jvbmctd3Jvbmctd3Jvbmctd3Jvbmctd3I'),
        },
      ],
      role: 'host',
      settings: SETTINGS,
    });
    await verified(session);
    for (const m of [alice, bob]) {
      m.secure.start([{ id: SELF_ID, profile: String(join['profile']) }]);
      await m.secure.idle();
    }
    const moving = session.moveMeeting();
    await until(() => sentOfType(socket(0), 'move-meeting') !== undefined, 'move-meeting');
    answer(socket(0), 'move-meeting', {
      type: 'meeting-moved',
      roomId: NEW_ROOM,
      hostToken: NEW_HOST_TOKEN,
      moderatorToken: NEW_MODERATOR_TOKEN,
    });
    await until(
      () => socket(0).sentMessages.filter((m) => parseRelayPayload(String(m['payload']))?.t === 'move').length === 2,
      'two moves',
    );
    const moveRelays = socket(0).sentMessages.filter((m) => parseRelayPayload(String(m['payload']))?.t === 'move');
    // The unverified participant gets nothing.
    expect(moveRelays.map((m) => m['to']).sort()).toEqual([ALICE_ID, BOB_ID].sort());
    for (const m of moveRelays) socket(0).receive({ type: 'relayed', id: m['id'] });
    await moving;
    for (const [m, relay] of [alice, bob].map((x) => [x, moveRelays.find((r) => r['to'] === x.id)] as const)) {
      await m.secure.relay(SELF_ID, String(relay?.['payload']), 'control');
    }
    expect(alice.moves).toHaveLength(1);
    expect(alice.moves[0]).toMatchObject({ r: NEW_ROOM, h: NEW_HOST_TOKEN });
    // Hosts follow as hosts, moderators as moderators.
    expect(bob.moves[0]).toEqual({ r: NEW_ROOM, s: alice.moves[0]?.s, m: NEW_MODERATOR_TOKEN });
    // Bob cannot open Alice's copy.
    await bob.secure.relay(SELF_ID, String(moveRelays.find((r) => r['to'] === ALICE_ID)?.['payload']), 'control');
    expect(bob.moves).toHaveLength(1);
    expect(tokens.load(NEW_ROOM)).toBe(NEW_HOST_TOKEN);
    await until(() => sockets.length === 2, 'rejoin');
    expect(await helloThenJoin(socket(1))).toMatchObject({ roomId: NEW_ROOM, hostToken: NEW_HOST_TOKEN });
    alice.secure.close();
    bob.secure.close();
  });

  it('opens the names of people in the lobby for hosts; an unverifiable one is unknown', async () => {
    const { session, socket, last } = setup();
    session.join('Me');
    await helloThenJoin(socket(0));
    answer(socket(0), 'join', {
      type: 'joined',
      roomId: ROOM_ID,
      participantId: SELF_ID,
      participants: [],
      role: 'host',
      settings: SETTINGS,
    });
    await until(() => last().kind === 'joined', 'joined');
    socket(0).receive({
      type: 'lobby',
      waiting: [
        { id: ALICE_ID, profile: await memberProfile('Alice') },
        { id: BOB_ID, profile: await memberProfile('Bob', 'd3Jvbmctd3Jvbmctd3Jvbmctd3Jvbmctd3Jvbmctd3I') },
      ],
    });
    await until(
      () =>
        last().kind === 'joined' &&
        (last() as { meeting: { lobby: { verified: unknown }[] } }).meeting.lobby.every((e) => e.verified !== null),
      'lobby names',
    );
    expect(last()).toMatchObject({
      meeting: {
        lobby: [
          { id: ALICE_ID, name: 'Alice', verified: true },
          { id: BOB_ID, name: null, verified: false },
        ],
      },
    });
    // The lobby gives nobody a key.
    expect(socket(0).sentMessages.filter((m) => m['type'] === 'relay')).toEqual([]);
    const admitting = session.admit(ALICE_ID);
    expect(sentOfType(socket(0), 'admit')).toMatchObject({ participantId: ALICE_ID });
    answer(socket(0), 'admit', { type: 'admitted' });
    await admitting;
    const all = session.admit(null);
    expect(sentOfType(socket(0), 'admit')).toMatchObject({ all: true });
    answer(socket(0), 'admit', { type: 'error', code: 'not-waiting', message: 'nobody' });
    await expect(all).rejects.toMatchObject({ code: 'not-waiting' });
  });

  it('after the code was marked as compared, says that it changed and who joined and left since', async () => {
    const { session, socket, last } = setup();
    session.join('Me');
    await acceptJoin(socket(0), [{ id: ALICE_ID, profile: await memberProfile('Alice') }]);
    await verified(session);
    expect(last()).toMatchObject({ meeting: { compared: null } });
    session.markCodeCompared();
    expect(last()).toMatchObject({ meeting: { compared: { changed: false, joined: [], left: [] } } });
    socket(0).receive({ type: 'participant-joined', participant: { id: BOB_ID, profile: await memberProfile('Bob') } });
    await verified(session);
    socket(0).receive({ type: 'participant-left', participantId: ALICE_ID });
    await verified(session);
    expect(last()).toMatchObject({ meeting: { compared: { changed: true, joined: ['Bob'], left: ['Alice'] } } });
    session.markCodeCompared();
    expect(last()).toMatchObject({ meeting: { compared: { changed: false, joined: [], left: [] } } });
  });

  it('keeps a role a host handed out across a reconnect, and forgets it when demoted', async () => {
    const grant = 'G'.repeat(43);
    const { session, socket, sockets, tokens } = setup();
    session.join('Me');
    expect(await acceptJoin(socket(0))).not.toHaveProperty('hostToken');
    socket(0).receive({ type: 'role', participantId: SELF_ID, role: 'moderator', grant });
    await flush();
    expect(tokens.load(ROOM_ID)).toBe(grant);
    socket(0).serverClose(1006, '');
    vi.advanceTimersByTime(1000);
    await until(() => sockets.length === 2, 'second socket');
    expect((await acceptJoin(socket(1), [], BOB_ID))['hostToken']).toBe(grant);
    // Someone else's promotion is not this browser's credential.
    socket(1).receive({ type: 'role', participantId: ALICE_ID, role: 'host' });
    await flush();
    expect(tokens.load(ROOM_ID)).toBe(grant);
    socket(1).receive({ type: 'role', participantId: BOB_ID, role: 'participant' });
    await flush();
    expect(tokens.load(ROOM_ID)).toBeNull();
  });

  it('joins without a host token the server refuses (not-allowed), instead of failing', async () => {
    const { session, socket, sockets, tokens, last } = setup();
    tokens.save(ROOM_ID, HOST_TOKEN);
    session.join('Me');
    expect((await helloThenJoin(socket(0)))['hostToken']).toBe(HOST_TOKEN);
    answer(socket(0), 'join', { type: 'error', code: 'not-allowed', message: 'not this meeting' });
    await until(() => sockets.length === 2, 'second try');
    expect(await helloThenJoin(socket(1))).not.toHaveProperty('hostToken');
    answer(socket(1), 'join', { type: 'error', code: 'not-allowed', message: 'still' });
    await until(() => last().kind === 'failed', 'failed');
    expect(last()).toEqual({ kind: 'failed', code: 'not-allowed' });
  });
});
