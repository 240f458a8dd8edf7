// End-to-end encryption of one membership: who is a verified member, the keys (KeyManager), the
// security code, and encrypted chat. No DOM; the session feeds it roster events and relayed
// payloads, and it talks back through `relay` only.
//
// Membership: every participant's profile envelope must carry a proof made with the room secret
// (src/e2ee/membership.ts). A participant whose proof does not verify is an "unverified
// participant": its name stays unknown, it gets no key, its frames are not decrypted, its payloads
// are dropped, and the view warns about it loudly. When every other participant fails with
// `not-a-member` (and not all of them came after this one), it is this browser's secret that is
// wrong: `wrongLink`.

import {
  ChatReceiver,
  ChatSender,
  MAX_CHAT_TEXT_LENGTH,
  base64UrlEncode,
  chatDeleteAt,
  equalBytes,
  randomBytes,
  securityCode,
  type ChatMessage,
  type FileManifest,
  type Identity,
  type OpenProfileError,
  type PeerIdentity,
  type RoomKeys,
} from '../e2ee';
import { openMemberProfile, sealOwnProfile } from '../profile';
import { isValidSecret } from '../protocol/invite';
import { HOST_TOKEN_LENGTH, type Participant, type RelayKind } from '../protocol/messages';
import { isBase64Url, isRoomId } from '../protocol/validate';
import type { ChatLog } from './chat_log';
import { KeyManager, type AddMemberResult, type KeyManagerOptions, type MediaKeySink } from './key_manager';
import {
  encodeMediaState,
  encodeRelayPayload,
  parseMediaState,
  parseRelayPayload,
  relayKindOf,
  type RelayPayload,
} from './payloads';
import { REAL_TIMERS, type TimerHandle, type Timers } from './timers';

export type Trust = 'verifying' | 'verified' | 'unverified';
/**
 * Besides the profile errors: `duplicate-identity` (its identity keys belong to another
 * participant of this meeting, present or departed, or to this one), `identity-changed` (a member
 * whose keys changed), `replayed` (a participant ID that was here before and left: the server
 * announced it again; every join gets a fresh ID and fresh keys).
 */
export type UnverifiedReason = OpenProfileError | 'duplicate-identity' | 'identity-changed' | 'replayed';
/** Whether a verified member's media key arrived; `missing` once it is overdue. */
export type KeyState = 'received' | 'waiting' | 'missing';

export interface PeerSecurity {
  id: string;
  trust: Trust;
  /** Only for verified members (null if their profile carries no usable name). */
  name: string | null;
  reason: UnverifiedReason | null;
  key: KeyState;
  /** What a verified member said about its own media (null until it said anything). */
  media: PeerMediaState | null;
}

/** A member's own microphone, camera and screen share, as it announced them (end-to-end encrypted). */
export interface PeerMediaState {
  microphone: boolean;
  camera: boolean;
  screen: boolean;
}

export interface SecuritySnapshot {
  /** The code to compare ("12345 67890 ..."), null while it is computed. */
  code: string | null;
  /** Every other participant failed with not-a-member: this browser's link is wrong. */
  wrongLink: boolean;
}

/** What SecureRoom needs from the signaling client (SignalingClient implements it). */
export interface SecureSignaling {
  /** `kind`: what the server sees the payload as (it enforces the chat policy on `chat`). */
  relay(payload: string, to?: string, kind?: RelayKind): Promise<void>;
}

/**
 * A host's instruction to move to a new room: its ID `r`, its secret `s`, and for the recipient
 * a host token `h` or a moderator token `m` (when it has that role).
 */
export interface MoveInstruction {
  r: string;
  s: string;
  h?: string;
  m?: string;
}

function isToken(value: unknown): value is string {
  return typeof value === 'string' && value.length === HOST_TOKEN_LENGTH && isBase64Url(value);
}

