import { useEffect, useState } from 'preact/hooks';
import { buildInviteLink, generateSecret, parseInviteLink } from '../protocol/invite';
import { InviteLink } from '../ui/InviteLink';
import { useLang } from '../ui/lang';
import { AccountClient, type AccountUser, type PersistentRoom } from './api';
import { accountErrorText } from './errors';
import { formText } from './form';
import { forgetRoom, loadRoomSecret, saveHostToken, saveModeratorToken, saveRoomSecret } from './roomKeys';
import { TextField } from './TextField';

type Load = { kind: 'loading' } | { kind: 'ready'; user: AccountUser } | { kind: 'error'; text: string };

/** The signed-in host's page: permanent rooms, password, 2-step login. */
export function AccountPage({ client }: { client: AccountClient }) {
  const { t, lang } = useLang();
  const [load, setLoad] = useState<Load>({ kind: 'loading' });

  useEffect(() => {
    client.me().then(
      (user) => {
        if (user === null) window.location.replace('/login');
        else setLoad({ kind: 'ready', user });
      },
      (err: unknown) => setLoad({ kind: 'error', text: accountErrorText(lang, err) }),
    );
  }, [client, lang]);

  if (load.kind === 'loading') return <section class="card" aria-busy="true" />;
  if (load.kind === 'error')
    return (
      <section class="card">
        <p class="alert" role="alert">
          {load.text}
        </p>
      </section>
    );

  const signOut = async (): Promise<void> => {
    try {
      await client.logout();
    } finally {
      window.location.assign('/');
    }
  };

  return (
    <div class="stack">
      <section class="card" aria-labelledby="account-title">
        <h1 id="account-title">{t('account.title')}</h1>
        <div class="actions">
          <p data-testid="account-user">{t('account.signedInAs', { name: load.user.username })}</p>
          <button type="button" class="button secondary" onClick={() => void signOut()} data-testid="sign-out">
            {t('account.signOut')}
          </button>
        </div>
      </section>
      <RoomsSection client={client} />
      <PasswordSection client={client} />
      <TotpSection
        client={client}
        enabled={load.user.totp}
        onChange={(totp) => setLoad({ kind: 'ready', user: { ...load.user, totp } })}
      />
    </div>
  );
}

function useAction(): [boolean, string | null, (action: () => Promise<void>) => Promise<void>, (m: string) => void] {
  const { lang } = useLang();
  const [busy, setBusy] = useState(false);
  const [message, setMessage] = useState<string | null>(null);
  const run = async (action: () => Promise<void>): Promise<void> => {
    setBusy(true);
    setMessage(null);
    try {
      await action();
    } catch (err) {
      setMessage(accountErrorText(lang, err));
    } finally {
      setBusy(false);
    }
  };
  return [busy, message, run, setMessage];
}

function RoomsSection({ client }: { client: AccountClient }) {
  const { t } = useLang();
  const [rooms, setRooms] = useState<PersistentRoom[] | null>(null);
  const [busy, message, run] = useAction();

  const refresh = (): Promise<void> => run(async () => setRooms(await client.rooms()));
  useEffect(() => {
    void refresh();
    // Once, when the page opens.
    // eslint-disable-next-line react-hooks/exhaustive-deps
  }, []);

  const onCreate = (event: Event): void => {
    event.preventDefault();
    const formElement = event.currentTarget as HTMLFormElement;
    const name = formText(formElement, 'name').trim();
    void run(async () => {
      const created = await client.createRoom(name || undefined);
      saveRoomSecret(created.roomId, generateSecret());
      saveHostToken(created.roomId, created.hostToken);
      formElement.reset();
      setRooms(await client.rooms());
    });
  };

  return (
    <section class="card" aria-labelledby="rooms-title">
      <h2 id="rooms-title">{t('account.roomsTitle')}</h2>
      <p class="hint">{t('account.roomsIntro')}</p>
      {rooms !== null && rooms.length === 0 && <p>{t('account.noRooms')}</p>}
      {rooms !== null && rooms.length > 0 && (
        <ul class="stack room-list" data-testid="room-list">
          {rooms.map((room) => (
            <RoomItem key={room.roomId} client={client} room={room} onChange={() => void refresh()} />
          ))}
        </ul>
      )}
      <form class="actions" onSubmit={onCreate}>
        <TextField id="new-room-name" label={t('account.roomName')} name="name" maxLength={100} />
        <button type="submit" class="button primary" disabled={busy} data-testid="create-room">
          {t('account.createRoom')}
        </button>
      </form>
      {message !== null && (
        <p class="alert" role="alert">
          {message}
        </p>
      )}
    </section>
  );
}

