import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { Call, DISCONNECTED_GRACE_MS, PEER_CONNECTION_CONFIG, STALL_PING_TIMEOUT_MS } from '../src/media/call';
import { SignalingError } from '../src/protocol/client';
import type { MediaConnection, SubscribedTrack } from '../src/protocol/messages';
import { ALICE_ID, BOB_ID, SELF_ID } from './fake-socket';
import { deferred, FakePeerConnection, FakeSignaling, FakeTrack, FakeTransforms, settle } from './fake-webrtc';

const CAPABILITIES = {
  audio: [
    { mimeType: 'audio/opus', clockRate: 48000, channels: 2 },
    { mimeType: 'audio/PCMU', clockRate: 8000 },
  ],
  video: [
    { mimeType: 'video/VP8', clockRate: 90000 },
    { mimeType: 'video/H264', clockRate: 90000 },
    { mimeType: 'video/rtx', clockRate: 90000 },
  ],
};

function setup(transforms = new FakeTransforms()) {
  FakePeerConnection.created = [];
  const signaling = new FakeSignaling();
  const errors: [MediaConnection, unknown][] = [];
  const lost: MediaConnection[] = [];
  let changes = 0;
  const call = new Call({
    signaling,
    selfId: SELF_ID,
    transforms,
    onChange: () => changes++,
    onError: (connection, error) => errors.push([connection, error]),
    onLost: (connection) => lost.push(connection),
    iceRestartTimeoutMs: 8000,
    createPeerConnection: (config) => new FakePeerConnection(config) as unknown as RTCPeerConnection,
    codecCapabilities: (kind) => ({ codecs: CAPABILITIES[kind] as RTCRtpCodec[] }),
  });
  const subscribePc = FakePeerConnection.created[0];
  if (!subscribePc) throw new Error('no subscribe connection');
  const publishPc = (): FakePeerConnection => {
    const pc = FakePeerConnection.created[1];
    if (!pc) throw new Error('no publish connection');
    return pc;
  };
  return { call, signaling, errors, lost, subscribePc, publishPc, transforms, changes: () => changes };
}

const stream = {} as MediaStream;
const asTrack = (t: FakeTrack): MediaStreamTrack => t as unknown as MediaStreamTrack;

const aliceMic: SubscribedTrack = { mid: '0', kind: 'audio', participantId: ALICE_ID, source: 'microphone' };
const aliceCam: SubscribedTrack = { mid: '1', kind: 'video', participantId: ALICE_ID, source: 'camera' };
const bobMic: SubscribedTrack = { mid: '2', kind: 'audio', participantId: BOB_ID, source: 'microphone' };
const bobCam: SubscribedTrack = { mid: '3', kind: 'video', participantId: BOB_ID, source: 'camera' };
const ALL_SECTIONS = '0=audio 1=video 2=audio 3=video';

