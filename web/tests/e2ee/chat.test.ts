import { describe, expect, it } from 'vitest';
import {
  base64UrlEncode,
  ChatReceiver,
  ChatSender,
  chatDeleteAt,
  decryptFile,
  encryptFile,
  generateIdentity,
  importPeerIdentity,
  isChatExpired,
  KeyRing,
  MAX_CHAT_ENVELOPE_LENGTH,
  MAX_CHAT_LIFETIME_MS,
  parseChatMessage,
  SenderKey,
  type ChatMessage,
  type Identity,
  type PeerIdentity,
} from '../../src/e2ee';
import { KAT } from './conclave_kat';
import { b64, flipBit, hex } from './helpers';

const ROOM = KAT.roomId;
const ALICE = 'alice-participant-id01';
const MALLORY = 'mallory-participant-01';

function must<T>(value: T | null | undefined): T {
  if (value === null || value === undefined) throw new Error('unexpected null');
  return value;
}

async function peer(identity: Identity): Promise<PeerIdentity> {
  return must(await importPeerIdentity(identity.signingPublic, identity.agreementPublic, identity.joinNonce));
}

/** Alice sends; the receiver (Bob) knows Alice's verified keys and her sender key. */
async function setup() {
  const alice = await generateIdentity();
  const mallory = await generateIdentity();
  const aliceKey = SenderKey.generate(0);
  const ring = new KeyRing();
  ring.addSender(ALICE, 1);
  ring.addSender(MALLORY, 2);
  ring.setKey(ALICE, aliceKey, 0);
  const peers = new Map<string, PeerIdentity>([
    [ALICE, await peer(alice)],
    [MALLORY, await peer(mallory)],
  ]);
  const receiver = new ChatReceiver(ROOM, ring, (id) => peers.get(id));
  return { alice, mallory, aliceKey, ring, receiver, sender: new ChatSender(ROOM, ALICE, alice) };
}

const hello: ChatMessage = { id: 'm1', ts: 1_700_000_000_000, text: 'hello Bob' };

function edit(envelope: string, change: (o: Record<string, unknown>) => void): string {
  const o = JSON.parse(envelope) as Record<string, unknown>;
  change(o);
  return JSON.stringify(o);
}

