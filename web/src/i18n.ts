// Every string the user sees, in English and German. `{name}` placeholders are filled by t().
// German uses the formal "Sie".

export const LANGUAGES = ['en', 'de'] as const;
export type Lang = (typeof LANGUAGES)[number];

const en = {
  'app.name': 'Conclave',
  'app.tagline': 'Private video meetings on your own server.',
  'app.footer': 'No accounts, no cookies, no tracking.',
  'language.label': 'Language',
  'language.en': 'English',
  'language.de': 'Deutsch',

  'landing.title': 'Meet privately',
  'landing.intro': 'Start a meeting and send the link to the people you want to meet.',
  'landing.start': 'Start a meeting',
  'landing.starting': 'Creating the meeting…',
  'landing.ready': 'Your meeting is ready',
  'landing.shareHint': 'Anyone with this link can join, so send it only to the people you invite.',
  'landing.privacy': 'The part of the link after the # sign stays in the browser: the server never sees it.',
  'landing.open': 'Open meeting',
  'landing.another': 'Start another meeting',

  'invite.label': 'Invite link',
  'invite.copy': 'Copy',
  'invite.copied': 'Link copied',
  'invite.copyFailed': 'Could not copy. Select the link and copy it by hand.',

  'link.invalidTitle': 'This link is incomplete or wrong',
  'link.invalidHint':
    'Ask the person who invited you to send the whole link again, including everything after the # sign.',
  'link.home': 'Go to the start page',
  'notFound.title': 'Page not found',

  'room.title': 'Join the meeting',
  'room.nameLabel': 'Your name',
  'room.nameHint': 'The others in the meeting see this name.',
  'room.nameRequired': 'Please enter your name.',
  'room.join': 'Join',
  'room.joining': 'Joining…',
  'room.inMeeting': 'In this meeting',
  'room.count.one': '1 person',
  'room.count.other': '{count} people',
  'room.you': '(you)',
  'room.unnamed': 'Guest without a name',
  'room.leave': 'Leave',
  'room.changeName': 'Change your name',
  'room.saveName': 'Save',
  'room.nameSaved': 'Your name was changed',
  'room.inviteOthers': 'Invite others',

  'announce.selfJoined': 'You joined the meeting',
  'announce.joined': '{name} joined the meeting',
  'announce.left': '{name} left the meeting',
  'announce.renamed': '{old} is now called {name}',

  'left.title': 'You left the meeting',
  'left.rejoin': 'Rejoin',

  'status.connecting': 'Connecting…',
  'status.reconnectIn': 'Next attempt in {seconds} s.',
  'status.reconnecting': 'The connection was lost. Reconnecting…',
  'status.reconnectNow': 'Try now',
  'status.shutdown': 'The server is shutting down',
  'status.shutdownHint': 'Please try again in a moment.',
  'status.tryAgain': 'Try again',

  'error.room-not-found': 'This meeting does not exist on this server. Please check the link.',
  'error.room-full': 'This meeting is full.',
  'error.unsupported-version': 'This page is out of date. Please reload it.',
  'error.rate-limited': 'Too many requests. Please wait a moment.',
  'error.network': 'The server cannot be reached.',
  'error.generic': 'Something went wrong ({code}).',
  'error.createRoom': 'The meeting could not be created ({code}). Please try again.',
} as const;

export type MessageKey = keyof typeof en;
export type Messages = Record<MessageKey, string>;