describe('Call: publish', () => {
  beforeEach(() => {
    FakeTrack.next = 1;
  });

  it('creates the subscribe connection at once, with the documented configuration', () => {
    const { subscribePc } = setup();
    expect(subscribePc.config).toEqual(PEER_CONNECTION_CONFIG);
    expect(PEER_CONNECTION_CONFIG).toEqual({ bundlePolicy: 'max-bundle', rtcpMuxPolicy: 'require', iceServers: [] });
    expect(FakePeerConnection.created).toHaveLength(1);
  });

  it('sends microphone and camera in one publish offer with their mids and sources', async () => {
    const { call, signaling, publishPc } = setup();
    const mic = new FakeTrack('audio');
    const cam = new FakeTrack('video');
    const done = Promise.all([
      call.setTrack('microphone', asTrack(mic), stream),
      call.setTrack('camera', asTrack(cam), stream),
    ]);
    await settle();
    const pc = publishPc();
    expect(pc.config).toEqual(PEER_CONNECTION_CONFIG);
    expect(pc.transceivers.map((t) => t.direction)).toEqual(['sendonly', 'sendonly']);
    expect(pc.transceivers[0]?.sender.streams).toEqual([stream]);
    expect(signaling.count('publish')).toBe(1);
    const publish = signaling.last('publish');
    expect(publish.sdp).toBe('offer-1 [0:sendonly,1:sendonly]');
    expect(publish.tracks).toEqual([
      { mid: '0', source: 'microphone' },
      { mid: '1', source: 'camera' },
    ]);
    publish.reply.resolve('answer-1');
    await done;
    expect(pc.remoteDescription).toEqual({ type: 'answer', sdp: 'answer-1' });
    expect(pc.signalingState).toBe('stable');
    expect(pc.transceivers.map((t) => [t.mid, t.direction])).toEqual([
      ['0', 'sendonly'],
      ['1', 'sendonly'],
    ]);
  });

  it('limits the codecs to Opus and VP8 (+RTX)', async () => {
    const { call, publishPc } = setup();
    void call.setTrack('microphone', asTrack(new FakeTrack('audio')), stream);
    void call.setTrack('camera', asTrack(new FakeTrack('video')), stream);
    await settle();
    const [audio, video] = publishPc().transceivers;
    expect(audio?.codecPreferences?.map((c) => c.mimeType)).toEqual(['audio/opus']);
    expect(video?.codecPreferences?.map((c) => c.mimeType)).toEqual(['video/VP8', 'video/rtx']);
  });

  it('adds the screen as a third transceiver, and leaves it inactive when sharing stops', async () => {
    const { call, signaling, publishPc } = setup();
    void call.setTrack('microphone', asTrack(new FakeTrack('audio')), stream);
    void call.setTrack('camera', asTrack(new FakeTrack('video')), stream);
    await settle();
    signaling.last('publish').reply.resolve('answer-1');
    await settle();

    const screen = new FakeTrack('video');
    const shared = call.setTrack('screen', asTrack(screen), {} as MediaStream);
    await settle();
    expect(signaling.count('publish')).toBe(2);
    expect(signaling.last('publish').tracks).toEqual([
      { mid: '0', source: 'microphone' },
      { mid: '1', source: 'camera' },
      { mid: '2', source: 'screen' },
    ]);
    signaling.last('publish').reply.resolve('answer-2');
    await shared;

    const stopped = call.setTrack('screen', null, null);
    await settle();
    const screenTransceiver = publishPc().transceivers[2];
    expect(screenTransceiver?.sender.track).toBeNull();
    expect(screenTransceiver?.direction).toBe('inactive');
    expect(signaling.count('publish')).toBe(3);
    expect(signaling.last('publish').tracks).toEqual([
      { mid: '0', source: 'microphone' },
      { mid: '1', source: 'camera' },
    ]);
    signaling.last('publish').reply.resolve('answer-3');
    await stopped;

    // Sharing again reuses the inactive transceiver: no new m-section.
    const again = call.setTrack('screen', asTrack(new FakeTrack('video')), {} as MediaStream);
    await settle();
    expect(publishPc().transceivers).toHaveLength(3);
    expect(screenTransceiver?.direction).toBe('sendonly');
    expect(signaling.last('publish').tracks.at(-1)).toEqual({ mid: '2', source: 'screen' });
    signaling.last('publish').reply.resolve('answer-4');
    await again;
  });

  it('replaces a track of the same source without renegotiating', async () => {
    const { call, signaling, publishPc } = setup();
    void call.setTrack('camera', asTrack(new FakeTrack('video')), stream);
    await settle();
    signaling.last('publish').reply.resolve('answer-1');
    await settle();
    const next = new FakeTrack('video');
    await call.setTrack('camera', asTrack(next), stream);
    expect(publishPc().transceivers[0]?.sender.track).toBe(next);
    expect(signaling.count('publish')).toBe(1);
  });

  it('does not start a second offer while one waits for its answer', async () => {
    const { call, signaling, publishPc } = setup();
    void call.setTrack('microphone', asTrack(new FakeTrack('audio')), stream);
    await settle();
    void call.setTrack('camera', asTrack(new FakeTrack('video')), stream);
    void call.setTrack('screen', asTrack(new FakeTrack('video')), stream);
    await settle();
    expect(signaling.count('publish')).toBe(1);
    signaling.last('publish').reply.resolve('answer-1');
    await settle();
    expect(signaling.count('publish')).toBe(2);
    expect(signaling.last('publish').tracks.map((t) => t.source)).toEqual(['microphone', 'camera', 'screen']);
    expect(publishPc().log.filter((l) => l.startsWith('createOffer'))).toHaveLength(2);
  });

  it('rolls back a refused offer, reports it, and negotiates again on the next change', async () => {
    const { call, signaling, errors, publishPc } = setup();
    void call.setTrack('microphone', asTrack(new FakeTrack('audio')), stream);
    await settle();
    signaling.last('publish').reply.reject(Object.assign(new Error('no'), { code: 'negotiation-failed' }));
    await settle();
    expect(errors).toHaveLength(1);
    expect(errors[0]?.[0]).toBe('publish');
    expect(publishPc().signalingState).toBe('stable');
    expect(publishPc().log).toContain('setLocalDescription rollback');
    void call.setTrack('camera', asTrack(new FakeTrack('video')), stream);
    await settle();
    expect(signaling.count('publish')).toBe(2);
  });

  it('restarts ICE on the publish connection when it fails or the server says media-failed', async () => {
    const { call, signaling, publishPc } = setup();
    void call.setTrack('microphone', asTrack(new FakeTrack('audio')), stream);
    await settle();
    signaling.last('publish').reply.resolve('answer-1');
    await settle();
    publishPc().setConnectionState('failed');
    await settle();
    expect(publishPc().offerOptions.at(-1)).toEqual({ iceRestart: true });
    expect(signaling.count('publish')).toBe(2);
    signaling.last('publish').reply.resolve('answer-2');
    await settle();
    signaling.mediaFailed('publish');
    await settle();
    expect(publishPc().offerOptions).toEqual([{}, { iceRestart: true }, { iceRestart: true }]);
    expect(call.states.publish).toBe('failed');
  });

  it('remembers that the server refused the media until it accepts an offer', async () => {
    const { call, signaling } = setup();
    expect(call.publishing).toBe(false);
    void call.setTrack('microphone', asTrack(new FakeTrack('audio')), stream);
    await settle();
    expect(call.publishing).toBe(true);
    expect(call.publishError).toBeNull();
    signaling.last('publish').reply.reject(Object.assign(new Error('no'), { code: 'too-many-tracks' }));
    await settle();
    expect(call.publishError).toBe('too-many-tracks');
    void call.setTrack('camera', asTrack(new FakeTrack('video')), stream);
    await settle();
    // A request that got no answer is not a refusal: the last verdict stays.
    signaling.last('publish').reply.reject(Object.assign(new Error('gone'), { code: 'closed' }));
    await settle();
    expect(call.publishError).toBe('too-many-tracks');
    void call.setTrack('screen', asTrack(new FakeTrack('video')), stream);
    await settle();
    signaling.last('publish').reply.resolve('answer-3');
    await settle();
    expect(call.publishError).toBeNull();
  });

  it('ignores media-failed for publish before anything was published', async () => {
    vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout'] });
    try {
      const { signaling, lost } = setup();
      signaling.mediaFailed('publish');
      await settle();
      expect(signaling.calls).toEqual([]);
      expect(FakePeerConnection.created).toHaveLength(1);
      // Nothing to restart, so nothing lost: a receive-only participant is not made to rejoin.
      vi.advanceTimersByTime(60000);
      expect(lost).toEqual([]);
    } finally {
      vi.useRealTimers();
    }
  });
});

