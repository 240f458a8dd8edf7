// End-to-end encrypted, signed chat messages. No DOM, no network: seal() produces the string to
// relay, open() checks and decrypts one. The server relays and never stores them.
//
//   chatKey  = HKDF-SHA256(sender key material of generation g, info fields("Conclave chat v1"), 16)
//   header   = fields("Conclave chat v1", roomId, senderId, g, n)      (n: the sender's message counter)
//   ct       = iv(12 random) || AES-GCM-128(chatKey, iv, aad = header, JSON(message))
//   sig      = Ed25519(sender's identity key, header || fields(ct))
//   envelope = {"v":1,"from":senderId,"g":g,"n":n,"ct":<base64url>,"sig":<base64url>}
//
// Receivers verify the signature with the Ed25519 key from the sender's verified profile before
// anything else, so a forged or altered message is refused without decrypting. The key follows
// the sender's media key: a newcomer cannot read messages from before it joined, a member who
// left cannot read messages after the rotation. Each counter is accepted once per sender, in any
// order within a window of 128 (so a message retried after its key arrived still opens).
//
// Self-destruct: a message with `expiresAt` lives (expiresAt - ts) from when this client received
// (or sent) it, so the sender's and receiver's clocks need not agree. chatDeleteAt() says when.

import { verifySignature, sign, SIGNATURE_BYTES, type Identity, type KeyRing, type SenderKey } from './keys';
import { parseFileManifest, type FileManifest } from './files';
import { ReplayWindow } from './sframe';
import {
  base64UrlDecode,
  base64UrlDecodeExact,
  base64UrlEncode,
  concatBytes,
  encodeFields,
  hkdf,
  importAesGcmKey,
  LABELS,
  openRandomIv,
  sealRandomIv,
  utf8,
  type Bytes,
} from './util';

export const CHAT_ENVELOPE_VERSION = 1;
/** Longest text (UTF-16 units): even all escaped, the envelope fits one relay payload. */
export const MAX_CHAT_TEXT_LENGTH = 4000;
export const MAX_CHAT_ID_LENGTH = 64;
/** Longest self-destruct lifetime honoured (7 days); longer ones are cut to this. */
export const MAX_CHAT_LIFETIME_MS = 7 * 24 * 3600 * 1000;
/** Longest envelope: the server's limit for one `relay` payload (docs/protocol.md). */
export const MAX_CHAT_ENVELOPE_LENGTH = 49_152;

export interface ChatMessage {
  id: string;
  /** Sender's clock, ms since the epoch. */
  ts: number;
  text: string;
  /** Sender's clock: when the message self-destructs. */
  expiresAt?: number;
  /** A file whose key and integrity data this message carries. */
  file?: FileManifest;
}

/** Validates a decrypted message; null if it is not one. */
export function parseChatMessage(value: unknown): ChatMessage | null {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) return null;
  const o = value as Record<string, unknown>;
  const id = o['id'];
  const ts = o['ts'];
  const text = o['text'];
  const expiresAt = o['expiresAt'];
  if (typeof id !== 'string' || id.length === 0 || id.length > MAX_CHAT_ID_LENGTH) return null;
  if (typeof ts !== 'number' || !Number.isSafeInteger(ts) || ts < 0) return null;
  if (typeof text !== 'string' || text.length > MAX_CHAT_TEXT_LENGTH) return null;
  const message: ChatMessage = { id, ts, text };
  if (expiresAt !== undefined) {
    if (typeof expiresAt !== 'number' || !Number.isSafeInteger(expiresAt) || expiresAt < ts) return null;
    message.expiresAt = expiresAt;
  }
  if (o['file'] !== undefined) {
    const file = parseFileManifest(o['file']);
    if (file === null) return null;
    message.file = file;
  }
  return message;
}

function chatKey(key: SenderKey): Promise<CryptoKey> {
  return hkdf(key.material, encodeFields(LABELS.chat), 16).then((raw) => importAesGcmKey(raw, ['encrypt', 'decrypt']));
}

function chatHeader(roomId: string, senderId: string, generation: number, counter: number): Bytes {
  return encodeFields(LABELS.chat, roomId, senderId, generation, counter);
}

function signatureInput(header: Bytes, ct: Bytes): Bytes {
  return concatBytes(header, encodeFields(ct));
}

/** Seals this participant's outgoing messages; one per membership (it owns the counter). */
export class ChatSender {
  private mCounter = 0;

  constructor(
    private readonly mRoomId: string,
    private readonly mSenderId: string,
    private readonly mIdentity: Identity,
  ) {}

  /**
   * The envelope string to relay. Throws RangeError for a message parseChatMessage would refuse
   * or one too large for a relay payload.
   */
  async seal(key: SenderKey, message: ChatMessage): Promise<string> {
    const json = JSON.stringify(message);
    if (parseChatMessage(JSON.parse(json)) === null) throw new RangeError('invalid chat message');
    const plaintext = utf8(json);
    // base64url of iv || ciphertext || tag, plus the envelope's other fields (< 300 characters).
    if (Math.ceil(((plaintext.length + 28) * 4) / 3) + 300 > MAX_CHAT_ENVELOPE_LENGTH)
      throw new RangeError('chat message too large');
    const counter = ++this.mCounter;
    const header = chatHeader(this.mRoomId, this.mSenderId, key.generation, counter);
    const ct = await sealRandomIv(await chatKey(key), plaintext, header);
    const sig = await sign(this.mIdentity, signatureInput(header, ct));
    return JSON.stringify({
      v: CHAT_ENVELOPE_VERSION,
      from: this.mSenderId,
      g: key.generation,
      n: counter,
      ct: base64UrlEncode(ct),
      sig: base64UrlEncode(sig),
    });
  }
}