/** Parses the JSON inside a move box; null unless every field is what it must be. */
export function parseMoveInstruction(bytes: Uint8Array): MoveInstruction | null {
  let value: unknown;
  try {
    value = JSON.parse(new TextDecoder('utf-8', { fatal: true }).decode(bytes));
  } catch {
    return null;
  }
  if (typeof value !== 'object' || value === null || Array.isArray(value)) return null;
  const o = value as Record<string, unknown>;
  const r = o['r'];
  const secret = o['s'];
  if (typeof r !== 'string' || !isRoomId(r) || typeof secret !== 'string' || !isValidSecret(secret)) return null;
  const move: MoveInstruction = { r, s: secret };
  if (o['h'] !== undefined) {
    if (!isToken(o['h'])) return null;
    move.h = o['h'];
  }
  if (o['m'] !== undefined) {
    if (!isToken(o['m'])) return null;
    move.m = o['m'];
  }
  return move;
}

export interface SecureRoomOptions {
  room: RoomKeys;
  identity: Identity;
  selfId: string;
  signaling: SecureSignaling;
  media?: MediaKeySink | null;
  chat?: ChatLog | null;
  timers?: Timers;
  /** A verified member's key counts as missing after this long. Default 5000 ms. */
  keyMissingAfterMs?: number;
  keyOptions?: Pick<KeyManagerOptions, 'switchTimeoutMs' | 'keyRequestAfterMs'>;
  onChange: () => void;
  /** A participant's profile was checked: `previous` is its state before (null: new participant). */
  onVerdict?: (peer: PeerSecurity, previous: PeerSecurity | null) => void;
  /** Relay failures (rate limits, closed connection); the state machines recover by themselves. */
  onError?: (error: unknown) => void;
  /**
   * A verified member sent a move instruction sealed for this participant. The caller decides
   * whether to obey it (only a host's).
   */
  onMove?: (from: string, move: MoveInstruction) => void;
}

interface PeerRecord {
  id: string;
  /** It joined after this participant (false: it was there already). */
  newcomer: boolean;
  trust: Trust;
  name: string | null;
  reason: UnverifiedReason | null;
  identity: PeerIdentity | null;
  verifiedAt: number;
  /** Serializes this participant's profile checks; payloads from it wait for the current one. */
  verification: Promise<void>;
  missingTimer: TimerHandle | null;
  /** Its latest announced media state and that announcement's counter. */
  media: PeerMediaState | null;
  mediaCounter: number;
}

/** Counter gaps of one sender identity (its chat counters are 1, 2, 3, ... per join). */
interface ChatCounters {
  /** Highest counter opened. */
  highest: number;
  /** Open gaps: counters lo..hi not seen, `missing` of them still outstanding. */
  gaps: { key: string; lo: number; hi: number; missing: number }[];
}

/** Gaps older than this many counters can no longer fill (the replay window refuses them). */
const MAX_OPEN_GAPS = 16;

interface PendingChat {
  from: string;
  envelope: string;
  receivedAt: number;
}

/** How long a chat message waits for its sender's key before it is dropped. */
const CHAT_KEY_WAIT_MS = 15000;
const MAX_PENDING_CHATS = 64;
/** Own state changes within this long go out as one announcement (a flurry of toggles is one relay each). */
const MEDIA_STATE_DELAY_MS = 150;

export class SecureRoom {
  private readonly mOptions: SecureRoomOptions;
  private readonly mTimers: Timers;
  private readonly mKeys: Promise<KeyManager>;
  private mKeyManager: KeyManager | null = null;
  private readonly mPeers = new Map<string, PeerRecord>();
  /** Every participant ID seen in this membership: an ID that left never comes back. */
  private readonly mSeenIds = new Set<string>();
  /**
   * Ed25519 key (base64url) -> the participant ID it was verified for, for the whole meeting:
   * a departed member's profile is never accepted again, under any ID.
   */
  private readonly mIdentities = new Map<string, string>();
  private readonly mChatSender: ChatSender;
  private readonly mChatReceiver: Promise<ChatReceiver>;
  private mPendingChats: PendingChat[] = [];
  /** base64url Ed25519 key -> its chat counters (for the whole membership, like replay state). */
  private readonly mChatCounters = new Map<string, ChatCounters>();
  private mCode: string | null = null;
  private mCodeVersion = 0;
  private mCodeUpdate: Promise<void> = Promise.resolve();
  /** Chat messages being opened (tests wait for them through idle()). */
  private readonly mInflight = new Set<Promise<void>>();
  private mClosed = false;
  /** This participant's media state, its counter, and whether an announcement is due. */
  private mOwnMedia: PeerMediaState | null = null;
  private mOwnMediaCounter = 0;
  private mMediaTimer: TimerHandle | null = null;

