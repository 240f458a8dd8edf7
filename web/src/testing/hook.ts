// The browser tests' view into a page, in the end-to-end build only (`vite build --mode e2e`, see
// vite.config.ts). Room.tsx reaches this module only behind `__CONCLAVE_TEST_HOOKS__`, which is
// false in the production build, so dist/ contains none of it (scripts/check-bundle.mjs checks).
// Room passes what it injects into the media controller and the session (the peer-connection
// factory, the frame crypto, the socket factory) through the wrappers below, and exposes
// `window.__conclaveTest`: media statistics per participant from the page's own peer connections,
// the frame transforms' counters and send key, the security code, and the spy rejoin.

import { generateIdentity, RoomKeys } from '../e2ee';
import type { MediaController } from '../media/controller';
import type { FrameCrypto } from '../media/frame_crypto';
import type { TrackCryptoStats } from '../media/frame_engine';
import { sealOwnProfile } from '../profile';
import type { SubscribedTrack } from '../protocol/messages';
import type { SocketFactory } from '../protocol/client';
import type { MeetingSession } from '../session';
import { SpyFrameCrypto, SpySockets } from './spy';
import { callStats, type PageStats } from './stats';

export interface LocalDeviceView {
  deviceId: string | null;
  problem: string | null;
  /** The track's id, label and readyState, or null. */
  track: { id: string; label: string; readyState: string } | null;
}

export interface ConclaveTestHook {
  /** Receive counters per remote participant and source, send counters per published source. */
  stats: () => Promise<PageStats>;
  /** The remote tracks per participant as the view sees them. */
  remote: () => {
    participantId: string;
    tracks: { mid: string; kind: string; source: string; readyState: string }[];
  }[];
  /** Subscribe m-sections with their negotiated direction. */
  subscribeSections: () => { mid: string; currentDirection: string | null }[];
  /** The frame-transform worker's per-track counters (frames encrypted/decrypted/failed). */
  crypto: () => { mode: string; tracks: TrackCryptoStats[] };
  /** The security code this page shows, or null. */
  securityCode: () => string | null;
  /** The local devices: chosen ids, problems, and the track each sends now. */
  devices: () => Record<'camera' | 'microphone', LocalDeviceView> & { speakerId: string | null };
  /**
   * Ends a local track as an unplugged device does: stop() and an `ended` event (stop() alone
   * fires none). False when there is no track.
   */
  endDevice: (source: 'camera' | 'microphone') => boolean;
  /** Sends a chat message with any self-destruct lifetime (the view offers 1 min and up). */
  sendChat: (text: string, lifetimeMs: number | null) => Promise<void>;
  /** The generation of the key this participant's frames are encrypted with now (null: none yet). */
  sendKeyGeneration: () => number | null;
  /**
   * "Spy" mode for the forward-secrecy test: the next join proves membership with a wrong secret
   * (so nobody sends this page keys) while the frame transforms keep every key they hold.
   */
  spyNextJoin: () => Promise<void>;
  /** The selected ICE candidate pair of the publish and the subscribe connection (null: none yet). */
  selectedCandidates: () => Promise<Record<'publish' | 'subscribe', SelectedCandidate | null>>;
  /** The TURN usernames in each connection's configuration now (renewals replace them). */
  turnUsernames: () => Record<'publish' | 'subscribe', string[]>;
}

export interface SelectedCandidate {
  /** host, srflx, prflx or relay. */
  localType: string;
  /** udp or tcp: how the page reaches the other end (for relay: the TURN server). */
  localProtocol: string;
  /** For relay: how the page reaches the TURN server (udp, tcp, tls). */
  relayProtocol: string | null;
  remoteAddress: string;
  remotePort: number;
}

/**
 * The ICE transport policy of every peer connection (the lab's TURN test sets 'relay' through
 * `window.__conclaveTestIcePolicy` before the page loads, so nothing but TURN can carry media).
 */
function testIcePolicy(): RTCIceTransportPolicy | undefined {
  return (window as unknown as { __conclaveTestIcePolicy?: RTCIceTransportPolicy }).__conclaveTestIcePolicy;
}

async function selectedCandidate(pc: RTCPeerConnection | null): Promise<SelectedCandidate | null> {
  if (!pc) return null;
  const stats = await pc.getStats();
  const byId = new Map<string, Record<string, unknown>>();
  stats.forEach((report: Record<string, unknown>) => byId.set(String(report['id']), report));
  let pairId: string | null = null;
  stats.forEach((report: Record<string, unknown>) => {
    if (report['type'] === 'transport' && typeof report['selectedCandidatePairId'] === 'string')
      pairId = report['selectedCandidatePairId'];
  });
  const pair = pairId === null ? undefined : byId.get(pairId);
  const local = byId.get(String(pair?.['localCandidateId']));
  const remote = byId.get(String(pair?.['remoteCandidateId']));
  if (!local || !remote) return null;
  return {
    localType: String(local['candidateType']),
    localProtocol: String(local['protocol']),
    relayProtocol: typeof local['relayProtocol'] === 'string' ? local['relayProtocol'] : null,
    remoteAddress: String(remote['address'] ?? remote['ip']),
    remotePort: Number(remote['port']),
  };
}

