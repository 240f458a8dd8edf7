import { useEffect, useMemo, useState } from 'preact/hooks';
import logoUrl from '../favicon.svg';
import { detectLanguage, isLang, LANGUAGES, type Lang } from '../i18n';
import { AccountPage } from '../account/Account';
import { AccountClient } from '../account/api';
import { LoginPage } from '../account/Login';
import { PrivacyPage } from '../privacy/PrivacyPage';
import { parseRoomLocation } from '../protocol/invite';
import { AddressSecrets } from './address';
import { LangContext, langValue, useLang } from './lang';
import { Landing } from './Landing';
import { Room } from './Room';
import { loadSetting, saveSetting } from './storage';

function initialLanguage(): Lang {
  const saved = loadSetting('lang');
  if (isLang(saved)) return saved;
  return detectLanguage(navigator.languages.length > 0 ? navigator.languages : [navigator.language]);
}

interface Place {
  pathname: string;
  hash: string;
}

/** Reads the room secret from the address once and clears it from the address bar and history. */
const addressSecrets = new AddressSecrets(window.history);

/** The host account of this browser, if it signs in (pages /login and /account). */
const accountClient = new AccountClient((input, init) => fetch(input, init));

function currentPlace(): Place {
  const { pathname, search, hash } = window.location;
  return { pathname, hash: addressSecrets.read(pathname, search, hash) };
}

export function App() {
  const [lang, setLang] = useState<Lang>(initialLanguage);
  const [place, setPlace] = useState<Place>(currentPlace);
  const value = useMemo(() => langValue(lang), [lang]);

  useEffect(() => {
    const update = (): void => setPlace(currentPlace());
    window.addEventListener('hashchange', update);
    window.addEventListener('popstate', update);
    return () => {
      window.removeEventListener('hashchange', update);
      window.removeEventListener('popstate', update);
    };
  }, []);

  useEffect(() => {
    document.documentElement.lang = lang;
    document.title = value.t('app.name');
  }, [lang, value]);

  const chooseLanguage = (next: Lang): void => {
    setLang(next);
    saveSetting('lang', next);
  };

  return (
    <LangContext.Provider value={value}>
      <header class="topbar">
        <a class="brand" href="/">
          <img class="brand-mark" src={logoUrl} alt="" width={28} height={28} />
          {value.t('app.name')}
        </a>
        <div class="topbar-end">
          {/* On every page, the call too; a new tab, so that following it does not leave the call. */}
          <a class="topbar-link" href="/privacy" target="_blank" rel="noopener noreferrer" data-testid="privacy-link">
            {value.t('app.privacyLink')}
          </a>
          <LanguageSwitch lang={lang} onChoose={chooseLanguage} />
        </div>
      </header>
      <main id="main" class="content">
        <Page place={place} />
      </main>
      <footer class="footer">
        <p>
          {value.t('app.tagline')} {value.t('app.footer')}
        </p>
      </footer>
    </LangContext.Provider>
  );
}

function Page({ place }: { place: Place }) {
  const { t } = useLang();
  if (place.pathname === '/' || place.pathname === '/index.html') return <Landing account={accountClient} />;
  if (place.pathname === '/login') return <LoginPage client={accountClient} />;
  if (place.pathname === '/account') return <AccountPage client={accountClient} />;
  if (place.pathname === '/privacy') return <PrivacyPage />;
  const link = parseRoomLocation(place.pathname, place.hash);
  if (link.ok) {
    return (
      <Room
        key={`${link.roomId}#${link.secret}`}
        roomId={link.roomId}
        secret={link.secret}
        onMoved={(roomId, secret) => addressSecrets.remember(roomId, secret)}
      />
    );
  }
  const isRoomPath = link.problem !== 'not-a-room';
  return (
    <section class="card" aria-labelledby="problem-title">
      <h1 id="problem-title" data-testid="link-error">
        {isRoomPath ? t('link.invalidTitle') : t('notFound.title')}
      </h1>
      {isRoomPath && <p>{t('link.invalidHint')}</p>}
      <div class="actions">
        <a class="button secondary" href="/">
          {t('link.home')}
        </a>
      </div>
    </section>
  );
}

function LanguageSwitch({ lang, onChoose }: { lang: Lang; onChoose: (lang: Lang) => void }) {
  const { t } = useLang();
  return (
    <div class="lang-switch" role="group" aria-label={t('language.label')}>
      {LANGUAGES.map((code) => (
        <button
          key={code}
          type="button"
          lang={code}
          class="lang-button"
          aria-pressed={code === lang}
          data-testid={`language-${code}`}
          onClick={() => onChoose(code)}
        >
          {t(`language.${code}`)}
        </button>
      ))}
    </div>
  );
}
