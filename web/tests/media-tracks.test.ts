import { describe, expect, it } from 'vitest';
import { supportedCodecs } from '../src/media/codecs';
import { acquireDevices, classifyMediaError, sortDevices, type MediaDevicesLike } from '../src/media/devices';
import { SubscriptionMap, trackOf } from '../src/media/tracks';
import type { SubscribedTrack } from '../src/protocol/messages';
import { ALICE_ID, BOB_ID, SELF_ID } from './fake-socket';

const aliceMic: SubscribedTrack = { mid: '0', kind: 'audio', participantId: ALICE_ID, source: 'microphone' };
const aliceCam: SubscribedTrack = { mid: '1', kind: 'video', participantId: ALICE_ID, source: 'camera' };
const bobMic: SubscribedTrack = { mid: '2', kind: 'audio', participantId: BOB_ID, source: 'microphone' };
const bobCam: SubscribedTrack = { mid: '3', kind: 'video', participantId: BOB_ID, source: 'camera' };

describe('SubscriptionMap', () => {
  it('maps mids to participants and reports what was added', () => {
    const map = new SubscriptionMap();
    const change = map.update([aliceMic, aliceCam]);
    expect(change).toEqual({ added: [aliceMic, aliceCam], removed: [] });
    expect(map.get('1')).toEqual(aliceCam);
    expect(map.get('9')).toBeUndefined();
    expect(map.participantIds()).toEqual([ALICE_ID]);
  });

  it('reports sections that became inactive (left out of the next offer) as removed', () => {
    const map = new SubscriptionMap();
    map.update([aliceMic, aliceCam, bobMic, bobCam]);
    const change = map.update([bobMic, bobCam]);
    expect(change).toEqual({ added: [], removed: [aliceMic, aliceCam] });
    expect(map.participantIds()).toEqual([BOB_ID]);
    expect(map.size).toBe(2);
  });

  it('treats a reused mid with a new owner as one removal and one addition', () => {
    const map = new SubscriptionMap();
    map.update([aliceMic, aliceCam]);
    const carolCam: SubscribedTrack = { ...aliceCam, participantId: 'carolCarolCarolCarol00' };
    const change = map.update([aliceMic, carolCam]);
    expect(change).toEqual({ added: [carolCam], removed: [aliceCam] });
  });

  it('reports nothing when an offer repeats the same tracks', () => {
    const map = new SubscriptionMap();
    map.update([aliceMic, bobCam]);
    expect(map.update([bobCam, aliceMic])).toEqual({ added: [], removed: [] });
  });

  it('never lists tracks of the participant itself', () => {
    const map = new SubscriptionMap();
    const own: SubscribedTrack = { mid: '5', kind: 'video', participantId: SELF_ID, source: 'camera' };
    map.update([own, aliceMic], SELF_ID);
    expect(map.tracks()).toEqual([aliceMic]);
  });

  it('groups tracks by participant, leaving out mids without a receiver', () => {
    const map = new SubscriptionMap();
    const screen: SubscribedTrack = { mid: '4', kind: 'video', participantId: ALICE_ID, source: 'screen' };
    map.update([aliceMic, aliceCam, bobMic, bobCam, screen]);
    const receivers: Record<string, string> = { '0': 'a-mic', '1': 'a-cam', '2': 'b-mic', '4': 'a-screen' };
    const groups = map.group((mid) => receivers[mid] ?? null);
    expect(groups).toEqual([
      {
        participantId: ALICE_ID,
        tracks: [
          { mid: '0', kind: 'audio', source: 'microphone', track: 'a-mic' },
          { mid: '1', kind: 'video', source: 'camera', track: 'a-cam' },
          { mid: '4', kind: 'video', source: 'screen', track: 'a-screen' },
        ],
      },
      { participantId: BOB_ID, tracks: [{ mid: '2', kind: 'audio', source: 'microphone', track: 'b-mic' }] },
    ]);
    expect(trackOf(groups[0], 'screen')?.track).toBe('a-screen');
    expect(trackOf(groups[1], 'camera')).toBeNull();
    expect(trackOf(undefined, 'camera')).toBeNull();
  });
});

