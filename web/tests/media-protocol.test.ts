// The media messages of docs/protocol.md ("Media"): validation and the SignalingClient methods.
import { describe, expect, it } from 'vitest';
import { MAX_SDP_LENGTH, type MediaConnection, type SubscribedTrack } from '../src/protocol/messages';
import { validateServerMessage } from '../src/protocol/validate';
import { SignalingClient, SignalingError } from '../src/protocol/client';
import { ALICE_ID, BOB_ID, fakeFactory, flush, type FakeSocket } from './fake-socket';

const OFFER = 'v=0\r\no=- 1 1 IN IP4 127.0.0.1\r\ns=-\r\nt=0 0\r\n';

async function connected(): Promise<{ client: SignalingClient; socket: FakeSocket }> {
  const { factory, sockets } = fakeFactory();
  const client = new SignalingClient({ url: 'wss://host/ws', socketFactory: factory });
  const welcome = client.connect();
  const socket = sockets[0];
  if (!socket) throw new Error('no socket');
  socket.open();
  await flush();
  const hello = socket.lastSent();
  socket.receive({ type: 'welcome', id: hello['id'], version: 1, server: 'conclave', maxMessageBytes: 65536 });
  await welcome;
  return { client, socket };
}

const GOOD: Record<string, unknown>[] = [
  { type: 'publish-answer', id: 7, sdp: OFFER },
  { type: 'subscribe-ok', id: 8 },
  { type: 'subscribe-offer', sdp: OFFER, tracks: [] },
  {
    type: 'subscribe-offer',
    sdp: OFFER,
    tracks: [
      { mid: '0', kind: 'audio', participantId: ALICE_ID, source: 'microphone' },
      { mid: '1', kind: 'video', participantId: ALICE_ID, source: 'camera' },
      { mid: 'v2', kind: 'video', participantId: BOB_ID, source: 'screen' },
      // A source a later server may add is passed on; the view ignores what it does not know.
      { mid: '3', kind: 'audio', participantId: BOB_ID, source: 'music' },
    ],
  },
  { type: 'media-failed', connection: 'publish' },
  { type: 'media-failed', connection: 'subscribe' },
  { type: 'error', id: 9, code: 'negotiation-failed', message: 'missing-fingerprint (line 12)' },
];

const track = (overrides: Record<string, unknown>): Record<string, unknown> => ({
  mid: '0',
  kind: 'audio',
  participantId: ALICE_ID,
  source: 'microphone',
  ...overrides,
});

const BAD: [string, unknown][] = [
  ['publish-answer without sdp', { type: 'publish-answer', id: 1 }],
  ['publish-answer sdp not a string', { type: 'publish-answer', id: 1, sdp: 5 }],
  ['subscribe-offer without tracks', { type: 'subscribe-offer', sdp: OFFER }],
  ['subscribe-offer tracks not an array', { type: 'subscribe-offer', sdp: OFFER, tracks: {} }],
  ['subscribe-offer track is null', { type: 'subscribe-offer', sdp: OFFER, tracks: [null] }],
  ['subscribe-offer kind "data"', { type: 'subscribe-offer', sdp: OFFER, tracks: [track({ kind: 'data' })] }],
  [
    'subscribe-offer bad participantId',
    { type: 'subscribe-offer', sdp: OFFER, tracks: [track({ participantId: 'x' })] },
  ],
  ['subscribe-offer empty mid', { type: 'subscribe-offer', sdp: OFFER, tracks: [track({ mid: '' })] }],
  ['subscribe-offer mid with a space', { type: 'subscribe-offer', sdp: OFFER, tracks: [track({ mid: 'a b' })] }],
  ['subscribe-offer mid too long', { type: 'subscribe-offer', sdp: OFFER, tracks: [track({ mid: 'm'.repeat(33) })] }],
  ['subscribe-offer source missing', { type: 'subscribe-offer', sdp: OFFER, tracks: [track({ source: undefined })] }],
  [
    'subscribe-offer duplicate mid',
    { type: 'subscribe-offer', sdp: OFFER, tracks: [track({}), track({ kind: 'video', source: 'camera' })] },
  ],
  ['media-failed unknown connection', { type: 'media-failed', connection: 'both' }],
  ['media-failed without connection', { type: 'media-failed' }],
];

describe('media messages', () => {
  it.each(GOOD.map((m) => [m['type'], m] as const))('accepts a good %s', (_type, message) => {
    const result = validateServerMessage(message);
    expect(result.ok).toBe(true);
    if (result.ok) expect(result.message).toEqual(message);
  });

  it.each(BAD)('rejects %s', (_name, message) => {
    expect(validateServerMessage(message).ok).toBe(false);
  });

  it('drops unknown fields inside subscribed tracks', () => {
    const result = validateServerMessage({
      type: 'subscribe-offer',
      sdp: OFFER,
      tracks: [{ ...track({}), ssrc: 1234 }],
      batch: 3,
    });
    expect(result).toEqual({ ok: true, message: { type: 'subscribe-offer', sdp: OFFER, tracks: [track({})] } });
  });
});

