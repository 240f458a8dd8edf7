// Validation of protocol messages (docs/protocol.md), in both directions, as the server's schemas
// in src/signaling/protocol.cpp do it; tests/contract/protocol holds the cases both must agree on.
//
// Server → client: every field is checked before the message is used. Fields the client does not
// know are dropped (the server may add fields in a later version), unknown message types are
// refused. Client → server: what the server accepts, unknown fields refused.
// String lengths are UTF-8 bytes, as the server counts them.

import {
  HOST_TOKEN_LENGTH,
  MAX_ERROR_RETRY_AFTER_MS,
  PIN_PATTERN,
  MAX_LOBBY,
  MAX_PARTICIPANTS_SETTING,
  MAX_SECURITY_LOG_LIMIT,
  MAX_VIDEO_DIMENSION,
  MAX_VIDEO_PREFERENCES,
  MUTE_SOURCES,
  POLICY_NAMES,
  POLICY_VALUES,
  RELAY_KINDS,
  ROLES,
  UNMUTE_SOURCES,
  type MeetingSettings,
  type Policies,
  type ReceiptSignature,
  type SecurityLogEntry,
  MAX_GOODBYE_RETRY_AFTER_MS,
  MAX_PROFILE_LENGTH,
  MAX_PUBLISHED_TRACKS,
  MAX_RELAY_PAYLOAD_LENGTH,
  MAX_REQUEST_ID_LENGTH,
  MAX_SDP_LENGTH,
  MAX_TURN_TTL_SECONDS,
  MAX_TURN_URLS,
  PARTICIPANT_ID_LENGTH,
  PROTOCOL_VERSION,
  ROOM_ID_LENGTH,
  TRACK_SOURCES,
  type ClientMessage,
  type Participant,
  type RequestId,
  type ServerMessage,
  type ServerMessageType,
  type SubscribedTrack,
  type TurnCredentials,
} from './messages';

/** Longest SDP the client accepts from the server (far above any real offer). */
const MAX_SERVER_SDP_LENGTH = 1 << 20;
/** Most m-sections the client accepts in one subscribe offer. */
const MAX_SUBSCRIBED_TRACKS = 4096;
/** Longest `message` of a server `error`. */
const MAX_ERROR_MESSAGE_LENGTH = 1024;

export type ValidationResult = { ok: true; message: ServerMessage } | { ok: false; reason: string };

export const BASE64URL = /^[A-Za-z0-9_-]*$/;

type Json = Record<string, unknown>;

class Invalid extends Error {}

export function isPlainObject(value: unknown): value is Json {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

export function field(obj: Json, name: string): unknown {
  return Object.prototype.hasOwnProperty.call(obj, name) ? obj[name] : undefined;
}

/** The UTF-8 length of `text`, without encoding it (a lone surrogate counts 3, as U+FFFD). */
export function utf8Length(text: string): number {
  let bytes = text.length;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (c < 0x80) continue;
    if (c < 0x800) {
      bytes += 1;
    } else if (c >= 0xd800 && c <= 0xdbff && i + 1 < text.length && (text.charCodeAt(i + 1) & 0xfc00) === 0xdc00) {
      bytes += 2; // a surrogate pair: 2 UTF-16 units, 4 bytes
      i++;
    } else {
      bytes += 2;
    }
  }
  return bytes;
}

/** URL-safe base64 without padding, of a length some byte string encodes to. */
export function isBase64Url(value: string): boolean {
  return value.length % 4 !== 1 && BASE64URL.test(value);
}

function str(obj: Json, name: string, maxLength: number): string {
  const value = field(obj, name);
  if (typeof value !== 'string') throw new Invalid(`${name}: expected a string`);
  // UTF-8 is at least as long as UTF-16 in units: only a string that might be too long is counted.
  if (value.length > maxLength || (value.length * 3 > maxLength && utf8Length(value) > maxLength)) {
    throw new Invalid(`${name}: longer than ${maxLength} bytes`);
  }
  return value;
}

function int(obj: Json, name: string, min: number, max: number): number {
  const value = field(obj, name);
  if (typeof value !== 'number' || !Number.isSafeInteger(value)) {
    throw new Invalid(`${name}: expected an integer`);
  }
  if (value < min || value > max) throw new Invalid(`${name}: out of range`);
  return value;
}

