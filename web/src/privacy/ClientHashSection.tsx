// The "Verify this app" section of /privacy: the client hash the server reports, with what it
// proves and what it does not.
import { useEffect, useState } from 'preact/hooks';
import { useLang } from '../ui/lang';
import { CLIENT_HASH_TEXT, parseClientHash, type ClientHash } from './clientHash';

type State = { kind: 'loading' } | { kind: 'failed' } | { kind: 'ready'; hash: ClientHash };

export function ClientHashSection() {
  const { lang } = useLang();
  const text = lang === 'de' ? CLIENT_HASH_TEXT.de : CLIENT_HASH_TEXT.en;
  const [state, setState] = useState<State>({ kind: 'loading' });
  useEffect(() => {
    let live = true;
    void fetch('/api/client-hash', { credentials: 'omit', cache: 'no-store', referrerPolicy: 'no-referrer' })
      .then(async (response) => (response.ok ? parseClientHash(await response.json()) : null))
      .catch(() => null)
      .then((hash) => {
        if (live) setState(hash === null ? { kind: 'failed' } : { kind: 'ready', hash });
      });
    return () => {
      live = false;
    };
  }, []);

  if (state.kind === 'loading') return null;
  return (
    <section class="privacy-section" data-testid="client-hash">
      <h2>{text.title}</h2>
      {state.kind === 'failed' ? (
        <p>{text.missing}</p>
      ) : (
        <>
          <p>{text.intro.replace('{files}', String(state.hash.files))}</p>
          <p>
            <code class="client-hash" data-testid="client-hash-value">
              {state.hash.clientHash}
            </code>
          </p>
          <p>{text.caveat}</p>
        </>
      )}
    </section>
  );
}
