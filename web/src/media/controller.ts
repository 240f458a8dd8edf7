// The media side of a meeting as the view sees it: the local devices (chosen before joining,
// kept across reconnects), the screen share, and the Call of the current membership. The session
// attaches it after every `joined` and detaches it when the signaling connection goes away, so a
// reconnect (a new participant id) always gets fresh connections. No DOM code.
// Every frame is end-to-end encrypted by the FrameCrypto (one worker for the page's lifetime); the
// session hands it the keys of each membership through `keys`.

import type { MediaConnection, TrackSource } from '../protocol/messages';
import { SignalingError } from '../protocol/client';
import { Call, type CodecCapabilities, type ConnectionState, type MediaSignaling } from './call';
import {
  acquireDevices,
  classifyMediaError,
  devicesOf,
  keptSpeaker,
  NO_DEVICES,
  reappearedDevice,
  recoveryCandidates,
  sortDevices,
  watchPermission,
  type DeviceLists,
  type DeviceProblem,
  type DeviceSource,
  type MediaDevicesLike,
  type PermissionsLike,
} from './devices';
import type { MediaKeySink } from '../secure/key_manager';
import type { FrameCrypto, TransformMode } from './frame_crypto';
import type { TrackCryptoStats } from './frame_engine';
import type { RemoteParticipantMedia } from './tracks';

/** What MeetingSession calls on the media side of the meeting. */
export interface MediaAttachment {
  /** `onLost`: the media connections failed and ICE restarts did not bring them back. */
  attach(signaling: MediaSignaling, selfId: string, onLost?: () => void): void;
  detach(): void;
  /** Where the current membership's media keys go (the frame transforms). */
  readonly keys?: MediaKeySink | null;
}

export interface EncryptionSnapshot {
  mode: TransformMode;
  /** Per-track counters of the current membership's transforms. */
  tracks: TrackCryptoStats[];
}

export interface LocalDevice {
  track: MediaStreamTrack | null;
  /** On (unmuted / camera on) as the user chose; kept when the device changes. */
  enabled: boolean;
  deviceId: string | null;
  problem: DeviceProblem | null;
}

export interface MediaSnapshot {
  microphone: LocalDevice;
  camera: LocalDevice;
  /** The screen being shared, if any. */
  screen: MediaStream | null;
  screenProblem: DeviceProblem | null;
  canShareScreen: boolean;
  speakerId: string | null;
  /** The last device switch that failed; the device used before stays in use. */
  switchError: { source: DeviceSource | 'speaker'; problem: DeviceProblem } | null;
  devices: DeviceLists;
  /** Asking for devices right now. */
  acquiring: boolean;
  inCall: boolean;
  remote: RemoteParticipantMedia[];
  states: Record<MediaConnection, ConnectionState>;
  /** The code of the last failed negotiation (e.g. `media-unavailable`), null after a success. */
  error: string | null;
  /** The server refused this participant's media (the code of its refusal), null if it took them. */
  publishError: string | null;
  /** Whether a local track is offered to the server (false: nothing of this participant is sent). */
  publishing: boolean;
  encryption: EncryptionSnapshot;
}

export interface MediaControllerOptions {
  devices?: MediaDevicesLike;
  /** navigator.permissions where the browser has it: a device allowed again is reopened by itself. */
  permissions?: PermissionsLike;
  /** The end-to-end encryption of every frame (createFrameCrypto() in the browser). */
  frameCrypto: FrameCrypto;
  onChange: () => void;
  createPeerConnection?: (config: RTCConfiguration) => RTCPeerConnection;
  codecCapabilities?: CodecCapabilities | null;
  iceRestartTimeoutMs?: number;
}

function emptyDevice(): LocalDevice {
  return { track: null, enabled: true, deviceId: null, problem: null };
}

function errorCode(error: unknown): string {
  if (error instanceof SignalingError) return error.code;
  if (typeof error === 'object' && error !== null && 'name' in error) return String(error.name);
  return 'internal';
}

