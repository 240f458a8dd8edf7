// The key state machine of one membership, with a manual clock and two or three real members
// whose KeyManagers hand payloads to each other directly (no server in between).
import { describe, expect, it } from 'vitest';
import {
  importPeerIdentity,
  KeyRing,
  MediaDecryptor,
  PairwiseKey,
  type KeyControl,
  MediaEncryptor,
  SenderKey,
  senderTag,
  type Identity,
  type PeerIdentity,
} from '../../src/e2ee';
import { KeyManager } from '../../src/secure/key_manager';
import type { RelayPayload } from '../../src/secure/payloads';
import { ALICE_ID, BOB_ID, ROOM_ID, SELF_ID } from '../fake-socket';
import { generateIdentity, ManualTimers, RecordingSink, roomKeys, settled } from './helpers';

const CAROL_ID = 'carolCarolCarolCarol00';

interface Sent {
  from: string;
  to: string;
  payload: RelayPayload;
}

interface Member {
  id: string;
  identity: Identity;
  peer: PeerIdentity;
  keys: KeyManager;
  media: RecordingSink;
}

async function peerOf(identity: Identity): Promise<PeerIdentity> {
  const peer = await importPeerIdentity(identity.signingPublic, identity.agreementPublic, identity.joinNonce);
  if (!peer) throw new Error('bad identity');
  return peer;
}

async function setup(ids: string[], options: { switchTimeoutMs?: number } = {}) {
  const room = await roomKeys();
  const timers = new ManualTimers();
  const outbox: Sent[] = [];
  const members = new Map<string, Member>();
  for (const id of ids) {
    const identity = await generateIdentity();
    const media = new RecordingSink();
    const keys = await KeyManager.create({
      roomId: ROOM_ID,
      selfId: id,
      identity,
      pairwiseSalt: room.pairwiseSalt,
      send: (to, payload) => outbox.push({ from: id, to, payload }),
      media,
      timers,
      ...options,
    });
    members.set(id, { id, identity, peer: await peerOf(identity), keys, media });
  }
  const get = (id: string): Member => {
    const m = members.get(id);
    if (!m) throw new Error(`no ${id}`);
    return m;
  };
  /** Delivers everything sent so far (and what that triggers), except to `drop`. */
  const deliver = async (drop: (s: Sent) => boolean = () => false): Promise<Sent[]> => {
    const delivered: Sent[] = [];
    for (let round = 0; round < 10 && outbox.length > 0; round++) {
      const batch = outbox.splice(0);
      for (const s of batch) {
        delivered.push(s);
        if (drop(s)) continue;
        const target = members.get(s.to);
        if (target) await target.keys.handlePayload(s.from, s.payload);
      }
      await settled();
    }
    return delivered;
  };
  /** A key-ack or key-request as `from` seals it for `to`. */
  const control = async (from: string, to: string, kind: KeyControl, generation: number): Promise<RelayPayload> => {
    const sender = get(from);
    const receiver = get(to);
    const pair = await PairwiseKey.derive(sender.identity, receiver.identity.agreementPublic, room.pairwiseSalt);
    if (!pair) throw new Error('no pair key');
    const direction = {
      roomId: ROOM_ID,
      from,
      to,
      fromJoin: sender.identity.joinNonce,
      toJoin: receiver.identity.joinNonce,
    };
    return { t: kind, sealed: await pair.sealControl(kind, generation, direction) };
  };
  /** The generation a sealed key-ack or key-request from `from` to `to` names (null: not theirs). */
  const opened = async (sent: Sent): Promise<number | null> => {
    if (sent.payload.t !== 'key-ack' && sent.payload.t !== 'key-request') return null;
    const receiver = get(sent.to);
    const sender = get(sent.from);
    const pair = await PairwiseKey.derive(receiver.identity, sender.identity.agreementPublic, room.pairwiseSalt);
    if (!pair) throw new Error('no pair key');
    const direction = {
      roomId: ROOM_ID,
      from: sent.from,
      to: sent.to,
      fromJoin: sender.identity.joinNonce,
      toJoin: receiver.identity.joinNonce,
    };
    return pair.openControl(sent.payload.t, sent.payload.sealed, direction);
  };
  return { room, timers, outbox, get, deliver, control, opened };
}