describe('Call: subscribe', () => {
  it('answers an offer and groups the received tracks by participant', async () => {
    const { call, signaling, subscribePc, changes } = setup();
    signaling.offer(`offer-1 ${ALL_SECTIONS}`, [aliceMic, aliceCam, bobMic, bobCam]);
    await settle();
    const answer = signaling.last('subscribe-answer');
    expect(answer.sdp).toBe(`answer-to-offer-1 ${ALL_SECTIONS}`);
    expect(subscribePc.log).toEqual(['setRemoteDescription offer', 'createAnswer', 'setLocalDescription answer']);
    expect(call.remote.map((p) => [p.participantId, p.tracks.map((t) => `${t.mid}:${t.source}`)])).toEqual([
      [ALICE_ID, ['0:microphone', '1:camera']],
      [BOB_ID, ['2:microphone', '3:camera']],
    ]);
    const aliceCamTrack = call.remote[0]?.tracks[1]?.track;
    expect(aliceCamTrack).toBe(subscribePc.transceivers.find((t) => t.mid === '1')?.receiver.track);
    expect(changes()).toBeGreaterThan(0);
    answer.reply.resolve();
    await settle();
    expect(signaling.count('subscribe-answer')).toBe(1);
  });

  it('drops a participant whose sections became inactive in the next offer', async () => {
    const { call, signaling } = setup();
    signaling.offer(`offer-1 ${ALL_SECTIONS}`, [aliceMic, aliceCam, bobMic, bobCam]);
    await settle();
    signaling.last('subscribe-answer').reply.resolve();
    await settle();
    signaling.offer(`offer-2 ${ALL_SECTIONS}`, [bobMic, bobCam]);
    await settle();
    expect(signaling.count('subscribe-answer')).toBe(2);
    expect(call.remote.map((p) => p.participantId)).toEqual([BOB_ID]);
  });

  it('handles offers strictly one after the other', async () => {
    const { signaling, subscribePc } = setup();
    const gate = deferred<void>();
    subscribePc.gate = gate.promise;
    signaling.offer('offer-1 0=audio', [aliceMic]);
    signaling.offer('offer-2 0=audio 1=video', [aliceMic, aliceCam]);
    await settle();
    expect(subscribePc.log).toEqual([]);
    subscribePc.gate = null;
    gate.resolve();
    await settle();
    expect(subscribePc.log).toEqual(['setRemoteDescription offer', 'createAnswer', 'setLocalDescription answer']);
    // The second offer waits until the answer to the first was acknowledged.
    signaling.last('subscribe-answer').reply.resolve();
    await settle();
    expect(subscribePc.log).toHaveLength(6);
    expect(signaling.calls.map((c) => (c.type === 'subscribe-answer' ? c.sdp : c.type))).toEqual([
      'answer-to-offer-1 0=audio',
      'answer-to-offer-2 0=audio 1=video',
    ]);
  });

  it('rolls back an offer it cannot apply and reports it', async () => {
    const { call, signaling, errors, subscribePc } = setup();
    signaling.offer('BROKEN', [aliceMic]);
    await settle();
    expect(errors.map((e) => e[0])).toEqual(['subscribe']);
    expect(signaling.count('subscribe-answer')).toBe(0);
    expect(call.remote).toEqual([]);
    signaling.offer('offer-2 0=audio', [aliceMic]);
    await settle();
    expect(signaling.count('subscribe-answer')).toBe(1);
    expect(subscribePc.signalingState).toBe('stable');
  });

  it('asks for a subscribe restart once when the connection fails or media-failed arrives', async () => {
    const { signaling, subscribePc } = setup();
    subscribePc.setConnectionState('failed');
    signaling.mediaFailed('subscribe');
    await settle();
    expect(signaling.count('subscribe-restart')).toBe(1);
    signaling.last('subscribe-restart').reply.resolve();
    await settle();
    signaling.mediaFailed('subscribe');
    await settle();
    expect(signaling.count('subscribe-restart')).toBe(2);
  });

  describe('when an ICE restart does not help', () => {
    beforeEach(() => {
      vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout'] });
    });
    afterEach(() => {
      vi.useRealTimers();
    });

    it('gives up (onLost) when the connection is not back in time, so the session rejoins', async () => {
      const { signaling, subscribePc, lost } = setup();
      subscribePc.setConnectionState('failed');
      await settle();
      expect(signaling.count('subscribe-restart')).toBe(1);
      vi.advanceTimersByTime(7999);
      expect(lost).toEqual([]);
      subscribePc.setConnectionState('connecting');
      vi.advanceTimersByTime(1);
      expect(lost).toEqual(['subscribe']);
    });

    it('does not give up on a restart that worked', async () => {
      const { call, signaling, publishPc, lost } = setup();
      void call.setTrack('microphone', asTrack(new FakeTrack('audio')), stream);
      await settle();
      signaling.last('publish').reply.resolve('answer-1');
      await settle();
      publishPc().setConnectionState('failed');
      await settle();
      signaling.last('publish').reply.resolve('answer-2');
      await settle();
      publishPc().setConnectionState('connected');
      vi.advanceTimersByTime(60000);
      expect(lost).toEqual([]);
      // A later failure gets its own deadline.
      publishPc().setConnectionState('failed');
      await settle();
      vi.advanceTimersByTime(8000);
      expect(lost).toEqual(['publish']);
    });

    it('checks the signaling connection of a connection that stays disconnected: no answer means a rejoin', async () => {
      const { signaling, subscribePc, lost } = setup();
      subscribePc.setConnectionState('disconnected');
      vi.advanceTimersByTime(DISCONNECTED_GRACE_MS - 1);
      expect(signaling.count('ping')).toBe(0);
      vi.advanceTimersByTime(1);
      expect(signaling.count('ping')).toBe(1);
      expect(signaling.last('ping').timeoutMs).toBe(STALL_PING_TIMEOUT_MS);
      signaling.last('ping').reply.reject(new SignalingError('timeout', 'no reply to ping'));
      await settle();
      expect(lost).toEqual(['subscribe']);
      expect(signaling.count('subscribe-restart')).toBe(0);
    });

    it('restarts ICE on a connection that stays disconnected while the server answers', async () => {
      const { signaling, subscribePc, lost } = setup();
      subscribePc.setConnectionState('disconnected');
      vi.advanceTimersByTime(DISCONNECTED_GRACE_MS);
      signaling.last('ping').reply.resolve();
      await settle();
      expect(signaling.count('subscribe-restart')).toBe(1);
      expect(lost).toEqual([]);
      // A refusal is an answer too: the server is there.
      subscribePc.setConnectionState('connected');
      subscribePc.setConnectionState('disconnected');
      vi.advanceTimersByTime(DISCONNECTED_GRACE_MS);
      signaling.last('ping').reply.reject(new SignalingError('rate-limited', 'slow down'));
      await settle();
      expect(lost).toEqual([]);
    });

    it('leaves a connection alone that recovers by itself within the grace period', async () => {
      const { signaling, subscribePc, lost } = setup();
      subscribePc.setConnectionState('disconnected');
      vi.advanceTimersByTime(DISCONNECTED_GRACE_MS - 1);
      subscribePc.setConnectionState('connected');
      vi.advanceTimersByTime(60000);
      expect(signaling.count('ping')).toBe(0);
      expect(signaling.count('subscribe-restart')).toBe(0);
      expect(lost).toEqual([]);
      // Recovering while the ping is on its way: no restart either.
      subscribePc.setConnectionState('disconnected');
      vi.advanceTimersByTime(DISCONNECTED_GRACE_MS);
      subscribePc.setConnectionState('connected');
      signaling.last('ping').reply.resolve();
      await settle();
      expect(signaling.count('subscribe-restart')).toBe(0);
    });

    it('gives up on nothing once closed', async () => {
      const { call, subscribePc, lost } = setup();
      subscribePc.setConnectionState('failed');
      await settle();
      call.close();
      vi.advanceTimersByTime(60000);
      expect(lost).toEqual([]);
    });
  });

  it('stops listening and closes both connections on close', async () => {
    const { call, signaling, subscribePc, publishPc } = setup();
    void call.setTrack('microphone', asTrack(new FakeTrack('audio')), stream);
    await settle();
    expect(signaling.handlerCount()).toBe(3);
    call.close();
    expect(signaling.handlerCount()).toBe(0);
    expect(subscribePc.closed).toBe(true);
    expect(publishPc().closed).toBe(true);
    signaling.last('publish').reply.resolve('late answer');
    await settle();
    expect(publishPc().remoteDescription).toBeNull();
    signaling.offer('offer-1 0=audio', [aliceMic]);
    await settle();
    expect(signaling.count('subscribe-answer')).toBe(0);
    expect(call.remote).toEqual([]);
  });
});

