// Cameras, microphones and speakers: asking for them, and what went wrong when that failed.

/** Why a device cannot be used. */
export type DeviceProblem = 'denied' | 'not-found' | 'in-use' | 'unsupported' | 'failed';

/** The part of navigator.mediaDevices the client uses, so tests can pass a fake. */
export interface MediaDevicesLike {
  getUserMedia(constraints: MediaStreamConstraints): Promise<MediaStream>;
  getDisplayMedia?(options?: DisplayMediaStreamOptions): Promise<MediaStream>;
  enumerateDevices(): Promise<MediaDeviceInfo[]>;
  addEventListener?(type: 'devicechange', listener: () => void): void;
  removeEventListener?(type: 'devicechange', listener: () => void): void;
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