function RoomItem({ client, room, onChange }: { client: AccountClient; room: PersistentRoom; onChange: () => void }) {
  const { t } = useLang();
  const [secret, setSecret] = useState<string | null>(() => loadRoomSecret(room.roomId));
  const [confirming, setConfirming] = useState(false);
  const [busy, message, run, setMessage] = useAction();
  const link = secret !== null ? buildInviteLink(window.location.origin, room.roomId, secret) : null;
  const title = room.name ?? t('account.unnamedRoom', { id: room.roomId.slice(0, 8) });
  const idBase = `room-${room.roomId}`;

  const useLink = (event: Event): void => {
    event.preventDefault();
    const text = formText(event.currentTarget as HTMLFormElement, 'link');
    const parsed = parseInviteLink(text.trim());
    if (!parsed.ok || parsed.roomId !== room.roomId) {
      setMessage(t('account.linkMismatch'));
      return;
    }
    saveRoomSecret(room.roomId, parsed.secret);
    setSecret(parsed.secret);
  };
  const newLink = (): void => {
    const fresh = generateSecret();
    saveRoomSecret(room.roomId, fresh);
    setSecret(fresh);
  };
  const open = (): Promise<void> =>
    run(async () => {
      if (room.role === 'owner') saveHostToken(room.roomId, await client.hostToken(room.roomId));
      else saveModeratorToken(room.roomId, await client.moderatorToken(room.roomId));
      if (link !== null) window.location.assign(link);
      else setMessage(t('account.moderatorKeySaved'));
    });
  const saveModerators = (event: Event): void => {
    event.preventDefault();
    const text = formText(event.currentTarget as HTMLFormElement, 'moderators');
    const moderators = text
      .split(',')
      .map((m) => m.trim())
      .filter((m) => m !== '');
    void run(async () => {
      await client.updateRoom(room.roomId, { moderators });
      setMessage(t('account.saved'));
    });
  };
  const remove = (): void => {
    if (!confirming) {
      setConfirming(true);
      return;
    }
    void run(async () => {
      await client.deleteRoom(room.roomId);
      forgetRoom(room.roomId);
      onChange();
    });
  };

  return (
    <li class="stack room-item" data-testid="room-item">
      <h3>{title}</h3>
      {room.role === 'moderator' && <p class="hint">{t('account.roleModerator')}</p>}
      {link !== null ? (
        <InviteLink link={link} id={`${idBase}-link`} />
      ) : (
        <form class="stack" onSubmit={useLink}>
          <p class="hint">{t('account.noLinkHere')}</p>
          <div class="field">
            <label class="label" for={`${idBase}-paste`}>
              {t('account.pasteLink')}
            </label>
            <input id={`${idBase}-paste`} name="link" class="text-input" />
          </div>
          <div class="actions">
            <button type="submit" class="button secondary">
              {t('account.useLink')}
            </button>
            {room.role === 'owner' && (
              <button type="button" class="button link" onClick={newLink}>
                {t('account.newLink')}
              </button>
            )}
          </div>
        </form>
      )}
      <div class="actions">
        <button type="button" class="button primary" disabled={busy} onClick={() => void open()}>
          {room.role === 'owner' || link !== null ? t('account.open') : t('account.moderatorKey')}
        </button>
        {room.role === 'owner' && (
          <button type="button" class="button danger" disabled={busy} onClick={remove}>
            {confirming ? t('account.confirmDelete') : t('account.deleteRoom')}
          </button>
        )}
      </div>
      {room.role === 'owner' && (
        <form class="actions" onSubmit={saveModerators}>
          <div class="field">
            <label class="label" for={`${idBase}-moderators`}>
              {t('account.moderators')}
            </label>
            <input
              id={`${idBase}-moderators`}
              name="moderators"
              class="text-input"
              defaultValue={(room.moderators ?? []).join(', ')}
            />
          </div>
          <button type="submit" class="button secondary" disabled={busy}>
            {t('account.saveModerators')}
          </button>
        </form>
      )}
      {message !== null && (
        <p class="hint" role="status">
          {message}
        </p>
      )}
    </li>
  );
}