export class MediaController implements MediaAttachment {
  private readonly mOptions: MediaControllerOptions;
  private readonly mDevices: MediaDevicesLike | undefined;
  private mMicrophone = emptyDevice();
  private mCamera = emptyDevice();
  private mScreen: MediaStream | null = null;
  private mScreenProblem: DeviceProblem | null = null;
  private mSpeakerId: string | null = null;
  private mSwitchError: MediaSnapshot['switchError'] = null;
  /**
   * Per device, the number of the latest operation that opens it (choose, recover, retry,
   * acquire, release): the result of an older one that finishes later is dropped, so two quick
   * choices or an unplug during a switch never leave two tracks, or a track after leaving.
   */
  private readonly mOps: Record<DeviceSource, number> = { microphone: 0, camera: 0 };
  private readonly mUnwatch: (() => void)[] = [];
  private mDeviceLists: DeviceLists = NO_DEVICES;
  private mAcquiring = false;
  /** The stream the microphone and camera tracks are sent in (one msid for both). */
  private mLocalStream: MediaStream | null = null;
  private mCall: Call | null = null;
  private mError: string | null = null;
  private mDisposed = false;
  private mCryptoSummary = '';
  private readonly mOnDeviceChange = (): void => void this.devicesChanged();

  constructor(options: MediaControllerOptions) {
    this.mOptions = options;
    this.mDevices = options.devices;
    this.mDevices?.addEventListener?.('devicechange', this.mOnDeviceChange);
    for (const source of ['microphone', 'camera'] as const) {
      this.mUnwatch.push(
        watchPermission(options.permissions, source, () => {
          if (this.device(source).problem === 'denied') void this.retryDevices();
        }),
      );
    }
  }

  get keys(): MediaKeySink {
    return this.mOptions.frameCrypto;
  }

  /**
   * The worker reported new counters: tell the view only when a track's state changed (it
   * reports twice a second).
   */
  cryptoStatsChanged(tracks: readonly TrackCryptoStats[]): void {
    const summary = tracks.map((t) => `${t.role}/${t.mid}/${t.source}/${t.participantId}/${t.state}`).join(',');
    if (summary === this.mCryptoSummary) return;
    this.mCryptoSummary = summary;
    this.changed();
  }

  snapshot(): MediaSnapshot {
    return {
      microphone: { ...this.mMicrophone },
      camera: { ...this.mCamera },
      screen: this.mScreen,
      screenProblem: this.mScreenProblem,
      canShareScreen: typeof this.mDevices?.getDisplayMedia === 'function',
      speakerId: this.mSpeakerId,
      switchError: this.mSwitchError,
      devices: this.mDeviceLists,
      acquiring: this.mAcquiring,
      inCall: this.mCall !== null,
      remote: this.mCall?.remote ?? [],
      states: this.mCall?.states ?? { publish: 'none', subscribe: 'none' },
      error: this.mError,
      publishError: this.mCall?.publishError ?? null,
      publishing: this.mCall?.publishing ?? false,
      encryption: { mode: this.mOptions.frameCrypto.mode, tracks: this.mOptions.frameCrypto.stats() },
    };
  }

  get call(): Call | null {
    return this.mCall;
  }

  /** Asks for the microphone and camera (the ones chosen before, if any). */
  async acquire(): Promise<void> {
    if (this.mDisposed || this.mAcquiring) return;
    this.mAcquiring = true;
    this.mSwitchError = null;
    const ops = this.startOps(['microphone', 'camera']);
    this.changed();
    this.stopTrack(this.mMicrophone);
    this.stopTrack(this.mCamera);
    const result = await acquireDevices(this.mDevices, {
      microphone: true,
      camera: true,
      microphoneId: this.mMicrophone.deviceId,
      cameraId: this.mCamera.deviceId,
    });
    this.mAcquiring = false;
    if (this.mDisposed || !this.current(ops)) {
      result.microphone?.stop();
      result.camera?.stop();
      this.changed();
      return;
    }
    this.useTrack('microphone', result.microphone, result.microphoneProblem);
    this.useTrack('camera', result.camera, result.cameraProblem);
    await this.refreshDevices();
    this.changed();
  }