// Chromium 156's RTCRtpSender.getCapabilities('video') and ('audio'), as printed by Debian's chromium.
const CHROMIUM_VIDEO = [
  { mimeType: 'video/VP8', clockRate: 90000 },
  { mimeType: 'video/rtx', clockRate: 90000 },
  {
    mimeType: 'video/H264',
    clockRate: 90000,
    sdpFmtpLine: 'level-asymmetry-allowed=1;packetization-mode=1;profile-level-id=42001f',
  },
  {
    mimeType: 'video/H264',
    clockRate: 90000,
    sdpFmtpLine: 'level-asymmetry-allowed=1;packetization-mode=0;profile-level-id=42001f',
  },
  {
    mimeType: 'video/H264',
    clockRate: 90000,
    sdpFmtpLine: 'level-asymmetry-allowed=1;packetization-mode=1;profile-level-id=42e01f',
  },
  {
    mimeType: 'video/H264',
    clockRate: 90000,
    sdpFmtpLine: 'level-asymmetry-allowed=1;packetization-mode=0;profile-level-id=42e01f',
  },
  {
    mimeType: 'video/H264',
    clockRate: 90000,
    sdpFmtpLine: 'level-asymmetry-allowed=1;packetization-mode=1;profile-level-id=4d001f',
  },
  {
    mimeType: 'video/H264',
    clockRate: 90000,
    sdpFmtpLine: 'level-asymmetry-allowed=1;packetization-mode=0;profile-level-id=4d001f',
  },
  { mimeType: 'video/AV1', clockRate: 90000, sdpFmtpLine: 'level-idx=5;profile=0;tier=0' },
  { mimeType: 'video/VP9', clockRate: 90000, sdpFmtpLine: 'profile-id=0' },
  { mimeType: 'video/VP9', clockRate: 90000, sdpFmtpLine: 'profile-id=2' },
  { mimeType: 'video/red', clockRate: 90000 },
  { mimeType: 'video/ulpfec', clockRate: 90000 },
];
const CHROMIUM_AUDIO = [
  { mimeType: 'audio/opus', clockRate: 48000, channels: 2, sdpFmtpLine: 'minptime=10;useinbandfec=1' },
  { mimeType: 'audio/red', clockRate: 48000, channels: 2 },
  { mimeType: 'audio/G722', clockRate: 8000 },
  { mimeType: 'audio/PCMU', clockRate: 8000 },
  { mimeType: 'audio/PCMA', clockRate: 8000 },
  { mimeType: 'audio/CN', clockRate: 8000 },
  { mimeType: 'audio/telephone-event', clockRate: 48000 },
  { mimeType: 'audio/telephone-event', clockRate: 8000 },
];

describe('supportedCodecs', () => {
  it('keeps VP8 and RTX for video, Opus for audio', () => {
    expect(supportedCodecs('video', CHROMIUM_VIDEO)?.map((c) => c.mimeType)).toEqual(['video/VP8', 'video/rtx']);
    expect(supportedCodecs('audio', CHROMIUM_AUDIO)?.map((c) => c.mimeType)).toEqual(['audio/opus']);
  });

  it('matches MIME types case-insensitively', () => {
    expect(supportedCodecs('video', [{ mimeType: 'VIDEO/vp8', clockRate: 90000 }])).toHaveLength(1);
  });

  it('gives up (browser defaults) when no supported codec is there', () => {
    expect(
      supportedCodecs('video', [
        { mimeType: 'video/H264', clockRate: 90000 },
        { mimeType: 'video/rtx', clockRate: 90000 },
      ]),
    ).toBeNull();
    expect(supportedCodecs('audio', [])).toBeNull();
  });
});

