// MeetingSession and its media side: attached after every `joined`, detached when the
// connection goes away, so a reconnect (a new participant id) gets fresh peer connections.
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import type { MediaSignaling } from '../src/media/call';
import type { MediaAttachment } from '../src/media/controller';
import { MeetingSession } from '../src/session';
import { ALICE_ID, fakeFactory, flush, ROOM_ID, SELF_ID, type FakeSocket } from './fake-socket';
import { RecordingSink, SECRET, until } from './secure/helpers';
import { acceptJoin as acceptJoinWith, memberProfile, SESSION_FAKE_TIMERS, verified } from './session-helpers';

const SECOND_ID = 'secondSecondSecondSeco';

class RecordingMedia implements MediaAttachment {
  readonly events: string[] = [];
  readonly keys = new RecordingSink();
  signaling: MediaSignaling | null = null;
  attach(signaling: MediaSignaling, selfId: string): void {
    this.signaling = signaling;
    this.events.push(`attach ${selfId}`);
  }
  detach(): void {
    this.events.push('detach');
  }
}

async function acceptJoin(socket: FakeSocket, selfId: string): Promise<void> {
  await acceptJoinWith(socket, [], selfId);
}

function setup() {
  const { factory, sockets } = fakeFactory();
  const media = new RecordingMedia();
  const session = new MeetingSession({
    roomId: ROOM_ID,
    secret: SECRET,
    url: 'wss://host/ws',
    socketFactory: factory,
    onState: () => undefined,
    random: () => 0.5,
    media,
  });
  const socket = (i: number): FakeSocket => {
    const s = sockets[i];
    if (!s) throw new Error(`no socket ${i}`);
    return s;
  };
  return { session, media, socket, sockets };
}

describe('MeetingSession media', () => {
  beforeEach(() => {
    vi.useFakeTimers({ toFake: [...SESSION_FAKE_TIMERS.toFake] });
  });
  afterEach(() => {
    vi.useRealTimers();
  });

  it('attaches the media right after joined, before any later message is handled', async () => {
    const { session, media, socket } = setup();
    session.join('Me');
    expect(media.events).toEqual([]);
    const s = socket(0);
    s.open();
    await until(() => s.sent.length === 1, 'hello');
    s.receive({ type: 'welcome', id: s.lastSent()['id'], version: 1, server: 't', maxMessageBytes: 65536 });
    await until(() => s.sent.length === 2, 'join');
    // `joined` and the first subscribe offer in one go: the offer must reach the attached media.
    const offers: string[] = [];
    s.receive({ type: 'joined', id: s.lastSent()['id'], roomId: ROOM_ID, participantId: SELF_ID, participants: [] });
    await flush();
    media.signaling?.on('subscribe-offer', (offer) => offers.push(offer.sdp));
    s.receive({ type: 'subscribe-offer', sdp: 'offer', tracks: [] });
    expect(media.events).toEqual([`attach ${SELF_ID}`]);
    expect(offers).toEqual(['offer']);
  });

  it('detaches when the connection drops and attaches again with the new participant id', async () => {
    const { session, media, socket, sockets } = setup();
    session.join('Me');
    await acceptJoin(socket(0), SELF_ID);
    socket(0).serverClose(1006, '');
    expect(media.events).toEqual([`attach ${SELF_ID}`, 'detach']);
    vi.advanceTimersByTime(1000);
    await until(() => sockets.length === 2, 'second socket');
    await acceptJoin(socket(1), SECOND_ID);
    expect(media.events).toEqual([`attach ${SELF_ID}`, 'detach', `attach ${SECOND_ID}`]);
  });

  it('detaches on leave, on goodbye and on dispose', async () => {
    const { session, media, socket, sockets } = setup();
    session.join('Me');
    await acceptJoin(socket(0), SELF_ID);
    const leaving = session.leave();
    await flush();
    socket(0).receive({ type: 'left', id: socket(0).lastSent()['id'] });
    await leaving;
    expect(media.events).toEqual([`attach ${SELF_ID}`, 'detach']);

    session.join('Me');
    await until(() => sockets.length === 2, 'second socket');
    await acceptJoin(socket(1), SECOND_ID);
    socket(1).receive({ type: 'goodbye', reason: 'server-restart', retryAfterMs: 500 });
    expect(media.events.at(-1)).toBe('detach');
    expect(media.events.filter((e) => e === 'detach')).toHaveLength(2);
  });

  it('hands the media keys of each membership to the frame transforms', async () => {
    const { session, media, socket } = setup();
    session.join('Me');
    await acceptJoinWith(socket(0), [{ id: ALICE_ID, profile: await memberProfile('Alice') }], SELF_ID);
    await verified(session);
    expect(media.keys.log[0]).toMatch(/^send-key 0 \d+$/);
    expect(media.keys.log).toContain(`add ${ALICE_ID}`);
    expect(media.keys.sendKey?.generation).toBe(0);
  });
});