  /**
   * Asks again for the devices that have no track (refused, missing, or lost during the call),
   * in one permission prompt, and sends what it gets. The devices that work are left alone. A
   * chosen device the browser no longer lists is replaced by the system default.
   */
  async retryDevices(): Promise<void> {
    if (this.mDisposed || this.mAcquiring) return;
    const sources = (['microphone', 'camera'] as const).filter((source) => this.device(source).track === null);
    if (sources.length === 0) return;
    this.mAcquiring = true;
    this.mSwitchError = null;
    const ops = this.startOps(sources);
    this.changed();
    await this.refreshDevices();
    const listed = (source: DeviceSource): string | null => {
      const id = this.device(source).deviceId;
      return devicesOf(this.mDeviceLists, source).some((d) => d.deviceId === id) ? id : null;
    };
    const result = await acquireDevices(this.mDevices, {
      microphone: sources.includes('microphone'),
      camera: sources.includes('camera'),
      microphoneId: listed('microphone'),
      cameraId: listed('camera'),
    });
    this.mAcquiring = false;
    if (this.mDisposed || !this.current(ops)) {
      result.microphone?.stop();
      result.camera?.stop();
      this.changed();
      return;
    }
    if (sources.includes('microphone')) this.useTrack('microphone', result.microphone, result.microphoneProblem);
    if (sources.includes('camera')) this.useTrack('camera', result.camera, result.cameraProblem);
    // Permission given now: the labels and ids of every device become visible.
    await this.refreshDevices();
  }

  async chooseMicrophone(deviceId: string): Promise<void> {
    await this.switchDevice('microphone', deviceId);
  }

  async chooseCamera(deviceId: string): Promise<void> {
    await this.switchDevice('camera', deviceId);
  }

  /** The speaker for remote audio (the view applies it with setSinkId). */
  chooseSpeaker(deviceId: string): void {
    this.mSpeakerId = deviceId;
    this.mSwitchError = null;
    this.changed();
  }

  /** The view could not play on the chosen speaker: back to the system default, and say so. */
  speakerFailed(deviceId: string, error: unknown): void {
    if (this.mSpeakerId !== deviceId) return;
    this.mSpeakerId = null;
    this.mSwitchError = { source: 'speaker', problem: classifyMediaError(error) };
    this.changed();
  }

  setMicrophoneEnabled(enabled: boolean): void {
    this.mMicrophone.enabled = enabled;
    if (this.mMicrophone.track) this.mMicrophone.track.enabled = enabled;
    this.changed();
  }

  /**
   * Camera off disables the track: the sender then sends black frames, so the encoder and the
   * stream stay alive and the picture comes back at once, with no renegotiation.
   */
  setCameraEnabled(enabled: boolean): void {
    this.mCamera.enabled = enabled;
    if (this.mCamera.track) this.mCamera.track.enabled = enabled;
    this.changed();
  }

  async startScreenShare(): Promise<void> {
    if (this.mScreen || this.mDisposed) return;
    const devices = this.mDevices;
    if (!devices?.getDisplayMedia) {
      this.mScreenProblem = 'unsupported';
      this.changed();
      return;
    }
    let stream: MediaStream;
    try {
      stream = await devices.getDisplayMedia({ video: { frameRate: { ideal: 15, max: 30 } }, audio: false });
    } catch (error) {
      // Cancelling the browser's picker is a NotAllowedError too: say nothing then.
      const problem = classifyMediaError(error);
      this.mScreenProblem = problem === 'denied' ? null : problem;
      this.changed();
      return;
    }
    const track = stream.getVideoTracks()[0];
    if (!track || this.mDisposed) {
      for (const t of stream.getTracks()) t.stop();
      return;
    }
    if ('contentHint' in track) track.contentHint = 'detail';
    // "Stop sharing" in the browser's own bar ends the track.
    track.addEventListener('ended', () => {
      if (this.mScreen === stream) this.stopScreenShare();
    });
    this.mScreen = stream;
    this.mScreenProblem = null;
    this.changed();
    await this.send('screen', track, stream);
  }

  stopScreenShare(): void {
    const stream = this.mScreen;
    if (!stream) return;
    this.mScreen = null;
    for (const track of stream.getTracks()) track.stop();
    void this.send('screen', null, null);
    this.changed();
  }

  attach(signaling: MediaSignaling, selfId: string, onLost?: () => void): void {
    if (this.mDisposed) return;
    this.mCall?.close();
    this.mError = null;
    this.mOptions.frameCrypto.reset();
    const call = new Call({
      signaling,
      selfId,
      transforms: this.mOptions.frameCrypto,
      onChange: () => {
        if (call === this.mCall) this.changed();
      },
      onError: (_connection, error) => {
        if (call !== this.mCall) return;
        this.mError = errorCode(error);
        this.changed();
      },
      onLost: () => {
        if (call === this.mCall) onLost?.();
      },
      ...(this.mOptions.iceRestartTimeoutMs === undefined
        ? {}
        : { iceRestartTimeoutMs: this.mOptions.iceRestartTimeoutMs }),
      ...(this.mOptions.createPeerConnection ? { createPeerConnection: this.mOptions.createPeerConnection } : {}),
      ...(this.mOptions.codecCapabilities === undefined ? {} : { codecCapabilities: this.mOptions.codecCapabilities }),
    });
    this.mCall = call;
    const stream = this.localStream();
    if (this.mMicrophone.track) void this.send('microphone', this.mMicrophone.track, stream);
    if (this.mCamera.track) void this.send('camera', this.mCamera.track, stream);
    const screen = this.mScreen?.getVideoTracks()[0];
    if (screen && this.mScreen) void this.send('screen', screen, this.mScreen);
    this.changed();
  }

