import { useEffect, useRef, useState } from 'preact/hooks';
import type { AccountClient } from '../account/api';
import { buildInviteLink, createRoom, generateSecret, RoomApiError, type FetchLike } from '../protocol/invite';
import { useLang } from './lang';
import { InviteLink } from './InviteLink';
import { saveHostToken } from './storage';

type LandingState =
  { kind: 'idle' } | { kind: 'creating' } | { kind: 'ready'; link: string } | { kind: 'error'; code: string };

export function Landing({ account }: { account?: AccountClient }) {
  const { t } = useLang();
  const [state, setState] = useState<LandingState>({ kind: 'idle' });
  const [signedIn, setSignedIn] = useState(false);
  const readyRef = useRef<HTMLHeadingElement>(null);

  useEffect(() => {
    account?.me({ ifSignedInBefore: true }).then(
      (user) => setSignedIn(user !== null),
      () => setSignedIn(false),
    );
  }, [account]);

  useEffect(() => {
    if (state.kind === 'ready') readyRef.current?.focus();
  }, [state.kind]);

  const start = async (): Promise<void> => {
    setState({ kind: 'creating' });
    try {
      // A signed-in host sends its session and CSRF token (a server may let only hosts start meetings).
      const csrf = signedIn ? (account?.csrfToken ?? null) : null;
      const fetchFn: FetchLike =
        csrf === null
          ? (input, init) => fetch(input, init)
          : (input, init) =>
              fetch(input, { ...init, credentials: 'same-origin', headers: { 'X-Conclave-CSRF': csrf } });
      const { roomId, hostToken } = await createRoom(fetchFn);
      // The host credential stays in this browser (never in the link): opening the meeting here makes this person its host.
      if (hostToken !== null) saveHostToken(roomId, hostToken);
      // The secret is made here, after the request, and never leaves this page except in the link.
      const link = buildInviteLink(window.location.origin, roomId, generateSecret());
      setState({ kind: 'ready', link });
    } catch (err) {
      setState({ kind: 'error', code: err instanceof RoomApiError ? err.code : 'internal' });
    }
  };

  return (
    <section class="card" aria-labelledby="landing-title">
      <h1 id="landing-title">{t('landing.title')}</h1>
      <p class="lead">{t('landing.intro')}</p>
      {state.kind !== 'ready' && (
        <button
          type="button"
          class="button primary large"
          data-testid="start-meeting"
          disabled={state.kind === 'creating'}
          onClick={() => void start()}
        >
          {state.kind === 'creating' ? t('landing.starting') : t('landing.start')}
        </button>
      )}
      {state.kind === 'error' && (
        <p class="alert" role="alert" data-testid="error-message">
          {state.code === 'login-required' ? t('account.onlyHosts') : t('error.createRoom', { code: state.code })}
        </p>
      )}
      {state.kind === 'ready' && (
        <div class="ready">
          <h2 ref={readyRef} tabIndex={-1}>
            {t('landing.ready')}
          </h2>
          <p>{t('landing.shareHint')}</p>
          <InviteLink link={state.link} id="landing-invite" />
          <div class="actions">
            <a class="button primary" href={state.link} data-testid="open-meeting">
              {t('landing.open')}
            </a>
            <button type="button" class="button link" onClick={() => void start()}>
              {t('landing.another')}
            </button>
          </div>
          <p class="hint">{t('landing.privacy')}</p>
        </div>
      )}
      <p class="hint host-login">
        <a href={signedIn ? '/account' : '/login'} data-testid={signedIn ? 'my-rooms-link' : 'host-login-link'}>
          {signedIn ? t('account.myRooms') : t('account.hostLogin')}
        </a>
      </p>
    </section>
  );
}
