// Devices during the call: the "Devices" menu of the controls bar (camera, microphone and, where
// the browser can route sound, speaker) and the notice that says when a device stopped, was
// refused or could not be switched to, with a "Try again" button. The switching itself happens
// in the MediaController (src/media/controller.ts), without renegotiation.
import type { MediaController, MediaSnapshot } from '../media/controller';
import type { DeviceProblem } from '../media/devices';
import { useLang, type LangValue } from './lang';
import { canChooseSpeaker } from './media';
import { DeviceSelect, problemKey, usable } from './PreJoin';

export function DeviceMenu({ controller, media }: { controller: MediaController; media: MediaSnapshot }) {
  const { t } = useLang();
  const cameras = usable(media.camera.problem) ? media.devices.cameras : [];
  const microphones = usable(media.microphone.problem) ? media.devices.microphones : [];
  // Without setSinkId sound plays where the system sends it: no speaker list then.
  const speakers = canChooseSpeaker() ? media.devices.speakers : [];
  if (cameras.length === 0 && microphones.length === 0 && speakers.length === 0) return null;
  return (
    <details class="device-menu" data-testid="device-menu">
      <summary class="toggle" title={t('devices.menuTitle')} data-testid="device-menu-button">
        <SlidersIcon />
        <span class="toggle-label">{t('devices.menu')}</span>
      </summary>
      <div class="device-menu-panel" role="group" aria-label={t('devices.menuTitle')}>
        <DeviceSelect
          id="call-camera-select"
          label={t('device.camera')}
          numbered="device.cameraN"
          options={cameras}
          value={media.camera.deviceId}
          onChoose={(id) => void controller.chooseCamera(id)}
        />
        <DeviceSelect
          id="call-microphone-select"
          label={t('device.microphone')}
          numbered="device.microphoneN"
          options={microphones}
          value={media.microphone.deviceId}
          onChoose={(id) => void controller.chooseMicrophone(id)}
        />
        <DeviceSelect
          id="call-speaker-select"
          label={t('device.speaker')}
          numbered="device.speakerN"
          options={speakers}
          value={media.speakerId}
          onChoose={(id) => controller.chooseSpeaker(id)}
        />
      </div>
    </details>
  );
}

/** Whether asking again can help: not where the page cannot use devices at all (plain http). */
function retryable(problem: DeviceProblem | null): boolean {
  return problem !== null && problem !== 'unsupported';
}

/** What is wrong with the devices in the call, most important first; empty when all is well. */
export function deviceNotice({ t }: LangValue, media: MediaSnapshot): string[] {
  const lines: string[] = [];
  const cam = media.camera.problem;
  const mic = media.microphone.problem;
  if (cam === 'denied' && mic === 'denied') lines.push(t('device.both.denied'));
  else {
    if (cam !== null) lines.push(t(problemKey('camera', cam)));
    if (mic !== null) lines.push(t(problemKey('microphone', mic)));
  }
  if (cam === 'ended' || mic === 'ended') lines.push(t('devices.notSent'));
  if (cam === 'denied' || mic === 'denied') lines.push(t('devices.deniedHint'));
  else if (retryable(cam) || retryable(mic)) lines.push(t('devices.pickAnother'));
  const failed = media.switchError;
  if (failed !== null) {
    if (failed.source === 'speaker') lines.push(t(`device.speaker.${failed.problem}`));
    else lines.push(t('devices.switchFailed'), t(problemKey(failed.source, failed.problem)));
  }
  return lines;
}

export function DeviceNotice({ controller, media }: { controller: MediaController; media: MediaSnapshot }) {
  const lang = useLang();
  const lines = deviceNotice(lang, media);
  if (lines.length === 0) return null;
  const missing = retryable(media.camera.problem) || retryable(media.microphone.problem);
  return (
    <div class="notice device-notice" role="status" data-testid="device-notice">
      {lines.map((line, i) => (
        <p key={i} class={i === 0 ? 'notice-title' : ''}>
          {line}
        </p>
      ))}
      {missing && (
        <button
          type="button"
          class="button secondary small"
          data-testid="device-retry"
          disabled={media.acquiring}
          onClick={() => void controller.retryDevices()}
        >
          {lang.t('devices.retry')}
        </button>
      )}
    </div>
  );
}

function SlidersIcon() {
  return (
    <svg
      class="icon"
      viewBox="0 0 24 24"
      width="24"
      height="24"
      fill="none"
      stroke="currentColor"
      stroke-width="2"
      stroke-linecap="round"
      stroke-linejoin="round"
      aria-hidden="true"
      focusable="false"
    >
      <path d="M4 6h10M18 6h2M4 12h4M12 12h8M4 18h12M20 18h0" />
      <circle cx="16" cy="6" r="2" />
      <circle cx="10" cy="12" r="2" />
      <circle cx="18" cy="18" r="2" />
    </svg>
  );
}
