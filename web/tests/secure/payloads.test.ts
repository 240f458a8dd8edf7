import { describe, expect, it } from 'vitest';
import { MAX_RELAY_PAYLOAD_LENGTH } from '../../src/protocol/messages';
import {
  encodeMediaState,
  encodeRelayPayload,
  MAX_STATE_BOX_LENGTH,
  parseMediaState,
  parseRelayPayload,
  SEALED_CONTROL_LENGTH,
  WRAPPED_KEY_LENGTH,
  type RelayPayload,
} from '../../src/secure/payloads';

const WRAPPED = 'A'.repeat(WRAPPED_KEY_LENGTH - 2) + '_-';
const SEALED = 'B'.repeat(SEALED_CONTROL_LENGTH - 2) + '-_';
const ENVELOPE = '{"v":1,"from":"aliceAliceAliceAlice_-","g":3,"n":1,"ct":"AAAA","sig":"BBBB"}';

describe('relay payloads', () => {
  it('encodes the documented formats and parses them back', () => {
    const cases: [RelayPayload, string][] = [
      [{ t: 'key', generation: 7, wrapped: WRAPPED }, `{"v":2,"t":"key","g":7,"k":"${WRAPPED}"}`],
      [{ t: 'key-ack', sealed: SEALED }, `{"v":2,"t":"key-ack","s":"${SEALED}"}`],
      [{ t: 'key-request', sealed: SEALED }, `{"v":2,"t":"key-request","s":"${SEALED}"}`],
      [{ t: 'chat', envelope: ENVELOPE }, `{"v":2,"t":"chat","chat":${ENVELOPE}}`],
    ];
    for (const [payload, text] of cases) {
      expect(encodeRelayPayload(payload)).toBe(text);
      expect(parseRelayPayload(text)).toEqual(payload);
    }
  });

  it('ignores fields it does not know', () => {
    expect(parseRelayPayload(`{"v":2,"t":"key-request","s":"${SEALED}","later":true}`)).toEqual({
      t: 'key-request',
      sealed: SEALED,
    });
  });

  it('refuses anything else', () => {
    const bad = [
      '',
      'not json',
      '[]',
      'null',
      '{"t":"key-request"}',
      '{"v":3,"t":"key-request"}',
      '{"v":"2","t":"key-request"}',
      '{"v":2,"t":"hello"}',
      '{"v":1}',
      `{"v":2,"t":"key","g":-1,"k":"${WRAPPED}"}`,
      `{"v":2,"t":"key","g":1.5,"k":"${WRAPPED}"}`,
      `{"v":2,"t":"key","g":4294967296,"k":"${WRAPPED}"}`,
      `{"v":2,"t":"key","g":"1","k":"${WRAPPED}"}`,
      `{"v":2,"t":"key","g":1,"k":"${WRAPPED}A"}`,
      `{"v":2,"t":"key","g":1,"k":"${'A'.repeat(63)}="}`,
      '{"v":2,"t":"key","g":1}',
      '{"v":2,"t":"key-ack"}',
      '{"v":2,"t":"key-ack","g":1}',
      '{"v":2,"t":"key-request"}',
      `{"v":2,"t":"key-request","s":"${SEALED}A"}`,
      `{"v":2,"t":"key-ack","s":"${'A'.repeat(42)}="}`,
      `{"v":1,"t":"key-ack","s":"${SEALED}"}`,
      '{"v":2,"t":"chat","chat":"a string"}',
      '{"v":2,"t":"chat","chat":[1]}',
      '{"v":2,"t":"chat"}',
      `{"v":2,"t":"key-request","pad":"${'x'.repeat(MAX_RELAY_PAYLOAD_LENGTH)}"}`,
    ];
    for (const text of bad) expect(parseRelayPayload(text), text.slice(0, 80)).toBeNull();
  });

  it('refuses to encode a payload larger than one relay message', () => {
    const huge = `{"ct":"${'A'.repeat(MAX_RELAY_PAYLOAD_LENGTH)}"}`;
    expect(() => encodeRelayPayload({ t: 'chat', envelope: huge })).toThrow(RangeError);
  });

  it('carries a sealed media state as an opaque box of bounded size', () => {
    const box = 'C'.repeat(70);
    const text = encodeRelayPayload({ t: 'state', box });
    expect(text).toBe(`{"v":2,"t":"state","box":"${box}"}`);
    expect(parseRelayPayload(text)).toEqual({ t: 'state', box });
    for (const bad of ['', 'C'.repeat(MAX_STATE_BOX_LENGTH + 1), 'not base64url!', 5, null]) {
      expect(parseRelayPayload(JSON.stringify({ v: 2, t: 'state', box: bad }))).toBeNull();
    }
  });
});

describe('media state', () => {
  it('encodes each flag as 0 or 1, so the length does not tell the state', () => {
    const on = encodeMediaState({ counter: 5, microphone: true, camera: true, screen: true });
    const off = encodeMediaState({ counter: 5, microphone: false, camera: false, screen: false });
    expect(on).toBe('{"n":5,"m":1,"c":1,"s":1}');
    expect(off.length).toBe(on.length);
    expect(parseMediaState(off)).toEqual({ counter: 5, microphone: false, camera: false, screen: false });
  });

  it('refuses malformed states', () => {
    for (const bad of [
      '',
      'null',
      '[]',
      '{"n":1,"m":1,"c":1}',
      '{"n":1,"m":true,"c":1,"s":1}',
      '{"n":1,"m":2,"c":1,"s":1}',
      '{"n":-1,"m":1,"c":1,"s":1}',
      '{"n":1.5,"m":1,"c":1,"s":1}',
      '{"n":4294967296,"m":1,"c":1,"s":1}',
      '{"n":"1","m":1,"c":1,"s":1}',
      `{"n":1,"m":1,"c":1,"s":1,"x":"${'x'.repeat(300)}"}`,
    ]) {
      expect(parseMediaState(bad)).toBeNull();
    }
  });
});
