// Devices during the call (src/media/devices.ts, src/media/controller.ts): switching camera,
// microphone and speaker without renegotiation, and recovering from a device that was unplugged
// or refused, against a fake navigator.mediaDevices with devices that can be plugged in and out.
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { MediaController, type MediaSnapshot } from '../src/media/controller';
import {
  keptSpeaker,
  reappearedDevice,
  recoveryCandidates,
  sortDevices,
  watchPermission,
  type DeviceProblem,
  type MediaDevicesLike,
  type PermissionsLike,
  type PermissionStatusLike,
} from '../src/media/devices';
import { deviceNotice } from '../src/ui/DeviceMenu';
import { langValue } from '../src/ui/lang';
import { SELF_ID } from './fake-socket';
import { FakeMediaStream, FakePeerConnection, FakeSignaling, FakeTrack, FakeTransforms, settle } from './fake-webrtc';

beforeAll(() => {
  (globalThis as { MediaStream?: unknown }).MediaStream = FakeMediaStream;
});
afterAll(() => {
  delete (globalThis as { MediaStream?: unknown }).MediaStream;
});

/** Lets every pending promise and timer callback of the fakes run. */
async function flush(): Promise<void> {
  for (let i = 0; i < 5; i++) {
    await settle();
    await new Promise((resolve) => setTimeout(resolve, 0));
  }
}

type Kind = 'audioinput' | 'videoinput' | 'audiooutput';

/**
 * A machine with devices: getUserMedia opens the device an `exact` deviceId names (else the
 * first of its kind), fails as a browser does for a device that is not there, for a device
 * marked busy, or for everything while the permission is refused. unplug() ends the device's
 * live tracks and fires devicechange, as the browser does.
 */
class FakeMachine implements MediaDevicesLike {
  devices: { kind: Kind; deviceId: string; label: string }[] = [
    { kind: 'audioinput', deviceId: 'mic-1', label: 'Mic 1' },
    { kind: 'audioinput', deviceId: 'mic-2', label: 'Mic 2' },
    { kind: 'videoinput', deviceId: 'cam-1', label: 'Cam 1' },
    { kind: 'videoinput', deviceId: 'cam-2', label: 'Cam 2' },
    { kind: 'audiooutput', deviceId: 'spk-1', label: 'Speaker 1' },
    { kind: 'audiooutput', deviceId: 'spk-2', label: 'Speaker 2' },
  ];
  denied = false;
  readonly busy = new Set<string>();
  readonly calls: MediaStreamConstraints[] = [];
  readonly opened: FakeTrack[] = [];
  private readonly mListeners = new Set<() => void>();

  getUserMedia(constraints: MediaStreamConstraints): Promise<MediaStream> {
    this.calls.push(constraints);
    if (this.denied) return Promise.reject(new DOMException('refused', 'NotAllowedError'));
    const tracks: FakeTrack[] = [];
    for (const [want, kind] of [
      [constraints.audio, 'audioinput'],
      [constraints.video, 'videoinput'],
    ] as const) {
      if (!want) continue;
      const exact = typeof want === 'object' ? (want.deviceId as { exact?: string } | undefined)?.exact : undefined;
      const device = this.devices.find((d) => d.kind === kind && (exact === undefined || d.deviceId === exact));
      if (!device) {
        for (const t of tracks) t.stop();
        return Promise.reject(new DOMException('no such device', exact ? 'OverconstrainedError' : 'NotFoundError'));
      }
      if (this.busy.has(device.deviceId)) {
        for (const t of tracks) t.stop();
        return Promise.reject(new DOMException('busy', 'NotReadableError'));
      }
      tracks.push(new FakeTrack(kind === 'audioinput' ? 'audio' : 'video', device.deviceId));
    }
    this.opened.push(...tracks);
    return Promise.resolve(new FakeMediaStream(tracks) as unknown as MediaStream);
  }

  enumerateDevices(): Promise<MediaDeviceInfo[]> {
    return Promise.resolve(this.devices.map((d) => ({ ...d, groupId: '' })) as unknown as MediaDeviceInfo[]);
  }

  addEventListener(_type: 'devicechange', listener: () => void): void {
    this.mListeners.add(listener);
  }

