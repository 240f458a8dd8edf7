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

  'prejoin.preview': 'Your camera preview',
  'prejoin.cameraOff': 'Your camera is off',
  'prejoin.noCamera': 'No camera',
  'prejoin.cameraBlocked': 'Camera blocked',
  'prejoin.starting': 'Starting camera and microphone…',
  'prejoin.retry': 'Try again',
  'prejoin.receiveOnly': 'You can still join: you will see and hear the others.',
  'prejoin.deniedHint':
    'To be seen and heard, allow the camera and microphone for this site (the icon in the address bar), then press “Try again”.',

  'device.camera': 'Camera',
  'device.microphone': 'Microphone',
  'device.speaker': 'Speaker',
  'device.cameraN': 'Camera {n}',
  'device.microphoneN': 'Microphone {n}',
  'device.speakerN': 'Speaker {n}',
  'device.default': 'System default',
  'device.camera.denied': 'The browser blocked the camera.',
  'device.camera.not-found': 'No camera was found.',
  'device.camera.in-use': 'The camera is in use by another app.',
  'device.camera.unsupported': 'This browser cannot use a camera on this page.',
  'device.camera.failed': 'The camera could not be started.',
  'device.microphone.denied': 'The browser blocked the microphone.',
  'device.microphone.not-found': 'No microphone was found.',
  'device.microphone.in-use': 'The microphone is in use by another app.',
  'device.microphone.unsupported': 'This browser cannot use a microphone on this page.',
  'device.microphone.failed': 'The microphone could not be started.',
  'device.both.denied': 'The browser blocked the camera and the microphone.',
  'device.camera.ended': 'Your camera stopped (unplugged, or taken by another app).',
  'device.microphone.ended': 'Your microphone stopped (unplugged, or taken by another app).',
  'device.speaker.denied': 'The browser did not allow that speaker; sound plays on the system default.',
  'device.speaker.not-found': 'That speaker was not found; sound plays on the system default.',
  'device.speaker.in-use': 'That speaker is in use; sound plays on the system default.',
  'device.speaker.unsupported': 'This browser cannot choose the speaker; sound plays on the system default.',
  'device.speaker.failed': 'That speaker could not be used; sound plays on the system default.',
  'device.speaker.ended': 'That speaker went away; sound plays on the system default.',
  'devices.menu': 'Devices',
  'devices.menuTitle': 'Choose camera, microphone and speaker',
  'devices.switchFailed': 'That device could not be used; you are still on the one before.',
  'devices.notSent': 'The others cannot see or hear you through the device that stopped.',
  'devices.pickAnother': 'Choose another device under “Devices”, or try again.',
  'devices.deniedHint':
    'Allow the camera and microphone for this site (the icon in the address bar), then press “Try again”.',
  'devices.retry': 'Try again',

  'call.controls': 'Meeting controls',
  'call.microphone': 'Microphone',
  'call.camera': 'Camera',
  'call.share': 'Share screen',
  'call.mute': 'Mute',
  'call.unmute': 'Unmute',
  'call.cameraOn': 'Turn camera on',
  'call.cameraOff': 'Turn camera off',
  'call.startShare': 'Share your screen',
  'call.stopShare': 'Stop sharing',
  'call.noDevice': 'Not available',
  'call.muted': 'Microphone off',
  'call.screenOf': 'Screen of {name}',
  'call.yourScreen': 'Your screen',
  'call.people': 'People',
  'call.mediaError': 'Audio and video could not be connected ({code}). You are still in the meeting.',
  'call.mediaReconnecting': 'Audio and video are reconnecting…',
  'call.shareFailed': 'The screen could not be shared.',

  'e2ee.badge.encrypted': 'End-to-end encrypted',
  'e2ee.badge.verifying': 'Checking membership…',
  'e2ee.badge.waiting': 'Waiting for the key…',
  'e2ee.badge.unverified': 'Not verified: not part of this meeting',
  'e2ee.badge.no-key': 'Not secured: no key received',
  'e2ee.badge.failing': 'Not secured: cannot be decrypted',
  'e2ee.badge.unsupported': 'Not secured: this browser cannot encrypt',
  'e2ee.badge.reconnecting': 'Reconnecting…',
  'e2ee.badge.no-media-yet': 'No media yet',
  'e2ee.badge.no-media': 'Sends no audio or video',
  'e2ee.badge.media-failed': 'Media failed',
  'e2ee.badge.publish-refused': 'Refused by the server',
  'self.refused': 'Your camera and microphone are not reaching the others: the server refused them ({code}).',
  'self.failed':
    'Your camera and microphone are not reaching the others: the media connection failed ({code}). Trying again…',
  'self.nothing': 'Your camera and microphone are not reaching the others: none is on in this call.',
  'self.failing': 'Your camera and microphone are not reaching the others: they could not be encrypted.',
  'self.unsupported': 'Your camera and microphone are not reaching the others: this browser cannot encrypt them.',
  'e2ee.unverifiedName': 'Unverified participant',
  'e2ee.verifyingName': 'Checking…',
  'e2ee.codeLabel': 'Security code',
  'e2ee.codeWhat': 'What does this code mean?',
  'e2ee.codeHint': 'Compare this code with the others: {code}',
  'e2ee.codePending': 'Computing the security code…',
  'e2ee.codeExplain':
    'When everyone sees the same code, everyone shares the same keys: nobody else, not even the server, can see, hear or read this meeting. The code changes whenever someone joins or leaves.',
  'e2ee.unverifiedAlert':
    'Someone here did not prove they have the whole meeting link. They get no keys: they cannot see, hear or read anything.',
  'e2ee.wrongLinkHint':
    'You are connected, but nobody here could confirm your link, so nobody sends you keys. Ask the person who invited you for the whole link, including everything after the # sign.',
  'e2ee.unsupported':
    'This browser cannot encrypt or check audio and video end to end, so it sends none and shows none from the others. Please use a current browser.',

  'chat.title': 'Messages',
  'chat.hint': 'End-to-end encrypted and signed, never stored on the server.',
  'chat.empty': 'No messages yet.',
  'chat.inputLabel': 'Your message',
  'chat.send': 'Send',
  'chat.expiry': 'Delete after',
  'chat.expiry.off': 'Never',
  'chat.expiry.1m': '1 minute',
  'chat.expiry.10m': '10 minutes',
  'chat.expiry.1h': '1 hour',
  'chat.you': 'You',
  'chat.missingOne': '1 message from {name} is missing (the server did not deliver it).',
  'chat.missing': '{count} messages from {name} are missing (the server did not deliver them).',
  'chat.expires': 'Deleted at {time}',
  'chat.sendFailed': 'The message could not be sent ({code}).',
  'chat.notSentReconnecting': 'Not sent: reconnecting to the meeting. Your message is kept; send it again in a moment.',
  'chat.tooLong': 'The message is too long.',
  'chat.attach': 'Share a file',

  'file.uploading': 'Encrypting and uploading {name}…',
  'file.uploaded': '{name} was shared.',
  'file.tooLarge': 'The file is too large for this server.',
  'file.quota': 'This meeting has no room for more files.',
  'file.uploadFailed': 'The file could not be shared ({code}).',
  'file.get': 'Download and check',
  'file.getting': 'Downloading and checking…',
  'file.save': 'Save {name}',
  'file.verified': 'Checked: exactly the file that was sent.',
  'file.corrupt': 'The file does not check out: it was altered, so it is not offered.',
  'file.gone': 'The file is no longer on the server.',
  'file.failed': 'The file could not be downloaded.',

  'announce.unverified': 'Someone who is not verified joined the meeting',

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
  'status.restarting': 'The server is restarting. Reconnecting…',
  'status.offline': 'This device is offline. Reconnecting when the network is back…',
  'status.notLive': 'What you see is how the meeting was; it comes back by itself.',

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

  'prejoin.preview': 'Vorschau Ihrer Kamera',
  'prejoin.cameraOff': 'Ihre Kamera ist aus',
  'prejoin.noCamera': 'Keine Kamera',
  'prejoin.cameraBlocked': 'Kamera blockiert',
  'prejoin.starting': 'Kamera und Mikrofon werden gestartet…',
  'prejoin.retry': 'Erneut versuchen',
  'prejoin.receiveOnly': 'Sie können trotzdem teilnehmen: Sie sehen und hören die anderen.',
  'prejoin.deniedHint':
    'Damit man Sie sieht und hört, erlauben Sie Kamera und Mikrofon für diese Seite (Symbol in der Adressleiste) und wählen Sie dann „Erneut versuchen“.',

  'device.camera': 'Kamera',
  'device.microphone': 'Mikrofon',
  'device.speaker': 'Lautsprecher',
  'device.cameraN': 'Kamera {n}',
  'device.microphoneN': 'Mikrofon {n}',
  'device.speakerN': 'Lautsprecher {n}',
  'device.default': 'Systemstandard',
  'device.camera.denied': 'Der Browser hat die Kamera blockiert.',
  'device.camera.not-found': 'Es wurde keine Kamera gefunden.',
  'device.camera.in-use': 'Die Kamera wird von einer anderen App verwendet.',
  'device.camera.unsupported': 'Dieser Browser kann auf dieser Seite keine Kamera verwenden.',
  'device.camera.failed': 'Die Kamera konnte nicht gestartet werden.',
  'device.microphone.denied': 'Der Browser hat das Mikrofon blockiert.',
  'device.microphone.not-found': 'Es wurde kein Mikrofon gefunden.',
  'device.microphone.in-use': 'Das Mikrofon wird von einer anderen App verwendet.',
  'device.microphone.unsupported': 'Dieser Browser kann auf dieser Seite kein Mikrofon verwenden.',
  'device.microphone.failed': 'Das Mikrofon konnte nicht gestartet werden.',
  'device.both.denied': 'Der Browser hat Kamera und Mikrofon blockiert.',
  'device.camera.ended': 'Ihre Kamera ist ausgefallen (abgesteckt oder von einer anderen App belegt).',
  'device.microphone.ended': 'Ihr Mikrofon ist ausgefallen (abgesteckt oder von einer anderen App belegt).',
  'device.speaker.denied': 'Der Browser hat diesen Lautsprecher nicht erlaubt; der Ton kommt aus dem Systemstandard.',
  'device.speaker.not-found': 'Dieser Lautsprecher wurde nicht gefunden; der Ton kommt aus dem Systemstandard.',
  'device.speaker.in-use': 'Dieser Lautsprecher ist belegt; der Ton kommt aus dem Systemstandard.',
  'device.speaker.unsupported': 'Dieser Browser kann keinen Lautsprecher wählen; der Ton kommt aus dem Systemstandard.',
  'device.speaker.failed': 'Dieser Lautsprecher ließ sich nicht verwenden; der Ton kommt aus dem Systemstandard.',
  'device.speaker.ended': 'Dieser Lautsprecher ist weg; der Ton kommt aus dem Systemstandard.',
  'devices.menu': 'Geräte',
  'devices.menuTitle': 'Kamera, Mikrofon und Lautsprecher wählen',
  'devices.switchFailed': 'Dieses Gerät ließ sich nicht verwenden; Sie nutzen weiter das vorherige.',
  'devices.notSent': 'Über das ausgefallene Gerät sehen oder hören die anderen Sie nicht.',
  'devices.pickAnother': 'Wählen Sie unter „Geräte“ ein anderes Gerät, oder versuchen Sie es erneut.',
  'devices.deniedHint':
    'Erlauben Sie Kamera und Mikrofon für diese Seite (Symbol in der Adressleiste) und wählen Sie dann „Erneut versuchen“.',
  'devices.retry': 'Erneut versuchen',

  'call.controls': 'Steuerung der Besprechung',
  'call.microphone': 'Mikrofon',
  'call.camera': 'Kamera',
  'call.share': 'Bildschirm teilen',
  'call.mute': 'Stummschalten',
  'call.unmute': 'Stummschaltung aufheben',
  'call.cameraOn': 'Kamera einschalten',
  'call.cameraOff': 'Kamera ausschalten',
  'call.startShare': 'Ihren Bildschirm teilen',
  'call.stopShare': 'Teilen beenden',
  'call.noDevice': 'Nicht verfügbar',
  'call.muted': 'Mikrofon aus',
  'call.screenOf': 'Bildschirm von {name}',
  'call.yourScreen': 'Ihr Bildschirm',
  'call.people': 'Personen',
  'call.mediaError': 'Audio und Video konnten nicht verbunden werden ({code}). Sie sind weiterhin in der Besprechung.',
  'call.mediaReconnecting': 'Audio und Video werden neu verbunden…',
  'call.shareFailed': 'Der Bildschirm konnte nicht geteilt werden.',

  'e2ee.badge.encrypted': 'Ende-zu-Ende-verschlüsselt',
  'e2ee.badge.verifying': 'Mitgliedschaft wird geprüft…',
  'e2ee.badge.waiting': 'Schlüssel wird erwartet…',
  'e2ee.badge.unverified': 'Nicht bestätigt: gehört nicht zu dieser Besprechung',
  'e2ee.badge.no-key': 'Nicht gesichert: kein Schlüssel erhalten',
  'e2ee.badge.failing': 'Nicht gesichert: nicht entschlüsselbar',
  'e2ee.badge.unsupported': 'Nicht gesichert: Dieser Browser kann nicht verschlüsseln',
  'e2ee.badge.reconnecting': 'Verbindung wird wiederhergestellt…',
  'e2ee.badge.no-media-yet': 'Noch keine Medien',
  'e2ee.badge.no-media': 'Sendet weder Audio noch Video',
  'e2ee.badge.media-failed': 'Medienverbindung gestört',
  'e2ee.badge.publish-refused': 'Vom Server abgelehnt',
  'self.refused': 'Ihre Kamera und Ihr Mikrofon erreichen die anderen nicht: Der Server hat sie abgelehnt ({code}).',
  'self.failed':
    'Ihre Kamera und Ihr Mikrofon erreichen die anderen nicht: Die Medienverbindung ist gestört ({code}). Neuer Versuch läuft…',
  'self.nothing':
    'Ihre Kamera und Ihr Mikrofon erreichen die anderen nicht: Keines davon ist in dieser Besprechung an.',
  'self.failing': 'Ihre Kamera und Ihr Mikrofon erreichen die anderen nicht: Sie konnten nicht verschlüsselt werden.',
  'self.unsupported':
    'Ihre Kamera und Ihr Mikrofon erreichen die anderen nicht: Dieser Browser kann sie nicht verschlüsseln.',
  'e2ee.unverifiedName': 'Nicht bestätigte Person',
  'e2ee.verifyingName': 'Wird geprüft…',
  'e2ee.codeLabel': 'Sicherheitscode',
  'e2ee.codeWhat': 'Was bedeutet dieser Code?',
  'e2ee.codeHint': 'Vergleichen Sie diesen Code mit den anderen: {code}',
  'e2ee.codePending': 'Der Sicherheitscode wird berechnet…',
  'e2ee.codeExplain':
    'Wenn alle denselben Code sehen, haben alle dieselben Schlüssel: Niemand sonst, auch nicht der Server, kann diese Besprechung sehen, hören oder lesen. Der Code ändert sich, sobald jemand hinzukommt oder geht.',
  'e2ee.unverifiedAlert':
    'Jemand hier hat nicht nachgewiesen, den vollständigen Link zu haben. Diese Person erhält keine Schlüssel: Sie kann nichts sehen, hören oder lesen.',
  'e2ee.wrongLinkHint':
    'Sie sind verbunden, aber niemand hier konnte Ihren Link bestätigen, daher sendet Ihnen niemand Schlüssel. Bitten Sie die Person, die Sie eingeladen hat, um den ganzen Link, mit allem nach dem Zeichen #.',
  'e2ee.unsupported':
    'Dieser Browser kann Audio und Video nicht Ende-zu-Ende verschlüsseln oder prüfen: Er sendet daher nichts und zeigt nichts von den anderen. Bitte verwenden Sie einen aktuellen Browser.',

  'chat.title': 'Nachrichten',
  'chat.hint': 'Ende-zu-Ende-verschlüsselt und signiert, nie auf dem Server gespeichert.',
  'chat.empty': 'Noch keine Nachrichten.',
  'chat.inputLabel': 'Ihre Nachricht',
  'chat.send': 'Senden',
  'chat.expiry': 'Löschen nach',
  'chat.expiry.off': 'Nie',
  'chat.expiry.1m': '1 Minute',
  'chat.expiry.10m': '10 Minuten',
  'chat.expiry.1h': '1 Stunde',
  'chat.you': 'Sie',
  'chat.missingOne': '1 Nachricht von {name} fehlt (der Server hat sie nicht zugestellt).',
  'chat.missing': '{count} Nachrichten von {name} fehlen (der Server hat sie nicht zugestellt).',
  'chat.expires': 'Wird um {time} gelöscht',
  'chat.sendFailed': 'Die Nachricht konnte nicht gesendet werden ({code}).',
  'chat.notSentReconnecting':
    'Nicht gesendet: Die Verbindung zur Besprechung wird wiederhergestellt. Ihre Nachricht bleibt erhalten; senden Sie sie gleich noch einmal.',
  'chat.tooLong': 'Die Nachricht ist zu lang.',
  'chat.attach': 'Datei teilen',

  'file.uploading': '{name} wird verschlüsselt und hochgeladen…',
  'file.uploaded': '{name} wurde geteilt.',
  'file.tooLarge': 'Die Datei ist für diesen Server zu groß.',
  'file.quota': 'In dieser Besprechung ist kein Platz für weitere Dateien.',
  'file.uploadFailed': 'Die Datei konnte nicht geteilt werden ({code}).',
  'file.get': 'Herunterladen und prüfen',
  'file.getting': 'Wird heruntergeladen und geprüft…',
  'file.save': '{name} speichern',
  'file.verified': 'Geprüft: genau die Datei, die gesendet wurde.',
  'file.corrupt': 'Die Prüfung der Datei schlägt fehl: Sie wurde verändert und wird daher nicht angeboten.',
  'file.gone': 'Die Datei ist nicht mehr auf dem Server.',
  'file.failed': 'Die Datei konnte nicht heruntergeladen werden.',

  'announce.unverified': 'Eine nicht bestätigte Person ist der Besprechung beigetreten',

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
  'status.restarting': 'Der Server startet neu. Verbindung wird wiederhergestellt…',
  'status.offline': 'Dieses Gerät ist offline. Die Verbindung wird wiederhergestellt, sobald das Netz zurück ist…',
  'status.notLive': 'Sie sehen die Besprechung, wie sie war; sie kommt von selbst zurück.',

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
  'bad-secret': 'link.invalidTitle',
  'e2ee-unsupported': 'e2ee.unsupported',
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