describe('SignalingClient media', () => {
  it('publishes an offer with its tracks and resolves with the answer SDP', async () => {
    const { client, socket } = await connected();
    const answer = client.publish(OFFER, [
      { mid: '0', source: 'microphone' },
      { mid: '1', source: 'camera' },
    ]);
    const request = socket.lastSent();
    expect(request).toEqual({
      type: 'publish',
      id: request['id'],
      sdp: OFFER,
      tracks: [
        { mid: '0', source: 'microphone' },
        { mid: '1', source: 'camera' },
      ],
    });
    socket.receive({ type: 'publish-answer', id: request['id'], sdp: 'answer-sdp' });
    await expect(answer).resolves.toBe('answer-sdp');
  });

  it('sends only the documented fields of each track', async () => {
    const { client, socket } = await connected();
    const extra = { mid: '0', source: 'camera', label: 'FaceTime HD' } as unknown as { mid: string; source: 'camera' };
    void client.publish(OFFER, [extra]);
    expect(socket.lastSent()['tracks']).toEqual([{ mid: '0', source: 'camera' }]);
  });

  it('rejects a refused offer with the server error code', async () => {
    const { client, socket } = await connected();
    const answer = client.publish(OFFER, []);
    socket.receive({
      type: 'error',
      id: socket.lastSent()['id'],
      code: 'negotiation-failed',
      message: 'no-bundle (line 4)',
    });
    await expect(answer).rejects.toMatchObject({ code: 'negotiation-failed', message: 'no-bundle (line 4)' });
  });

  it('refuses to send an SDP over the documented limit or too many tracks', async () => {
    const { client, socket } = await connected();
    const sent = socket.sent.length;
    await expect(client.publish('x'.repeat(MAX_SDP_LENGTH + 1), [])).rejects.toBeInstanceOf(SignalingError);
    await expect(client.subscribeAnswer('x'.repeat(MAX_SDP_LENGTH + 1))).rejects.toMatchObject({
      code: 'too-large-local',
    });
    const many = Array.from({ length: 17 }, (_, i) => ({ mid: String(i), source: 'camera' as const }));
    await expect(client.publish(OFFER, many)).rejects.toMatchObject({ code: 'too-large-local' });
    expect(socket.sent.length).toBe(sent);
  });

  it('answers a subscribe offer and resolves on subscribe-ok', async () => {
    const { client, socket } = await connected();
    const offers: { sdp: string; tracks: SubscribedTrack[] }[] = [];
    client.on('subscribe-offer', (offer) => offers.push(offer));
    const tracks = [track({}) as unknown as SubscribedTrack];
    socket.receive({ type: 'subscribe-offer', sdp: OFFER, tracks });
    expect(offers).toEqual([{ sdp: OFFER, tracks }]);
    const ok = client.subscribeAnswer('answer');
    const request = socket.lastSent();
    expect(request).toEqual({ type: 'subscribe-answer', id: request['id'], sdp: 'answer' });
    socket.receive({ type: 'subscribe-ok', id: request['id'] });
    await expect(ok).resolves.toBeUndefined();
  });

  it('rejects an answer with invalid-state', async () => {
    const { client, socket } = await connected();
    const ok = client.subscribeAnswer('answer');
    socket.receive({ type: 'error', id: socket.lastSent()['id'], code: 'invalid-state', message: 'no offer' });
    await expect(ok).rejects.toMatchObject({ code: 'invalid-state' });
  });

  it('asks for a subscribe restart', async () => {
    const { client, socket } = await connected();
    const ok = client.subscribeRestart();
    const request = socket.lastSent();
    expect(request).toEqual({ type: 'subscribe-restart', id: request['id'] });
    socket.receive({ type: 'subscribe-ok', id: request['id'] });
    await expect(ok).resolves.toBeUndefined();
  });

  it('emits media-failed', async () => {
    const { client, socket } = await connected();
    const failed: MediaConnection[] = [];
    client.on('media-failed', (connection) => failed.push(connection));
    socket.receive({ type: 'media-failed', connection: 'subscribe' });
    socket.receive({ type: 'media-failed', connection: 'publish' });
    expect(failed).toEqual(['subscribe', 'publish']);
  });

  it('treats a malformed subscribe offer as a protocol violation and does not pass it on', async () => {
    const { client, socket } = await connected();
    const offers: unknown[] = [];
    const violations: string[] = [];
    client.on('subscribe-offer', (offer) => offers.push(offer));
    client.on('protocol-violation', (reason) => violations.push(reason));
    socket.receive({ type: 'subscribe-offer', sdp: OFFER, tracks: [track({ kind: 'text' })] });
    expect(offers).toEqual([]);
    expect(violations).toHaveLength(1);
  });
});
