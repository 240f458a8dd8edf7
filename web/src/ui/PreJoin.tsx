// Before joining: name, camera/microphone/speaker choice and a live preview. Joining works
// without any device (receive-only), with a clear message why the devices are missing.
import { useEffect, useRef, useState } from 'preact/hooks';
import type { MessageKey } from '../i18n';
import type { MediaController, MediaSnapshot } from '../media/controller';
import type { DeviceOption, DeviceProblem } from '../media/devices';
import { MAX_NAME_LENGTH, normalizeName } from '../profile';
import { MicLevel } from './awareness';
import { useLang, type LangValue } from './lang';
import { canChooseSpeaker, CameraIcon, MicIcon, useStream, Video } from './media';
import { avatarClass, initial } from './people';
import { loadSetting, saveSetting } from './storage';

interface Props {
  controller: MediaController;
  media: MediaSnapshot;
  busy: boolean;
  error: string | null;
  onJoin: (name: string) => void;
}

/** A device list is worth showing unless the browser refuses the device altogether. */
export function usable(problem: DeviceProblem | null): boolean {
  return problem !== 'denied' && problem !== 'unsupported';
}

export function problemKey(device: 'camera' | 'microphone', problem: DeviceProblem): MessageKey {
  return `device.${device}.${problem}`;
}

/** The messages about missing devices, most important first. */
function deviceMessages({ t }: LangValue, media: MediaSnapshot): string[] {
  const cam = media.camera.problem;
  const mic = media.microphone.problem;
  if (cam === null && mic === null) return [];
  const lines: string[] = [];
  if (cam === 'denied' && mic === 'denied') {
    lines.push(t('device.both.denied'));
  } else {
    if (cam !== null) lines.push(t(problemKey('camera', cam)));
    if (mic !== null) lines.push(t(problemKey('microphone', mic)));
  }
  lines.push(t('prejoin.receiveOnly'));
  if (cam === 'denied' || mic === 'denied') lines.push(t('prejoin.deniedHint'));
  return lines;
}

export function PreJoin({ controller, media, busy, error, onJoin }: Props) {
  const lang = useLang();
  const { t } = lang;
  const [name, setName] = useState(() => loadSetting('displayName') ?? '');
  const [invalid, setInvalid] = useState(false);
  const inputRef = useRef<HTMLInputElement>(null);
  const asked = useRef(false);

  useEffect(() => {
    if (asked.current) return;
    asked.current = true;
    if (!media.camera.track && !media.microphone.track) void controller.acquire();
  }, [controller, media.camera.track, media.microphone.track]);

  const submit = (event: Event): void => {
    event.preventDefault();
    const normalized = normalizeName(name);
    if (normalized === null) {
      setInvalid(true);
      inputRef.current?.focus();
      return;
    }
    setInvalid(false);
    saveSetting('displayName', normalized);
    onJoin(normalized);
  };

  const messages = deviceMessages(lang, media);
  const hasProblem = media.camera.problem !== null || media.microphone.problem !== null;

  return (
    <form class="prejoin" onSubmit={submit} noValidate data-testid="prejoin">
      <h1 id="room-title">{t('room.title')}</h1>
      {error !== null && (
        <p class="alert" role="alert" data-testid="error-message">
          {error}
        </p>
      )}
      <div class="prejoin-grid">
        <div class="prejoin-preview">
          <Preview media={media} name={normalizeName(name)} />
          <div class="preview-controls">
            <ToggleButton
              testId="prejoin-mic"
              label={t('call.microphone')}
              title={media.microphone.enabled ? t('call.mute') : t('call.unmute')}
              on={media.microphone.enabled && media.microphone.track !== null}
              disabled={media.microphone.track === null}
              onToggle={() => controller.setMicrophoneEnabled(!media.microphone.enabled)}
              icon={<MicIcon off={!media.microphone.enabled || media.microphone.track === null} />}
            />
            <ToggleButton
              testId="prejoin-camera"
              label={t('call.camera')}
              title={media.camera.enabled ? t('call.cameraOff') : t('call.cameraOn')}
              on={media.camera.enabled && media.camera.track !== null}
              disabled={media.camera.track === null}
              onToggle={() => controller.setCameraEnabled(!media.camera.enabled)}
              icon={<CameraIcon off={!media.camera.enabled || media.camera.track === null} />}
            />
          </div>
          <MicLevel track={media.microphone.track} enabled={media.microphone.enabled} />
        </div>
        <div class="prejoin-form">
          {messages.length > 0 && (
            <div class="notice" role="alert" data-testid="device-message">
              {messages.map((line, i) => (
                <p key={i} class={i === 0 ? 'notice-title' : ''}>
                  {line}
                </p>
              ))}
              {hasProblem && (
                <button
                  type="button"
                  class="button secondary small"
                  data-testid="retry-devices"
                  disabled={media.acquiring}
                  onClick={() => void controller.acquire()}
                >
                  {t('prejoin.retry')}
                </button>
              )}
            </div>
          )}
          <div class="field">
            <label class="label" for="display-name">
              {t('room.nameLabel')}
            </label>
            <input
              ref={inputRef}
              id="display-name"
              class="text-input"
              type="text"
              autocomplete="nickname"
              maxLength={MAX_NAME_LENGTH}
              value={name}
              required
              aria-invalid={invalid}
              aria-describedby={invalid ? 'display-name-error' : 'display-name-hint'}
              data-testid="name-input"
              onInput={(e) => setName(e.currentTarget.value)}
            />
            {invalid ? (
              <p id="display-name-error" class="field-error">
                {t('room.nameRequired')}
              </p>
            ) : (
              <p id="display-name-hint" class="hint">
                {t('room.nameHint')}
              </p>
            )}
          </div>
          <DeviceSelect
            id="camera-select"
            label={t('device.camera')}
            numbered="device.cameraN"
            options={usable(media.camera.problem) ? media.devices.cameras : []}
            value={media.camera.deviceId}
            onChoose={(id) => void controller.chooseCamera(id)}
          />
          <DeviceSelect
            id="microphone-select"
            label={t('device.microphone')}
            numbered="device.microphoneN"
            options={usable(media.microphone.problem) ? media.devices.microphones : []}
            value={media.microphone.deviceId}
            onChoose={(id) => void controller.chooseMicrophone(id)}
          />
          {canChooseSpeaker() && (
            <DeviceSelect
              id="speaker-select"
              label={t('device.speaker')}
              numbered="device.speakerN"
              options={media.devices.speakers}
              value={media.speakerId}
              onChoose={(id) => controller.chooseSpeaker(id)}
            />
          )}
          <div class="actions">
            <button type="submit" class="button primary large" data-testid="join-button" disabled={busy}>
              {busy ? t('room.joining') : t('room.join')}
            </button>
          </div>
        </div>
      </div>
    </form>
  );
}