  removeEventListener(_type: 'devicechange', listener: () => void): void {
    this.mListeners.delete(listener);
  }

  live(deviceId: string): FakeTrack[] {
    return this.opened.filter((t) => t.deviceId === deviceId && t.readyState === 'live');
  }

  unplug(deviceId: string): void {
    const device = this.devices.find((d) => d.deviceId === deviceId);
    this.devices = this.devices.filter((d) => d.deviceId !== deviceId);
    for (const track of this.live(deviceId)) track.end();
    if (device) this.mUnplugged.push(device);
    for (const listener of this.mListeners) listener();
  }

  plug(deviceId: string): void {
    const device = this.mUnplugged.find((d) => d.deviceId === deviceId);
    if (!device) throw new Error(`${deviceId} was never unplugged`);
    this.devices.push(device);
    for (const listener of this.mListeners) listener();
  }

  private readonly mUnplugged: { kind: Kind; deviceId: string; label: string }[] = [];
}

class FakePermission implements PermissionStatusLike {
  state: PermissionState = 'prompt';
  private readonly mListeners = new Set<() => void>();
  addEventListener(_type: 'change', listener: () => void): void {
    this.mListeners.add(listener);
  }
  removeEventListener(_type: 'change', listener: () => void): void {
    this.mListeners.delete(listener);
  }
  set(state: PermissionState): void {
    this.state = state;
    for (const listener of this.mListeners) listener();
  }
  get listeners(): number {
    return this.mListeners.size;
  }
}

class FakePermissions implements PermissionsLike {
  readonly camera = new FakePermission();
  readonly microphone = new FakePermission();
  query({ name }: { name: 'camera' | 'microphone' }): Promise<PermissionStatusLike> {
    return Promise.resolve(name === 'camera' ? this.camera : this.microphone);
  }
}

function setup() {
  FakePeerConnection.created = [];
  const machine = new FakeMachine();
  const permissions = new FakePermissions();
  const frameCrypto = new FakeTransforms();
  const controller = new MediaController({
    devices: machine,
    permissions,
    frameCrypto,
    onChange: () => undefined,
    createPeerConnection: (config) => new FakePeerConnection(config) as unknown as RTCPeerConnection,
    codecCapabilities: null,
  });
  return { controller, machine, permissions, frameCrypto };
}

/** Acquires the devices and joins a call whose first publish was answered. */
async function inCall() {
  const context = setup();
  await context.controller.acquire();
  const signaling = new FakeSignaling();
  context.controller.attach(signaling, SELF_ID);
  await flush();
  signaling.last('publish').reply.resolve('answer-1');
  await flush();
  const publishPc = FakePeerConnection.created[1];
  if (!publishPc) throw new Error('no publish connection');
  return { ...context, signaling, publishPc };
}

function sentTrack(pc: FakePeerConnection, index: number): FakeTrack | null {
  return pc.transceivers[index]?.sender.track ?? null;
}

describe('device choice helpers', () => {
  const cams = [
    { deviceId: 'cam-1', label: 'Cam 1' },
    { deviceId: 'cam-2', label: 'Cam 2' },
  ];

  it('tries the lost device again only while it is listed, then the system default', () => {
    expect(recoveryCandidates('cam-1', cams)).toEqual(['cam-1', null]);
    expect(recoveryCandidates('cam-3', cams)).toEqual([null]);
    expect(recoveryCandidates(null, cams)).toEqual([null]);
  });

  it('reopens by itself only a lost device whose very id is back', () => {
    expect(reappearedDevice('ended', 'cam-2', cams)).toBe('cam-2');
    expect(reappearedDevice('not-found', 'cam-1', cams)).toBe('cam-1');
    expect(reappearedDevice('ended', 'cam-3', cams)).toBeNull();
    // A new camera is offered in the menu, never switched on unasked; a refusal stays a refusal.
    expect(reappearedDevice('ended', null, cams)).toBeNull();
    expect(reappearedDevice('denied', 'cam-1', cams)).toBeNull();
    expect(reappearedDevice(null, 'cam-1', cams)).toBeNull();
  });

  it('keeps the chosen speaker while it is listed, else falls back to the default', () => {
    const lists = sortDevices([
      { kind: 'audiooutput', deviceId: 'spk-1', label: '' },
      { kind: 'audiooutput', deviceId: '', label: '' },
    ]);
    expect(keptSpeaker('spk-1', lists)).toBe('spk-1');
    expect(keptSpeaker('spk-2', lists)).toBeNull();
    expect(keptSpeaker(null, lists)).toBeNull();
  });

  it('watches a permission until told to stop, and does nothing without the Permissions API', async () => {
    const permissions = new FakePermissions();
    let granted = 0;
    const stop = watchPermission(permissions, 'camera', () => granted++);
    await flush();
    permissions.camera.set('denied');
    expect(granted).toBe(0);
    permissions.camera.set('granted');
    expect(granted).toBe(1);
    stop();
    expect(permissions.camera.listeners).toBe(0);
    permissions.camera.set('granted');
    expect(granted).toBe(1);
    expect(() => watchPermission(undefined, 'camera', () => granted++)()).not.toThrow();
    // Stopped before the query answered: never listens.
    watchPermission(permissions, 'microphone', () => granted++)();
    await flush();
    expect(permissions.microphone.listeners).toBe(0);
  });
});