describe('chat', () => {
  it('opens a message made by an independent implementation, with its file (known answer)', async () => {
    const alice = await importPeerIdentity(b64(KAT.aliceEdPublic), b64(KAT.aliceXPublic), b64(KAT.aliceJoin));
    const ring = new KeyRing();
    ring.addSender(KAT.aliceId, KAT.senderTag);
    ring.setKey(KAT.aliceId, must(SenderKey.fromMaterial(0, hex(KAT.senderKey))), 0);
    const receiver = new ChatReceiver(KAT.roomId, ring, (id) => (id === KAT.aliceId ? alice : undefined));
    // The message is under generation 1: the receiver follows Alice's ratchet on demand.
    const result = await receiver.open(KAT.chatEnvelope, 0);
    expect(result.ok).toBe(true);
    if (!result.ok) return;
    expect(result).toMatchObject({ senderId: KAT.aliceId, generation: 1, counter: 1 });
    expect(result.message.text).toBe(KAT.chatText);
    expect(result.message.expiresAt).toBe(1_700_000_060_000);
    const file = await decryptFile(
      must(result.message.file),
      KAT.fileChunks.map((c) => hex(c)),
    );
    expect(file).toEqual({ ok: true, data: hex(KAT.fileData) });
  });

  it('round-trips, and the envelope shows no text', async () => {
    const { sender, receiver, aliceKey } = await setup();
    const envelope = await sender.seal(aliceKey, { ...hello, expiresAt: hello.ts + 30_000 });
    expect(envelope).not.toContain('hello');
    expect(Object.keys(JSON.parse(envelope) as object)).toEqual(['v', 'from', 'g', 'n', 'ct', 'sig']);
    const result = await receiver.open(envelope, 0);
    expect(result).toEqual({
      ok: true,
      senderId: ALICE,
      message: { ...hello, expiresAt: hello.ts + 30_000 },
      generation: 0,
      counter: 1,
    });
  });

  it('carries a file manifest; the file decrypts with it', async () => {
    const { sender, receiver, aliceKey } = await setup();
    const data = hex('00112233445566778899'.repeat(300));
    const file = await encryptFile(data, { name: 'a.bin', mime: 'application/octet-stream' }, 1024);
    const result = await receiver.open(await sender.seal(aliceKey, { ...hello, file: file.manifest }), 0);
    if (!result.ok) throw new Error(result.error);
    expect(await decryptFile(must(result.message.file), file.chunks)).toEqual({ ok: true, data });
  });

  it('refuses an altered message before decrypting', async () => {
    const { sender, receiver, aliceKey } = await setup();
    const envelope = await sender.seal(aliceKey, hello);
    const ct = b64((JSON.parse(envelope) as { ct: string }).ct);
    for (const i of [0, 12, 20, -1]) {
      const altered = edit(envelope, (o) => (o['ct'] = base64UrlEncode(flipBit(ct, i))));
      expect(await receiver.open(altered, 0)).toEqual({ ok: false, error: 'bad-signature' });
    }
    expect(
      await receiver.open(
        edit(envelope, (o) => (o['n'] = 2)),
        0,
      ),
    ).toEqual({ ok: false, error: 'bad-signature' });
    expect(
      await receiver.open(
        edit(envelope, (o) => (o['g'] = 1)),
        0,
      ),
    ).toEqual({ ok: false, error: 'bad-signature' });
    expect((await receiver.open(envelope, 0)).ok).toBe(true);
  });

  it('refuses a message forged in another member’s name', async () => {
    const { mallory, receiver, aliceKey } = await setup();
    // Mallory knows Alice's sender key (every member does) but not her signing key.
    const forger = new ChatSender(ROOM, ALICE, mallory);
    expect(await receiver.open(await forger.seal(aliceKey, hello), 0)).toEqual({ ok: false, error: 'bad-signature' });
    // Re-labelling one of her own messages as Alice's fails too.
    const own = await new ChatSender(ROOM, MALLORY, mallory).seal(aliceKey, hello);
    expect(
      await receiver.open(
        edit(own, (o) => (o['from'] = ALICE)),
        0,
      ),
    ).toEqual({ ok: false, error: 'bad-signature' });
  });

  it('refuses unknown senders, other rooms, replays and malformed envelopes', async () => {
    const { sender, receiver, aliceKey, alice, ring } = await setup();
    const stranger = new ChatSender(ROOM, 'stranger', alice);
    expect(await receiver.open(await stranger.seal(aliceKey, hello), 0)).toEqual({
      ok: false,
      error: 'unknown-sender',
    });
    const otherRoom = new ChatSender('BBBBBBBBBBBBBBBBBBBBBBBBBBBBroom', ALICE, alice);
    expect(await receiver.open(await otherRoom.seal(aliceKey, hello), 0)).toEqual({
      ok: false,
      error: 'bad-signature',
    });
    const first = await sender.seal(aliceKey, hello);
    const second = await sender.seal(aliceKey, { ...hello, id: 'm2' });
    expect((await receiver.open(second, 0)).ok).toBe(true);
    expect((await receiver.open(first, 0)).ok).toBe(true); // late, not replayed
    expect(await receiver.open(first, 0)).toEqual({ ok: false, error: 'replay' });
    for (const bad of ['', '{}', 'null', edit(first, (o) => (o['n'] = 0)), edit(first, (o) => delete o['sig'])]) {
      expect(await receiver.open(bad, 0)).toEqual({ ok: false, error: 'malformed' });
    }
    ring.removeSender(ALICE);
    expect(await receiver.open(await sender.seal(aliceKey, hello), 0)).toEqual({ ok: false, error: 'no-key' });
  });

  it('a member who left cannot read messages after the rotation; a newcomer cannot read older ones', async () => {
    const { sender, aliceKey, alice } = await setup();
    const verify = await peer(alice);
    const before = await sender.seal(aliceKey, hello);
    const rotated = aliceKey.rotate();
    const after = await sender.seal(rotated, { ...hello, id: 'm2' });

    const leaverRing = new KeyRing();
    leaverRing.addSender(ALICE, 1);
    leaverRing.setKey(ALICE, aliceKey, 0);
    const leaver = new ChatReceiver(ROOM, leaverRing, () => verify);
    expect((await leaver.open(before, 0)).ok).toBe(true);
    expect(await leaver.open(after, 0)).toEqual({ ok: false, error: 'decrypt-failed' });

    const newcomerRing = new KeyRing();
    newcomerRing.addSender(ALICE, 1);
    newcomerRing.setKey(ALICE, rotated, 0);
    const newcomer = new ChatReceiver(ROOM, newcomerRing, () => verify);
    expect(await newcomer.open(before, 0)).toEqual({ ok: false, error: 'no-key' });
    expect((await newcomer.open(after, 0)).ok).toBe(true);
  });

  it('checks the sender the relay names', async () => {
    const { sender, receiver, aliceKey } = await setup();
    const envelope = await sender.seal(aliceKey, hello);
    expect(await receiver.open(envelope, 0, MALLORY)).toEqual({ ok: false, error: 'wrong-sender' });
    expect((await receiver.open(envelope, 0, ALICE)).ok).toBe(true);
  });

  it('fits the longest message into one relay payload', async () => {
    const { sender, receiver, aliceKey } = await setup();
    const file = (await encryptFile(new Uint8Array(10), { name: '\u0001'.repeat(255), mime: '"'.repeat(255) }, 1024))
      .manifest;
    const longest: ChatMessage = {
      ...hello,
      text: '\u0001'.repeat(4000),
      expiresAt: hello.ts + 1,
      file: { ...file, ref: 'r'.repeat(128) },
    };
    const envelope = await sender.seal(aliceKey, longest);
    expect(envelope.length).toBeLessThanOrEqual(MAX_CHAT_ENVELOPE_LENGTH);
    expect(await receiver.open(envelope, 0)).toMatchObject({ ok: true, message: longest });
  });

  it('refuses to seal an invalid message', async () => {
    const { sender, aliceKey } = await setup();
    await expect(sender.seal(aliceKey, { ...hello, id: '' })).rejects.toThrow(RangeError);
    await expect(sender.seal(aliceKey, { ...hello, expiresAt: hello.ts - 1 })).rejects.toThrow(RangeError);
    await expect(sender.seal(aliceKey, { ...hello, text: 'x'.repeat(4001) })).rejects.toThrow(RangeError);
  });
});

