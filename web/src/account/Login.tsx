import { useState } from 'preact/hooks';
import { useLang } from '../ui/lang';
import { AccountApiError, AccountClient } from './api';
import { accountErrorText } from './errors';
import { formText } from './form';
import { TextField } from './TextField';

type Step = { kind: 'password' } | { kind: 'totp'; ticket: string };

/** The host login: username and password, then (if on) the second step. */
export function LoginPage({ client }: { client: AccountClient }) {
  const { t, lang } = useLang();
  const [step, setStep] = useState<Step>({ kind: 'password' });
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<string | null>(null);

  const run = async (action: () => Promise<void>): Promise<void> => {
    setBusy(true);
    setError(null);
    try {
      await action();
    } catch (err) {
      if (err instanceof AccountApiError && err.code === 'bad-ticket') setStep({ kind: 'password' });
      setError(accountErrorText(lang, err));
    } finally {
      setBusy(false);
    }
  };

  const onPassword = (event: Event): void => {
    event.preventDefault();
    const form = new FormData(event.currentTarget as HTMLFormElement);
    void run(async () => {
      const result = await client.login(formText(form, 'username'), formText(form, 'password'));
      if (result.kind === 'totp-required') setStep({ kind: 'totp', ticket: result.ticket });
      else window.location.assign('/account');
    });
  };

  const onCode = (event: Event): void => {
    event.preventDefault();
    if (step.kind !== 'totp') return;
    const form = new FormData(event.currentTarget as HTMLFormElement);
    void run(async () => {
      await client.loginTotp(step.ticket, formText(form, 'code'));
      window.location.assign('/account');
    });
  };

  return (
    <section class="card" aria-labelledby="login-title">
      <h1 id="login-title">{step.kind === 'password' ? t('account.loginTitle') : t('account.totpTitle')}</h1>
      {step.kind === 'password' ? (
        <form class="stack" onSubmit={onPassword} data-testid="login-form">
          <p class="lead">{t('account.loginIntro')}</p>
          <TextField
            id="login-username"
            label={t('account.username')}
            name="username"
            autoComplete="username"
            required
            maxLength={64}
          />
          <TextField
            id="login-password"
            label={t('account.password')}
            name="password"
            type="password"
            autoComplete="current-password"
            required
            maxLength={1024}
          />
          <button type="submit" class="button primary" disabled={busy} data-testid="login-submit">
            {busy ? t('account.signingIn') : t('account.signIn')}
          </button>
        </form>
      ) : (
        <form class="stack" onSubmit={onCode} data-testid="totp-form">
          <p class="lead">{t('account.totpIntro')}</p>
          <TextField
            id="login-code"
            label={t('account.code')}
            name="code"
            autoComplete="one-time-code"
            inputMode="text"
            required
            maxLength={32}
            autoFocus
          />
          <div class="actions">
            <button type="submit" class="button primary" disabled={busy} data-testid="totp-submit">
              {t('account.verify')}
            </button>
            <button type="button" class="button link" onClick={() => setStep({ kind: 'password' })}>
              {t('account.backToLogin')}
            </button>
          </div>
        </form>
      )}
      {error !== null && (
        <p class="alert" role="alert" data-testid="login-error">
          {error}
        </p>
      )}
    </section>
  );
}