describe('switching devices during the call', () => {
  beforeEach(() => {
    FakeTrack.next = 1;
  });

  it('replaces the camera on the same sender: no new publish, the old camera stops, the transform stays', async () => {
    const { controller, machine, signaling, publishPc, frameCrypto } = await inCall();
    const old = sentTrack(publishPc, 1);
    expect(old?.deviceId).toBe('cam-1');
    const sender = publishPc.transceivers[1]?.sender;
    await controller.chooseCamera('cam-2');
    await flush();
    const now = controller.snapshot().camera;
    expect(now.deviceId).toBe('cam-2');
    expect(now.problem).toBeNull();
    expect(sentTrack(publishPc, 1)).toBe(now.track);
    expect(sentTrack(publishPc, 1)?.deviceId).toBe('cam-2');
    expect(publishPc.transceivers[1]?.sender).toBe(sender);
    expect(publishPc.transceivers[1]?.direction).toBe('sendonly');
    expect(old?.stopped).toBe(true);
    expect(machine.live('cam-1')).toEqual([]);
    expect(signaling.count('publish')).toBe(1);
    // Each sender was protected once, when it was added; replaceTrack keeps its transform.
    expect(frameCrypto.log.filter((l) => l.startsWith('send '))).toEqual([
      'send microphone audio',
      'send camera video',
    ]);
  });

  it('replaces the microphone the same way and keeps it muted', async () => {
    const { controller, signaling, publishPc } = await inCall();
    controller.setMicrophoneEnabled(false);
    await controller.chooseMicrophone('mic-2');
    await flush();
    expect(sentTrack(publishPc, 0)?.deviceId).toBe('mic-2');
    expect(sentTrack(publishPc, 0)?.enabled).toBe(false);
    expect(signaling.count('publish')).toBe(1);
  });

  it('stays on the camera before when the chosen one cannot be opened, and says why', async () => {
    const { controller, machine, signaling, publishPc } = await inCall();
    machine.busy.add('cam-2');
    await controller.chooseCamera('cam-2');
    await flush();
    const cam = controller.snapshot().camera;
    expect(cam.deviceId).toBe('cam-1');
    expect(cam.problem).toBeNull();
    expect(sentTrack(publishPc, 1)?.deviceId).toBe('cam-1');
    expect(sentTrack(publishPc, 1)?.readyState).toBe('live');
    expect(controller.snapshot().switchError).toEqual({ source: 'camera', problem: 'in-use' });
    expect(signaling.count('publish')).toBe(1);
    // The next successful choice clears the message.
    machine.busy.clear();
    await controller.chooseCamera('cam-2');
    await flush();
    expect(controller.snapshot().switchError).toBeNull();
  });

  it('keeps only the last of two quick choices', async () => {
    const { controller, machine, publishPc } = await inCall();
    const first = controller.chooseCamera('cam-2');
    const second = controller.chooseCamera('cam-1');
    await Promise.all([first, second]);
    await flush();
    expect(controller.snapshot().camera.deviceId).toBe('cam-1');
    expect(sentTrack(publishPc, 1)?.deviceId).toBe('cam-1');
    expect(machine.opened.filter((t) => t.kind === 'video' && t.readyState === 'live')).toHaveLength(1);
  });

  it('chooses the speaker, falls back to the default when it is unplugged or refused', async () => {
    const { controller, machine } = await inCall();
    controller.chooseSpeaker('spk-2');
    expect(controller.snapshot().speakerId).toBe('spk-2');
    machine.unplug('spk-2');
    await flush();
    expect(controller.snapshot().speakerId).toBeNull();
    controller.chooseSpeaker('spk-1');
    controller.speakerFailed('spk-1', new DOMException('no', 'NotAllowedError'));
    expect(controller.snapshot().speakerId).toBeNull();
    expect(controller.snapshot().switchError).toEqual({ source: 'speaker', problem: 'denied' });
    // A late failure of a speaker no longer chosen changes nothing.
    controller.chooseSpeaker('spk-1');
    controller.speakerFailed('spk-2', new Error('late'));
    expect(controller.snapshot().speakerId).toBe('spk-1');
  });
});

