// Several members' SecureRooms connected through a fake relay "server" that behaves like the real
// one (participant-joined/-left to everyone else, relay to one or to all) and records what it
// forwards: membership proofs, key delivery on join and leave, chat, the security code, and what
// an unverified participant gets (nothing).
import { describe, expect, it } from 'vitest';
import { generateIdentity, MediaDecryptor, MediaEncryptor, type FileManifest } from '../../src/e2ee';
import { sealOwnProfile } from '../../src/profile';
import type { Participant } from '../../src/protocol/messages';
import { ChatLog } from '../../src/secure/chat_log';
import { parseRelayPayload } from '../../src/secure/payloads';
import { SecureRoom, type MoveInstruction, type PeerSecurity } from '../../src/secure/secure_room';
import { ManualTimers, RecordingSink, roomKeys, SECRET, settled, until, WRONG_SECRET } from './helpers';

interface Forwarded {
  from: string;
  to: string | null;
  payload: string;
  kind: 'chat' | 'control';
}

interface Client {
  id: string;
  name: string;
  profile: string;
  room: SecureRoom;
  media: RecordingSink;
  chat: ChatLog;
  verdicts: [PeerSecurity, PeerSecurity | null][];
  moves: [string, MoveInstruction][];
}

/** Plays the server: relays payloads, tells everyone about joins and leaves. */
class Hub {
  readonly clients = new Map<string, Client>();
  readonly forwarded: Forwarded[] = [];
  readonly timers = new ManualTimers();
  private mNext = 0;
  /** Payloads in flight; deliver() hands them over. */
  private mQueue: Forwarded[] = [];
  drop: (f: Forwarded) => boolean = () => false;

  async join(name: string, secret?: string): Promise<Client> {
    const room = await roomKeys();
    const sealWith = secret === undefined ? room : await roomKeys(secret);
    const identity = await generateIdentity();
    const id = `member${String(this.mNext++).padStart(16, '0')}`;
    const profile = await sealOwnProfile(sealWith, identity, { name });
    const media = new RecordingSink();
    const chat = new ChatLog(this.timers);
    const verdicts: Client['verdicts'] = [];
    const moves: Client['moves'] = [];
    const others: Participant[] = [...this.clients.values()].map((c) => ({ id: c.id, profile: c.profile }));
    // A member with a wrong secret also checks the others with its (wrong) room keys.
    const secure = new SecureRoom({
      room: sealWith,
      identity,
      selfId: id,
      signaling: {
        relay: (payload, to, kind) => {
          const f: Forwarded = { from: id, to: to ?? null, payload, kind: kind ?? 'control' };
          this.forwarded.push(f);
          this.mQueue.push(f);
          return Promise.resolve();
        },
      },
      media,
      chat,
      timers: this.timers,
      onChange: () => undefined,
      onVerdict: (peer, previous) => verdicts.push([peer, previous]),
      onMove: (from, move) => moves.push([from, move]),
    });
    const client: Client = { id, name, profile, room: secure, media, chat, verdicts, moves };
    for (const other of this.clients.values()) other.room.participantJoined({ id, profile });
    this.clients.set(id, client);
    secure.start(others);
    await this.deliver();
    return client;
  }

  async leave(client: Client): Promise<void> {
    this.clients.delete(client.id);
    client.room.close();
    for (const other of this.clients.values()) other.room.participantLeft(client.id);
    await this.deliver();
  }

  async update(client: Client, profile: string): Promise<void> {
    client.profile = profile;
    for (const other of this.clients.values())
      if (other !== client) other.room.participantUpdated({ id: client.id, profile });
    await this.deliver();
  }

  /** Lets crypto finish and relays payloads until nothing moves any more. */
  async deliver(): Promise<void> {
    for (let round = 0; round < 50; round++) {
      await Promise.all([...this.clients.values()].map((c) => c.room.idle()));
      await settled();
      const batch = this.mQueue.splice(0);
      if (batch.length === 0) return;
      for (const f of batch) {
        if (this.drop(f)) continue;
        const targets =
          f.to === null
            ? [...this.clients.values()].filter((c) => c.id !== f.from)
            : [this.clients.get(f.to)].filter((c) => c !== undefined);
        for (const target of targets) await target.room.relay(f.from, f.payload, f.kind);
      }
    }
  }
}