/**
 * - `malformed`: not a chat envelope;
 * - `wrong-sender`: the envelope names another sender than the relay's `from`;
 * - `unknown-sender`: no verified profile for the claimed sender;
 * - `bad-signature`: forged or altered (checked before anything is decrypted);
 * - `replay`: a counter this sender already used;
 * - `no-key`: no key for the sender's generation (yet);
 * - `decrypt-failed`: signed by the sender but not under the key this client holds;
 * - `bad-message`: decrypted, but not a valid message.
 */
export type ChatOpenError =
  | 'malformed'
  | 'wrong-sender'
  | 'unknown-sender'
  | 'bad-signature'
  | 'replay'
  | 'no-key'
  | 'decrypt-failed'
  | 'bad-message';
export type ChatOpenResult =
  | { ok: true; senderId: string; message: ChatMessage; generation: number; counter: number }
  | { ok: false; error: ChatOpenError };

/** The identity of a participant whose profile verified (a PeerIdentity). */
export type VerifyKeyLookup = (senderId: string) => { verifyKey: CryptoKey; signingPublic: Bytes } | null | undefined;

interface ParsedEnvelope {
  from: string;
  generation: number;
  counter: number;
  ct: Bytes;
  sig: Bytes;
}

function parseEnvelope(envelope: string): ParsedEnvelope | null {
  if (envelope.length > MAX_CHAT_ENVELOPE_LENGTH) return null;
  let value: unknown;
  try {
    value = JSON.parse(envelope);
  } catch {
    return null;
  }
  if (typeof value !== 'object' || value === null || Array.isArray(value)) return null;
  const o = value as Record<string, unknown>;
  const from = o['from'];
  const generation = o['g'];
  const counter = o['n'];
  const ct = typeof o['ct'] === 'string' ? base64UrlDecode(o['ct']) : null;
  const sig = base64UrlDecodeExact(o['sig'], SIGNATURE_BYTES);
  if (o['v'] !== CHAT_ENVELOPE_VERSION || typeof from !== 'string' || from.length === 0 || from.length > 64)
    return null;
  if (typeof generation !== 'number' || !Number.isInteger(generation) || generation < 0 || generation > 0xffffffff)
    return null;
  if (typeof counter !== 'number' || !Number.isSafeInteger(counter) || counter < 1) return null;
  if (ct === null || sig === null) return null;
  return { from, generation, counter, ct, sig };
}

/**
 * Opens incoming messages of one room; remembers which counters each sender identity used, for
 * as long as it lives (the whole membership): a participant that left and is announced again,
 * under any ID, finds its old counters still used.
 */
export class ChatReceiver {
  /** base64url Ed25519 key -> counters. */
  private readonly mSeen = new Map<string, ReplayWindow>();

  constructor(
    private readonly mRoomId: string,
    private readonly mRing: KeyRing,
    private readonly mVerifyKey: VerifyKeyLookup,
  ) {}

  /** `relayedFrom`: the participant the server's `relay` says sent it (checked when given). */
  async open(envelope: string, now: number, relayedFrom?: string): Promise<ChatOpenResult> {
    const parsed = parseEnvelope(envelope);
    if (parsed === null) return { ok: false, error: 'malformed' };
    if (relayedFrom !== undefined && relayedFrom !== parsed.from) return { ok: false, error: 'wrong-sender' };
    const sender = this.mVerifyKey(parsed.from);
    if (sender === undefined || sender === null) return { ok: false, error: 'unknown-sender' };
    const { verifyKey } = sender;
    const seenKey = base64UrlEncode(sender.signingPublic);
    const header = chatHeader(this.mRoomId, parsed.from, parsed.generation, parsed.counter);
    if (!(await verifySignature(verifyKey, parsed.sig, signatureInput(header, parsed.ct)))) {
      return { ok: false, error: 'bad-signature' };
    }
    if (this.mSeen.get(seenKey)?.check(BigInt(parsed.counter)) === false) return { ok: false, error: 'replay' };
    const resolved = await this.mRing.resolveGeneration(parsed.from, parsed.generation, now);
    if (resolved === null) return { ok: false, error: 'no-key' };
    const plaintext = await openRandomIv(await chatKey(resolved.key), parsed.ct, header);
    if (plaintext === null) return { ok: false, error: 'decrypt-failed' };
    resolved.confirm(now);
    let value: unknown;
    try {
      value = JSON.parse(new TextDecoder('utf-8', { fatal: true }).decode(plaintext));
    } catch {
      return { ok: false, error: 'bad-message' };
    }
    const message = parseChatMessage(value);
    if (message === null) return { ok: false, error: 'bad-message' };
    let seen = this.mSeen.get(seenKey);
    if (seen === undefined) {
      seen = new ReplayWindow();
      this.mSeen.set(seenKey, seen);
    }
    // commit() fails if another open() of the same message finished during the awaits.
    if (!seen.commit(BigInt(parsed.counter))) return { ok: false, error: 'replay' };
    return { ok: true, senderId: parsed.from, message, generation: parsed.generation, counter: parsed.counter };
  }
}

// ---------------------------------------------------------------------------------------------
// Self-destruct

/** When to delete a message this client received (or sent) at `receivedAt`; null: keep it. */
export function chatDeleteAt(message: ChatMessage, receivedAt: number): number | null {
  if (message.expiresAt === undefined) return null;
  const lifetime = Math.min(Math.max(message.expiresAt - message.ts, 0), MAX_CHAT_LIFETIME_MS);
  return receivedAt + lifetime;
}

export function isChatExpired(message: ChatMessage, receivedAt: number, now: number): boolean {
  const deleteAt = chatDeleteAt(message, receivedAt);
  return deleteAt !== null && now >= deleteAt;
}