describe('recovering from a lost device without leaving', () => {
  beforeEach(() => {
    FakeTrack.next = 1;
  });

  it('moves an unplugged camera to the other one on the same sender, without renegotiation', async () => {
    const { controller, machine, signaling, publishPc } = await inCall();
    machine.unplug('cam-1');
    await flush();
    const cam = controller.snapshot().camera;
    expect(cam.problem).toBeNull();
    expect(cam.deviceId).toBe('cam-2');
    expect(sentTrack(publishPc, 1)?.deviceId).toBe('cam-2');
    expect(publishPc.transceivers[1]?.direction).toBe('sendonly');
    expect(signaling.count('publish')).toBe(1);
  });

  it('opens the same device again when it ended but is still there', async () => {
    const { controller, machine, signaling, publishPc } = await inCall();
    const mic = machine.live('mic-1')[0];
    mic?.end();
    await flush();
    expect(controller.snapshot().microphone.deviceId).toBe('mic-1');
    expect(sentTrack(publishPc, 0)).not.toBe(mic);
    expect(sentTrack(publishPc, 0)?.readyState).toBe('live');
    expect(signaling.count('publish')).toBe(1);
  });

  it('stops sending a camera that is gone with no other, and sends it again when plugged back in', async () => {
    const { controller, machine, signaling, publishPc } = await inCall();
    machine.unplug('cam-2');
    machine.unplug('cam-1');
    await flush();
    expect(controller.snapshot().camera.track).toBeNull();
    expect(controller.snapshot().camera.problem).toBe('ended');
    expect(signaling.count('publish')).toBe(2);
    expect(signaling.last('publish').tracks.map((t) => t.source)).toEqual(['microphone']);
    signaling.last('publish').reply.resolve('answer-2');
    await flush();
    // Another device kind plugged in changes nothing; the camera itself coming back reopens it.
    machine.plug('cam-2');
    await flush();
    expect(controller.snapshot().camera.track).toBeNull();
    machine.plug('cam-1');
    await flush();
    expect(controller.snapshot().camera.problem).toBeNull();
    expect(sentTrack(publishPc, 1)?.deviceId).toBe('cam-1');
    expect(signaling.last('publish').tracks.map((t) => t.source)).toEqual(['microphone', 'camera']);
  });

  it('turns a revoked permission into receive-only, and sends again once it is granted', async () => {
    const { controller, machine, permissions, signaling } = await inCall();
    machine.denied = true;
    permissions.camera.set('denied');
    permissions.microphone.set('denied');
    for (const id of ['mic-1', 'cam-1']) for (const track of machine.live(id)) track.end();
    await flush();
    expect(controller.snapshot().camera.problem).toBe('denied');
    expect(controller.snapshot().microphone.problem).toBe('denied');
    await flush();
    const publishes = signaling.count('publish');
    expect(signaling.last('publish').tracks).toEqual([]);
    signaling.last('publish').reply.resolve('answer-2');
    await flush();
    machine.denied = false;
    const calls = machine.calls.length;
    permissions.camera.set('granted');
    await flush();
    // Both devices in one request (one prompt), then published again.
    expect(machine.calls.length).toBe(calls + 1);
    expect(controller.snapshot().camera.problem).toBeNull();
    expect(controller.snapshot().microphone.problem).toBeNull();
    expect(signaling.count('publish')).toBe(publishes + 1);
    expect(signaling.last('publish').tracks.map((t) => t.source)).toEqual(['microphone', 'camera']);
  });

  it('retries devices refused at the start and publishes them into the running call', async () => {
    const { controller, machine } = setup();
    machine.denied = true;
    await controller.acquire();
    const signaling = new FakeSignaling();
    controller.attach(signaling, SELF_ID);
    await flush();
    expect(signaling.count('publish')).toBe(0);
    // Still refused: the message stays.
    await controller.retryDevices();
    expect(controller.snapshot().camera.problem).toBe('denied');
    machine.denied = false;
    await controller.retryDevices();
    await flush();
    expect(controller.snapshot().camera.problem).toBeNull();
    expect(signaling.last('publish').tracks.map((t) => t.source)).toEqual(['microphone', 'camera']);
    // Nothing missing: nothing asked.
    const calls = machine.calls.length;
    await controller.retryDevices();
    expect(machine.calls.length).toBe(calls);
  });

  it('retries a lost device with the default when the chosen one is no longer listed', async () => {
    const { controller, machine } = await inCall();
    machine.busy.add('cam-2');
    machine.unplug('cam-1');
    await flush();
    expect(controller.snapshot().camera.problem).toBe('ended');
    machine.busy.clear();
    await controller.retryDevices();
    await flush();
    expect(controller.snapshot().camera.deviceId).toBe('cam-2');
    const video = machine.calls.at(-1)?.video;
    expect(typeof video === 'object' && 'deviceId' in video).toBe(false);
  });

  it('opens nothing once the meeting was left during a recovery', async () => {
    const { controller, machine } = await inCall();
    const cam = machine.live('cam-1')[0];
    cam?.end();
    controller.release();
    await flush();
    expect(controller.snapshot().camera.track).toBeNull();
    expect(machine.opened.filter((t) => t.readyState === 'live')).toEqual([]);
  });

  it('stops listening for devices and permissions on dispose', async () => {
    const { controller, permissions } = setup();
    await flush();
    expect(permissions.camera.listeners).toBe(1);
    controller.dispose();
    expect(permissions.camera.listeners).toBe(0);
    expect(permissions.microphone.listeners).toBe(0);
  });
});