function Preview({ media, name }: { media: MediaSnapshot; name: string | null }) {
  const { t } = useLang();
  const stream = useStream([media.camera.track]);
  const showVideo = stream !== null && media.camera.enabled;
  let caption = media.camera.problem === 'denied' ? t('prejoin.cameraBlocked') : t('prejoin.noCamera');
  if (media.acquiring || showVideo) caption = t('prejoin.starting');
  else if (media.camera.track && !media.camera.enabled) caption = t('prejoin.cameraOff');
  return (
    <div class="preview tile-frame">
      <div class="tile-placeholder" data-testid={showVideo ? undefined : 'preview-placeholder'}>
        <span class={`${avatarClass(name ?? '')} avatar-large`} aria-hidden="true">
          {initial(name)}
        </span>
        <span class="placeholder-caption">{caption}</span>
      </div>
      {showVideo && <Video stream={stream} mirrored testId="preview-video" label={t('prejoin.preview')} />}
    </div>
  );
}

interface ToggleProps {
  testId: string;
  label: string;
  title: string;
  on: boolean;
  disabled: boolean;
  onToggle: () => void;
  icon: preact.ComponentChildren;
  showLabel?: boolean;
}

/** A round on/off button: a fixed name and aria-pressed, so screen readers say "on/off". */
export function ToggleButton({ testId, label, title, on, disabled, onToggle, icon, showLabel = false }: ToggleProps) {
  return (
    <button
      type="button"
      class={`toggle ${on ? 'toggle-on' : 'toggle-off'}`}
      aria-pressed={on}
      title={title}
      disabled={disabled}
      data-testid={testId}
      onClick={onToggle}
    >
      {icon}
      <span class={showLabel ? 'toggle-label' : 'visually-hidden'}>{label}</span>
    </button>
  );
}

interface SelectProps {
  id: string;
  label: string;
  numbered: 'device.cameraN' | 'device.microphoneN' | 'device.speakerN';
  options: DeviceOption[];
  value: string | null;
  onChoose: (deviceId: string) => void;
}

export function DeviceSelect({ id, label, numbered, options, value, onChoose }: SelectProps) {
  const { t } = useLang();
  if (options.length === 0) return null;
  return (
    <div class="field">
      <label class="label" for={id}>
        {label}
      </label>
      <select
        id={id}
        class="select"
        data-testid={id}
        value={value ?? options[0]?.deviceId ?? ''}
        onChange={(e) => onChoose(e.currentTarget.value)}
      >
        {options.map((option, i) => (
          <option key={option.deviceId} value={option.deviceId}>
            {option.deviceId === 'default' && option.label === ''
              ? t('device.default')
              : option.label || t(numbered, { n: i + 1 })}
          </option>
        ))}
      </select>
    </div>
  );
}