  constructor(options: SecureRoomOptions) {
    this.mOptions = options;
    this.mTimers = options.timers ?? REAL_TIMERS;
    const { room, identity, selfId } = options;
    this.mKeys = KeyManager.create({
      roomId: room.roomId,
      selfId,
      identity,
      pairwiseSalt: room.pairwiseSalt,
      send: (to, payload) => this.send(payload, to),
      media: options.media ?? null,
      timers: this.mTimers,
      onKeyChange: (from) => this.onKeyChange(from),
      ...options.keyOptions,
    }).then((keys) => {
      this.mKeyManager = keys;
      if (this.mClosed) keys.close();
      return keys;
    });
    this.mChatSender = new ChatSender(room.roomId, selfId, identity);
    this.mChatReceiver = this.mKeys.then(
      (keys) => new ChatReceiver(room.roomId, keys.ring, (id) => this.verifiedIdentity(id)),
    );
    this.mIdentities.set(base64UrlEncode(identity.signingPublic), selfId);
    this.updateCode();
  }

  /** The KeyManager, once created (for the unit tests). */
  keys(): Promise<KeyManager> {
    return this.mKeys;
  }

  /** Resolves once every check, key operation and message in progress has finished. */
  async idle(): Promise<void> {
    for (let i = 0; i < 10; i++) {
      const keys = await this.mKeys;
      const work = [...this.pendingWork(), keys.idle()];
      await Promise.all(work.map((p) => p.catch(() => undefined)));
      const after = this.pendingWork();
      if (after.every((p) => work.includes(p))) return;
    }
  }

  private pendingWork(): Promise<void>[] {
    return [...[...this.mPeers.values()].map((r) => r.verification), this.mCodeUpdate, ...this.mInflight];
  }

  /** The participants who were there when this one joined. */
  start(participants: readonly Participant[]): void {
    for (const p of participants) this.addParticipant(p, false);
  }

  participantJoined(p: Participant): void {
    // Before anything else about the newcomer: a rotation after a leave must not wait for
    // acknowledgements while someone new (perhaps the leaver again) starts receiving.
    if (!this.mClosed && p.id !== this.mOptions.selfId && !this.mPeers.has(p.id)) {
      void this.mKeys.then((keys) => keys.participantArrived()).catch((err: unknown) => this.mOptions.onError?.(err));
    }
    this.addParticipant(p, true);
  }

  participantUpdated(p: Participant): void {
    const record = this.mPeers.get(p.id);
    if (record === undefined) {
      this.addParticipant(p, true);
      return;
    }
    record.verification = record.verification.then(() => this.reverify(record, p.profile));
  }

  participantLeft(id: string): void {
    const record = this.mPeers.get(id);
    if (record === undefined) return;
    this.mPeers.delete(id);
    this.clearMissingTimer(record);
    // The chat receiver keeps the replay state of its identity for the whole meeting.
    this.mPendingChats = this.mPendingChats.filter((c) => c.from !== id);
    // Whatever state it was in (a check in progress may be adding it to the key manager right
    // now), it leaves the key manager too. The key manager runs one operation at a time, so the
    // removal comes after any addition already queued, and a later one sees `current` false.
    void this.mKeys.then((keys) => keys.removeMember(id)).catch((err: unknown) => this.mOptions.onError?.(err));
    if (record.trust === 'verified') this.updateCode();
    this.changed();
  }

  /**
   * A payload another participant relayed, under the kind the server stamped on it. Anything not
   * from a verified member is dropped, and so is a payload under the wrong kind: chat only from a
   * `chat` relay (the server applied the chat policy to it), keys and moves only from `control`.
   */
  async relay(from: string, text: string, kind: RelayKind = 'control'): Promise<void> {
    const payload = parseRelayPayload(text);
    const record = this.mPeers.get(from);
    if (payload === null || record === undefined || relayKindOf(payload) !== kind) return;
    await record.verification;
    if (this.mClosed || this.mPeers.get(from) !== record || record.trust !== 'verified') return;
    if (payload.t === 'chat') {
      await this.track(this.receiveChat(from, payload.envelope, this.mTimers.now()));
      return;
    }
    if (payload.t === 'move') {
      await this.track(this.receiveMove(from, record, payload.box));
      return;
    }
    if (payload.t === 'state') {
      await this.track(this.receiveMediaState(from, record, payload.box));
      return;
    }
    const keys = await this.mKeys;
    await keys.handlePayload(from, payload);
  }

