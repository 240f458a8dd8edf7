// Cameras, microphones and speakers: asking for them, and what went wrong when that failed.

/**
 * Why a device cannot be used. `ended`: it worked, then stopped during the call (unplugged, or
 * taken by the system) and could not be opened again.
 */
export type DeviceProblem = 'denied' | 'not-found' | 'in-use' | 'unsupported' | 'failed' | 'ended';

/** The part of navigator.mediaDevices the client uses, so tests can pass a fake. */
export interface MediaDevicesLike {
  getUserMedia(constraints: MediaStreamConstraints): Promise<MediaStream>;
  getDisplayMedia?(options?: DisplayMediaStreamOptions): Promise<MediaStream>;
  enumerateDevices(): Promise<MediaDeviceInfo[]>;
  addEventListener?(type: 'devicechange', listener: () => void): void;
  removeEventListener?(type: 'devicechange', listener: () => void): void;
}

/** The part of navigator.permissions the client uses (absent in some browsers), so tests can pass a fake. */
export interface PermissionsLike {
  query(descriptor: { name: 'camera' | 'microphone' }): Promise<PermissionStatusLike>;
}

export interface PermissionStatusLike {
  readonly state: PermissionState;
  addEventListener(type: 'change', listener: () => void): void;
  removeEventListener(type: 'change', listener: () => void): void;
}

export function classifyMediaError(error: unknown): DeviceProblem {
  const name = typeof error === 'object' && error !== null && 'name' in error ? String(error.name) : '';
  switch (name) {
    case 'NotAllowedError':
    case 'PermissionDeniedError':
    case 'SecurityError':
      return 'denied';
    case 'NotFoundError':
    case 'DevicesNotFoundError':
    case 'OverconstrainedError':
      return 'not-found';
    case 'NotReadableError':
    case 'TrackStartError':
    case 'AbortError':
      return 'in-use';
    case 'NotSupportedError':
      return 'unsupported';
    default:
      return 'failed';
  }
}

export interface DeviceOption {
  deviceId: string;
  label: string;
}

export interface DeviceLists {
  cameras: DeviceOption[];
  microphones: DeviceOption[];
  speakers: DeviceOption[];
}

export const NO_DEVICES: DeviceLists = { cameras: [], microphones: [], speakers: [] };

/**
 * Sorts enumerateDevices() into the three lists. Entries without a deviceId (no permission yet)
 * are left out; an empty label becomes "" and the view numbers it.
 */
export function sortDevices(devices: readonly Pick<MediaDeviceInfo, 'deviceId' | 'kind' | 'label'>[]): DeviceLists {
  const lists: DeviceLists = { cameras: [], microphones: [], speakers: [] };
  for (const device of devices) {
    if (device.deviceId === '') continue;
    const option = { deviceId: device.deviceId, label: device.label };
    if (device.kind === 'videoinput') lists.cameras.push(option);
    else if (device.kind === 'audioinput') lists.microphones.push(option);
    else if (device.kind === 'audiooutput') lists.speakers.push(option);
  }
  // Chromium lists a "default" and a "communications" alias first: keep them, they follow the system.
  return lists;
}

/** Video sized for a grid tile; the SFU forwards one layer, so it stays modest. */
export const CAMERA_CONSTRAINTS: MediaTrackConstraints = {
  width: { ideal: 960 },
  height: { ideal: 540 },
  frameRate: { ideal: 30, max: 30 },
};

export const MICROPHONE_CONSTRAINTS: MediaTrackConstraints = {
  echoCancellation: true,
  noiseSuppression: true,
  autoGainControl: true,
};

export function cameraConstraints(deviceId: string | null): MediaTrackConstraints {
  return deviceId ? { ...CAMERA_CONSTRAINTS, deviceId: { exact: deviceId } } : CAMERA_CONSTRAINTS;
}

export function microphoneConstraints(deviceId: string | null): MediaTrackConstraints {
  return deviceId ? { ...MICROPHONE_CONSTRAINTS, deviceId: { exact: deviceId } } : MICROPHONE_CONSTRAINTS;
}

export interface AcquireResult {
  microphone: MediaStreamTrack | null;
  camera: MediaStreamTrack | null;
  microphoneProblem: DeviceProblem | null;
  cameraProblem: DeviceProblem | null;
}

/**
 * Asks for the microphone and the camera together (one permission prompt); if that fails for a
 * reason other than a refusal, asks for each alone, so that a missing camera still leaves the
 * microphone (and the other way round).
 */