function base64UrlId(obj: Json, name: string, length: number): string {
  const value = str(obj, name, length);
  if (value.length !== length || !isBase64Url(value)) {
    throw new Invalid(`${name}: expected ${length} URL-safe base64 characters`);
  }
  return value;
}

function base64UrlToken(obj: Json, name: string, maxLength: number): string {
  const value = str(obj, name, maxLength);
  if (value.length === 0 || !isBase64Url(value)) throw new Invalid(`${name}: expected URL-safe base64`);
  return value;
}

export function isRoomId(value: string): boolean {
  return value.length === ROOM_ID_LENGTH && isBase64Url(value);
}

export function isParticipantId(value: string): boolean {
  return value.length === PARTICIPANT_ID_LENGTH && isBase64Url(value);
}

export function isRequestId(value: unknown): value is RequestId {
  if (typeof value === 'number') {
    return Number.isSafeInteger(value) && value >= 0;
  }
  return typeof value === 'string' && utf8Length(value) <= MAX_REQUEST_ID_LENGTH;
}

function participant(value: unknown, name: string): Participant {
  if (!isPlainObject(value)) throw new Invalid(`${name}: expected an object`);
  return {
    id: base64UrlId(value, 'id', PARTICIPANT_ID_LENGTH),
    profile: str(value, 'profile', MAX_PROFILE_LENGTH),
    ...(field(value, 'role') === undefined ? {} : { role: oneOf(value, 'role', ROLES) }),
  };
}

function bool(obj: Json, name: string): boolean {
  const value = field(obj, name);
  if (typeof value !== 'boolean') throw new Invalid(`${name}: expected true or false`);
  return value;
}

function settings(value: unknown): MeetingSettings {
  if (!isPlainObject(value)) throw new Invalid('settings: expected an object');
  const rawPolicies = field(value, 'policies');
  if (!isPlainObject(rawPolicies)) throw new Invalid('settings.policies: expected an object');
  const policies = {} as Policies;
  for (const name of POLICY_NAMES) policies[name] = oneOf(rawPolicies, name, POLICY_VALUES);
  return {
    locked: bool(value, 'locked'),
    lobby: bool(value, 'lobby'),
    hostMustBePresent: bool(value, 'hostMustBePresent'),
    pinSet: bool(value, 'pinSet'),
    maxParticipants: int(value, 'maxParticipants', 1, MAX_PARTICIPANTS_SETTING),
    policies,
  };
}

function lobbyList(obj: Json): Participant[] {
  const value = field(obj, 'waiting');
  if (!Array.isArray(value)) throw new Invalid('waiting: expected an array');
  if (value.length > MAX_LOBBY) throw new Invalid('waiting: too many');
  const list = value.map((item: unknown, index) => participant(item, `waiting[${index}]`));
  if (new Set(list.map((p) => p.id)).size !== list.length) throw new Invalid('waiting: duplicate id');
  return list;
}

function logEntries(obj: Json): SecurityLogEntry[] {
  const value = field(obj, 'entries');
  if (!Array.isArray(value)) throw new Invalid('entries: expected an array');
  if (value.length > MAX_SECURITY_LOG_LIMIT) throw new Invalid('entries: too many');
  return value.map((item: unknown, index): SecurityLogEntry => {
    if (!isPlainObject(item)) throw new Invalid(`entries[${index}]: expected an object`);
    const type = str(item, 'type', 32);
    if (type.length === 0) throw new Invalid(`entries[${index}].type: empty`);
    const entry: SecurityLogEntry = { at: int(item, 'at', 0, Number.MAX_SAFE_INTEGER), type };
    if (field(item, 'actor') !== undefined) entry.actor = base64UrlId(item, 'actor', PARTICIPANT_ID_LENGTH);
    if (field(item, 'subject') !== undefined) entry.subject = base64UrlId(item, 'subject', PARTICIPANT_ID_LENGTH);
    if (field(item, 'detail') !== undefined) entry.detail = str(item, 'detail', 64);
    return entry;
  });
}