describe('chat messages', () => {
  it('validates decrypted messages', () => {
    expect(parseChatMessage(hello)).toEqual(hello);
    expect(parseChatMessage({ ...hello, extra: 1 })).toEqual(hello);
    expect(parseChatMessage({ ...hello, ts: 1.5 })).toBeNull();
    expect(parseChatMessage({ ...hello, text: 5 })).toBeNull();
    expect(parseChatMessage({ ...hello, id: 'x'.repeat(65) })).toBeNull();
    expect(parseChatMessage({ ...hello, expiresAt: 'soon' })).toBeNull();
    expect(parseChatMessage({ ...hello, file: { name: 'x' } })).toBeNull();
    expect(parseChatMessage('hello')).toBeNull();
  });
});

describe('self-destruct', () => {
  const msg: ChatMessage = { id: 'm', ts: 1_000_000, text: 't', expiresAt: 1_060_000 };

  it('deletes after the lifetime, counted from receipt (clock skew does not matter)', () => {
    expect(chatDeleteAt(msg, 5_000_000)).toBe(5_060_000);
    expect(isChatExpired(msg, 5_000_000, 5_059_999)).toBe(false);
    expect(isChatExpired(msg, 5_000_000, 5_060_000)).toBe(true);
  });

  it('keeps messages without expiresAt, and caps the lifetime', () => {
    expect(chatDeleteAt({ id: 'm', ts: 1, text: 't' }, 10)).toBeNull();
    expect(isChatExpired({ id: 'm', ts: 1, text: 't' }, 10, Number.MAX_SAFE_INTEGER)).toBe(false);
    expect(chatDeleteAt({ ...msg, expiresAt: msg.ts + 10 * MAX_CHAT_LIFETIME_MS }, 0)).toBe(MAX_CHAT_LIFETIME_MS);
    expect(chatDeleteAt({ ...msg, expiresAt: msg.ts }, 7)).toBe(7);
  });
});
