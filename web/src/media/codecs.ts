// The SFU forwards media without decoding it, so everyone must send what it can forward: Opus for
// audio and VP8 (with RTX retransmission) for video (docs/protocol.md, "SDP details").

import type { MediaKind } from '../protocol';

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
