import { describe, expect, it } from 'vitest';
import { SenderKey } from '../src/e2ee';
import { SpyFrameCrypto, SpySockets } from '../src/testing/spy';
import { ALICE_ID, BOB_ID, fakeFactory } from './fake-socket';
import { FakeTransforms } from './fake-webrtc';

describe('SpyFrameCrypto (the e2e build only)', () => {
  it('forgets what it saw on a plain reset', () => {
    const inner = new FakeTransforms();
    const spy = new SpyFrameCrypto(inner);
    spy.addSender(ALICE_ID, 5);
    spy.setReceiveKey(ALICE_ID, SenderKey.generate(3));
    spy.reset();
    spy.reset();
    expect(inner.log).toEqual([`add-sender ${ALICE_ID} 5`, `receive-key ${ALICE_ID} 3`, 'reset', 'reset']);
  });

  it('replays every key call of the last membership into the next one, once, with copies of the keys', () => {
    const inner = new FakeTransforms();
    const spy = new SpyFrameCrypto(inner);
    const key = SenderKey.generate(3);
    const material = key.material.slice();
    expect(spy.sendGeneration).toBeNull();
    spy.setSendKey(SenderKey.generate(1), 9);
    expect(spy.sendGeneration).toBe(1);
    spy.addSender(ALICE_ID, 5);
    spy.setReceiveKey(ALICE_ID, key);
    spy.addSender(BOB_ID, 6);
    spy.removeSender(BOB_ID);
    spy.expectRotation();
    // The key manager wipes keys it no longer needs: the replayed key must be a copy.
    key.material.fill(0);
    spy.keepKeysOnNextReset();
    spy.reset();
    const replayed = inner.log.slice(inner.log.indexOf('reset'));
    expect(replayed).toEqual([
      'reset',
      'send-key 9 1',
      `add-sender ${ALICE_ID} 5`,
      `receive-key ${ALICE_ID} 3`,
      `add-sender ${BOB_ID} 6`,
      `remove-sender ${BOB_ID}`,
      'expect-rotation',
    ]);
    expect(inner.receiveKeys.at(-1)?.material).toEqual(material);
    expect(spy.sendGeneration).toBe(1);
    // Only once: the membership after that starts empty.
    spy.reset();
    expect(spy.sendGeneration).toBeNull();
    spy.reset();
    expect(inner.log.slice(-2)).toEqual(['reset', 'reset']);
  });
});

describe('SpySockets (the e2e build only)', () => {
  it('swaps the profile of the next join only, and passes everything else through', () => {
    const { factory, sockets } = fakeFactory(false);
    const spy = new SpySockets();
    const socket = spy.wrap(factory)('wss://example.invalid/ws');
    socket.send(JSON.stringify({ type: 'join', roomId: 'r', profile: 'honest' }));
    spy.replaceNextJoinProfile('forged');
    socket.send(JSON.stringify({ type: 'hello', version: 1 }));
    socket.send('not json');
    socket.send(JSON.stringify({ type: 'join', id: '7', roomId: 'r', profile: 'honest' }));
    socket.send(JSON.stringify({ type: 'join', roomId: 'r', profile: 'honest' }));
    expect(sockets[0]?.sent).toEqual([
      '{"type":"join","roomId":"r","profile":"honest"}',
      '{"type":"hello","version":1}',
      'not json',
      '{"type":"join","id":"7","roomId":"r","profile":"forged"}',
      '{"type":"join","roomId":"r","profile":"honest"}',
    ]);
  });
});
