import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { MediaController } from '../src/media/controller';
import type { MediaDevicesLike } from '../src/media/devices';
import { SELF_ID } from './fake-socket';
import { FakeMediaStream, FakePeerConnection, FakeSignaling, FakeTrack, FakeTransforms, settle } from './fake-webrtc';

const SECOND_ID = 'secondSecondSecondSeco';

beforeAll(() => {
  (globalThis as { MediaStream?: unknown }).MediaStream = FakeMediaStream;
});
afterAll(() => {
  delete (globalThis as { MediaStream?: unknown }).MediaStream;
});

function fakeDevices(options: { camera?: boolean; deny?: boolean } = {}) {
  const calls: MediaStreamConstraints[] = [];
  const screens: FakeTrack[] = [];
  let cancelShare = false;
  const devices: MediaDevicesLike = {
    getUserMedia: (constraints) => {
      calls.push(constraints);
      if (options.deny) return Promise.reject(new DOMException('no', 'NotAllowedError'));
      if (constraints.video && options.camera === false)
        return Promise.reject(new DOMException('none', 'NotFoundError'));
      const pick = (c: boolean | MediaTrackConstraints | undefined): string => {
        const id = typeof c === 'object' ? (c.deviceId as { exact?: string } | undefined)?.exact : undefined;
        return id ?? 'default';
      };
      const tracks: FakeTrack[] = [];
      if (constraints.audio) tracks.push(new FakeTrack('audio', `mic-${pick(constraints.audio)}`));
      if (constraints.video) tracks.push(new FakeTrack('video', `cam-${pick(constraints.video)}`));
      return Promise.resolve(new FakeMediaStream(tracks) as unknown as MediaStream);
    },
    getDisplayMedia: () => {
      if (cancelShare) return Promise.reject(new DOMException('cancelled', 'NotAllowedError'));
      const track = new FakeTrack('video');
      screens.push(track);
      return Promise.resolve(new FakeMediaStream([track]) as unknown as MediaStream);
    },
    enumerateDevices: () =>
      Promise.resolve([
        { kind: 'audioinput', deviceId: 'mic-default', label: 'Mic', groupId: '' },
        { kind: 'videoinput', deviceId: 'cam-default', label: 'Cam', groupId: '' },
        { kind: 'videoinput', deviceId: 'cam-2', label: 'Other cam', groupId: '' },
        { kind: 'audiooutput', deviceId: 'spk', label: 'Speaker', groupId: '' },
      ] as MediaDeviceInfo[]),
  };
  return { devices, calls, screens, cancel: () => (cancelShare = true) };
}

function setup(options: { camera?: boolean; deny?: boolean } = {}) {
  FakePeerConnection.created = [];
  const fake = fakeDevices(options);
  let changes = 0;
  const frameCrypto = new FakeTransforms();
  const controller = new MediaController({
    devices: fake.devices,
    frameCrypto,
    onChange: () => changes++,
    createPeerConnection: (config) => new FakePeerConnection(config) as unknown as RTCPeerConnection,
    codecCapabilities: null,
  });
  return { controller, frameCrypto, ...fake, changes: () => changes };
}