  private async receiveMove(from: string, record: PeerRecord, box: string): Promise<void> {
    const opened = await (await this.mKeys).openFrom(from, box);
    const move = opened === null ? null : parseMoveInstruction(opened);
    if (move !== null && !this.mClosed && this.mPeers.get(from) === record) this.mOptions.onMove?.(from, move);
  }

  /**
   * Sends a move instruction to one verified member, sealed under the pairwise key; resolves once
   * the server took it. False when `to` is not a verified member here.
   */
  async sendMove(to: string, move: MoveInstruction): Promise<boolean> {
    if (this.mPeers.get(to)?.trust !== 'verified') return false;
    const keys = await this.mKeys;
    const box = await keys.sealFor(to, new TextEncoder().encode(JSON.stringify(move)));
    if (box === null || this.mClosed) return false;
    await this.mOptions.signaling.relay(encodeRelayPayload({ t: 'move', box }), to, 'control');
    return true;
  }

  /**
   * This participant's own media state: announced to every verified member (sealed under each
   * pairwise key, so the server learns nothing of it), and to each member verified later. Changes
   * within a short time go out once.
   */
  setMediaState(state: PeerMediaState): void {
    const own = this.mOwnMedia;
    if (
      this.mClosed ||
      (own !== null &&
        own.microphone === state.microphone &&
        own.camera === state.camera &&
        own.screen === state.screen)
    )
      return;
    this.mOwnMedia = { ...state };
    if (this.mMediaTimer !== null) return;
    this.mMediaTimer = this.mTimers.setTimeout(() => {
      this.mMediaTimer = null;
      for (const record of this.mPeers.values()) {
        if (record.trust === 'verified') void this.track(this.sendMediaState(record.id));
      }
    }, MEDIA_STATE_DELAY_MS);
  }

  private async sendMediaState(to: string): Promise<void> {
    const state = this.mOwnMedia;
    if (state === null || this.mClosed) return;
    this.mOwnMediaCounter += 1;
    const plain = encodeMediaState({ counter: this.mOwnMediaCounter, ...state });
    try {
      const keys = await this.mKeys;
      const box = await keys.sealFor(to, new TextEncoder().encode(plain), 'media-state');
      if (box === null || this.mClosed) return;
      await this.mOptions.signaling.relay(encodeRelayPayload({ t: 'state', box }), to, 'control');
    } catch (err) {
      this.mOptions.onError?.(err);
    }
  }

  private async receiveMediaState(from: string, record: PeerRecord, box: string): Promise<void> {
    const opened = await (await this.mKeys).openFrom(from, box, 'media-state');
    if (opened === null || this.mClosed || this.mPeers.get(from) !== record) return;
    let text: string;
    try {
      text = new TextDecoder('utf-8', { fatal: true }).decode(opened);
    } catch {
      return;
    }
    const state = parseMediaState(text);
    // Older than what arrived already (reordered or replayed): ignored.
    if (state === null || state.counter <= record.mediaCounter) return;
    record.mediaCounter = state.counter;
    record.media = { microphone: state.microphone, camera: state.camera, screen: state.screen };
    this.changed();
  }

  /** The frame transforms cannot decrypt this participant's media: ask it for its key (if it is a member). */
  reportUndecryptable(participantId: string): void {
    if (this.mPeers.get(participantId)?.trust !== 'verified') return;
    this.mKeyManager?.requestKey(participantId);
  }

  /** This participant's new profile envelope after a rename (for `update-profile`). */
  sealProfile(name: string): Promise<string> {
    return sealOwnProfile(this.mOptions.room, this.mOptions.identity, { name });
  }

  peer(id: string): PeerSecurity | null {
    const record = this.mPeers.get(id);
    return record === undefined ? null : this.view(record);
  }