export async function acquireDevices(
  devices: MediaDevicesLike | undefined,
  want: { microphone: boolean; camera: boolean; microphoneId: string | null; cameraId: string | null },
): Promise<AcquireResult> {
  const result: AcquireResult = { microphone: null, camera: null, microphoneProblem: null, cameraProblem: null };
  if (!devices || typeof devices.getUserMedia !== 'function') {
    if (want.microphone) result.microphoneProblem = 'unsupported';
    if (want.camera) result.cameraProblem = 'unsupported';
    return result;
  }
  if (!want.microphone && !want.camera) return result;
  const audio = want.microphone ? microphoneConstraints(want.microphoneId) : false;
  const video = want.camera ? cameraConstraints(want.cameraId) : false;
  try {
    const stream = await devices.getUserMedia({ audio, video });
    result.microphone = stream.getAudioTracks()[0] ?? null;
    result.camera = stream.getVideoTracks()[0] ?? null;
    return result;
  } catch (error) {
    const problem = classifyMediaError(error);
    if (problem === 'denied' || problem === 'unsupported' || !want.microphone || !want.camera) {
      if (want.microphone) result.microphoneProblem = problem;
      if (want.camera) result.cameraProblem = problem;
      return result;
    }
  }
  try {
    result.microphone = (await devices.getUserMedia({ audio, video: false })).getAudioTracks()[0] ?? null;
  } catch (error) {
    result.microphoneProblem = classifyMediaError(error);
  }
  try {
    result.camera = (await devices.getUserMedia({ audio: false, video })).getVideoTracks()[0] ?? null;
  } catch (error) {
    result.cameraProblem = classifyMediaError(error);
  }
  return result;
}

export type DeviceSource = 'microphone' | 'camera';

/** The list of `source` devices. */
export function devicesOf(lists: DeviceLists, source: DeviceSource): DeviceOption[] {
  return source === 'camera' ? lists.cameras : lists.microphones;
}

/**
 * The devices to try, in order, after the one in use (`lost`) stopped during the call: the same
 * device again while the browser still lists it (the system took it away for a moment), then the
 * system default (null: no deviceId constraint). Never more than two attempts, so recovery stays
 * quick; the user can still pick any other device.
 */
export function recoveryCandidates(lost: string | null, available: readonly DeviceOption[]): (string | null)[] {
  const candidates: (string | null)[] = [];
  if (lost !== null && available.some((d) => d.deviceId === lost)) candidates.push(lost);
  candidates.push(null);
  return candidates;
}

/**
 * After a devicechange: the device to reopen by itself, if any. Only a device that was lost
 * (`ended`, or not found) and whose very deviceId is back (plugged in again) is reopened without
 * asking: a different camera that appears is offered in the menu, never switched on unasked.
 */
export function reappearedDevice(
  problem: DeviceProblem | null,
  wanted: string | null,
  available: readonly DeviceOption[],
): string | null {
  if (problem !== 'ended' && problem !== 'not-found') return null;
  if (wanted === null) return null;
  return available.some((d) => d.deviceId === wanted) ? wanted : null;
}

/** The chosen speaker if the browser still lists it, else null (the system default). */
export function keptSpeaker(speakerId: string | null, lists: DeviceLists): string | null {
  if (speakerId === null) return null;
  return lists.speakers.some((d) => d.deviceId === speakerId) ? speakerId : null;
}

/**
 * Calls `onGranted` whenever the permission for `name` changes to `granted` (the user allowed the
 * device in the site settings after refusing it). Where the browser has no Permissions API or
 * cannot query this permission, it does nothing: the view's "Try again" button remains.
 * Returns a function that stops watching.
 */
export function watchPermission(
  permissions: PermissionsLike | undefined,
  name: 'camera' | 'microphone',
  onGranted: () => void,
): () => void {
  let stopped = false;
  let unwatch = (): void => undefined;
  if (!permissions || typeof permissions.query !== 'function') return () => undefined;
  permissions
    .query({ name })
    .then((status) => {
      if (stopped) return;
      const listener = (): void => {
        if (status.state === 'granted') onGranted();
      };
      status.addEventListener('change', listener);
      unwatch = () => status.removeEventListener('change', listener);
    })
    .catch(() => undefined);
  return () => {
    stopped = true;
    unwatch();
  };
}
