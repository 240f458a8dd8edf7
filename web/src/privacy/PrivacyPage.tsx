// /privacy: the server's privacy notice, generated from its configuration, in the page's language.
// An incomplete notice says so: what the operator left out is named, never made up here.
import { useEffect, useState } from 'preact/hooks';
import { useLang } from '../ui/lang';
import { ClientHashSection } from './ClientHashSection';
import { parsePrivacyNotice, type PrivacyNotice } from './notice';

type State = { kind: 'loading' } | { kind: 'failed' } | { kind: 'ready'; notice: PrivacyNotice };

export function PrivacyPage() {
  const { t, lang } = useLang();
  const [state, setState] = useState<State>({ kind: 'loading' });
  useEffect(() => {
    let live = true;
    void fetch('/api/privacy', { credentials: 'omit', cache: 'no-store', referrerPolicy: 'no-referrer' })
      .then(async (response) => (response.ok ? parsePrivacyNotice(await response.json()) : null))
      .catch(() => null)
      .then((notice) => {
        if (live) setState(notice === null ? { kind: 'failed' } : { kind: 'ready', notice });
      });
    return () => {
      live = false;
    };
  }, []);

  return (
    <section class="card privacy" aria-labelledby="privacy-title" data-testid="privacy">
      <h1 id="privacy-title">{t('privacy.title')}</h1>
      {state.kind === 'loading' && <p>{t('privacy.loading')}</p>}
      {state.kind === 'failed' && (
        <p class="field-error" role="alert">
          {t('privacy.failed')}
        </p>
      )}
      {state.kind === 'ready' && (
        <>
          {state.notice.missing.length > 0 && (
            <p class="privacy-missing" role="note" data-testid="privacy-missing">
              {t('privacy.incomplete', { settings: state.notice.missing.join(', ') })}
            </p>
          )}
          {(lang === 'de' ? state.notice.notice.de : state.notice.notice.en).map((section, i) => (
            <section key={i} class="privacy-section">
              <h2>{section.title}</h2>
              {section.paragraphs.map((p, j) => (
                <p key={j}>{p}</p>
              ))}
            </section>
          ))}
        </>
      )}
      <ClientHashSection />
    </section>
  );
}
