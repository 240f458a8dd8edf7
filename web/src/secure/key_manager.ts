// Media and chat keys of one membership: this participant's sender key, the keys of the verified
// members, and how they travel (src/secure/payloads.ts). No DOM, no network: payloads go out through
// `send`, keys for the frame transforms through a MediaKeySink, time through Timers.
//
// This participant's sender key (src/e2ee/keys.ts SenderKey), fresh for every join:
// - A verified member joins: the key ratchets forward (generation + 1) and is used at once; the
//   newcomer gets the ratcheted key, wrapped to it alone. The other members derive it themselves
//   (KeyRing ratchets on demand), so nobody else needs a message, and the newcomer cannot go back.
// - A participant leaves (verified here or not): a fresh random key (generation + 1) goes to every
//   remaining member, wrapped pairwise; receivers ratchet nobody's key until that sender's
//   rotated key arrives (KeyRing.expectRotation), so an ex-member's ratchet of an old key is refused. It becomes active once all of them acknowledged it (`key-ack`) or after
//   `switchTimeoutMs` (1.5 s), whichever comes first; until then frames still go out under the old
//   key, which the members keep for a grace period. Chat waits for the switch. The member who
//   left never gets the new key, and no ratchet of the old one reaches it.
// - A member whose key is still missing a while after it was verified is asked again
//   (`key-request`), and so is one whose frames stop decrypting (requestKey); a verified member
//   asking gets the newest key. A rotated key that was not acknowledged in time is sent once more.
// Keys are handed only to members this client verified (addMember). Every operation runs in one
// serial queue, so joins, leaves, payloads and timeouts never interleave halfway.

import {
  KeyRing,
  PairwiseKey,
  base64UrlDecode,
  base64UrlEncode,
  mediaStateAad,
  moveAad,
  type KeyControl,
  type KeyDirection,
  SenderKey,
  senderTag,
  type Bytes,
  type Identity,
  type PeerIdentity,
} from '../e2ee';
import type { RelayPayload } from './payloads';
import { REAL_TIMERS, type TimerHandle, type Timers } from './timers';

/** What a pairwise-sealed box carries; each has its own AAD. */
export type SealPurpose = 'move' | 'media-state';

function sealAad(purpose: SealPurpose, d: KeyDirection): Bytes {
  return purpose === 'move' ? moveAad(d) : mediaStateAad(d);
}

/** Where keys go for the media frame transforms (the worker bridge, src/media/frame_crypto.ts). */
export interface MediaKeySink {
  /** This participant's active sending key: every sending transform switches to it. */
  setSendKey(key: SenderKey, tag: number): void;
  /** A verified member: its frames carry KIDs with `tag`. */
  addSender(participantId: string, tag: number): void;
  removeSender(participantId: string): void;
  setReceiveKey(participantId: string, key: SenderKey): void;
  /** Someone left: every sender's next key must be delivered, none may be ratcheted (KeyRing.expectRotation). */
  expectRotation(): void;
}

/** How a key payload reaches one member (a `relay` with `to`). */
export type KeyPayloadSender = (to: string, payload: RelayPayload) => void;

export interface KeyManagerOptions {
  roomId: string;
  selfId: string;
  identity: Identity;
  /** RoomKeys.pairwiseSalt: pairwise keys are bound to knowing the room secret. */
  pairwiseSalt: Bytes;
  send: KeyPayloadSender;
  media?: MediaKeySink | null;
  timers?: Timers;
  /** How long a rotated key waits for acknowledgements before it is used anyway. Default 1500 ms. */
  switchTimeoutMs?: number;
  /** When a missing key is asked for again (after verification). Default 3000 ms. */
  keyRequestAfterMs?: number;
  /** A key from `participantId` arrived, or (null) this participant's own key switched. */
  onKeyChange?: (participantId: string | null) => void;
}

interface Member {
  id: string;
  peer: PeerIdentity;
  tag: number;
  pair: PairwiseKey;
  /** Last time this member asked for the key (key-request), to answer at most once a second. */
  answeredAt: number;
  /** Last time this participant asked the member for its key. */
  requestedAt: number;
  requestTimer: TimerHandle | null;
  requests: number;
}

interface PendingSwitch {
  key: SenderKey;
  /** Member -> lowest generation whose acknowledgement counts (the rotation's generation). */
  waiting: Map<string, number>;
  timer: TimerHandle;
}

export type AddMemberResult = 'added' | 'already' | 'bad-key' | 'duplicate-identity' | 'closed' | 'gone';

const MAX_KEY_REQUESTS = 3;

