// The end-to-end encrypted payloads members exchange through the server's `relay` (see
// docs/protocol.md, "End-to-end encrypted payloads"). The server never parses them: to it they are
// opaque strings. Each payload is one compact JSON object with a format version `v` and a type `t`:
//
//   key          {"v":2,"t":"key","g":<generation>,"k":<wrapped sender key>}      to one member
//   key-ack      {"v":2,"t":"key-ack","s":<sealed generation>}                    to the key's sender
//   key-request  {"v":2,"t":"key-request","s":<sealed generation>}                to one member
//   chat         {"v":2,"t":"chat","chat":<chat envelope, src/e2ee/chat.ts>}       to everyone
//   move         {"v":2,"t":"move","box":<sealed move>}                          from a host to one member
//   state        {"v":2,"t":"state","box":<sealed media state>}                  to one member
//
// `k` is PairwiseKey.wrapSenderKey() (src/e2ee/keys.ts): base64url of iv(12) || AES-GCM-128 of
// generation(4) || key(16) || tag(16) = 48 bytes, AAD = ("Conclave sender key v1", roomId, from, to,
// from's join nonce, to's join nonce). The generation inside the wrapped key is the one that
// counts; `g` must match it. `s` is PairwiseKey.sealControl(): base64url of iv(12) || AES-GCM-128
// of generation(4) || tag(16) = 32 bytes under the same pairwise key (the acknowledged generation;
// for a request, the newest generation the requester holds from the member), so neither the
// server nor another member can acknowledge a key for someone or ask in its name. `box` is
// KeyManager.sealFor(): base64url of iv(12) || AES-GCM-128 of the UTF-8 JSON {"r": new room ID,
// "s": new room secret, "h"?: host token, "m"?: moderator token} || tag(16), AAD moveAad().
// A `state` box is KeyManager.sealFor(..., 'media-state'): the same construction with AAD
// mediaStateAad() ("Conclave media state v1", ...), of the UTF-8 JSON {"n": counter, "m": mic on,
// "c": camera on, "s": sharing a screen} (0 or 1 each, so its length says nothing about the state;
// `n` counts up per sender and membership, so a replayed older state is ignored).
// Relays carry a server-visible kind: `chat` for chat payloads, `control` for all others; a payload
// that arrives under the other kind is dropped.
// No DOM, no crypto: parsing and encoding only.

import { MAX_CHAT_ENVELOPE_LENGTH } from '../e2ee';
import { MAX_RELAY_PAYLOAD_LENGTH } from '../protocol/messages';

export const RELAY_PAYLOAD_VERSION = 2;
/** base64url length of a wrapped sender key: 48 bytes. */
export const WRAPPED_KEY_LENGTH = 64;
/** base64url length of a sealed key-ack or key-request: 32 bytes. */
export const SEALED_CONTROL_LENGTH = 43;
const MAX_GENERATION = 0xffffffff;
/** Longest sealed move message (base64url): room ID, secret and two tokens fit in far less. */
export const MAX_MOVE_BOX_LENGTH = 1024;
const BASE64URL = /^[A-Za-z0-9_-]*$/;
/** Longest sealed media state (base64url): the JSON inside is under 60 bytes. */
export const MAX_STATE_BOX_LENGTH = 256;
const MAX_STATE_COUNTER = 0xffffffff;

/** What a member says about its own media (inside a `state` box). */
export interface MediaState {
  /** Counts up with every state a sender sends in one membership. */
  counter: number;
  microphone: boolean;
  camera: boolean;
  screen: boolean;
}

export type RelayPayload =
  | { t: 'key'; generation: number; wrapped: string }
  /** `sealed`: PairwiseKey.sealControl('key-ack', generation). */
  | { t: 'key-ack'; sealed: string }
  /** `sealed`: PairwiseKey.sealControl('key-request', generation). */
  | { t: 'key-request'; sealed: string }
  /** The chat envelope as the JSON text ChatReceiver.open() takes. */
  | { t: 'chat'; envelope: string }
  /** `box`: KeyManager.sealFor() of the move instruction. */
  | { t: 'move'; box: string }
  /** `box`: KeyManager.sealFor(..., 'media-state') of encodeMediaState(). */
  | { t: 'state'; box: string };

/** The server-visible kind a payload travels under (`relay.kind`). */
export function relayKindOf(payload: RelayPayload): 'chat' | 'control' {
  return payload.t === 'chat' ? 'chat' : 'control';
}