  peers(): PeerSecurity[] {
    return [...this.mPeers.values()].map((r) => this.view(r));
  }

  /**
   * `wrongLink`: every other participant fails the membership proof, and some of them were here
   * before this one. (With only later arrivals failing, they are the ones with a wrong link: the
   * first in a meeting is usually the one who made the link.)
   */
  snapshot(): SecuritySnapshot {
    const others = [...this.mPeers.values()];
    const wrongLink =
      others.some((r) => !r.newcomer) && others.every((r) => r.trust === 'unverified' && r.reason === 'not-a-member');
    return { code: this.mCode, wrongLink };
  }

  /**
   * Sends a chat message to everyone, encrypted under this participant's sender key and signed.
   * `lifetimeMs`: self-destruct after this long (null: keep). Throws RangeError for a text that
   * is too long.
   */
  async sendChat(text: string, lifetimeMs: number | null, file?: FileManifest): Promise<void> {
    if (text.length > MAX_CHAT_TEXT_LENGTH) throw new RangeError('chat text too long');
    const keys = await this.mKeys;
    const key = await keys.chatKey();
    const ts = this.mTimers.now();
    const message: ChatMessage = { id: base64UrlEncode(randomBytes(12)), ts, text };
    if (lifetimeMs !== null) message.expiresAt = ts + lifetimeMs;
    if (file !== undefined) message.file = file;
    const envelope = await this.mChatSender.seal(key, message);
    await this.mOptions.signaling.relay(encodeRelayPayload({ t: 'chat', envelope }), undefined, 'chat');
    this.mOptions.chat?.add({
      key: `${this.mOptions.selfId}/${message.id}`,
      senderId: this.mOptions.selfId,
      senderName: null,
      self: true,
      text,
      sentAt: ts,
      receivedAt: ts,
      deleteAt: chatDeleteAt(message, ts),
      file: file ?? null,
    });
  }

  close(): void {
    this.mClosed = true;
    this.mKeyManager?.close();
    for (const record of this.mPeers.values()) this.clearMissingTimer(record);
    if (this.mMediaTimer !== null) this.mTimers.clearTimeout(this.mMediaTimer);
    this.mMediaTimer = null;
    this.mPendingChats = [];
  }

  // -------------------------------------------------------------------------------------------

  private addParticipant(p: Participant, newcomer: boolean): void {
    if (this.mClosed || this.mPeers.has(p.id) || p.id === this.mOptions.selfId) return;
    const replayed = this.mSeenIds.has(p.id);
    this.mSeenIds.add(p.id);
    const record: PeerRecord = {
      id: p.id,
      newcomer,
      trust: 'verifying',
      name: null,
      reason: null,
      identity: null,
      verifiedAt: 0,
      verification: Promise.resolve(),
      missingTimer: null,
      media: null,
      mediaCounter: 0,
    };
    this.mPeers.set(p.id, record);
    if (replayed) {
      // Shown (loudly, as unverified) but never checked, never given a key, its payloads dropped.
      this.markUnverified(record, 'replayed', null);
      return;
    }
    record.verification = this.verify(record, p.profile, newcomer, null);
    this.changed();
  }

  private async verify(
    record: PeerRecord,
    envelope: string,
    newcomer: boolean,
    previous: PeerSecurity | null,
  ): Promise<void> {
    try {
      const opened = await openMemberProfile(this.mOptions.room, envelope);
      if (!this.current(record)) return;
      if (!opened.ok) {
        this.markUnverified(record, opened.error, previous);
        return;
      }
      const own = equalBytes(opened.peer.signingPublic, this.mOptions.identity.signingPublic);
      if (own || this.identityTaken(record, opened.peer)) {
        this.markUnverified(record, 'duplicate-identity', previous);
        return;
      }
      const keys = await this.mKeys;
      // The key manager adds it only while it is still this roster entry (checked inside the
      // key manager's queue, after its own awaits).
      const added: AddMemberResult = await keys.addMember(record.id, opened.peer, newcomer, () => this.current(record));
      if (!this.current(record)) return;
      if (added !== 'added' && added !== 'already') {
        this.markUnverified(record, added === 'duplicate-identity' ? 'duplicate-identity' : 'malformed', previous);
        return;
      }
      // Checked again after the awaits: another record may have claimed the identity meanwhile.
      if (this.identityTaken(record, opened.peer)) {
        await keys.removeMember(record.id);
        this.markUnverified(record, 'duplicate-identity', previous);
        return;
      }
      this.mIdentities.set(base64UrlEncode(opened.peer.signingPublic), record.id);
      record.trust = 'verified';
      record.reason = null;
      record.identity = opened.peer;
      record.name = opened.profile?.name ?? null;
      record.verifiedAt = this.mTimers.now();
      this.startMissingTimer(record);
      this.updateCode();
      // A new member learns this participant's state (later changes reach it with everyone's).
      if (this.mOwnMedia !== null && this.mMediaTimer === null) void this.track(this.sendMediaState(record.id));
      this.mOptions.onVerdict?.(this.view(record), previous);
      this.changed();
    } catch (err) {
      this.mOptions.onError?.(err);
      if (this.current(record)) this.markUnverified(record, 'malformed', previous);
    }
  }