export class KeyManager {
  /** The keys of every verified member, for chat (the frame transforms hold a mirror). */
  readonly ring: KeyRing;
  private readonly mOptions: KeyManagerOptions;
  private readonly mTimers: Timers;
  private readonly mTag: number;
  private mCurrent: SenderKey;
  private mPending: PendingSwitch | null = null;
  private readonly mMembers = new Map<string, Member>();
  private mQueue: Promise<unknown> = Promise.resolve();
  private mSwitchWaiters: (() => void)[] = [];
  private mClosed = false;

  private constructor(options: KeyManagerOptions, tag: number, key: SenderKey) {
    this.mOptions = options;
    this.mTimers = options.timers ?? REAL_TIMERS;
    this.mTag = tag;
    this.mCurrent = key;
    this.ring = new KeyRing();
    options.media?.setSendKey(key, tag);
  }

  /** A manager with a fresh random sender key (generation 0), already handed to the media sink. */
  static async create(options: KeyManagerOptions): Promise<KeyManager> {
    const tag = await senderTag(options.identity.signingPublic);
    return new KeyManager(options, tag, SenderKey.generate(0));
  }

  /** This participant's KID tag. */
  get tag(): number {
    return this.mTag;
  }

  /** The key frames and chat go out under now. */
  get activeKey(): SenderKey {
    return this.mCurrent;
  }

  /** The rotated key waiting for acknowledgements, if any. */
  get pendingKey(): SenderKey | null {
    return this.mPending?.key ?? null;
  }

  isMember(participantId: string): boolean {
    return this.mMembers.has(participantId);
  }

  /** Whether a key from this member arrived. */
  hasKeyFrom(participantId: string): boolean {
    return this.ring.newestGeneration(participantId) !== null;
  }

  /** The key to seal a chat message with: the active one, once no rotation is waiting. */
  async chatKey(): Promise<SenderKey> {
    while (this.mPending !== null && !this.mClosed) {
      await new Promise<void>((resolve) => this.mSwitchWaiters.push(resolve));
    }
    return this.mCurrent;
  }

  /** Resolves when every operation queued so far has run (tests, and orderly shutdown). */
  idle(): Promise<void> {
    return this.mQueue.then(() => undefined);
  }

  /**
   * A member whose profile verified. `newcomer`: it joined after this participant (so this
   * participant's key ratchets first); false for members already there when this one joined.
   * `stillPresent`: whether the roster entry this was asked for is still there; checked inside
   * the queue right before the member is registered, so a participant that left meanwhile (its
   * removeMember() queued behind this, or already run) never gets a key (`gone`).
   */
  addMember(
    participantId: string,
    peer: PeerIdentity,
    newcomer: boolean,
    stillPresent: () => boolean = () => true,
  ): Promise<AddMemberResult> {
    return this.enqueue(async () => {
      if (this.mClosed) return 'closed';
      if (this.mMembers.has(participantId)) return 'already';
      const tag = await senderTag(peer.signingPublic);
      const pair = await PairwiseKey.derive(this.mOptions.identity, peer.agreementPublic, this.mOptions.pairwiseSalt);
      if (this.mClosed) return 'closed';
      if (!stillPresent()) return 'gone';
      if (pair === null) return 'bad-key';
      if (tag === this.mTag || !this.ring.addSender(participantId, tag)) return 'duplicate-identity';
      const member: Member = {
        id: participantId,
        peer,
        tag,
        pair,
        answeredAt: -Infinity,
        requestedAt: -Infinity,
        requestTimer: null,
        requests: 0,
      };
      this.mMembers.set(participantId, member);
      this.mOptions.media?.addSender(participantId, tag);
      if (newcomer) {
        const next = await this.latestKey().ratchet();
        if (this.mPending !== null) {
          this.mPending.key = next;
          this.mPending.waiting.set(participantId, next.generation);
        } else {
          this.activate(next);
        }
      }
      await this.deliver(member, this.latestKey());
      this.scheduleKeyRequest(member);
      return 'added';
    });
  }

  /**
   * Someone (anyone, verified or not) joined the meeting. A rotation still waiting for
   * acknowledgements is used at once: until then frames went out under the old key, which a member
   * who just left still holds, and that member may be the one arriving under a new identity. The
   * others may miss a few frames until the rotated key reaches them; the leaver gets none.
   */
  participantArrived(): Promise<void> {
    return this.enqueue(() => {
      if (this.mClosed || this.mPending === null) return Promise.resolve();
      const pending = this.mPending;
      this.activatePending();
      // The switch did not wait for them: whoever has not acknowledged gets the key once more
      // when the timeout would have fired (their first copy may still be on its way).
      const waiting = [...pending.waiting.keys()];
      this.mTimers.setTimeout(() => {
        void this.enqueue(async () => {
          for (const id of waiting) {
            const member = this.mMembers.get(id);
            if (member && !this.mClosed && this.mCurrent === pending.key) await this.deliver(member, pending.key);
          }
        });
      }, this.mOptions.switchTimeoutMs ?? 1500);
      return Promise.resolve();
    });
  }