const LOWER_HEX = /^[0-9a-f]*$/;

function hex(obj: Json, name: string, length: number): string {
  const value = str(obj, name, length);
  if (value.length !== length || !LOWER_HEX.test(value)) throw new Invalid(`${name}: expected ${length} hex digits`);
  return value;
}

/** The receipt is kept as it came (its signature covers every field); its form and the signature's are checked. */
function privacyReceipt(obj: Json): { receipt: Record<string, unknown>; signature: ReceiptSignature } {
  const receipt = field(obj, 'receipt');
  if (!isPlainObject(receipt)) throw new Invalid('receipt: expected an object');
  if (str(receipt, 'format', 64).length === 0) throw new Invalid('receipt.format: empty');
  int(receipt, 'generatedAt', 0, Number.MAX_SAFE_INTEGER);
  const signature = field(obj, 'signature');
  if (!isPlainObject(signature)) throw new Invalid('signature: expected an object');
  const algorithm = str(signature, 'algorithm', 32);
  if (algorithm.length === 0) throw new Invalid('signature.algorithm: empty');
  return {
    receipt,
    signature: {
      algorithm,
      publicKey: hex(signature, 'publicKey', 64),
      fingerprint: hex(signature, 'fingerprint', 64),
      value: hex(signature, 'value', 128),
    },
  };
}

// Upper bound on the roster a client accepts in one `joined`; far above any sane room limit.
const MAX_PARTICIPANTS = 10000;

function participants(obj: Json): Participant[] {
  const value = field(obj, 'participants');
  if (!Array.isArray(value)) throw new Invalid('participants: expected an array');
  if (value.length > MAX_PARTICIPANTS) throw new Invalid('participants: too many');
  const list = value.map((item: unknown, index) => participant(item, `participants[${index}]`));
  const ids = new Set(list.map((p) => p.id));
  if (ids.size !== list.length) throw new Invalid('participants: duplicate id');
  return list;
}