  detach(): void {
    const call = this.mCall;
    if (!call) return;
    this.mCall = null;
    call.close();
    this.changed();
  }

  /** Stops every local track (the camera light goes off); acquire() brings them back. */
  release(): void {
    this.startOps(['microphone', 'camera']);
    this.stopScreenShare();
    this.stopTrack(this.mMicrophone);
    this.stopTrack(this.mCamera);
    this.mLocalStream = null;
    this.changed();
  }

  dispose(): void {
    this.detach();
    this.release();
    this.mDisposed = true;
    for (const unwatch of this.mUnwatch.splice(0)) unwatch();
    this.mOptions.frameCrypto.dispose();
    this.mDevices?.removeEventListener?.('devicechange', this.mOnDeviceChange);
  }

  /** Sources the meeting's policy does not let this participant send. */
  private readonly mForbidden = new Set<TrackSource>();

  private localStream(): MediaStream {
    this.mLocalStream ??= new MediaStream();
    return this.mLocalStream;
  }

  private device(source: DeviceSource): LocalDevice {
    return source === 'microphone' ? this.mMicrophone : this.mCamera;
  }

  private startOps(sources: readonly DeviceSource[]): Partial<Record<DeviceSource, number>> {
    const ops: Partial<Record<DeviceSource, number>> = {};
    for (const source of sources) ops[source] = ++this.mOps[source];
    return ops;
  }

  /** Whether no newer operation started on any device of `ops`. */
  private current(ops: Partial<Record<DeviceSource, number>>): boolean {
    return (Object.keys(ops) as DeviceSource[]).every((source) => ops[source] === this.mOps[source]);
  }

  /** Opens one device (null: the system default). */
  private async open(
    source: DeviceSource,
    deviceId: string | null,
  ): Promise<{ track: MediaStreamTrack | null; problem: DeviceProblem | null }> {
    const result = await acquireDevices(this.mDevices, {
      microphone: source === 'microphone',
      camera: source === 'camera',
      microphoneId: deviceId,
      cameraId: deviceId,
    });
    return source === 'microphone'
      ? { track: result.microphone, problem: result.microphoneProblem }
      : { track: result.camera, problem: result.cameraProblem };
  }

  private useTrack(
    source: 'microphone' | 'camera',
    track: MediaStreamTrack | null,
    problem: DeviceProblem | null,
  ): void {
    const device = this.device(source);
    device.track = track;
    device.problem = problem;
    if (!track) {
      void this.send(source, null, null);
      return;
    }
    track.enabled = device.enabled;
    device.deviceId = track.getSettings().deviceId ?? device.deviceId;
    const stream = this.localStream();
    for (const old of source === 'microphone' ? stream.getAudioTracks() : stream.getVideoTracks()) {
      stream.removeTrack(old);
    }
    stream.addTrack(track);
    // The device was unplugged, taken by the system, or its permission revoked.
    track.addEventListener('ended', () => void this.recover(source, track));
    void this.send(source, track, stream);
  }

  /** Hands a track to the current call (if any); a failure shows as `error`, the call goes on. */
  /**
   * The meeting's policy lets this participant send `source` (camera or screen) or not. A
   * forbidden source is not published at all (the server refuses a whole publish that carries
   * it), while the device stays open here so it comes back at once when allowed again.
   */
  setSourceAllowed(source: 'camera' | 'screen', allowed: boolean): void {
    if (this.mForbidden.has(source) === !allowed) return;
    if (allowed) this.mForbidden.delete(source);
    else this.mForbidden.add(source);
    if (source === 'screen') {
      if (!allowed) this.stopScreenShare();
      return;
    }
    if (this.mCamera.track)
      void this.send('camera', allowed ? this.mCamera.track : null, allowed ? this.localStream() : null);
    this.changed();
  }