function isGeneration(value: unknown): value is number {
  return typeof value === 'number' && Number.isInteger(value) && value >= 0 && value <= MAX_GENERATION;
}

/**
 * Validates one relayed payload. Null for anything that is not a payload this client knows:
 * malformed JSON, another version, an unknown type, a field of the wrong type or size.
 */
export function parseRelayPayload(text: string): RelayPayload | null {
  const o = parseJsonObject(text, MAX_RELAY_PAYLOAD_LENGTH);
  if (o === null) return null;
  if (o['v'] !== RELAY_PAYLOAD_VERSION) return null;
  switch (o['t']) {
    case 'key': {
      const generation = o['g'];
      const wrapped = o['k'];
      if (!isGeneration(generation)) return null;
      if (typeof wrapped !== 'string' || wrapped.length !== WRAPPED_KEY_LENGTH || !BASE64URL.test(wrapped)) return null;
      return { t: 'key', generation, wrapped };
    }
    case 'key-ack':
    case 'key-request': {
      const sealed = o['s'];
      if (typeof sealed !== 'string' || sealed.length !== SEALED_CONTROL_LENGTH || !BASE64URL.test(sealed)) return null;
      return { t: o['t'], sealed };
    }
    case 'move': {
      const box = o['box'];
      if (typeof box !== 'string' || box.length === 0 || box.length > MAX_MOVE_BOX_LENGTH || !BASE64URL.test(box))
        return null;
      return { t: 'move', box };
    }
    case 'state': {
      const box = o['box'];
      if (typeof box !== 'string' || box.length === 0 || box.length > MAX_STATE_BOX_LENGTH || !BASE64URL.test(box))
        return null;
      return { t: 'state', box };
    }
    case 'chat': {
      const chat = o['chat'];
      if (typeof chat !== 'object' || chat === null || Array.isArray(chat)) return null;
      const envelope = JSON.stringify(chat);
      return envelope.length <= MAX_CHAT_ENVELOPE_LENGTH ? { t: 'chat', envelope } : null;
    }
    default:
      return null;
  }
}

/** The payload string for `relay`. Throws RangeError when it would not fit one relay message. */
export function encodeRelayPayload(payload: RelayPayload): string {
  let text: string;
  switch (payload.t) {
    case 'key':
      text = JSON.stringify({ v: RELAY_PAYLOAD_VERSION, t: 'key', g: payload.generation, k: payload.wrapped });
      break;
    case 'key-ack':
    case 'key-request':
      text = JSON.stringify({ v: RELAY_PAYLOAD_VERSION, t: payload.t, s: payload.sealed });
      break;
    case 'move':
    case 'state':
      text = JSON.stringify({ v: RELAY_PAYLOAD_VERSION, t: payload.t, box: payload.box });
      break;
    case 'chat':
      // The envelope is JSON already (ChatSender.seal); nest it as an object, not as a string.
      text = `{"v":${RELAY_PAYLOAD_VERSION},"t":"chat","chat":${payload.envelope}}`;
      break;
  }
  if (text.length > MAX_RELAY_PAYLOAD_LENGTH) throw new RangeError('relay payload too large');
  return text;
}

/** A JSON object of at most `maxLength` characters, or null. */
function parseJsonObject(text: string, maxLength: number): Record<string, unknown> | null {
  if (text.length > maxLength) return null;
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    return null;
  }
  return typeof value === 'object' && value !== null && !Array.isArray(value)
    ? (value as Record<string, unknown>)
    : null;
}

/** The JSON sealed in a `state` box. */
export function encodeMediaState(state: MediaState): string {
  const bit = (on: boolean): number => (on ? 1 : 0);
  return JSON.stringify({ n: state.counter, m: bit(state.microphone), c: bit(state.camera), s: bit(state.screen) });
}

/** Parses the JSON of an opened `state` box; null unless every field is what it must be. */
export function parseMediaState(text: string): MediaState | null {
  const o = parseJsonObject(text, MAX_STATE_BOX_LENGTH);
  if (o === null) return null;
  const counter = o['n'];
  if (typeof counter !== 'number' || !Number.isInteger(counter) || counter < 0 || counter > MAX_STATE_COUNTER)
    return null;
  const flags = [o['m'], o['c'], o['s']];
  if (!flags.every((f) => f === 0 || f === 1)) return null;
  return { counter, microphone: o['m'] === 1, camera: o['c'] === 1, screen: o['s'] === 1 };
}