const de: Messages = {
  'app.name': 'Conclave',
  'app.tagline': 'Private Videobesprechungen auf Ihrem eigenen Server.',
  'app.footer': 'Keine Konten, keine Cookies, kein Tracking.',
  'language.label': 'Sprache',
  'language.en': 'English',
  'language.de': 'Deutsch',

  'landing.title': 'Vertraulich besprechen',
  'landing.intro': 'Starten Sie eine Besprechung und senden Sie den Link an die Personen, die Sie treffen möchten.',
  'landing.start': 'Besprechung starten',
  'landing.starting': 'Besprechung wird erstellt…',
  'landing.ready': 'Ihre Besprechung ist bereit',
  'landing.shareHint':
    'Jede Person mit diesem Link kann teilnehmen. Senden Sie ihn daher nur an die Personen, die Sie einladen.',
  'landing.privacy': 'Der Teil des Links nach dem Zeichen # bleibt im Browser: Der Server sieht ihn nie.',
  'landing.open': 'Besprechung öffnen',
  'landing.another': 'Weitere Besprechung starten',

  'invite.label': 'Einladungslink',
  'invite.copy': 'Kopieren',
  'invite.copied': 'Link kopiert',
  'invite.copyFailed': 'Kopieren nicht möglich. Markieren Sie den Link und kopieren Sie ihn von Hand.',

  'link.invalidTitle': 'Dieser Link ist unvollständig oder falsch',
  'link.invalidHint':
    'Bitten Sie die Person, die Sie eingeladen hat, den ganzen Link noch einmal zu senden, mit allem nach dem Zeichen #.',
  'link.home': 'Zur Startseite',
  'notFound.title': 'Seite nicht gefunden',

  'room.title': 'An der Besprechung teilnehmen',
  'room.nameLabel': 'Ihr Name',
  'room.nameHint': 'Die anderen in der Besprechung sehen diesen Namen.',
  'room.nameRequired': 'Bitte geben Sie Ihren Namen ein.',
  'room.join': 'Teilnehmen',
  'room.joining': 'Verbindung wird hergestellt…',
  'room.inMeeting': 'In dieser Besprechung',
  'room.count.one': '1 Person',
  'room.count.other': '{count} Personen',
  'room.you': '(Sie)',
  'room.unnamed': 'Gast ohne Namen',
  'room.leave': 'Verlassen',
  'room.changeName': 'Namen ändern',
  'room.saveName': 'Speichern',
  'room.nameSaved': 'Ihr Name wurde geändert',
  'room.inviteOthers': 'Weitere Personen einladen',

  'announce.selfJoined': 'Sie sind der Besprechung beigetreten',
  'announce.joined': '{name} ist der Besprechung beigetreten',
  'announce.left': '{name} hat die Besprechung verlassen',
  'announce.renamed': '{old} heißt jetzt {name}',

  'left.title': 'Sie haben die Besprechung verlassen',
  'left.rejoin': 'Wieder teilnehmen',

  'status.connecting': 'Verbindung wird hergestellt…',
  'status.reconnectIn': 'Nächster Versuch in {seconds} s.',
  'status.reconnecting': 'Die Verbindung wurde unterbrochen. Verbindung wird wiederhergestellt…',
  'status.reconnectNow': 'Jetzt versuchen',
  'status.shutdown': 'Der Server wird heruntergefahren',
  'status.shutdownHint': 'Bitte versuchen Sie es gleich noch einmal.',
  'status.tryAgain': 'Erneut versuchen',

  'error.room-not-found': 'Diese Besprechung gibt es auf diesem Server nicht. Bitte prüfen Sie den Link.',
  'error.room-full': 'Diese Besprechung ist voll.',
  'error.unsupported-version': 'Diese Seite ist veraltet. Bitte laden Sie sie neu.',
  'error.rate-limited': 'Zu viele Anfragen. Bitte warten Sie einen Moment.',
  'error.network': 'Der Server ist nicht erreichbar.',
  'error.generic': 'Etwas ist schiefgelaufen ({code}).',
  'error.createRoom': 'Die Besprechung konnte nicht erstellt werden ({code}). Bitte versuchen Sie es erneut.',
};

export const MESSAGES: Record<Lang, Messages> = { en, de };

export function isLang(value: unknown): value is Lang {
  return typeof value === 'string' && (LANGUAGES as readonly string[]).includes(value);
}

/** Picks the first supported language from the browser's list (navigator.languages), else English. */
export function detectLanguage(preferred: readonly string[]): Lang {
  for (const tag of preferred) {
    const base = tag.toLowerCase().split('-')[0];
    if (isLang(base)) return base;
  }
  return 'en';
}

export type Params = Record<string, string | number>;

/** The message `key` in `lang`, with `{name}` placeholders replaced from `params`. */
export function translate(lang: Lang, key: MessageKey, params: Params = {}): string {
  const template = MESSAGES[lang][key];
  return template.replace(/\{(\w+)\}/g, (whole, name: string) => {
    const value = params[name];
    return value === undefined ? whole : String(value);
  });
}

/** Error codes with their own message; all others use `error.generic`. */
const ERROR_KEYS: Partial<Record<string, MessageKey>> = {
  'room-not-found': 'error.room-not-found',
  'room-full': 'error.room-full',
  'unsupported-version': 'error.unsupported-version',
  'rate-limited': 'error.rate-limited',
  network: 'error.network',
  closed: 'error.network',
  timeout: 'error.network',
};

export function errorText(lang: Lang, code: string): string {
  const key = ERROR_KEYS[code];
  return key ? translate(lang, key) : translate(lang, 'error.generic', { code });
}

export function countText(lang: Lang, count: number): string {
  return count === 1 ? translate(lang, 'room.count.one') : translate(lang, 'room.count.other', { count });
}