  /**
   * A participant left (or is no longer trusted), whether or not it was a member here: rotate to a
   * fresh key the others get pairwise, and take no ratchet of anyone's key until their rotated
   * key arrives. Every member does both on every leave, so what one expects the other sends,
   * whatever each thought of the leaver (another member may have verified it and given it keys).
   */
  removeMember(participantId: string): Promise<void> {
    return this.enqueue(async () => {
      if (this.mClosed) return;
      const member = this.mMembers.get(participantId);
      if (member !== undefined) {
        this.mMembers.delete(participantId);
        if (member.requestTimer !== null) this.mTimers.clearTimeout(member.requestTimer);
        this.ring.removeSender(participantId);
        this.mOptions.media?.removeSender(participantId);
      }
      this.ring.expectRotation(this.mTimers.now());
      this.mOptions.media?.expectRotation();
      const next = this.latestKey().rotate();
      if (this.mPending !== null) this.mTimers.clearTimeout(this.mPending.timer);
      this.mPending = null;
      if (this.mMembers.size === 0) {
        this.activate(next);
        return;
      }
      const pending: PendingSwitch = {
        key: next,
        waiting: new Map([...this.mMembers.keys()].map((id) => [id, next.generation])),
        timer: this.mTimers.setTimeout(() => {
          void this.enqueue(async () => {
            if (this.mPending !== pending) return;
            this.activatePending();
            // Whoever did not acknowledge gets the key once more (a relay may have been lost).
            for (const id of pending.waiting.keys()) {
              const waiting = this.mMembers.get(id);
              if (waiting) await this.deliver(waiting, pending.key);
            }
          });
        }, this.mOptions.switchTimeoutMs ?? 1500),
      };
      this.mPending = pending;
      for (const m of this.mMembers.values()) await this.deliver(m, next);
    });
  }

  /** A key payload from `from`, which the caller checked is a verified member. */
  handlePayload(from: string, payload: RelayPayload): Promise<void> {
    return this.enqueue(async () => {
      const member = this.mMembers.get(from);
      if (this.mClosed || member === undefined) return;
      switch (payload.t) {
        case 'key':
          await this.receiveKey(member, payload.generation, payload.wrapped);
          return;
        case 'key-ack': {
          const generation = await member.pair.openControl('key-ack', payload.sealed, this.from(member));
          if (generation !== null && !this.mClosed) this.receiveAck(member, generation);
          return;
        }
        case 'key-request': {
          // Only the member itself can ask (sealed under the pairwise key); answered once a second.
          if ((await member.pair.openControl('key-request', payload.sealed, this.from(member))) === null) return;
          const now = this.mTimers.now();
          if (this.mClosed || now - member.answeredAt < 1000) return;
          member.answeredAt = now;
          await this.deliver(member, this.latestKey());
          return;
        }
        case 'chat':
        case 'move':
        case 'state':
          return;
      }
    });
  }

  /**
   * `plain` sealed for one verified member under the pairwise key (a move instruction, or with
   * `purpose` 'media-state' a media state: another AAD, so one cannot pass for the other),
   * base64url; null when it is not (or no longer) a member.
   */
  async sealFor(to: string, plain: Bytes, purpose: SealPurpose = 'move'): Promise<string | null> {
    const member = this.mMembers.get(to);
    if (this.mClosed || member === undefined) return null;
    return base64UrlEncode(await member.pair.wrap(plain, sealAad(purpose, this.to(member))));
  }

  /** What a verified member sealed for this participant with sealFor(); null if it did not. */
  async openFrom(from: string, sealed: string, purpose: SealPurpose = 'move'): Promise<Bytes | null> {
    const member = this.mMembers.get(from);
    const bytes = base64UrlDecode(sealed);
    if (this.mClosed || member === undefined || bytes === null) return null;
    return member.pair.unwrap(bytes, sealAad(purpose, this.from(member)));
  }