describe('KeyManager', () => {
  it('starts with a random key of generation 0 and hands it to the frame transforms', async () => {
    const { get } = await setup([SELF_ID]);
    const me = get(SELF_ID);
    expect(me.keys.activeKey.generation).toBe(0);
    expect(me.keys.pendingKey).toBeNull();
    expect(me.media.sendKey).toBe(me.keys.activeKey);
    expect(me.keys.tag).toBe(await senderTag(me.identity.signingPublic));
    expect(me.media.log).toEqual([`send-key 0 ${me.keys.tag}`]);
  });

  it('gives members present at join its current key, without ratcheting', async () => {
    const { get, outbox, deliver } = await setup([SELF_ID, ALICE_ID]);
    const me = get(SELF_ID);
    const alice = get(ALICE_ID);
    expect(await me.keys.addMember(ALICE_ID, alice.peer, false)).toBe('added');
    expect(me.keys.activeKey.generation).toBe(0);
    expect(outbox).toHaveLength(1);
    expect(outbox[0]).toMatchObject({ from: SELF_ID, to: ALICE_ID, payload: { t: 'key', generation: 0 } });
    // Alice verified this participant as a newcomer; she ratchets and answers with her key.
    expect(await alice.keys.addMember(SELF_ID, me.peer, true)).toBe('added');
    expect(alice.keys.activeKey.generation).toBe(1);
    const sent = await deliver();
    expect(sent.map((s) => `${s.from === SELF_ID ? 'me' : 'alice'}:${s.payload.t}`)).toEqual([
      'me:key',
      'alice:key',
      'alice:key-ack',
      'me:key-ack',
    ]);
    expect(me.keys.hasKeyFrom(ALICE_ID)).toBe(true);
    expect(alice.keys.hasKeyFrom(SELF_ID)).toBe(true);
    expect(me.media.received.get(ALICE_ID)?.map((k) => k.generation)).toEqual([1]);
    expect(me.media.received.get(ALICE_ID)?.[0]?.material).toEqual(alice.keys.activeKey.material);
    expect(alice.media.received.get(SELF_ID)?.[0]?.material).toEqual(me.keys.activeKey.material);
    expect(me.media.senders.get(ALICE_ID)).toBe(alice.keys.tag);
  });

  it('ratchets on a join: the newcomer gets only the new key, the others derive it', async () => {
    const { get, deliver } = await setup([SELF_ID, ALICE_ID, BOB_ID]);
    const me = get(SELF_ID);
    await me.keys.addMember(ALICE_ID, get(ALICE_ID).peer, false);
    await get(ALICE_ID).keys.addMember(SELF_ID, me.peer, true);
    await deliver();
    const before = me.keys.activeKey;
    // Bob joins: this participant ratchets at once.
    await me.keys.addMember(BOB_ID, get(BOB_ID).peer, true);
    await get(BOB_ID).keys.addMember(SELF_ID, me.peer, false);
    expect(me.keys.activeKey.generation).toBe(1);
    expect(me.keys.activeKey.material).toEqual((await before.ratchet()).material);
    expect(me.media.sendKey).toBe(me.keys.activeKey);
    const sent = await deliver();
    // Nothing goes to Alice: her KeyRing ratchets on demand.
    expect(sent.filter((s) => s.from === SELF_ID && s.payload.t === 'key').map((s) => s.to)).toEqual([BOB_ID]);
    const bobKey = get(BOB_ID).media.received.get(SELF_ID)?.[0];
    expect(bobKey?.generation).toBe(1);
    // Alice decrypts a frame under generation 1; Bob cannot go back to generation 0.
    const frame = new Uint8Array([0x01, 2, 3, 4, 5]);
    const encryptor = new MediaEncryptor(me.keys.tag, 'camera');
    await encryptor.setKey(me.keys.activeKey);
    const sealed = await encryptor.encrypt('vp8', frame);
    if (!sealed) throw new Error('no frame');
    const aliceView = new MediaDecryptor(get(ALICE_ID).keys.ring, 'camera', SELF_ID);
    expect((await aliceView.decrypt('vp8', sealed, 0)).ok).toBe(true);
    const old = new MediaEncryptor(me.keys.tag, 'camera');
    await old.setKey(before);
    const oldFrame = await old.encrypt('vp8', frame);
    if (!oldFrame) throw new Error('no frame');
    const bobView = new MediaDecryptor(get(BOB_ID).keys.ring, 'camera', SELF_ID);
    expect(await bobView.decrypt('vp8', oldFrame, 0)).toEqual({ ok: false, error: 'unknown-key' });
  });

  it('rotates on a leave: a fresh key to the others, used after all acknowledged', async () => {
    const { get, outbox, deliver } = await setup([SELF_ID, ALICE_ID, BOB_ID]);
    const me = get(SELF_ID);
    for (const id of [ALICE_ID, BOB_ID]) {
      await me.keys.addMember(id, get(id).peer, false);
      await get(id).keys.addMember(SELF_ID, me.peer, true);
    }
    await deliver();
    const old = me.keys.activeKey;
    await me.keys.removeMember(BOB_ID);
    expect(me.media.log).toContain(`remove ${BOB_ID}`);
    expect(me.keys.hasKeyFrom(BOB_ID)).toBe(false);
    const pending = me.keys.pendingKey;
    expect(pending?.generation).toBe(old.generation + 1);
    // Not a ratchet of the old key: Bob could compute that one.
    expect(pending?.material).not.toEqual((await old.ratchet()).material);
    expect(me.keys.activeKey).toBe(old);
    expect(outbox.map((s) => `${s.to}:${s.payload.t}`)).toEqual([`${ALICE_ID}:key`]);
    let chatKey: SenderKey | null = null;
    void me.keys.chatKey().then((k) => (chatKey = k));
    await settled();
    expect(chatKey).toBeNull();
    await deliver();
    expect(me.keys.pendingKey).toBeNull();
    expect(me.keys.activeKey).toBe(pending);
    expect(me.media.sendKey).toBe(pending);
    expect(chatKey).toBe(pending);
    // Bob, who kept every key he had, cannot decrypt what is sent now.
    const encryptor = new MediaEncryptor(me.keys.tag, 'microphone');
    await encryptor.setKey(me.keys.activeKey);
    const sealed = await encryptor.encrypt('opus', new Uint8Array([0xfc, 1, 2, 3]));
    if (!sealed) throw new Error('no frame');
    const bob = new MediaDecryptor(get(BOB_ID).keys.ring, 'microphone', SELF_ID);
    expect(await bob.decrypt('opus', sealed, 0)).toEqual({ ok: false, error: 'auth-failed' });
    const alice = new MediaDecryptor(get(ALICE_ID).keys.ring, 'microphone', SELF_ID);
    expect((await alice.decrypt('opus', sealed, 0)).ok).toBe(true);
  });

  it('switches after the timeout when an acknowledgement does not come', async () => {
    const { get, deliver, timers } = await setup([SELF_ID, ALICE_ID, BOB_ID, CAROL_ID], { switchTimeoutMs: 1500 });
    const me = get(SELF_ID);
    for (const id of [ALICE_ID, BOB_ID, CAROL_ID]) {
      await me.keys.addMember(id, get(id).peer, false);
      await get(id).keys.addMember(SELF_ID, me.peer, true);
    }
    await deliver();
    await me.keys.removeMember(CAROL_ID);
    // Bob's acknowledgement is lost.
    await deliver((s) => s.from === BOB_ID && s.payload.t === 'key-ack');
    expect(me.keys.pendingKey?.generation).toBe(1);
    timers.advance(1499);
    await me.keys.idle();
    expect(me.keys.pendingKey).not.toBeNull();
    timers.advance(1);
    await me.keys.idle();
    expect(me.keys.pendingKey).toBeNull();
    expect(me.keys.activeKey.generation).toBe(1);
    // Bob, whose acknowledgement did not come, gets the key once more.
    const resent = await deliver();
    expect(resent.filter((s) => s.from === SELF_ID).map((s) => `${s.to}:${s.payload.t}`)).toEqual([`${BOB_ID}:key`]);
  });

  it('asks a member whose frames do not decrypt for its key, at most every 5 s', async () => {
    const { get, outbox, timers } = await setup([SELF_ID, ALICE_ID]);
    const me = get(SELF_ID);
    await me.keys.addMember(ALICE_ID, get(ALICE_ID).peer, false);
    outbox.length = 0;
    me.keys.requestKey(ALICE_ID);
    me.keys.requestKey(ALICE_ID);
    me.keys.requestKey(BOB_ID);
    await me.keys.idle();
    expect(outbox.map((s) => `${s.to}:${s.payload.t}`)).toEqual([`${ALICE_ID}:key-request`]);
    timers.advance(2999);
    me.keys.requestKey(ALICE_ID);
    await me.keys.idle();
    expect(outbox).toHaveLength(1);
    // The scheduled re-request after verification counts too.
    timers.advance(1);
    await me.keys.idle();
    expect(outbox).toHaveLength(2);
    timers.advance(5000);
    me.keys.requestKey(ALICE_ID);
    await me.keys.idle();
    expect(outbox).toHaveLength(3);
  });

  it('counts only acknowledgements of the pending generation from members it waits for', async () => {
    const { get, outbox, deliver, control } = await setup([SELF_ID, ALICE_ID, BOB_ID, CAROL_ID]);
    const me = get(SELF_ID);
    for (const id of [ALICE_ID, BOB_ID, CAROL_ID]) await me.keys.addMember(id, get(id).peer, false);
    await deliver();
    await me.keys.removeMember(CAROL_ID);
    outbox.length = 0;
    await me.keys.handlePayload(ALICE_ID, await control(ALICE_ID, SELF_ID, 'key-ack', 0));
    await me.keys.handlePayload(ALICE_ID, await control(ALICE_ID, SELF_ID, 'key-ack', 7));
    await me.keys.handlePayload(CAROL_ID, await control(CAROL_ID, SELF_ID, 'key-ack', 1));
    await me.keys.handlePayload(ALICE_ID, await control(ALICE_ID, SELF_ID, 'key-ack', 1));
    expect(me.keys.pendingKey).not.toBeNull();
    await me.keys.handlePayload(BOB_ID, await control(BOB_ID, SELF_ID, 'key-ack', 1));
    expect(me.keys.pendingKey).toBeNull();
  });

  it('uses a rotated key at once when anyone arrives before the acknowledgements (the leaver may be back)', async () => {
    const { get, deliver, timers } = await setup([SELF_ID, ALICE_ID, BOB_ID], { switchTimeoutMs: 1500 });
    const me = get(SELF_ID);
    for (const id of [ALICE_ID, BOB_ID]) {
      await me.keys.addMember(id, get(id).peer, false);
      await get(id).keys.addMember(SELF_ID, me.peer, true);
    }
    await deliver();
    const old = me.keys.activeKey;
    await me.keys.removeMember(BOB_ID);
    const rotated = me.keys.pendingKey;
    expect(me.media.sendKey).toBe(old);
    // Someone arrives (not verified yet, maybe Bob under a new identity): no more frames under
    // the key Bob holds.
    await me.keys.participantArrived();
    expect(me.keys.pendingKey).toBeNull();
    expect(me.keys.activeKey).toBe(rotated);
    expect(me.media.sendKey).toBe(rotated);
    // Alice still gets the rotated key (and once more later, her acknowledgement being unknown).
    const first = await deliver();
    expect(first.filter((s) => s.from === SELF_ID).map((s) => `${s.to}:${s.payload.t}`)).toEqual([`${ALICE_ID}:key`]);
    timers.advance(1500);
    await me.keys.idle();
    const again = await deliver();
    expect(again.filter((s) => s.from === SELF_ID).map((s) => `${s.to}:${s.payload.t}`)).toEqual([`${ALICE_ID}:key`]);
    expect(get(ALICE_ID).media.received.get(SELF_ID)?.at(-1)?.generation).toBe(rotated?.generation);
    // Nothing pending: an arrival changes nothing.
    await me.keys.participantArrived();
    expect(me.keys.activeKey).toBe(rotated);
  });

  it('ratchets the pending key when someone joins during a rotation', async () => {
    const { get, deliver } = await setup([SELF_ID, ALICE_ID, BOB_ID, CAROL_ID]);
    const me = get(SELF_ID);
    for (const id of [ALICE_ID, BOB_ID]) {
      await me.keys.addMember(id, get(id).peer, false);
      await get(id).keys.addMember(SELF_ID, me.peer, true);
    }
    await deliver();
    await me.keys.removeMember(BOB_ID);
    const rotated = me.keys.pendingKey;
    await me.keys.addMember(CAROL_ID, get(CAROL_ID).peer, true);
    await get(CAROL_ID).keys.addMember(SELF_ID, me.peer, false);
    expect(me.keys.pendingKey?.generation).toBe(2);
    expect(me.keys.pendingKey?.material).toEqual((await rotated?.ratchet())?.material);
    await deliver();
    expect(me.keys.activeKey.generation).toBe(2);
    // Alice got generation 1 and ratchets to 2 herself; Carol got 2 directly.
    expect(
      get(ALICE_ID)
        .media.received.get(SELF_ID)
        ?.map((k) => k.generation),
    ).toEqual([0, 1]);
    expect(
      get(CAROL_ID)
        .media.received.get(SELF_ID)
        ?.map((k) => k.generation),
    ).toEqual([2]);
    const resolved = await get(ALICE_ID).keys.ring.resolveGeneration(SELF_ID, 2, 0);
    expect(resolved?.key.material).toEqual(me.keys.activeKey.material);
  });

  it('refuses keys not wrapped for it, and acknowledges repeats without going back', async () => {
    const { get, outbox, deliver, opened } = await setup([SELF_ID, ALICE_ID, BOB_ID]);
    const me = get(SELF_ID);
    await me.keys.addMember(ALICE_ID, get(ALICE_ID).peer, false);
    await me.keys.addMember(BOB_ID, get(BOB_ID).peer, false);
    await get(ALICE_ID).keys.addMember(SELF_ID, me.peer, false);
    await get(BOB_ID).keys.addMember(SELF_ID, me.peer, false);
    const fromAlice = outbox.find((s) => s.from === ALICE_ID && s.to === SELF_ID);
    if (!fromAlice || fromAlice.payload.t !== 'key') throw new Error('no key from Alice');
    outbox.length = 0;
    // Relayed as if Bob had sent it: the AAD names Alice, and the pair key is Alice's.
    await me.keys.handlePayload(BOB_ID, fromAlice.payload);
    // A generation that does not match the wrapped one.
    await me.keys.handlePayload(ALICE_ID, { ...fromAlice.payload, generation: 5 });
    expect(me.keys.hasKeyFrom(BOB_ID)).toBe(false);
    expect(me.keys.hasKeyFrom(ALICE_ID)).toBe(false);
    expect(outbox).toEqual([]);
    await me.keys.handlePayload(ALICE_ID, fromAlice.payload);
    await me.keys.handlePayload(ALICE_ID, fromAlice.payload);
    expect(outbox.map((s) => `${s.to}:${s.payload.t}`)).toEqual([`${ALICE_ID}:key-ack`, `${ALICE_ID}:key-ack`]);
    expect(await Promise.all(outbox.map(opened))).toEqual([0, 0]);
    expect(me.media.received.get(ALICE_ID)?.length).toBe(2);
    await deliver();
  });

  it('asks again for a key that does not come, and answers requests at most once a second', async () => {
    const { get, outbox, timers, control } = await setup([SELF_ID, ALICE_ID, BOB_ID], {});
    const me = get(SELF_ID);
    await me.keys.addMember(ALICE_ID, get(ALICE_ID).peer, false);
    outbox.length = 0;
    timers.advance(3000);
    await me.keys.idle();
    expect(outbox.map((s) => `${s.to}:${s.payload.t}`)).toEqual([`${ALICE_ID}:key-request`]);
    timers.advance(6000);
    await me.keys.idle();
    timers.advance(12000);
    await me.keys.idle();
    timers.advance(60000);
    await me.keys.idle();
    expect(outbox.filter((s) => s.payload.t === 'key-request')).toHaveLength(3);
    outbox.length = 0;
    const request = await control(ALICE_ID, SELF_ID, 'key-request', 0);
    await me.keys.handlePayload(ALICE_ID, request);
    await me.keys.handlePayload(ALICE_ID, request);
    expect(outbox.map((s) => s.payload.t)).toEqual(['key']);
    timers.advance(1000);
    await me.keys.handlePayload(ALICE_ID, request);
    expect(outbox.map((s) => s.payload.t)).toEqual(['key', 'key']);
    // Nobody else is answered.
    await me.keys.handlePayload(BOB_ID, await control(BOB_ID, SELF_ID, 'key-request', 0));
    expect(outbox).toHaveLength(2);
  });

  it('refuses a second participant with the same identity, or its own', async () => {
    const { get } = await setup([SELF_ID, ALICE_ID]);
    const me = get(SELF_ID);
    const alice = get(ALICE_ID);
    expect(await me.keys.addMember(ALICE_ID, alice.peer, false)).toBe('added');
    expect(await me.keys.addMember(ALICE_ID, alice.peer, false)).toBe('already');
    expect(await me.keys.addMember(BOB_ID, alice.peer, true)).toBe('duplicate-identity');
    expect(await me.keys.addMember(CAROL_ID, me.peer, true)).toBe('duplicate-identity');
    expect(me.keys.isMember(BOB_ID)).toBe(false);
    expect(me.keys.activeKey.generation).toBe(0);
  });

  it('sends nothing once closed', async () => {
    const { get, outbox, timers } = await setup([SELF_ID, ALICE_ID]);
    const me = get(SELF_ID);
    await me.keys.addMember(ALICE_ID, get(ALICE_ID).peer, false);
    outbox.length = 0;
    me.keys.close();
    expect(await me.keys.addMember(BOB_ID, get(ALICE_ID).peer, true)).toBe('closed');
    await me.keys.removeMember(ALICE_ID);
    await me.keys.handlePayload(ALICE_ID, { t: 'key-request', sealed: 'A'.repeat(43) });
    timers.advance(100000);
    expect(outbox).toEqual([]);
    expect(await me.keys.chatKey()).toBe(me.keys.activeKey);
  });

  it('keeps a KeyRing a removed member cannot extend: ratcheting the old key never yields the rotated one', async () => {
    const ring = new KeyRing();
    const old = SenderKey.generate(4);
    ring.addSender(SELF_ID, 7);
    ring.setKey(SELF_ID, old, 0);
    const rotated = old.rotate();
    expect((await ring.resolveGeneration(SELF_ID, rotated.generation, 0))?.key.material).not.toEqual(rotated.material);
  });

  it('after any leave, takes no ratchet of a sender key until that sender delivers its rotated key', async () => {
    const { get, deliver } = await setup([SELF_ID, ALICE_ID]);
    const me = get(SELF_ID);
    const alice = get(ALICE_ID);
    await me.keys.addMember(ALICE_ID, alice.peer, false);
    await alice.keys.addMember(SELF_ID, me.peer, false);
    await deliver();
    const aliceKey = alice.keys.activeKey;
    // Carol (whom neither had finished verifying) leaves; both sides hear of it.
    await me.keys.removeMember(CAROL_ID);
    await alice.keys.removeMember(CAROL_ID);
    expect(me.media.log).toContain('expect-rotation');
    // Carol, who may hold Alice's key from another member's point of view, ratchets it: refused.
    const forged = new MediaEncryptor(alice.keys.tag, 'camera');
    await forged.setKey(await aliceKey.ratchet());
    const frame = await forged.encrypt('vp8', new Uint8Array([0x01, 2, 3, 4]));
    if (!frame) throw new Error('no frame');
    const view = new MediaDecryptor(me.keys.ring, 'camera', ALICE_ID);
    expect(await view.decrypt('vp8', frame, 0)).toEqual({ ok: false, error: 'unknown-key' });
    // Alice rotated (on every leave) and delivers the fresh key: it decrypts.
    await deliver();
    expect(me.keys.ring.deliveredGeneration(ALICE_ID)).toBe(aliceKey.generation + 1);
    const real = new MediaEncryptor(alice.keys.tag, 'camera');
    await real.setKey(alice.keys.activeKey);
    const good = await real.encrypt('vp8', new Uint8Array([0x01, 5, 6, 7]));
    if (!good) throw new Error('no frame');
    expect((await view.decrypt('vp8', good, 0)).ok).toBe(true);
  });

  it('counts only acknowledgements and requests the member sealed under the pairwise key', async () => {
    const { get, outbox, deliver, control } = await setup([SELF_ID, ALICE_ID, BOB_ID, CAROL_ID]);
    const me = get(SELF_ID);
    for (const id of [ALICE_ID, BOB_ID]) await me.keys.addMember(id, get(id).peer, false);
    await deliver();
    await me.keys.removeMember(CAROL_ID);
    outbox.length = 0;
    // The server (or Carol) acknowledges the rotated key in Alice's and Bob's names.
    for (const id of [ALICE_ID, BOB_ID]) {
      await me.keys.handlePayload(id, await control(CAROL_ID, SELF_ID, 'key-ack', 1));
      await me.keys.handlePayload(id, { t: 'key-ack', sealed: 'A'.repeat(43) });
    }
    expect(me.keys.pendingKey).not.toBeNull();
    // An acknowledgement Bob sealed for Alice is no acknowledgement from Bob to this participant.
    await me.keys.handlePayload(BOB_ID, await control(BOB_ID, ALICE_ID, 'key-ack', 1));
    expect(me.keys.pendingKey).not.toBeNull();
    // Key requests in someone else's name get no answer either.
    await me.keys.handlePayload(ALICE_ID, await control(CAROL_ID, SELF_ID, 'key-request', 0));
    expect(outbox.filter((s) => s.payload.t === 'key')).toEqual([]);
    await me.keys.handlePayload(ALICE_ID, await control(ALICE_ID, SELF_ID, 'key-ack', 1));
    await me.keys.handlePayload(BOB_ID, await control(BOB_ID, SELF_ID, 'key-ack', 1));
    expect(me.keys.pendingKey).toBeNull();
  });
});