function PasswordSection({ client }: { client: AccountClient }) {
  const { t } = useLang();
  const [busy, message, run, setMessage] = useAction();
  const onSubmit = (event: Event): void => {
    event.preventDefault();
    const formElement = event.currentTarget as HTMLFormElement;
    const form = new FormData(formElement);
    void run(async () => {
      await client.changePassword(formText(form, 'old'), formText(form, 'new'));
      formElement.reset();
      setMessage(t('account.passwordChanged'));
    });
  };
  return (
    <section class="card" aria-labelledby="password-title">
      <h2 id="password-title">{t('account.passwordTitle')}</h2>
      <form class="stack" onSubmit={onSubmit}>
        <TextField
          id="old-password"
          label={t('account.oldPassword')}
          name="old"
          type="password"
          autoComplete="current-password"
          required
        />
        <TextField
          id="new-password"
          label={t('account.newPassword')}
          name="new"
          type="password"
          autoComplete="new-password"
          minLength={8}
          maxLength={1024}
          required
        />
        <button type="submit" class="button secondary" disabled={busy}>
          {t('account.changePassword')}
        </button>
      </form>
      {message !== null && (
        <p class="hint" role="status">
          {message}
        </p>
      )}
    </section>
  );
}

type TotpStep = { kind: 'idle' } | { kind: 'setup'; secret: string; uri: string } | { kind: 'codes'; codes: string[] };

function TotpSection({
  client,
  enabled,
  onChange,
}: {
  client: AccountClient;
  enabled: boolean;
  onChange: (enabled: boolean) => void;
}) {
  const { t } = useLang();
  const [step, setStep] = useState<TotpStep>({ kind: 'idle' });
  const [busy, message, run] = useAction();

  const start = (): Promise<void> =>
    run(async () => {
      const setup = await client.setupTotp();
      setStep({ kind: 'setup', ...setup });
    });
  const confirm = (event: Event): void => {
    event.preventDefault();
    const code = formText(event.currentTarget as HTMLFormElement, 'code');
    void run(async () => {
      const codes = await client.confirmTotp(code);
      setStep({ kind: 'codes', codes });
    });
  };
  const disable = (event: Event): void => {
    event.preventDefault();
    const form = new FormData(event.currentTarget as HTMLFormElement);
    void run(async () => {
      await client.disableTotp(formText(form, 'password'), formText(form, 'code'));
      onChange(false);
    });
  };

  return (
    <section class="card" aria-labelledby="totp-title">
      <h2 id="totp-title">{t('account.totpSection')}</h2>
      {step.kind === 'codes' ? (
        <div class="stack" data-testid="recovery-codes">
          <h3>{t('account.recoveryTitle')}</h3>
          <p>{t('account.recoveryIntro')}</p>
          <ul class="recovery-codes">
            {step.codes.map((code) => (
              <li key={code}>
                <code>{code}</code>
              </li>
            ))}
          </ul>
          <button
            type="button"
            class="button primary"
            onClick={() => {
              setStep({ kind: 'idle' });
              onChange(true);
            }}
          >
            {t('account.recoveryDone')}
          </button>
        </div>
      ) : enabled ? (
        <form class="stack" onSubmit={disable}>
          <p>{t('account.totpOn')}</p>
          <TextField
            id="totp-off-password"
            label={t('account.password')}
            name="password"
            type="password"
            autoComplete="current-password"
            required
          />
          <TextField id="totp-off-code" label={t('account.code')} name="code" autoComplete="one-time-code" required />
          <button type="submit" class="button danger" disabled={busy}>
            {t('account.totpDisable')}
          </button>
        </form>
      ) : step.kind === 'setup' ? (
        <form class="stack" onSubmit={confirm} data-testid="totp-setup">
          <p>{t('account.totpSetupIntro')}</p>
          <p>
            <span class="label">{t('account.totpSecret')}: </span>
            <code data-testid="totp-secret">{step.secret.replace(/(.{4})/g, '$1 ').trim()}</code>
          </p>
          <p>
            <span class="label">{t('account.totpUri')}: </span>
            <a href={step.uri} data-testid="totp-uri" class="wrap-anywhere">
              {step.uri}
            </a>
          </p>
          <TextField
            id="totp-confirm-code"
            label={t('account.code')}
            name="code"
            inputMode="numeric"
            autoComplete="one-time-code"
            maxLength={6}
            required
          />
          <button type="submit" class="button primary" disabled={busy}>
            {t('account.totpConfirm')}
          </button>
        </form>
      ) : (
        <div class="stack">
          <p>{t('account.totpOff')}</p>
          <button type="button" class="button primary" disabled={busy} onClick={() => void start()}>
            {t('account.totpSetup')}
          </button>
        </div>
      )}
      {message !== null && (
        <p class="alert" role="alert">
          {message}
        </p>
      )}
    </section>
  );
}