describe('MediaController', () => {
  beforeEach(() => {
    FakeTrack.next = 1;
  });

  it('acquires camera and microphone and lists the devices', async () => {
    const { controller, calls } = setup();
    await controller.acquire();
    const snap = controller.snapshot();
    expect(snap.microphone.track?.kind).toBe('audio');
    expect(snap.camera.track?.kind).toBe('video');
    expect(snap.camera.deviceId).toBe('cam-default');
    expect(snap.devices.cameras.map((d) => d.deviceId)).toEqual(['cam-default', 'cam-2']);
    expect(snap.devices.speakers).toEqual([{ deviceId: 'spk', label: 'Speaker' }]);
    expect(snap.inCall).toBe(false);
    expect(calls).toHaveLength(1);
  });

  it('reports a refusal and still lets the call attach receive-only', async () => {
    const { controller } = setup({ deny: true });
    await controller.acquire();
    expect(controller.snapshot().camera.problem).toBe('denied');
    expect(controller.snapshot().microphone.problem).toBe('denied');
    const signaling = new FakeSignaling();
    controller.attach(signaling, SELF_ID);
    await settle();
    expect(controller.snapshot().inCall).toBe(true);
    // Nothing to publish: no publish connection, no publish message.
    expect(signaling.count('publish')).toBe(0);
    expect(FakePeerConnection.created).toHaveLength(1);
  });

  it('publishes microphone and camera when attached, and builds a new call after a reconnect', async () => {
    const { controller } = setup();
    await controller.acquire();
    const first = new FakeSignaling();
    controller.attach(first, SELF_ID);
    await settle();
    expect(first.last('publish').tracks.map((t) => t.source)).toEqual(['microphone', 'camera']);
    const oldCall = controller.call;
    controller.detach();
    expect(oldCall?.closed).toBe(true);
    expect(controller.snapshot().inCall).toBe(false);
    const second = new FakeSignaling();
    controller.attach(second, SECOND_ID);
    await settle();
    expect(controller.call).not.toBe(oldCall);
    expect(second.last('publish').tracks.map((t) => t.source)).toEqual(['microphone', 'camera']);
    expect(first.handlerCount()).toBe(0);
  });

  it('mutes and turns the camera off by disabling tracks, and keeps that for a new device', async () => {
    const { controller } = setup();
    await controller.acquire();
    controller.setMicrophoneEnabled(false);
    controller.setCameraEnabled(false);
    expect(controller.snapshot().microphone.track?.enabled).toBe(false);
    expect(controller.snapshot().camera.track?.enabled).toBe(false);
    const old = controller.snapshot().camera.track as unknown as FakeTrack;
    await controller.chooseCamera('2');
    const now = controller.snapshot().camera;
    expect(old.stopped).toBe(true);
    expect(now.track?.enabled).toBe(false);
    expect(now.deviceId).toBe('2');
    expect((now.track as unknown as FakeTrack).deviceId).toBe('cam-2');
  });

  it('replaces the sent camera track when the camera changes during a call', async () => {
    const { controller } = setup();
    await controller.acquire();
    const signaling = new FakeSignaling();
    controller.attach(signaling, SELF_ID);
    await settle();
    signaling.last('publish').reply.resolve('answer');
    await settle();
    await controller.chooseCamera('2');
    await settle();
    const publishPc = FakePeerConnection.created[1];
    expect(publishPc?.transceivers[1]?.sender.track).toBe(controller.snapshot().camera.track);
    expect(signaling.count('publish')).toBe(1);
  });

  it('shares the screen as a third track and stops when the browser ends the capture', async () => {
    const { controller, screens } = setup();
    await controller.acquire();
    const signaling = new FakeSignaling();
    controller.attach(signaling, SELF_ID);
    await settle();
    signaling.last('publish').reply.resolve('answer-1');
    await settle();
    const sharing = controller.startScreenShare();
    await settle();
    expect(controller.snapshot().screen).not.toBeNull();
    expect(screens[0]?.contentHint).toBe('detail');
    expect(signaling.last('publish').tracks.map((t) => t.source)).toEqual(['microphone', 'camera', 'screen']);
    signaling.last('publish').reply.resolve('answer-2');
    await sharing;
    // "Stop sharing" in the browser's bar.
    screens[0]?.end();
    await settle();
    expect(controller.snapshot().screen).toBeNull();
    expect(signaling.count('publish')).toBe(3);
    expect(signaling.last('publish').tracks.map((t) => t.source)).toEqual(['microphone', 'camera']);
    expect(FakePeerConnection.created[1]?.transceivers[2]?.direction).toBe('inactive');
  });

  it('says nothing when the user cancels the screen picker', async () => {
    const { controller, cancel } = setup();
    cancel();
    await controller.startScreenShare();
    expect(controller.snapshot().screen).toBeNull();
    expect(controller.snapshot().screenProblem).toBeNull();
  });

  it('unpublishes a device that goes away and cannot be opened again', async () => {
    const { controller, devices } = setup();
    await controller.acquire();
    devices.getUserMedia = () => Promise.reject(new DOMException('gone', 'NotFoundError'));
    const signaling = new FakeSignaling();
    controller.attach(signaling, SELF_ID);
    await settle();
    signaling.last('publish').reply.resolve('answer-1');
    await settle();
    (controller.snapshot().camera.track as unknown as FakeTrack).end();
    await settle();
    await settle();
    expect(controller.snapshot().camera.track).toBeNull();
    expect(controller.snapshot().camera.problem).toBe('ended');
    expect(signaling.last('publish').tracks.map((t) => t.source)).toEqual(['microphone']);
  });

  it('joins with the microphone alone when there is no camera', async () => {
    const { controller } = setup({ camera: false });
    await controller.acquire();
    expect(controller.snapshot().microphone.track).not.toBeNull();
    expect(controller.snapshot().camera.problem).toBe('not-found');
    const signaling = new FakeSignaling();
    controller.attach(signaling, SELF_ID);
    await settle();
    expect(signaling.last('publish').tracks).toEqual([{ mid: '0', source: 'microphone' }]);
  });

  it('stops every track on release and on dispose', async () => {
    const { controller } = setup();
    await controller.acquire();
    const mic = controller.snapshot().microphone.track as unknown as FakeTrack;
    const cam = controller.snapshot().camera.track as unknown as FakeTrack;
    controller.release();
    expect(mic.stopped && cam.stopped).toBe(true);
    expect(controller.snapshot().camera.track).toBeNull();
    await controller.acquire();
    const again = controller.snapshot().camera.track as unknown as FakeTrack;
    controller.attach(new FakeSignaling(), SELF_ID);
    controller.dispose();
    expect(again.stopped).toBe(true);
    expect(controller.call).toBeNull();
  });

  it('gives every membership fresh frame transforms, encrypting everything it sends', async () => {
    const { controller, frameCrypto } = setup();
    expect(controller.keys).toBe(frameCrypto);
    await controller.acquire();
    controller.attach(new FakeSignaling(), SELF_ID);
    await settle();
    expect(frameCrypto.log).toEqual(['reset', 'send microphone audio', 'send camera video']);
    controller.detach();
    controller.attach(new FakeSignaling(), SECOND_ID);
    await settle();
    expect(frameCrypto.log.slice(3)).toEqual(['reset', 'send microphone audio', 'send camera video']);
    controller.dispose();
    expect(frameCrypto.log.at(-1)).toBe('dispose');
    expect(controller.snapshot().encryption).toEqual({ mode: 'script', tracks: [] });
  });
});