describe('Call: end-to-end encryption', () => {
  beforeEach(() => {
    FakeTrack.next = 1;
  });

  it('puts a transform on every sender before the first offer', async () => {
    const { call, signaling, publishPc, transforms } = setup();
    void call.setTrack('microphone', asTrack(new FakeTrack('audio')), stream);
    void call.setTrack('camera', asTrack(new FakeTrack('video')), stream);
    await settle();
    expect(transforms.log).toEqual(['send microphone audio', 'send camera video']);
    expect(transforms.senders).toEqual(publishPc().transceivers.map((t) => t.sender));
    expect(signaling.count('publish')).toBe(1);
    // A stopped and restarted source keeps its transceiver and its transform.
    signaling.last('publish').reply.resolve('answer-1');
    await settle();
    await call.setTrack('camera', asTrack(new FakeTrack('video')), stream);
    expect(transforms.log).toHaveLength(2);
  });

  it('puts a transform on every receiver before answering, bound to the track owner', async () => {
    const { signaling, subscribePc, transforms } = setup();
    signaling.offer(`offer-1 ${ALL_SECTIONS}`, [aliceMic, aliceCam, bobMic, bobCam]);
    await settle();
    expect(transforms.log).toEqual([
      `receive 0 audio ${ALICE_ID}/microphone`,
      `receive 1 video ${ALICE_ID}/camera`,
      `receive 2 audio ${BOB_ID}/microphone`,
      `receive 3 video ${BOB_ID}/camera`,
      `assign 0 ${ALICE_ID}/microphone`,
      `assign 1 ${ALICE_ID}/camera`,
      `assign 2 ${BOB_ID}/microphone`,
      `assign 3 ${BOB_ID}/camera`,
    ]);
    expect(transforms.receivers).toEqual(subscribePc.transceivers.map((t) => t.receiver));
    signaling.last('subscribe-answer').reply.resolve();
    await settle();
    transforms.log.length = 0;
    // Alice leaves; her camera section is reused for Carol's camera.
    const carolCam: SubscribedTrack = {
      mid: '1',
      kind: 'video',
      participantId: 'carolCarolCarolCarol00',
      source: 'camera',
    };
    signaling.offer(`offer-2 ${ALL_SECTIONS}`, [carolCam, bobMic, bobCam]);
    await settle();
    // Receivers are protected once; the worker learns the new owners.
    expect(transforms.log).toEqual(['assign 0 -', 'assign 1 carolCarolCarolCarol00/camera']);
    // A new section gets its transform when it first appears.
    signaling.last('subscribe-answer').reply.resolve();
    await settle();
    const carolMic: SubscribedTrack = {
      mid: '4',
      kind: 'audio',
      participantId: 'carolCarolCarolCarol00',
      source: 'microphone',
    };
    signaling.offer(`offer-3 ${ALL_SECTIONS} 4=audio`, [carolCam, carolMic, bobMic, bobCam]);
    await settle();
    expect(transforms.log.slice(2)).toEqual([
      'receive 4 audio carolCarolCarolCarol00/microphone',
      'assign 4 carolCarolCarolCarol00/microphone',
    ]);
  });

  it('asks for the connection settings of the transform mode', () => {
    const transforms = new FakeTransforms();
    transforms.mode = 'streams';
    transforms.peerConnectionConfig = { encodedInsertableStreams: true };
    const { subscribePc } = setup(transforms);
    expect(subscribePc.config).toEqual({ ...PEER_CONNECTION_CONFIG, encodedInsertableStreams: true });
  });

  it('never publishes without a transform API: media is not sent in the clear', async () => {
    const transforms = new FakeTransforms();
    transforms.mode = 'none';
    const { call, signaling } = setup(transforms);
    await expect(call.setTrack('camera', asTrack(new FakeTrack('video')), stream)).rejects.toMatchObject({
      code: 'e2ee-unsupported',
    });
    await settle();
    expect(FakePeerConnection.created).toHaveLength(1);
    expect(signaling.count('publish')).toBe(0);
  });

  it('refuses every subscription without a transform API: media it cannot check is never rendered', async () => {
    const transforms = new FakeTransforms();
    transforms.mode = 'none';
    const { call, signaling, subscribePc } = setup(transforms);
    signaling.offer(`offer-1 ${ALL_SECTIONS}`, [aliceMic, aliceCam, bobMic, bobCam]);
    await settle();
    // The answer declines every section (the server then sends nothing), and nothing is shown.
    expect(signaling.count('subscribe-answer')).toBe(1);
    expect(subscribePc.transceivers.map((t) => t.direction)).toEqual(['inactive', 'inactive', 'inactive', 'inactive']);
    expect(call.remote).toEqual([]);
  });
});