describe('the in-call device notice', () => {
  const lang = langValue('en');
  function media(over: Partial<MediaSnapshot>): MediaSnapshot {
    const { controller } = setup();
    return { ...controller.snapshot(), ...over };
  }
  const device = (problem: DeviceProblem | null) => ({ track: null, enabled: true, deviceId: null, problem });

  it('says nothing while every device works', () => {
    expect(deviceNotice(lang, media({}))).toEqual([]);
  });

  it('names a stopped camera, that it is not sent, and what to do', () => {
    expect(deviceNotice(lang, media({ camera: device('ended') }))).toEqual([
      'Your camera stopped (unplugged, or taken by another app).',
      'The others cannot see or hear you through the device that stopped.',
      'Choose another device under “Devices”, or try again.',
    ]);
  });

  it('explains a refusal with the site settings, and a failed switch with its reason', () => {
    const refused = deviceNotice(lang, media({ camera: device('denied'), microphone: device('denied') }));
    expect(refused[0]).toBe('The browser blocked the camera and the microphone.');
    expect(refused[1]).toContain('Allow the camera and microphone for this site');
    const failed = deviceNotice(lang, media({ switchError: { source: 'microphone', problem: 'in-use' } }));
    expect(failed).toEqual([
      'That device could not be used; you are still on the one before.',
      'The microphone is in use by another app.',
    ]);
    expect(deviceNotice(lang, media({ switchError: { source: 'speaker', problem: 'not-found' } }))).toEqual([
      'That speaker was not found; sound plays on the system default.',
    ]);
  });

  it('offers no other device where the page cannot use devices at all', () => {
    expect(deviceNotice(lang, media({ camera: device('unsupported') }))).toEqual([
      'This browser cannot use a camera on this page.',
    ]);
  });
});
