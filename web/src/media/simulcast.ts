// The camera is sent as three simulcast layers (RFC 8853, one RTP stream per rid), lowest first:
// the SFU forwards each subscriber the one that fits the tile it is shown in and its downlink.
// Screens stay one layer (text must stay sharp, and a screen is shown large).

import type { TrackSource } from '../protocol/messages';

/** Rids and targets for a 720p camera: quarter size ~150 kbit/s, half ~500 kbit/s, full ~2 Mbit/s. */
export const CAMERA_ENCODINGS: readonly RTCRtpEncodingParameters[] = [
  { rid: 'q', scaleResolutionDownBy: 4, maxBitrate: 150_000 },
  { rid: 'h', scaleResolutionDownBy: 2, maxBitrate: 500_000 },
  { rid: 'f', scaleResolutionDownBy: 1, maxBitrate: 2_000_000 },
];

/** The encodings `addTransceiver` gets for a source; undefined for one layer. */
export function sendEncodingsFor(source: TrackSource): RTCRtpEncodingParameters[] | undefined {
  return source === 'camera' ? CAMERA_ENCODINGS.map((e) => ({ ...e })) : undefined;
}
