// The SFU forwards media without decoding it, so everyone must send what it can forward: Opus for
// audio and VP8 (with RTX retransmission) for video (docs/protocol.md, "SDP details").

import type { MediaKind } from '../protocol/messages';

/** The part of RTCRtpCodec this module reads. */
export interface CodecLike {
  mimeType: string;
  clockRate: number;
  channels?: number;
  sdpFmtpLine?: string;
}

const SUPPORTED: Record<MediaKind, readonly string[]> = {
  audio: ['audio/opus'],
  video: ['video/vp8', 'video/rtx'],
};

/**
 * The codecs of `capabilities` the server supports, in the browser's order (RTX included: the
 * browser pairs it with VP8 itself). Returns null when no media codec would be left: then the
 * browser's defaults are better than an error.
 */
export function supportedCodecs<T extends CodecLike>(kind: MediaKind, capabilities: readonly T[]): T[] | null {
  const allowed = SUPPORTED[kind];
  const kept = capabilities.filter((codec) => allowed.includes(codec.mimeType.toLowerCase()));
  if (!kept.some((codec) => codec.mimeType.toLowerCase() !== 'video/rtx')) return null;
  return kept;
}

/** Applies supportedCodecs() to a transceiver where the browser allows it; failures are ignored. */
export function preferSupportedCodecs(
  transceiver: Pick<RTCRtpTransceiver, 'setCodecPreferences'>,
  kind: MediaKind,
  capabilities: ((kind: MediaKind) => { codecs: RTCRtpCodec[] } | null) | null,
): boolean {
  if (!capabilities || typeof transceiver.setCodecPreferences !== 'function') return false;
  const codecs = supportedCodecs(kind, capabilities(kind)?.codecs ?? []);
  if (!codecs) return false;
  try {
    transceiver.setCodecPreferences(codecs);
    return true;
  } catch {
    // Some browsers refuse preferences for send-only transceivers; their defaults include Opus/VP8.
    return false;
  }
}

const AUDIO_LEVEL_URI = 'urn:ietf:params:rtp-hdrext:ssrc-audio-level';

/**
 * The publish answer as this client applies it: Opus at constant bitrate (`cbr=1`) without
 * discontinuous transmission (`usedtx=0`), and no audio-level header extension. With variable
 * bitrate, DTX or RFC 6464 levels, packet sizes, gaps or a clear header field would tell the
 * server who speaks when and, from VBR sizes, even what (SFrame hides the content, not its size).
 * CBR costs no extra bandwidth at Opus's voice bitrates; padding SFrame payloads to buckets would
 * need a format change on every receiver and still leak the bucket. RFC 7587 makes `cbr` and
 * `usedtx` the receiver's preference, which the browser's encoder follows.
 */
export function constantBitrateAudio(sdp: string): string {
  const eol = sdp.includes('\r\n') ? '\r\n' : '\n';
  const lines = sdp.split(eol).filter((line) => !(line.startsWith('a=extmap:') && line.includes(AUDIO_LEVEL_URI)));
  const opus = new Set<string>();
  for (const line of lines) {
    const match = /^a=rtpmap:(\d+) opus\/48000/i.exec(line);
    if (match?.[1] !== undefined) opus.add(match[1]);
  }
  const withFmtp = new Set<string>();
  const out: string[] = [];
  for (const line of lines) {
    const fmtp = /^a=fmtp:(\d+) (.*)$/.exec(line);
    if (fmtp?.[1] !== undefined && opus.has(fmtp[1])) {
      withFmtp.add(fmtp[1]);
      const params = (fmtp[2] ?? '').split(';').filter((p) => p !== '' && !/^\s*(usedtx|cbr)=/i.test(p));
      out.push(`a=fmtp:${fmtp[1]} ${[...params, 'usedtx=0', 'cbr=1'].join(';')}`);
      continue;
    }
    out.push(line);
  }
  // An Opus payload type without fmtp gets one right after its rtpmap.
  for (const pt of opus) {
    if (withFmtp.has(pt)) continue;
    const at = out.findIndex((line) => line.startsWith(`a=rtpmap:${pt} `));
    if (at >= 0) out.splice(at + 1, 0, `a=fmtp:${pt} usedtx=0;cbr=1`);
  }
  return out.join(eol);
}