  /** A profile update: a verified member may change its name, never its identity keys. */
  private async reverify(record: PeerRecord, envelope: string): Promise<void> {
    if (!this.current(record)) return;
    const previous = this.view(record);
    if (record.trust !== 'verified' || record.identity === null) {
      await this.verify(record, envelope, true, previous);
      return;
    }
    const opened = await openMemberProfile(this.mOptions.room, envelope);
    if (!this.current(record)) return;
    const same =
      opened.ok &&
      equalBytes(opened.peer.signingPublic, record.identity.signingPublic) &&
      equalBytes(opened.peer.agreementPublic, record.identity.agreementPublic);
    if (!opened.ok || !same) {
      // The server (or someone) swapped the member's keys: stop trusting it, and rotate.
      this.clearMissingTimer(record);
      const keys = await this.mKeys;
      await keys.removeMember(record.id);
      this.updateCode();
      this.markUnverified(record, opened.ok ? 'identity-changed' : opened.error, previous);
      return;
    }
    record.name = opened.profile?.name ?? null;
    this.mOptions.onVerdict?.(this.view(record), previous);
    this.changed();
  }

  private markUnverified(record: PeerRecord, reason: UnverifiedReason, previous: PeerSecurity | null): void {
    record.trust = 'unverified';
    record.reason = reason;
    record.name = null;
    record.identity = null;
    record.media = null;
    this.mOptions.onVerdict?.(this.view(record), previous);
    this.changed();
  }

  private current(record: PeerRecord): boolean {
    return !this.mClosed && this.mPeers.get(record.id) === record;
  }

  private identityTaken(record: PeerRecord, peer: PeerIdentity): boolean {
    const owner = this.mIdentities.get(base64UrlEncode(peer.signingPublic));
    if (owner !== undefined && owner !== record.id) return true;
    for (const other of this.mPeers.values()) {
      if (other === record || other.identity === null) continue;
      if (equalBytes(other.identity.signingPublic, peer.signingPublic)) return true;
    }
    return false;
  }

  private verifiedIdentity(id: string): PeerIdentity | null {
    const record = this.mPeers.get(id);
    return record !== undefined && record.trust === 'verified' ? record.identity : null;
  }

  private view(record: PeerRecord): PeerSecurity {
    let key: KeyState = 'waiting';
    if (record.trust === 'verified') {
      if (this.mKeyManager?.hasKeyFrom(record.id)) key = 'received';
      else if (this.mTimers.now() - record.verifiedAt >= (this.mOptions.keyMissingAfterMs ?? 5000)) key = 'missing';
    }
    const media = record.trust === 'verified' ? record.media : null;
    return { id: record.id, trust: record.trust, name: record.name, reason: record.reason, key, media };
  }

  private startMissingTimer(record: PeerRecord): void {
    this.clearMissingTimer(record);
    record.missingTimer = this.mTimers.setTimeout(() => {
      record.missingTimer = null;
      if (this.current(record)) this.changed();
    }, this.mOptions.keyMissingAfterMs ?? 5000);
  }

  private clearMissingTimer(record: PeerRecord): void {
    if (record.missingTimer !== null) this.mTimers.clearTimeout(record.missingTimer);
    record.missingTimer = null;
  }