describe('Call: TURN', () => {
  const turn = { urls: ['turn:10.0.0.1:3478?transport=tcp'], username: '1700000600:Ab3dE6gH9jK2', credential: 'x=' };

  it('gives both connections the TURN servers of the membership and renews them in place', async () => {
    FakePeerConnection.created = [];
    const signaling = new FakeSignaling();
    signaling.iceServers = [turn];
    const call = new Call({
      signaling,
      selfId: SELF_ID,
      transforms: new FakeTransforms(),
      onChange: () => undefined,
      createPeerConnection: (config) => new FakePeerConnection(config) as unknown as RTCPeerConnection,
      codecCapabilities: (kind) => ({ codecs: CAPABILITIES[kind] as RTCRtpCodec[] }),
    });
    const subscribePc = FakePeerConnection.created[0];
    expect(subscribePc?.config.iceServers).toEqual([turn]);
    expect(subscribePc?.config.bundlePolicy).toBe('max-bundle');
    void call.setTrack('microphone', asTrack(new FakeTrack('audio')), stream);
    await settle();
    const publishPc = FakePeerConnection.created[1];
    expect(publishPc?.config.iceServers).toEqual([turn]);

    const renewed = { ...turn, username: '1700043800:Zz9yX8wV7uT6', credential: 'y=' };
    signaling.renewIceServers([renewed]);
    for (const pc of [subscribePc, publishPc]) {
      expect(pc?.reconfigured).toHaveLength(1);
      expect(pc?.getConfiguration()).toEqual({ ...pc?.config, iceServers: [renewed] });
    }
    call.close();
    signaling.renewIceServers([turn]);
    expect(subscribePc?.reconfigured).toHaveLength(1);
  });

  it('uses no ICE servers when the server has no TURN server', () => {
    const { subscribePc } = setup();
    expect(subscribePc.config.iceServers).toEqual([]);
  });
});