  private send(source: TrackSource, track: MediaStreamTrack | null, stream: MediaStream | null): Promise<void> {
    const call = this.mCall;
    if (!call) return Promise.resolve();
    if (track !== null && this.mForbidden.has(source)) return Promise.resolve();
    return call.setTrack(source, track, stream).catch((error: unknown) => {
      if (call !== this.mCall) return;
      this.mError = errorCode(error);
      this.changed();
    });
  }

  /**
   * Switches to another device during the call. The new track replaces the old one on the same
   * sender (RTCRtpSender.replaceTrack, no renegotiation; the sender's end-to-end encryption
   * transform stays attached). If the new device cannot be opened, the one used before is
   * opened again and `switchError` says why.
   */
  private async switchDevice(source: DeviceSource, deviceId: string): Promise<void> {
    if (this.mDisposed) return;
    const device = this.device(source);
    const previous = device.deviceId;
    const hadTrack = device.track !== null;
    const ops = this.startOps([source]);
    this.mSwitchError = null;
    device.deviceId = deviceId;
    // Some cameras cannot be opened twice: stop the old track first. The sender keeps sending
    // nothing until the new track replaces it.
    this.stopTrack(device);
    this.changed();
    let opened = await this.open(source, deviceId);
    let chosen: string | null = deviceId;
    if (opened.track === null && hadTrack && previous !== deviceId && this.current(ops) && !this.mDisposed) {
      const failed = opened.problem ?? 'failed';
      const back = await this.open(source, previous);
      if (back.track !== null) {
        opened = back;
        chosen = previous;
        this.mSwitchError = { source, problem: failed };
      }
    }
    if (this.mDisposed || !this.current(ops)) {
      opened.track?.stop();
      return;
    }
    this.useTrack(source, opened.track, opened.problem);
    device.deviceId = chosen;
    this.changed();
  }

  /**
   * A track ended by itself. Opens the same device again (if the browser still lists it) or the
   * system default, and sends that on the same sender (no renegotiation). If nothing can be
   * opened, stops sending the source (the others see the avatar, not a frozen picture) and says
   * why; retryDevices(), a device plugged in again, or a permission granted again brings it back.
   */
  private async recover(source: DeviceSource, ended: MediaStreamTrack): Promise<void> {
    const device = this.device(source);
    if (device.track !== ended || this.mDisposed) return;
    const ops = this.startOps([source]);
    device.track = null;
    this.mLocalStream?.removeTrack(ended);
    this.changed();
    await this.refreshDevices();
    let problem: DeviceProblem = 'ended';
    for (const candidate of recoveryCandidates(device.deviceId, devicesOf(this.mDeviceLists, source))) {
      if (this.mDisposed || !this.current(ops)) return;
      const opened = await this.open(source, candidate);
      if (this.mDisposed || !this.current(ops)) {
        opened.track?.stop();
        return;
      }
      if (opened.track !== null) {
        this.useTrack(source, opened.track, null);
        this.changed();
        return;
      }
      if (opened.problem === 'denied') {
        problem = 'denied';
        break;
      }
    }
    this.useTrack(source, null, problem);
    this.changed();
  }

  /** A device was plugged in or out: new lists, and a lost device that is back is reopened. */
  private async devicesChanged(): Promise<void> {
    await this.refreshDevices();
    if (this.mDisposed) return;
    const speaker = keptSpeaker(this.mSpeakerId, this.mDeviceLists);
    if (speaker !== this.mSpeakerId) {
      this.mSpeakerId = speaker;
      this.changed();
    }
    if (this.mAcquiring) return;
    for (const source of ['microphone', 'camera'] as const) {
      const device = this.device(source);
      if (device.track !== null) continue;
      const back = reappearedDevice(device.problem, device.deviceId, devicesOf(this.mDeviceLists, source));
      if (back !== null) void this.switchDevice(source, back);
    }
  }

  private stopTrack(device: LocalDevice): void {
    const track = device.track;
    if (!track) return;
    device.track = null;
    track.stop();
    this.mLocalStream?.removeTrack(track);
  }

  private async refreshDevices(): Promise<void> {
    if (!this.mDevices || this.mDisposed) return;
    try {
      this.mDeviceLists = sortDevices(await this.mDevices.enumerateDevices());
    } catch {
      this.mDeviceLists = NO_DEVICES;
    }
    this.changed();
  }

  private changed(): void {
    if (!this.mDisposed) this.mOptions.onChange();
  }
}
