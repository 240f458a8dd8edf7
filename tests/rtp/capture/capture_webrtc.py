#!/usr/bin/python3
"""Capture real, decrypted RTP and RTCP packets from a Chromium <-> aiortc call over loopback.

How the test vectors in tests/rtp/captured_packets.h and tests/rtcp/captured_packets.h were made:

    /usr/bin/python3 tests/rtp/capture/capture_webrtc.py /tmp/capture.jsonl

The script serves a small page on 127.0.0.1, opens it in headless Chromium (fake camera and
microphone, loopback-only ICE), and answers Chromium's offer with aiortc. Both directions carry
media: Chromium sends Opus + VP8 (scalabilityMode L1T3, so the VP8 descriptor carries TL0PICIDX
and temporal ids) to aiortc, and aiortc sends VP8 back. aiortc is patched in memory to negotiate
the transport-wide-cc header extension and feedback, so that Chromium sends transport-cc
feedback about aiortc's stream. A few packets are dropped on purpose on both sides so that each
side sends NACK and PLI.

Every RTP/RTCP packet is logged *after SRTP decryption* (what aiortc received from Chromium) or
*before SRTP encryption* (what aiortc sends), one JSON object per line:
    {"dir": "chrome->aiortc" | "aiortc->chrome", "kind": "rtp" | "rtcp", "hex": "..."}
No traffic leaves loopback: only 127.0.0.1 candidates are gathered or used.
"""

import asyncio
import json
import os
import sys

import aiortc.codecs
from aiortc import RTCPeerConnection, RTCSessionDescription, rtp
from aiortc.contrib.media import MediaBlackhole
from aiortc.mediastreams import VideoStreamTrack
from aiortc.rtcdtlstransport import RTCDtlsTransport
from aiortc.rtcrtpparameters import RTCRtcpFeedback, RTCRtpHeaderExtensionParameters

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "tools"))
from chromium_page import (chromium_on_page, gather_loopback_only,  # noqa: E402
                           keep_loopback_candidates, offer_page)

if len(sys.argv) > 1 and sys.argv[1] in ("-h", "--help"):
    print(__doc__.strip())
    sys.exit(0)

TWCC_URI = "http://www.ietf.org/id/draft-holmer-rmcat-transport-wide-cc-extensions-01"
SECONDS = float(os.environ.get("CAPTURE_SECONDS", "8"))

# --- aiortc patches -------------------------------------------------------------------------
gather_loopback_only()
for kind in ("audio", "video"):
    aiortc.codecs.HEADER_EXTENSIONS[kind].append(
        RTCRtpHeaderExtensionParameters(id=3, uri=TWCC_URI))
for codec in aiortc.codecs.CODECS["video"]:
    if codec.mimeType.lower() != "video/rtx":
        codec.rtcpFeedback.append(RTCRtcpFeedback(type="transport-cc"))

_twcc_seq = [0]
_orig_set = rtp.HeaderExtensionsMap.set


def _set_with_twcc(self, values):
    # Every packet sent (retransmissions too) takes the next transport-wide sequence number.
    values.transport_sequence_number = _twcc_seq[0] & 0xFFFF
    _twcc_seq[0] += 1
    return _orig_set(self, values)


rtp.HeaderExtensionsMap.set = _set_with_twcc

LOG = []
_counts = {"in_video": 0, "out_video": 0}
_orig_handle_rtp = RTCDtlsTransport._handle_rtp_data
_orig_handle_rtcp = RTCDtlsTransport._handle_rtcp_data
_orig_send_rtp = RTCDtlsTransport._send_rtp


def _log(direction, kind, data):
    LOG.append({"dir": direction, "kind": kind, "hex": bytes(data).hex()})


async def _handle_rtp(self, data, arrival_time_ms):
    _log("chrome->aiortc", "rtp", data)
    if (data[1] & 0x7F) != 111 and len(data) > 300:  # large video packets, not audio
        _counts["in_video"] += 1
        if _counts["in_video"] in (40, 41, 90):
            return  # drop: aiortc sends NACK (and PLI when a frame cannot be completed)
    await _orig_handle_rtp(self, data, arrival_time_ms)


async def _handle_rtcp(self, data):
    _log("chrome->aiortc", "rtcp", data)
    await _orig_handle_rtcp(self, data)


async def _send_rtp(self, data):
    kind = "rtcp" if rtp.is_rtcp(data) else "rtp"
    _log("aiortc->chrome", kind, data)
    if kind == "rtp":
        _counts["out_video"] += 1
        if _counts["out_video"] in (1, 2, 3, 30, 31, 32, 70):
            return  # drop: the first keyframe (Chromium sends PLI), later ones (NACK)
    await _orig_send_rtp(self, data)


RTCDtlsTransport._handle_rtp_data = _handle_rtp
RTCDtlsTransport._handle_rtcp_data = _handle_rtcp
RTCDtlsTransport._send_rtp = _send_rtp

# --- the page ---------------------------------------------------------------------------------
PAGE = offer_page("""
  const stream = await navigator.mediaDevices.getUserMedia({audio: true,
      video: {width: 640, height: 360}});
  const pc = new RTCPeerConnection();
  pc.addTransceiver(stream.getAudioTracks()[0], {direction: 'sendrecv'});
  pc.addTransceiver(stream.getVideoTracks()[0],
      {direction: 'sendrecv', sendEncodings: [{scalabilityMode: 'L1T3'}]});
  pc.ontrack = (e) => { const v = document.createElement('video'); v.srcObject = e.streams[0] ||
      new MediaStream([e.track]); v.muted = true; v.play(); document.body.appendChild(v); };
""")


async def main(out_path):
    pc = RTCPeerConnection()
    sink = MediaBlackhole()

    @pc.on("track")
    def on_track(track):
        sink.addTrack(track)

    async def answer(offer_sdp):
        await pc.setRemoteDescription(RTCSessionDescription(sdp=offer_sdp, type="offer"))
        for t in pc.getTransceivers():
            if t.kind == "video":
                t.sender.replaceTrack(VideoStreamTrack())
                t.direction = "sendrecv"
        await pc.setLocalDescription(await pc.createAnswer())
        await sink.start()
        # Keep only the loopback candidate in the answer as well.
        return keep_loopback_candidates(pc.localDescription.sdp)

    try:
        async with chromium_on_page(PAGE, answer, profile_prefix="capture-chromium-"):
            await asyncio.sleep(SECONDS)
    finally:
        await sink.stop()
        await pc.close()
    with open(out_path, "w") as f:
        for entry in LOG:
            f.write(json.dumps(entry) + "\n")
    print(f"{len(LOG)} packets -> {out_path}", file=sys.stderr)


if __name__ == "__main__":
    asyncio.run(main(sys.argv[1] if len(sys.argv) > 1 else "/tmp/capture.jsonl"))