  private updateCode(): void {
    const version = ++this.mCodeVersion;
    const keys = [this.mOptions.identity.signingPublic];
    for (const record of this.mPeers.values()) {
      if (record.trust === 'verified' && record.identity) keys.push(record.identity.signingPublic);
    }
    this.mCodeUpdate = securityCode(this.mOptions.room.roomId, keys).then((code) => {
      if (version !== this.mCodeVersion || this.mClosed) return;
      this.mCode = code;
      this.changed();
    });
  }

  private track(work: Promise<void>): Promise<void> {
    this.mInflight.add(work);
    return work.finally(() => this.mInflight.delete(work));
  }

  private onKeyChange(from: string | null): void {
    if (from === null) return;
    this.changed();
    const waiting = this.mPendingChats.filter((c) => c.from === from);
    if (waiting.length === 0) return;
    this.mPendingChats = this.mPendingChats.filter((c) => c.from !== from);
    for (const chat of waiting) void this.track(this.receiveChat(chat.from, chat.envelope, chat.receivedAt));
  }

  private async receiveChat(from: string, envelope: string, receivedAt: number): Promise<void> {
    const now = this.mTimers.now();
    const result = await (await this.mChatReceiver).open(envelope, now, from);
    if (this.mClosed) return;
    if (!result.ok) {
      if ((result.error === 'no-key' || result.error === 'decrypt-failed') && now - receivedAt < CHAT_KEY_WAIT_MS) {
        this.mPendingChats = [...this.mPendingChats, { from, envelope, receivedAt }].slice(-MAX_PENDING_CHATS);
      }
      return;
    }
    const record = this.mPeers.get(from);
    this.noteCounter(from, record, result.counter, receivedAt);
    this.mOptions.chat?.add({
      key: `${from}/${result.message.id}`,
      senderId: from,
      senderName: record?.name ?? null,
      self: false,
      text: result.message.text,
      sentAt: result.message.ts,
      receivedAt,
      deleteAt: chatDeleteAt(result.message, receivedAt),
      file: result.message.file ?? null,
    });
  }

  /**
   * Shows skipped chat counters as "n messages missing" in the chat, and closes a gap as late
   * messages fill it. The first message seen from a sender sets where counting starts (what it
   * sent before this participant joined was never meant for it).
   */
  private noteCounter(from: string, record: PeerRecord | undefined, counter: number, receivedAt: number): void {
    const identity = record?.identity;
    const chat = this.mOptions.chat;
    if (identity === null || identity === undefined || !chat) return;
    const id = base64UrlEncode(identity.signingPublic);
    const state = this.mChatCounters.get(id);
    if (state === undefined) {
      this.mChatCounters.set(id, { highest: counter, gaps: [] });
      return;
    }
    if (counter > state.highest) {
      if (counter > state.highest + 1) {
        const gap = {
          key: `${from}/missing/${state.highest + 1}`,
          lo: state.highest + 1,
          hi: counter - 1,
          missing: counter - state.highest - 1,
        };
        state.gaps = [...state.gaps, gap].slice(-MAX_OPEN_GAPS);
        chat.add({
          key: gap.key,
          senderId: from,
          senderName: record?.name ?? null,
          self: false,
          text: '',
          sentAt: receivedAt,
          receivedAt,
          deleteAt: null,
          file: null,
          missing: gap.missing,
        });
      }
      state.highest = counter;
      return;
    }
    // A late message (it waited for its key, or the server delivered it late) fills its gap.
    const gap = state.gaps.find((g) => counter >= g.lo && counter <= g.hi);
    if (gap === undefined) return;
    gap.missing -= 1;
    chat.setMissing(gap.key, gap.missing);
    if (gap.missing === 0) state.gaps = state.gaps.filter((g) => g !== gap);
  }

  private send(payload: RelayPayload, to?: string): void {
    if (this.mClosed) return;
    this.mOptions.signaling
      .relay(encodeRelayPayload(payload), to, relayKindOf(payload))
      .catch((err: unknown) => this.mOptions.onError?.(err));
  }

  private changed(): void {
    if (!this.mClosed) this.mOptions.onChange();
  }
}