// An SDP `mid` is a token; Chromium uses small integers, the server its own short names.
const MID = /^[A-Za-z0-9!#$%&'*+.^_`{|}~-]{1,32}$/;

function mid(obj: Json): string {
  const value = str(obj, 'mid', 32);
  if (!MID.test(value)) throw new Invalid('mid: not an SDP token');
  return value;
}

function oneOf<T extends string>(obj: Json, name: string, allowed: readonly T[]): T {
  const value = str(obj, name, 64);
  if (!(allowed as readonly string[]).includes(value)) throw new Invalid(`${name}: unknown value`);
  return value as T;
}

function subscribedTracks(obj: Json): SubscribedTrack[] {
  const value = field(obj, 'tracks');
  if (!Array.isArray(value)) throw new Invalid('tracks: expected an array');
  if (value.length > MAX_SUBSCRIBED_TRACKS) throw new Invalid('tracks: too many');
  const list = value.map((item: unknown, index): SubscribedTrack => {
    if (!isPlainObject(item)) throw new Invalid(`tracks[${index}]: expected an object`);
    return {
      mid: mid(item),
      kind: oneOf(item, 'kind', ['audio', 'video'] as const),
      participantId: base64UrlId(item, 'participantId', PARTICIPANT_ID_LENGTH),
      source: str(item, 'source', 64),
    };
  });
  if (new Set(list.map((t) => t.mid)).size !== list.length) throw new Invalid('tracks: duplicate mid');
  return list;
}

// A TURN URL: turn: or turns:, then printable ASCII without blanks, quotes or backslashes, as
// isTurnUrl() in src/signaling/turn_credentials.cpp.
const TURN_URL = /^turns?:[\x21\x23-\x5b\x5d-\x7e]+$/;

function turnCredentials(value: unknown): TurnCredentials {
  if (!isPlainObject(value)) throw new Invalid('turn: expected an object');
  const urls = field(value, 'urls');
  if (!Array.isArray(urls) || urls.length === 0 || urls.length > MAX_TURN_URLS) {
    throw new Invalid(`turn.urls: expected 1 to ${MAX_TURN_URLS} URLs`);
  }
  const list = urls.map((url: unknown) => {
    if (typeof url !== 'string' || url.length > 256 || !TURN_URL.test(url)) {
      throw new Invalid('turn.urls: expected turn: or turns: URLs');
    }
    return url;
  });
  const username = str(value, 'username', 128);
  const credential = str(value, 'credential', 128);
  if (username.length === 0 || credential.length === 0) throw new Invalid('turn: empty username or credential');
  return { urls: list, username, credential, ttl: int(value, 'ttl', 1, MAX_TURN_TTL_SECONDS) };
}

/** `muted-by-host` and `unmute-request`: a source a later server adds is still a source. */
function hostRequest(obj: Json): { source: string; by: string } {
  const source = str(obj, 'source', 64);
  if (source.length === 0) throw new Invalid('source: empty');
  return { source, by: base64UrlId(obj, 'by', PARTICIPANT_ID_LENGTH) };
}

type BodyParser = (obj: Json) => Omit<ServerMessage, 'type' | 'id'>;

// The declarative table: one parser per server message type.
const SERVER_SCHEMAS: Record<ServerMessageType, BodyParser> = {
  welcome: (o) => ({
    version: int(o, 'version', PROTOCOL_VERSION, PROTOCOL_VERSION),
    server: str(o, 'server', 256),
    maxMessageBytes: int(o, 'maxMessageBytes', 1024, Number.MAX_SAFE_INTEGER),
  }),
  joined: (o) => ({
    roomId: base64UrlId(o, 'roomId', ROOM_ID_LENGTH),
    participantId: base64UrlId(o, 'participantId', PARTICIPANT_ID_LENGTH),
    participants: participants(o),
    ...(field(o, 'turn') === undefined ? {} : { turn: turnCredentials(field(o, 'turn')) }),
    ...(field(o, 'role') === undefined ? {} : { role: oneOf(o, 'role', ROLES) }),
    ...(field(o, 'settings') === undefined ? {} : { settings: settings(field(o, 'settings')) }),
  }),
  'participant-joined': (o) => ({ participant: participant(field(o, 'participant'), 'participant') }),
  'participant-updated': (o) => ({ participant: participant(field(o, 'participant'), 'participant') }),
  'participant-left': (o) => ({
    participantId: base64UrlId(o, 'participantId', PARTICIPANT_ID_LENGTH),
  }),
  'profile-updated': () => ({}),
  left: () => ({}),
  pong: () => ({}),
  goodbye: (o) => ({
    reason: str(o, 'reason', 64),
    ...(field(o, 'retryAfterMs') === undefined
      ? {}
      : { retryAfterMs: int(o, 'retryAfterMs', 0, MAX_GOODBYE_RETRY_AFTER_MS) }),
  }),
  error: (o) => ({
    code: str(o, 'code', 64),
    message: str(o, 'message', MAX_ERROR_MESSAGE_LENGTH),
    ...(field(o, 'retryAfterMs') === undefined
      ? {}
      : { retryAfterMs: int(o, 'retryAfterMs', 0, MAX_ERROR_RETRY_AFTER_MS) }),
  }),
  'publish-answer': (o) => ({ sdp: str(o, 'sdp', MAX_SERVER_SDP_LENGTH) }),
  'subscribe-ok': () => ({}),
  'subscribe-offer': (o) => ({ sdp: str(o, 'sdp', MAX_SERVER_SDP_LENGTH), tracks: subscribedTracks(o) }),
  'media-failed': (o) => ({ connection: oneOf(o, 'connection', ['publish', 'subscribe'] as const) }),
  relayed: () => ({}),
  relay: (o) => ({
    from: base64UrlId(o, 'from', PARTICIPANT_ID_LENGTH),
    payload: str(o, 'payload', MAX_RELAY_PAYLOAD_LENGTH),
    ...(field(o, 'kind') === undefined ? {} : { kind: oneOf(o, 'kind', RELAY_KINDS) }),
  }),
  'file-upload-ready': (o) => {
    const fileId = base64UrlToken(o, 'fileId', 128);
    const url = str(o, 'url', 256);
    if (url !== `/api/files/${fileId}`) throw new Invalid("url: not the file's /api/files/ path");
    const uploadToken = base64UrlToken(o, 'uploadToken', 256);
    return { fileId, uploadToken, url };
  },
  'turn-credentials': (o) => ({ turn: turnCredentials(field(o, 'turn')) }),
  waiting: (o) => {
    const reason = str(o, 'reason', 64);
    if (reason.length === 0) throw new Invalid('reason: empty');
    return { participantId: base64UrlId(o, 'participantId', PARTICIPANT_ID_LENGTH), reason };
  },
  lobby: (o) => ({ waiting: lobbyList(o) }),
  settings: (o) => ({ settings: settings(field(o, 'settings')) }),
  role: (o) => ({
    participantId: base64UrlId(o, 'participantId', PARTICIPANT_ID_LENGTH),
    role: oneOf(o, 'role', ROLES),
    ...(field(o, 'grant') === undefined ? {} : { grant: base64UrlId(o, 'grant', HOST_TOKEN_LENGTH) }),
  }),
  'muted-by-host': (o) => hostRequest(o),
  'unmute-request': (o) => hostRequest(o),
  'settings-updated': (o) => (field(o, 'settings') === undefined ? {} : { settings: settings(field(o, 'settings')) }),
  admitted: () => ({}),
  denied: () => ({}),
  'role-set': () => ({}),
  muted: () => ({}),
  'unmute-requested': () => ({}),
  unmuted: () => ({}),
  removed: () => ({}),
  ended: () => ({}),
  'meeting-moved': (o) => ({
    roomId: base64UrlId(o, 'roomId', ROOM_ID_LENGTH),
    hostToken: base64UrlId(o, 'hostToken', HOST_TOKEN_LENGTH),
    moderatorToken: base64UrlId(o, 'moderatorToken', HOST_TOKEN_LENGTH),
  }),
  'security-log': (o) => ({ entries: logEntries(o) }),
  'privacy-receipt': (o) => privacyReceipt(o),
};

function isServerMessageType(value: string): value is ServerMessageType {
  return Object.prototype.hasOwnProperty.call(SERVER_SCHEMAS, value);
}

/** Validates a server message that was already parsed from JSON. */
export function validateServerMessage(value: unknown): ValidationResult {
  if (!isPlainObject(value)) return { ok: false, reason: 'not a JSON object' };
  const type = field(value, 'type');
  if (typeof type !== 'string') return { ok: false, reason: 'type: expected a string' };
  if (!isServerMessageType(type)) return { ok: false, reason: `unknown type "${type.slice(0, 40)}"` };
  const id = field(value, 'id');
  if (id !== undefined && !isRequestId(id)) return { ok: false, reason: 'id: invalid' };
  try {
    const body = SERVER_SCHEMAS[type](value);
    const message = { type, ...body, ...(id === undefined ? {} : { id }) } as ServerMessage;
    return { ok: true, message };
  } catch (err) {
    if (err instanceof Invalid) return { ok: false, reason: `${type}: ${err.message}` };
    throw err;
  }
}

/** Parses and validates one WebSocket text frame from the server. */
export function parseServerFrame(data: unknown): ValidationResult {
  if (typeof data !== 'string') return { ok: false, reason: 'not a text frame' };
  let parsed: unknown;
  try {
    parsed = JSON.parse(data);
  } catch {
    return { ok: false, reason: 'not JSON' };
  }
  return validateServerMessage(parsed);
}

// ---------------------------------------------------------------------------------------------
// Client → server: a table of field rules per type, as the server's (src/signaling/protocol.cpp).

interface FieldRule {
  kind: 'string' | 'integer' | 'array' | 'boolean' | 'object';
  optional?: boolean;
  /** The value may also be null. */
  nullable?: boolean;
  /** Strings: a pattern the whole string matches. */
  pattern?: RegExp;
  /** Objects: the rules of its fields (all optional unless said). */
  fields?: Record<string, FieldRule>;
  /** Strings: length bounds in UTF-8 bytes; integers: value bounds; arrays: most items (max). */
  min?: number;
  max?: number;
  /** Strings: URL-safe base64. */
  base64Url?: boolean;
  /** Strings: the allowed values. */
  oneOf?: readonly string[];
  /** Arrays: the rules of each item (an object). */
  items?: Record<string, FieldRule>;
}

const PARTICIPANT_RULE: FieldRule = {
  kind: 'string',
  min: PARTICIPANT_ID_LENGTH,
  max: PARTICIPANT_ID_LENGTH,
  base64Url: true,
};
const HOST_TOKEN_RULE: FieldRule = {
  kind: 'string',
  optional: true,
  min: HOST_TOKEN_LENGTH,
  max: HOST_TOKEN_LENGTH,
  base64Url: true,
};
const PIN_RULE = PIN_PATTERN;

const CLIENT_SCHEMAS: Record<ClientMessage['type'], Record<string, FieldRule>> = {
  hello: {
    version: { kind: 'integer', min: 0, max: 1000 },
    client: { kind: 'string', optional: true, max: 64 },
  },
  join: {
    roomId: { kind: 'string', min: ROOM_ID_LENGTH, max: ROOM_ID_LENGTH, base64Url: true },
    profile: { kind: 'string', max: MAX_PROFILE_LENGTH },
    hostToken: HOST_TOKEN_RULE,
    pin: { kind: 'string', optional: true, pattern: PIN_RULE },
  },
  'update-profile': { profile: { kind: 'string', max: MAX_PROFILE_LENGTH } },
  leave: {},
  ping: {},
  publish: {
    sdp: { kind: 'string', min: 1, max: MAX_SDP_LENGTH },
    tracks: {
      kind: 'array',
      max: MAX_PUBLISHED_TRACKS,
      items: { mid: { kind: 'string', min: 1, max: 32 }, source: { kind: 'string', oneOf: TRACK_SOURCES } },
    },
  },
  'subscribe-answer': { sdp: { kind: 'string', min: 1, max: MAX_SDP_LENGTH } },
  'subscribe-restart': {},
  relay: {
    to: {
      kind: 'string',
      optional: true,
      min: PARTICIPANT_ID_LENGTH,
      max: PARTICIPANT_ID_LENGTH,
      base64Url: true,
    },
    payload: { kind: 'string', min: 1, max: MAX_RELAY_PAYLOAD_LENGTH },
    kind: { kind: 'string', optional: true, oneOf: RELAY_KINDS },
  },
  'file-upload': { size: { kind: 'integer', min: 1, max: Number.MAX_SAFE_INTEGER } },
  'turn-refresh': {},
  'set-settings': {
    locked: { kind: 'boolean', optional: true },
    lobby: { kind: 'boolean', optional: true },
    hostMustBePresent: { kind: 'boolean', optional: true },
    maxParticipants: { kind: 'integer', optional: true, min: 1, max: MAX_PARTICIPANTS_SETTING },
    policies: {
      kind: 'object',
      optional: true,
      fields: Object.fromEntries(
        POLICY_NAMES.map((name): [string, FieldRule] => [
          name,
          { kind: 'string', optional: true, oneOf: POLICY_VALUES },
        ]),
      ),
    },
    pin: { kind: 'string', optional: true, nullable: true, pattern: PIN_RULE },
  },
  admit: { participantId: { ...PARTICIPANT_RULE, optional: true }, all: { kind: 'boolean', optional: true } },
  deny: { participantId: PARTICIPANT_RULE },
  'set-role': { participantId: PARTICIPANT_RULE, role: { kind: 'string', oneOf: ROLES } },
  mute: { participantId: PARTICIPANT_RULE, source: { kind: 'string', oneOf: MUTE_SOURCES } },
  'request-unmute': { participantId: PARTICIPANT_RULE, source: { kind: 'string', oneOf: UNMUTE_SOURCES } },
  unmute: { source: { kind: 'string', oneOf: MUTE_SOURCES } },
  remove: { participantId: PARTICIPANT_RULE },
  'end-meeting': {},
  'move-meeting': {},
  'get-security-log': {
    before: { kind: 'integer', optional: true, min: 0, max: Number.MAX_SAFE_INTEGER },
    limit: { kind: 'integer', min: 1, max: MAX_SECURITY_LOG_LIMIT },
  },
  'video-preferences': {
    preferences: {
      kind: 'array',
      max: MAX_VIDEO_PREFERENCES,
      items: {
        mid: { kind: 'string', min: 1, max: 32 },
        width: { kind: 'integer', max: MAX_VIDEO_DIMENSION },
        height: { kind: 'integer', max: MAX_VIDEO_DIMENSION },
      },
    },
  },
  'privacy-receipt': {},
};

function checkValue(name: string, value: unknown, rule: FieldRule): void {
  const min = rule.min ?? 0;
  if (value === null && rule.nullable) return;
  if (rule.kind === 'boolean') {
    if (typeof value !== 'boolean') throw new Invalid(`${name}: expected true or false`);
  } else if (rule.kind === 'object') {
    if (!isPlainObject(value)) throw new Invalid(`${name}: expected an object`);
    checkFields(value, rule.fields ?? {}, `${name}.`);
  } else if (rule.kind === 'string') {
    if (typeof value !== 'string') throw new Invalid(`${name}: expected a string`);
    const length = utf8Length(value);
    if (length < min || (rule.max !== undefined && length > rule.max)) throw new Invalid(`${name}: wrong length`);
    if (rule.base64Url && !isBase64Url(value)) throw new Invalid(`${name}: expected URL-safe base64`);
    if (rule.oneOf && !rule.oneOf.includes(value)) throw new Invalid(`${name}: unknown value`);
    if (rule.pattern && !rule.pattern.test(value)) throw new Invalid(`${name}: wrong format`);
  } else if (rule.kind === 'integer') {
    if (typeof value !== 'number' || !Number.isSafeInteger(value)) throw new Invalid(`${name}: expected an integer`);
    if (value < min || (rule.max !== undefined && value > rule.max)) throw new Invalid(`${name}: out of range`);
  } else {
    if (!Array.isArray(value)) throw new Invalid(`${name}: expected an array`);
    if (rule.max !== undefined && value.length > rule.max) throw new Invalid(`${name}: too many items`);
    value.forEach((item: unknown, index) => {
      if (!isPlainObject(item)) throw new Invalid(`${name}[${index}]: expected an object`);
      checkFields(item, rule.items ?? {}, `${name}[${index}].`);
    });
  }
}

function checkFields(obj: Json, rules: Record<string, FieldRule>, prefix: string, envelope = false): void {
  for (const name of Object.keys(obj)) {
    if (envelope && (name === 'type' || name === 'id')) continue;
    const rule = Object.prototype.hasOwnProperty.call(rules, name) ? rules[name] : undefined;
    if (!rule) throw new Invalid(`${prefix}${name}: not allowed`);
    checkValue(prefix + name, obj[name], rule);
  }
  for (const [name, rule] of Object.entries(rules)) {
    if (!rule.optional && field(obj, name) === undefined) throw new Invalid(`${prefix}${name}: required`);
  }
}

/**
 * Checks a client message as the server will: null when the server accepts it, else the problem.
 * The server answers a message it refuses with an `error` (`unknown-type` or `invalid-message`).
 */
export function validateClientMessage(value: unknown): string | null {
  if (!isPlainObject(value)) return 'not a JSON object';
  const type = field(value, 'type');
  if (typeof type !== 'string') return 'type: expected a string';
  if (!Object.prototype.hasOwnProperty.call(CLIENT_SCHEMAS, type)) return `unknown type "${type.slice(0, 40)}"`;
  const id = field(value, 'id');
  if (id !== undefined && !isRequestId(id)) return 'id: invalid';
  try {
    checkFields(value, CLIENT_SCHEMAS[type as ClientMessage['type']], '', true);
    if (type === 'admit' && (field(value, 'all') === undefined) === (field(value, 'participantId') === undefined)) {
      throw new Invalid('exactly one of participantId and all');
    }
    if (type === 'admit' && field(value, 'all') === false) throw new Invalid('all: must be true');
    if (type === 'video-preferences') {
      const mids = (field(value, 'preferences') as Json[]).map((p) => field(p, 'mid'));
      if (new Set(mids).size !== mids.length) throw new Invalid('preferences: a mid twice');
    }
    return null;
  } catch (err) {
    if (err instanceof Invalid) return `${type}: ${err.message}`;
    throw err;
  }
}