/** Every peer connection this page made, newest last. */
const connections: RTCPeerConnection[] = [];
const sockets = new SpySockets();
let frameCrypto: SpyFrameCrypto | null = null;

export function testPeerConnection(config: RTCConfiguration): RTCPeerConnection {
  const policy = testIcePolicy();
  const pc = new RTCPeerConnection(policy ? { ...config, iceTransportPolicy: policy } : config);
  connections.push(pc);
  return pc;
}

export function testFrameCrypto(inner: FrameCrypto): FrameCrypto {
  frameCrypto = new SpyFrameCrypto(inner);
  return frameCrypto;
}

export function testSocketFactory(inner: SocketFactory): SocketFactory {
  return sockets.wrap(inner);
}

/**
 * The current call's connection in one direction: the server offers on the subscribe
 * connection, the client on the publish connection.
 */
function connection(offerFrom: 'server' | 'client'): RTCPeerConnection | null {
  for (let i = connections.length - 1; i >= 0; i--) {
    const pc = connections[i];
    if (!pc || pc.signalingState === 'closed') continue;
    const description = offerFrom === 'server' ? pc.remoteDescription : pc.localDescription;
    if (description?.type === 'offer') return pc;
  }
  return null;
}

const WRONG_SECRET = `${'A'.repeat(42)}Q`;

export function exposeTestHook(controller: MediaController, session: MeetingSession, roomId: string): void {
  const subscriptions = (): Map<string, SubscribedTrack> => {
    const map = new Map<string, SubscribedTrack>();
    for (const r of controller.snapshot().remote) {
      for (const t of r.tracks)
        map.set(t.mid, { mid: t.mid, kind: t.kind, participantId: r.participantId, source: t.source });
    }
    return map;
  };
  const sourceOfTrack = (track: unknown): string | undefined => {
    const media = controller.snapshot();
    if (track === media.microphone.track) return 'microphone';
    if (track === media.camera.track) return 'camera';
    if (media.screen?.getVideoTracks().includes(track as MediaStreamTrack)) return 'screen';
    return undefined;
  };
  const deviceView = (source: 'camera' | 'microphone'): LocalDeviceView => {
    const device = controller.snapshot()[source];
    const track = device.track;
    return {
      deviceId: device.deviceId,
      problem: device.problem,
      track: track ? { id: track.id, label: track.label, readyState: track.readyState } : null,
    };
  };
  const hook: ConclaveTestHook = {
    stats: () => callStats(connection('server'), connection('client'), subscriptions(), sourceOfTrack),
    remote: () =>
      controller.snapshot().remote.map((r) => ({
        participantId: r.participantId,
        tracks: r.tracks.map((t) => ({ mid: t.mid, kind: t.kind, source: t.source, readyState: t.track.readyState })),
      })),
    subscribeSections: () =>
      (connection('server')?.getTransceivers() ?? [])
        .filter((t) => t.mid !== null)
        .map((t) => ({ mid: t.mid ?? '', currentDirection: t.currentDirection ?? null })),
    crypto: () => ({ ...controller.snapshot().encryption }),
    securityCode: () => (session.state.kind === 'joined' ? session.state.security.code : null),
    devices: () => ({
      camera: deviceView('camera'),
      microphone: deviceView('microphone'),
      speakerId: controller.snapshot().speakerId,
    }),
    endDevice: (source) => {
      const track = controller.snapshot()[source].track;
      if (!track) return false;
      track.stop();
      track.dispatchEvent(new Event('ended'));
      return true;
    },
    sendChat: (text, lifetimeMs) => session.sendChat(text, lifetimeMs),
    sendKeyGeneration: () => frameCrypto?.sendGeneration ?? null,
    spyNextJoin: async () => {
      const wrong = await RoomKeys.derive(WRONG_SECRET, roomId);
      if (!wrong.ok) throw new Error('spyNextJoin: cannot derive the wrong room keys');
      sockets.replaceNextJoinProfile(await sealOwnProfile(wrong.room, await generateIdentity(), { name: 'spy' }));
      if (!frameCrypto) throw new Error('spyNextJoin: the frame crypto was not made through testFrameCrypto');
      frameCrypto.keepKeysOnNextReset();
    },
    turnUsernames: () => {
      const usernames = (pc: RTCPeerConnection | null): string[] =>
        (pc?.getConfiguration().iceServers ?? []).map((server) => server.username ?? '');
      return { publish: usernames(connection('client')), subscribe: usernames(connection('server')) };
    },
    selectedCandidates: async () => ({
      publish: await selectedCandidate(connection('client')),
      subscribe: await selectedCandidate(connection('server')),
    }),
  };
  (window as unknown as { __conclaveTest?: ConclaveTestHook }).__conclaveTest = hook;
}