  /**
   * Frames of this member do not decrypt (the frame transforms say so): ask it for its newest key,
   * at most every 5 s.
   */
  requestKey(participantId: string): void {
    const member = this.mMembers.get(participantId);
    const now = this.mTimers.now();
    if (this.mClosed || member === undefined || now - member.requestedAt < 5000) return;
    member.requestedAt = now;
    // Queued like every other operation, so idle() covers it.
    void this.enqueue(() => this.sendControl(member, 'key-request', this.ring.deliveredGeneration(member.id) ?? 0));
  }

  close(): void {
    this.mClosed = true;
    if (this.mPending !== null) this.mTimers.clearTimeout(this.mPending.timer);
    this.mPending = null;
    for (const member of this.mMembers.values()) {
      if (member.requestTimer !== null) this.mTimers.clearTimeout(member.requestTimer);
    }
    this.releaseSwitchWaiters();
  }

  private enqueue<T>(op: () => Promise<T>): Promise<T> {
    const run = this.mQueue.then(op);
    // A failing operation must not stop the ones after it.
    this.mQueue = run.catch(() => undefined);
    return run;
  }

  /** The newest key: the one waiting for acknowledgements, else the active one. */
  private latestKey(): SenderKey {
    return this.mPending?.key ?? this.mCurrent;
  }

  private activate(key: SenderKey): void {
    this.mCurrent = key;
    this.mOptions.media?.setSendKey(key, this.mTag);
    this.mOptions.onKeyChange?.(null);
    if (this.mPending === null) this.releaseSwitchWaiters();
  }

  private activatePending(): void {
    const pending = this.mPending;
    if (pending === null) return;
    this.mTimers.clearTimeout(pending.timer);
    this.mPending = null;
    this.activate(pending.key);
  }

  private releaseSwitchWaiters(): void {
    const waiters = this.mSwitchWaiters;
    this.mSwitchWaiters = [];
    for (const resolve of waiters) resolve();
  }

  /** This participant -> the member, for this join of each. */
  private to(member: Member): KeyDirection {
    const { roomId, selfId, identity } = this.mOptions;
    return { roomId, from: selfId, to: member.id, fromJoin: identity.joinNonce, toJoin: member.peer.joinNonce };
  }

  /** The member -> this participant. */
  private from(member: Member): KeyDirection {
    const { roomId, selfId, identity } = this.mOptions;
    return { roomId, from: member.id, to: selfId, fromJoin: member.peer.joinNonce, toJoin: identity.joinNonce };
  }

  private async deliver(member: Member, key: SenderKey): Promise<void> {
    const wrapped = await member.pair.wrapSenderKey(key, this.to(member));
    if (this.mClosed || !this.mMembers.has(member.id)) return;
    this.mOptions.send(member.id, { t: 'key', generation: key.generation, wrapped });
  }

  private async sendControl(member: Member, kind: KeyControl, generation: number): Promise<void> {
    const sealed = await member.pair.sealControl(kind, generation, this.to(member));
    if (this.mClosed || this.mMembers.get(member.id) !== member) return;
    this.mOptions.send(member.id, { t: kind, sealed });
  }

  private async receiveKey(member: Member, generation: number, wrapped: string): Promise<void> {
    const key = await member.pair.unwrapSenderKey(wrapped, this.from(member));
    if (key === null || key.generation !== generation || this.mClosed) return;
    const delivered = this.ring.deliveredGeneration(member.id);
    // Acknowledge even a repeat: the first acknowledgement may have been lost.
    await this.sendControl(member, 'key-ack', generation);
    // Only delivered keys rank: a ratchet this ring confirmed never makes a delivered key look old.
    if (delivered !== null && generation < delivered) return;
    this.ring.setKey(member.id, key, this.mTimers.now());
    this.mOptions.media?.setReceiveKey(member.id, key);
    this.mOptions.onKeyChange?.(member.id);
  }

  private receiveAck(member: Member, generation: number): void {
    const pending = this.mPending;
    if (pending === null) return;
    const needed = pending.waiting.get(member.id);
    if (needed === undefined || generation < needed || generation > pending.key.generation) return;
    pending.waiting.delete(member.id);
    if (pending.waiting.size === 0) this.activatePending();
  }

  private scheduleKeyRequest(member: Member): void {
    const after = (this.mOptions.keyRequestAfterMs ?? 3000) * 2 ** member.requests;
    member.requestTimer = this.mTimers.setTimeout(() => {
      member.requestTimer = null;
      if (this.mClosed || this.mMembers.get(member.id) !== member || this.hasKeyFrom(member.id)) return;
      void this.enqueue(() => this.sendControl(member, 'key-request', 0));
      member.requestedAt = this.mTimers.now();
      member.requests += 1;
      if (member.requests < MAX_KEY_REQUESTS) this.scheduleKeyRequest(member);
    }, after);
  }
}
