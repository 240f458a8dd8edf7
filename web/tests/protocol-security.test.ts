// The issue 10 messages (meeting security) in the validator and the signaling client: what the
// client accepts from the server, what it would send, and a join that waits before `joined`.
import { describe, expect, it } from 'vitest';
import { SignalingClient } from '../src/protocol/client';
import { validateClientMessage, validateServerMessage } from '../src/protocol/validate';
import { ALICE_ID, BOB_ID, fakeFactory, flush, ROOM_ID, SELF_ID } from './fake-socket';

const SETTINGS = {
  locked: false,
  lobby: true,
  hostMustBePresent: true,
  pinSet: false,
  maxParticipants: 50,
  policies: { unmute: 'everyone', camera: 'moderators', screen: 'moderators', chat: 'everyone', files: 'everyone' },
};
const TOKEN = 'a'.repeat(43);

describe('meeting security messages', () => {
  it('accepts what the server sends', () => {
    const good: unknown[] = [
      { type: 'waiting', id: 2, participantId: SELF_ID, reason: 'lobby' },
      { type: 'waiting', participantId: SELF_ID, reason: 'host-absent' },
      { type: 'lobby', waiting: [{ id: ALICE_ID, profile: 'p' }] },
      { type: 'lobby', waiting: [] },
      { type: 'settings', settings: SETTINGS },
      { type: 'role', participantId: ALICE_ID, role: 'moderator' },
      { type: 'muted-by-host', source: 'microphone', by: ALICE_ID },
      { type: 'unmute-request', source: 'camera', by: ALICE_ID },
      { type: 'settings-updated', id: 3 },
      { type: 'settings-updated', id: 3, settings: SETTINGS },
      { type: 'meeting-moved', id: 4, roomId: ROOM_ID, hostToken: TOKEN, moderatorToken: TOKEN },
      { type: 'security-log', id: 5, entries: [{ at: 1, type: 'removed', actor: ALICE_ID, subject: BOB_ID }] },
      { type: 'error', id: 6, code: 'blocked', message: 'wait', retryAfterMs: 4000 },
      {
        type: 'joined',
        roomId: ROOM_ID,
        participantId: SELF_ID,
        participants: [{ id: ALICE_ID, profile: 'p', role: 'host' }],
        role: 'participant',
        settings: SETTINGS,
      },
    ];
    for (const m of good) {
      const result = validateServerMessage(m);
      expect(result.ok ? '' : result.reason, JSON.stringify(m)).toBe('');
    }
  });

  it('refuses malformed ones', () => {
    const bad: unknown[] = [
      { type: 'settings', settings: { ...SETTINGS, policies: { ...SETTINGS.policies, chat: 'nobody' } } },
      { type: 'settings', settings: { ...SETTINGS, maxParticipants: 0 } },
      { type: 'settings', settings: { ...SETTINGS, locked: 'yes' } },
      {
        type: 'lobby',
        waiting: [
          { id: ALICE_ID, profile: 'p' },
          { id: ALICE_ID, profile: 'q' },
        ],
      },
      { type: 'role', participantId: ALICE_ID, role: 'owner' },
      { type: 'meeting-moved', roomId: ROOM_ID, hostToken: 'short', moderatorToken: TOKEN },
      { type: 'meeting-moved', roomId: ROOM_ID, hostToken: TOKEN },
      { type: 'security-log', entries: [{ at: 1, type: '' }] },
      { type: 'muted-by-host', source: '', by: ALICE_ID },
      { type: 'joined', roomId: ROOM_ID, participantId: SELF_ID, participants: [], role: 'king' },
      { type: 'relay', from: ALICE_ID, payload: 'x', kind: 'secret' },
    ];
    for (const m of bad) expect(validateServerMessage(m).ok, JSON.stringify(m)).toBe(false);
  });

  it('sends only what the server accepts', () => {
    const ok: unknown[] = [
      { type: 'join', roomId: ROOM_ID, profile: 'p', hostToken: TOKEN, pin: '123456' },
      { type: 'set-settings', locked: true, policies: { chat: 'moderators' } },
      { type: 'set-settings', pin: null },
      { type: 'set-settings', pin: '000000000000', maxParticipants: 1000 },
      { type: 'admit', all: true },
      { type: 'admit', participantId: ALICE_ID },
      { type: 'set-role', participantId: ALICE_ID, role: 'host' },
      { type: 'mute', participantId: ALICE_ID, source: 'screen' },
      { type: 'request-unmute', participantId: ALICE_ID, source: 'camera' },
      { type: 'unmute', source: 'microphone' },
      { type: 'remove', participantId: ALICE_ID },
      { type: 'end-meeting' },
      { type: 'move-meeting' },
      { type: 'get-security-log', limit: 200, before: 5 },
      { type: 'relay', payload: 'x', kind: 'chat' },
    ];
    for (const m of ok) expect(validateClientMessage(m), JSON.stringify(m)).toBeNull();
    const bad: unknown[] = [
      { type: 'join', roomId: ROOM_ID, profile: 'p', pin: '12345' },
      { type: 'join', roomId: ROOM_ID, profile: 'p', pin: '12345a' },
      { type: 'join', roomId: ROOM_ID, profile: 'p', hostToken: 'x' },
      { type: 'set-settings', policies: { everything: 'everyone' } },
      { type: 'set-settings', maxParticipants: 1001 },
      { type: 'request-unmute', participantId: ALICE_ID, source: 'screen' },
      { type: 'get-security-log', limit: 201 },
      { type: 'relay', payload: 'x', kind: 'other' },
    ];
    for (const m of bad) expect(validateClientMessage(m), JSON.stringify(m)).not.toBeNull();
  });

  it('resolves a join that waits with `waiting`, and reports the later `joined` as admitted', async () => {
    const { factory, sockets } = fakeFactory();
    const client = new SignalingClient({ url: 'wss://host/ws', socketFactory: factory });
    const connecting = client.connect();
    const socket = sockets[0];
    if (!socket) throw new Error('no socket');
    socket.open();
    await flush();
    socket.receive({ type: 'welcome', id: socket.lastSent()['id'], version: 1, server: 's', maxMessageBytes: 65536 });
    await connecting;
    const admitted: string[] = [];
    client.on('admitted', (joined) => admitted.push(joined.participantId));
    const join = client.join(ROOM_ID, 'p', { hostToken: null, pin: '1234567' });
    expect(socket.lastSent()).toMatchObject({ type: 'join', pin: '1234567' });
    expect(socket.lastSent()).not.toHaveProperty('hostToken');
    socket.receive({ type: 'waiting', id: socket.lastSent()['id'], participantId: SELF_ID, reason: 'lobby' });
    await expect(join).resolves.toMatchObject({ type: 'waiting', reason: 'lobby' });
    socket.receive({ type: 'joined', roomId: ROOM_ID, participantId: SELF_ID, participants: [] });
    expect(admitted).toEqual([SELF_ID]);
    // A `joined` nobody waits for is a protocol violation, as before.
    const violations: string[] = [];
    client.on('protocol-violation', (r) => violations.push(r));
    socket.receive({ type: 'joined', roomId: ROOM_ID, participantId: SELF_ID, participants: [] });
    expect(violations).toHaveLength(1);
    expect(admitted).toHaveLength(1);
  });
});