describe('devices', () => {
  it('classifies getUserMedia errors', () => {
    const err = (name: string): DOMException => new DOMException('x', name);
    expect(classifyMediaError(err('NotAllowedError'))).toBe('denied');
    expect(classifyMediaError(err('NotFoundError'))).toBe('not-found');
    expect(classifyMediaError(err('OverconstrainedError'))).toBe('not-found');
    expect(classifyMediaError(err('NotReadableError'))).toBe('in-use');
    expect(classifyMediaError(new TypeError('no constraints'))).toBe('failed');
    expect(classifyMediaError('weird')).toBe('failed');
  });

  it('sorts devices and skips entries without an id', () => {
    const lists = sortDevices([
      { kind: 'videoinput', deviceId: 'cam1', label: 'Camera' },
      { kind: 'audioinput', deviceId: 'default', label: 'Default' },
      { kind: 'audioinput', deviceId: 'mic1', label: '' },
      { kind: 'audiooutput', deviceId: 'spk', label: 'Speakers' },
      { kind: 'videoinput', deviceId: '', label: '' },
    ]);
    expect(lists).toEqual({
      cameras: [{ deviceId: 'cam1', label: 'Camera' }],
      microphones: [
        { deviceId: 'default', label: 'Default' },
        { deviceId: 'mic1', label: '' },
      ],
      speakers: [{ deviceId: 'spk', label: 'Speakers' }],
    });
  });

  function fakeDevices(have: { audio: boolean; video: boolean; deny?: boolean }) {
    const asked: MediaStreamConstraints[] = [];
    const track = (kind: string) => ({ kind, stop: () => undefined }) as unknown as MediaStreamTrack;
    const devices: MediaDevicesLike = {
      getUserMedia: (constraints) => {
        asked.push(constraints);
        if (have.deny) return Promise.reject(new DOMException('denied', 'NotAllowedError'));
        if ((constraints.audio && !have.audio) || (constraints.video && !have.video)) {
          return Promise.reject(new DOMException('none', 'NotFoundError'));
        }
        const audio = constraints.audio ? [track('audio')] : [];
        const video = constraints.video ? [track('video')] : [];
        return Promise.resolve({ getAudioTracks: () => audio, getVideoTracks: () => video } as unknown as MediaStream);
      },
      enumerateDevices: () => Promise.resolve([]),
    };
    return { devices, asked };
  }

  const want = { microphone: true, camera: true, microphoneId: null, cameraId: 'cam-7' };

  it('asks for both devices in one request', async () => {
    const { devices, asked } = fakeDevices({ audio: true, video: true });
    const result = await acquireDevices(devices, want);
    expect(result.microphone?.kind).toBe('audio');
    expect(result.camera?.kind).toBe('video');
    expect(result.cameraProblem).toBeNull();
    expect(asked).toHaveLength(1);
    expect(asked[0]?.video).toMatchObject({ deviceId: { exact: 'cam-7' } });
  });

  it('keeps the microphone when there is no camera', async () => {
    const { devices, asked } = fakeDevices({ audio: true, video: false });
    const result = await acquireDevices(devices, want);
    expect(result.microphone?.kind).toBe('audio');
    expect(result.camera).toBeNull();
    expect(result.cameraProblem).toBe('not-found');
    expect(result.microphoneProblem).toBeNull();
    expect(asked).toHaveLength(3);
  });

  it('does not ask again after a refusal', async () => {
    const { devices, asked } = fakeDevices({ audio: true, video: true, deny: true });
    const result = await acquireDevices(devices, want);
    expect(result).toEqual({ microphone: null, camera: null, microphoneProblem: 'denied', cameraProblem: 'denied' });
    expect(asked).toHaveLength(1);
  });

  it('reports unsupported without mediaDevices (plain http)', async () => {
    const result = await acquireDevices(undefined, want);
    expect(result.microphoneProblem).toBe('unsupported');
    expect(result.cameraProblem).toBe('unsupported');
  });
});
