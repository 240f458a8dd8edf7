// Playing the server for MeetingSession with real end-to-end encryption: the session seals its
// profile with real WebCrypto before it joins, so the helpers wait for real async work.
import { generateIdentity } from '../src/e2ee';
import { openMemberProfile, sealOwnProfile } from '../src/profile';
import type { MeetingSession } from '../src/session';
import { flush, ROOM_ID, SELF_ID, type FakeSocket } from './fake-socket';
import { roomKeys, until } from './secure/helpers';

/** Fake timers for the session's own timers; setImmediate stays real so crypto can finish. */
export const SESSION_FAKE_TIMERS = {
  toFake: ['setTimeout', 'clearTimeout', 'setInterval', 'clearInterval', 'Date'] as const,
};

/** A member's `profile` string made with the room secret (or with `secret`). */
export async function memberProfile(name: string, secret?: string): Promise<string> {
  return sealOwnProfile(await roomKeys(secret), await generateIdentity(), { name });
}

/** The name inside a profile this client sent; null when it does not verify with the secret. */
export async function nameIn(profile: unknown): Promise<string | null> {
  if (typeof profile !== 'string') return null;
  const opened = await openMemberProfile(await roomKeys(), profile);
  return opened.ok ? (opened.profile?.name ?? null) : null;
}

/** The Ed25519 public key (`ed`) in the envelope of a profile this client sent. */
export function signingKeyOf(profile: unknown): unknown {
  return (JSON.parse(String(profile)) as Record<string, unknown>)['ed'];
}

function sentOfType(socket: FakeSocket, type: string): Record<string, unknown> | undefined {
  return socket.sentMessages.filter((m) => m['type'] === type).at(-1);
}

/** hello → welcome and join → joined on one socket; returns the `join` the client sent. */
export async function acceptJoin(
  socket: FakeSocket,
  others: { id: string; profile: string }[] = [],
  selfId = SELF_ID,
): Promise<Record<string, unknown>> {
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
  const join = sentOfType(socket, 'join') ?? {};
  socket.receive({ type: 'joined', id: join['id'], roomId: ROOM_ID, participantId: selfId, participants: others });
  await flush();
  return join;
}

/** Waits until the session checked every participant's profile. */
export async function verified(session: MeetingSession): Promise<void> {
  await until(
    () =>
      session.state.kind === 'joined' &&
      session.state.roster.every((e) => e.trust !== 'verifying') &&
      session.state.security.code !== null,
    'verification',
  );
  await session.secure?.idle();
}