async function code(client: Client): Promise<string> {
  await until(() => client.room.snapshot().code !== null, 'security code');
  return client.room.snapshot().code ?? '';
}

/** Whether `receiver`'s frame transforms could decrypt what `sender` sends now. */
async function canDecrypt(sender: Client, receiver: Client): Promise<boolean> {
  const keys = await sender.room.keys();
  const encryptor = new MediaEncryptor(keys.tag, 'camera');
  await encryptor.setKey(keys.activeKey);
  const frame = await encryptor.encrypt('vp8', new Uint8Array([0x01, 9, 8, 7]));
  if (!frame) throw new Error('no frame');
  // The receiver's media sink got the same keys as its KeyRing; use the ring directly.
  const ring = (await receiver.room.keys()).ring;
  return (await new MediaDecryptor(ring, 'camera', sender.id).decrypt('vp8', frame, 0)).ok;
}

describe('SecureRoom', () => {
  it('verifies members, shows their names, and lets everyone decrypt everyone', async () => {
    const hub = new Hub();
    const alice = await hub.join('Alice');
    const bob = await hub.join('Bob');
    const carol = await hub.join('Carol');
    for (const c of [alice, bob, carol]) {
      const others = c.room.peers();
      expect(others.map((p) => [p.trust, p.name, p.key]).sort()).toEqual(
        [alice, bob, carol]
          .filter((o) => o !== c)
          .map((o) => ['verified', o.name, 'received'])
          .sort(),
      );
      expect(c.room.snapshot().wrongLink).toBe(false);
    }
    for (const s of [alice, bob, carol])
      for (const r of [alice, bob, carol]) if (s !== r) expect(await canDecrypt(s, r)).toBe(true);
    // Bob was announced to Alice as a newcomer; Alice was there before Bob.
    expect(alice.verdicts.map(([p, prev]) => [p.id, p.trust, prev])).toEqual([
      [bob.id, 'verified', null],
      [carol.id, 'verified', null],
    ]);
    // Everyone computes the same security code.
    const codes = await Promise.all([alice, bob, carol].map(code));
    expect(new Set(codes).size).toBe(1);
    expect(codes[0]).toMatch(/^\d{5}( \d{5}){11}$/);
    // Nothing but opaque payloads went through the server.
    for (const f of hub.forwarded) {
      expect(parseRelayPayload(f.payload)).not.toBeNull();
      for (const name of ['Alice', 'Bob', 'Carol']) expect(f.payload).not.toContain(name);
    }
  });

  it('gives an unverified participant no key, drops its payloads, and tells it its link is wrong', async () => {
    const hub = new Hub();
    const alice = await hub.join('Alice');
    const bob = await hub.join('Bob');
    const mallory = await hub.join('Mallory', WRONG_SECRET);
    for (const c of [alice, bob]) {
      const seen = c.room.peer(mallory.id);
      expect(seen).toMatchObject({ trust: 'unverified', name: null, reason: 'not-a-member' });
      expect(c.room.snapshot().wrongLink).toBe(false);
      expect(c.verdicts.at(-1)?.[0]).toMatchObject({ id: mallory.id, trust: 'unverified' });
    }
    expect(mallory.room.peers().map((p) => [p.trust, p.reason, p.name])).toEqual([
      ['unverified', 'not-a-member', null],
      ['unverified', 'not-a-member', null],
    ]);
    expect(mallory.room.snapshot().wrongLink).toBe(true);
    expect(hub.forwarded.filter((f) => f.to === mallory.id)).toEqual([]);
    expect(mallory.media.received.size).toBe(0);
    expect(await canDecrypt(alice, mallory)).toBe(false);
    // Mallory's key deliveries and chat are dropped unread.
    expect(alice.media.senders.has(mallory.id)).toBe(false);
    await mallory.room.sendChat('hello from Mallory', null);
    await hub.deliver();
    expect(alice.chat.entries).toEqual([]);
    // Mallory does not change the members' security code.
    const before = await code(alice);
    expect(await code(bob)).toBe(before);
    expect(await code(mallory)).not.toBe(before);
  });

  it('tells who has the wrong link by who was there first', async () => {
    const hub = new Hub();
    const alice = await hub.join('Alice');
    const mallory = await hub.join('Mallory', WRONG_SECRET);
    // Alice was first: the newcomer failing its proof is the one with the wrong link.
    expect(alice.room.snapshot().wrongLink).toBe(false);
    expect(alice.room.peer(mallory.id)?.trust).toBe('unverified');
    expect(mallory.room.snapshot().wrongLink).toBe(true);
    // Bob arrives: he and Alice verify each other; to Mallory both fail.
    const bob = await hub.join('Bob');
    expect(alice.room.snapshot().wrongLink).toBe(false);
    expect(bob.room.snapshot().wrongLink).toBe(false);
    expect(mallory.room.snapshot().wrongLink).toBe(true);
  });

  it('rotates when a member leaves: the leaver cannot decrypt anything sent afterwards', async () => {
    const hub = new Hub();
    const alice = await hub.join('Alice');
    const bob = await hub.join('Bob');
    const carol = await hub.join('Carol');
    const code3 = await code(alice);
    const carolKeys = await carol.room.keys();
    await hub.leave(carol);
    // Carol's client keeps every key it had...
    for (const s of [alice, bob]) expect(await canDecrypt(s, carol)).toBe(false);
    for (const [s, r] of [
      [alice, bob],
      [bob, alice],
    ] as const) {
      expect(await canDecrypt(s, r)).toBe(true);
    }
    expect((await alice.room.keys()).activeKey.generation).toBeGreaterThan(
      carolKeys.ring.newestGeneration(alice.id) ?? 99,
    );
    const code2 = await code(alice);
    expect(code2).not.toBe(code3);
    expect(await code(bob)).toBe(code2);
    expect(alice.media.log).toContain(`remove ${carol.id}`);
  });

  it('delivers signed, encrypted chat and files; self-destruct deletes on every client', async () => {
    const hub = new Hub();
    const alice = await hub.join('Alice');
    const bob = await hub.join('Bob');
    await alice.room.sendChat('Hello Bob', null);
    await hub.deliver();
    expect(bob.chat.entries.map((e) => [e.senderId, e.senderName, e.text, e.self])).toEqual([
      [alice.id, 'Alice', 'Hello Bob', false],
    ]);
    expect(alice.chat.entries.map((e) => [e.text, e.self])).toEqual([['Hello Bob', true]]);
    const chatPayload = hub.forwarded.find((f) => parseRelayPayload(f.payload)?.t === 'chat');
    expect(chatPayload?.to).toBeNull();
    expect(chatPayload?.payload).not.toContain('Hello');

    await bob.room.sendChat('Gone in a minute', 60_000);
    await hub.deliver();
    expect(alice.chat.entries.map((e) => e.text)).toEqual(['Hello Bob', 'Gone in a minute']);
    hub.timers.advance(59_999);
    expect(alice.chat.entries).toHaveLength(2);
    hub.timers.advance(1);
    expect(alice.chat.entries.map((e) => e.text)).toEqual(['Hello Bob']);
    expect(bob.chat.entries.map((e) => e.text)).toEqual(['Hello Bob']);

    const manifest: FileManifest = {
      v: 1,
      fileId: 'AAAAAAAAAAAAAAAAAAAAAA',
      name: 'notes.txt',
      size: 5,
      mime: 'text/plain',
      chunkSize: 65536,
      chunks: 1,
      sha256: 'AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA',
      key: 'AAAAAAAAAAAAAAAAAAAAAA',
      nonce: 'AAAAAAAAAAA',
      ref: 'fileRefFileRefFileRef0',
    };
    await alice.room.sendChat('', null, manifest);
    await hub.deliver();
    expect(bob.chat.entries.at(-1)?.file).toEqual(manifest);
  });

  it('keeps a chat message until the sender key it needs arrives', async () => {
    const hub = new Hub();
    const alice = await hub.join('Alice');
    const bob = await hub.join('Bob');
    const carol = await hub.join('Carol');
    // Carol leaves; Alice's rotated key to Bob is held back (Alice switches after the timeout).
    hub.drop = (f) => f.from === alice.id && f.to === bob.id && parseRelayPayload(f.payload)?.t === 'key';
    const held: string[] = [];
    const original = hub.drop;
    hub.drop = (f) => {
      if (original(f)) {
        held.push(f.payload);
        return true;
      }
      return false;
    };
    await hub.leave(carol);
    hub.timers.advance(1500);
    await hub.deliver();
    expect((await alice.room.keys()).pendingKey).toBeNull();
    await alice.room.sendChat('after the rotation', null);
    await hub.deliver();
    expect(bob.chat.entries).toEqual([]);
    // The key arrives late: the waiting message opens.
    hub.drop = () => false;
    for (const payload of held) await bob.room.relay(alice.id, payload);
    await hub.deliver();
    await until(() => bob.chat.entries.length === 1, 'the held message');
    expect(bob.chat.entries[0]?.text).toBe('after the rotation');
  });

  it('accepts a rename from a verified member but not a change of its keys', async () => {
    const hub = new Hub();
    const alice = await hub.join('Alice');
    const bob = await hub.join('Bob');
    await hub.update(bob, await bob.room.sealProfile('Robert'));
    expect(alice.room.peer(bob.id)).toMatchObject({ trust: 'verified', name: 'Robert' });
    expect(alice.verdicts.at(-1)?.map((p) => p?.name)).toEqual(['Robert', 'Bob']);
    // The server swaps in a profile with other keys (made by someone who knows the secret).
    const impostor = await sealOwnProfile(await roomKeys(), await generateIdentity(), { name: 'Robert' });
    const before = (await alice.room.keys()).activeKey.generation;
    await hub.update(bob, impostor);
    expect(alice.room.peer(bob.id)).toMatchObject({ trust: 'unverified', reason: 'identity-changed', name: null });
    expect((await alice.room.keys()).activeKey.generation).toBe(before + 1);
    expect(alice.media.log).toContain(`remove ${bob.id}`);
  });

  it('refuses a copy of a member profile under another participant ID', async () => {
    const hub = new Hub();
    const alice = await hub.join('Alice');
    const bob = await hub.join('Bob');
    const copyId = 'copyCopyCopyCopyCopy00';
    alice.room.participantJoined({ id: copyId, profile: bob.profile });
    await hub.deliver();
    expect(alice.room.peer(copyId)).toMatchObject({ trust: 'unverified', reason: 'duplicate-identity' });
    alice.room.participantJoined({ id: 'selfCopySelfCopySelf00', profile: alice.profile });
    await hub.deliver();
    expect(alice.room.peer('selfCopySelfCopySelf00')).toMatchObject({
      trust: 'unverified',
      reason: 'duplicate-identity',
    });
    expect(alice.room.peer(bob.id)?.trust).toBe('verified');
  });

  it('marks a verified member whose key never comes as missing after 5 s', async () => {
    const hub = new Hub();
    const alice = await hub.join('Alice');
    hub.drop = (f) => f.to === alice.id;
    const bob = await hub.join('Bob');
    expect(alice.room.peer(bob.id)).toMatchObject({ trust: 'verified', key: 'waiting' });
    hub.timers.advance(5000);
    expect(alice.room.peer(bob.id)?.key).toBe('missing');
    // Bob is asked again (key-request) and answers once the relay works again.
    hub.drop = () => false;
    hub.timers.advance(1000);
    await hub.deliver();
    await until(() => alice.room.peer(bob.id)?.key === 'received', "Bob's key");
  });

  it('asks a member whose frames do not decrypt for its key, never an unverified participant', async () => {
    const hub = new Hub();
    const alice = await hub.join('Alice');
    const bob = await hub.join('Bob');
    const mallory = await hub.join('Mallory', WRONG_SECRET);
    const before = hub.forwarded.length;
    alice.room.reportUndecryptable(mallory.id);
    alice.room.reportUndecryptable(bob.id);
    await hub.deliver();
    const who = (id: string | null): string => (id === alice.id ? 'alice' : id === bob.id ? 'bob' : 'other');
    const sent = hub.forwarded.slice(before).map((f) => [who(f.from), who(f.to), parseRelayPayload(f.payload)?.t]);
    expect(sent).toEqual([
      ['alice', 'bob', 'key-request'],
      ['bob', 'alice', 'key'],
      ['alice', 'bob', 'key-ack'],
    ]);
  });

  it('never hands keys to a participant that left while its profile was being checked', async () => {
    const hub = new Hub();
    const alice = await hub.join('Alice');
    const ghost = await generateIdentity();
    const ghostId = 'ghostGhostGhostGhost00';
    const ghostProfile = await sealOwnProfile(await roomKeys(), ghost, { name: 'Ghost' });
    // participant-left lands while Alice's key manager is adding the participant.
    alice.media.onAdd = (id) => {
      if (id === ghostId) alice.room.participantLeft(ghostId);
    };
    alice.room.participantJoined({ id: ghostId, profile: ghostProfile });
    await hub.deliver();
    await alice.room.idle();
    const keys = await alice.room.keys();
    expect(alice.room.peer(ghostId)).toBeNull();
    expect(keys.isMember(ghostId)).toBe(false);
    expect(keys.ring.hasSender(ghostId)).toBe(false);
    expect(alice.media.senders.has(ghostId)).toBe(false);
    // A later join's key goes to Bob only.
    const before = hub.forwarded.length;
    const bob = await hub.join('Bob');
    await alice.room.idle();
    const keyTargets = hub.forwarded
      .slice(before)
      .filter((f) => f.from === alice.id && parseRelayPayload(f.payload)?.t === 'key')
      .map((f) => f.to);
    expect(keyTargets).toEqual([bob.id]);
  });

  it('refuses a departed participant re-announced under its old ID, and replays of its old chat', async () => {
    const hub = new Hub();
    const alice = await hub.join('Alice');
    const bob = await hub.join('Bob');
    const carol = await hub.join('Carol');
    await carol.room.sendChat('self-destructing', 1000);
    await hub.deliver();
    const recorded = hub.forwarded.filter((f) => f.from === carol.id && parseRelayPayload(f.payload)?.t === 'chat');
    expect(recorded).toHaveLength(1);
    hub.timers.advance(1000);
    expect(alice.chat.entries).toEqual([]);
    await hub.leave(carol);
    // The server announces Carol again, same ID, same (validly signed) profile, and replays her chat.
    alice.room.participantJoined({ id: carol.id, profile: carol.profile });
    await hub.deliver();
    expect(alice.room.peer(carol.id)).toMatchObject({ trust: 'unverified', reason: 'replayed' });
    const keys = await alice.room.keys();
    expect(keys.isMember(carol.id)).toBe(false);
    for (const f of recorded) await alice.room.relay(carol.id, f.payload, 'chat');
    await hub.deliver();
    expect(alice.chat.entries).toEqual([]);
    expect(bob.room.peer(carol.id)).toBeNull();
  });

  it('refuses a departed member profile under a new ID for the whole meeting', async () => {
    const hub = new Hub();
    const alice = await hub.join('Alice');
    const carol = await hub.join('Carol');
    await hub.leave(carol);
    const newId = 'newIdNewIdNewIdNewId00';
    alice.room.participantJoined({ id: newId, profile: carol.profile });
    await hub.deliver();
    expect(alice.room.peer(newId)).toMatchObject({ trust: 'unverified', reason: 'duplicate-identity' });
    expect((await alice.room.keys()).isMember(newId)).toBe(false);
    expect(hub.forwarded.filter((f) => f.to === newId)).toEqual([]);
  });

  it('shows a gap in a sender chat counters as missing messages, and closes it when they arrive', async () => {
    const hub = new Hub();
    const alice = await hub.join('Alice');
    await alice.room.sendChat('before Bob', null);
    await hub.deliver();
    const bob = await hub.join('Bob');
    const held: string[] = [];
    hub.drop = (f) => {
      const text = parseRelayPayload(f.payload)?.t === 'chat' && f.from === alice.id && held.length < 2;
      if (
        text &&
        hub.forwarded.filter((x) => x.from === alice.id && parseRelayPayload(x.payload)?.t === 'chat').length >= 3
      ) {
        held.push(f.payload);
        return true;
      }
      return false;
    };
    for (const text of ['one', 'two', 'three', 'four']) {
      await alice.room.sendChat(text, null);
      await hub.deliver();
    }
    // Bob joined after 'before Bob': no gap for it. 'two' and 'three' were withheld.
    const view = (): [string, number][] => bob.chat.entries.map((e) => [e.text, e.missing ?? 0]);
    expect(view()).toEqual([
      ['one', 0],
      ['', 2],
      ['four', 0],
    ]);
    expect(bob.chat.entries[1]).toMatchObject({ senderId: alice.id, senderName: 'Alice', self: false });
    hub.drop = () => false;
    await bob.room.relay(alice.id, held[0] ?? '', 'chat');
    expect(view()).toEqual([
      ['one', 0],
      ['', 1],
      ['four', 0],
      ['two', 0],
    ]);
    await bob.room.relay(alice.id, held[1] ?? '', 'chat');
    expect(view()).toEqual([
      ['one', 0],
      ['four', 0],
      ['two', 0],
      ['three', 0],
    ]);
  });

  it('sends chat as kind chat and keys as control, and accepts each only under its own kind', async () => {
    const hub = new Hub();
    const alice = await hub.join('Alice');
    const bob = await hub.join('Bob');
    expect(
      hub.forwarded.filter((f) => parseRelayPayload(f.payload)?.t === 'key').every((f) => f.kind === 'control'),
    ).toBe(true);
    // A chat the server delivers as `control` (so it skipped the chat policy) is dropped.
    const asControl = hub.drop;
    hub.drop = (f) => parseRelayPayload(f.payload)?.t === 'chat';
    await alice.room.sendChat('through control', null);
    await hub.deliver();
    const chat = hub.forwarded.find((f) => parseRelayPayload(f.payload)?.t === 'chat');
    expect(chat?.kind).toBe('chat');
    await bob.room.relay(alice.id, chat?.payload ?? '', 'control');
    await bob.room.idle();
    expect(bob.chat.entries).toEqual([]);
    await bob.room.relay(alice.id, chat?.payload ?? '', 'chat');
    await bob.room.idle();
    expect(bob.chat.entries.map((e) => e.text)).toEqual(['through control']);
    hub.drop = asControl;
    // A key request (control) delivered as chat is ignored: no key goes out in answer.
    const before = hub.forwarded.length;
    const request = hub.forwarded.find((f) => parseRelayPayload(f.payload)?.t === 'key');
    await bob.room.relay(alice.id, request?.payload ?? '', 'chat');
    await hub.deliver();
    expect(hub.forwarded.length).toBe(before);
  });

  it('seals a move for one verified member only; another member cannot open it', async () => {
    const hub = new Hub();
    const alice = await hub.join('Alice');
    const bob = await hub.join('Bob');
    const carol = await hub.join('Carol');
    const mallory = await hub.join('Mallory', WRONG_SECRET);
    const move: MoveInstruction = { r: 'BBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBB', s: SECRET, h: 'H'.repeat(43) };
    expect(await alice.room.sendMove(mallory.id, move)).toBe(false);
    expect(await alice.room.sendMove(bob.id, move)).toBe(true);
    await hub.deliver();
    const sent = hub.forwarded.filter((f) => parseRelayPayload(f.payload)?.t === 'move');
    expect(sent).toHaveLength(1);
    expect(sent[0]).toMatchObject({ to: bob.id, kind: 'control' });
    expect(sent[0]?.payload).not.toContain(SECRET);
    expect(bob.moves).toEqual([[alice.id, move]]);
    // Carol is a member with the room secret, but the box was sealed for Bob.
    await carol.room.relay(alice.id, sent[0]?.payload ?? '', 'control');
    await carol.room.idle();
    expect(carol.moves).toEqual([]);
    // Bob relaying it to Carol as if it were his own does not open either.
    await carol.room.relay(bob.id, sent[0]?.payload ?? '', 'control');
    await carol.room.idle();
    expect(carol.moves).toEqual([]);
  });

  it('announces its own media state sealed to each verified member, never to an unverified one', async () => {
    const hub = new Hub();
    const alice = await hub.join('Alice');
    const bob = await hub.join('Bob');
    const mallory = await hub.join('Mallory', WRONG_SECRET);
    alice.room.setMediaState({ microphone: false, camera: true, screen: false });
    // Toggles in quick succession go out once, with the latest state.
    alice.room.setMediaState({ microphone: false, camera: false, screen: true });
    hub.timers.advance(200);
    await hub.deliver();
    const sent = hub.forwarded.filter((f) => parseRelayPayload(f.payload)?.t === 'state');
    expect(sent.map((f) => f.to)).toEqual([bob.id]);
    expect(sent[0]?.kind).toBe('control');
    // The server sees a box, not the state.
    expect(sent[0]?.payload).not.toMatch(/microphone|"m"|"c"/);
    expect(bob.room.peer(alice.id)?.media).toEqual({ microphone: false, camera: false, screen: true });
    expect(mallory.room.peer(alice.id)?.media ?? null).toBeNull();
    // A replayed (older) announcement does not undo a newer one.
    alice.room.setMediaState({ microphone: true, camera: true, screen: false });
    hub.timers.advance(200);
    await hub.deliver();
    expect(bob.room.peer(alice.id)?.media).toEqual({ microphone: true, camera: true, screen: false });
    await bob.room.relay(alice.id, sent[0]?.payload ?? '', 'control');
    await bob.room.idle();
    expect(bob.room.peer(alice.id)?.media).toEqual({ microphone: true, camera: true, screen: false });
    // Nor does a box for Bob passed off as coming from Mallory, or under the chat kind.
    await bob.room.relay(mallory.id, sent[0]?.payload ?? '', 'control');
    await bob.room.relay(alice.id, sent[0]?.payload ?? '', 'chat');
    await bob.room.idle();
    expect(bob.room.peer(mallory.id)?.media ?? null).toBeNull();
  });

  it('tells a member who joins later the current state, and a move box does not pass for a state', async () => {
    const hub = new Hub();
    const alice = await hub.join('Alice');
    alice.room.setMediaState({ microphone: false, camera: true, screen: false });
    hub.timers.advance(200);
    await hub.deliver();
    const bob = await hub.join('Bob');
    expect(bob.room.peer(alice.id)?.media).toEqual({ microphone: false, camera: true, screen: false });
    // A box sealed for another purpose (a move) does not open as a state, even with a state inside.
    const keys = await alice.room.keys();
    const stateJson = new TextEncoder().encode('{"n":99,"m":1,"c":1,"s":1}');
    const box = (await keys.sealFor(bob.id, stateJson, 'move')) ?? '';
    await bob.room.relay(alice.id, JSON.stringify({ v: 2, t: 'state', box }), 'control');
    await bob.room.idle();
    expect(bob.room.peer(alice.id)?.media).toEqual({ microphone: false, camera: true, screen: false });
    // The same bytes sealed as a state do open (so the check above is about the purpose).
    const stateBox = (await keys.sealFor(bob.id, stateJson, 'media-state')) ?? '';
    await bob.room.relay(alice.id, JSON.stringify({ v: 2, t: 'state', box: stateBox }), 'control');
    await bob.room.idle();
    expect(bob.room.peer(alice.id)?.media).toEqual({ microphone: true, camera: true, screen: true });
  });
});
