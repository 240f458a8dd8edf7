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
import subprocess
import sys
import tempfile
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import aioice.ice
import aiortc.codecs
from aiortc import RTCPeerConnection, RTCSessionDescription, rtp
from aiortc.contrib.media import MediaBlackhole
from aiortc.mediastreams import VideoStreamTrack
from aiortc.rtcdtlstransport import RTCDtlsTransport
from aiortc.rtcrtpparameters import RTCRtcpFeedback, RTCRtpHeaderExtensionParameters

TWCC_URI = "http://www.ietf.org/id/draft-holmer-rmcat-transport-wide-cc-extensions-01"
SECONDS = float(os.environ.get("CAPTURE_SECONDS", "8"))

# --- aiortc patches -------------------------------------------------------------------------
aioice.ice.get_host_addresses = lambda use_ipv4, use_ipv6: ["127.0.0.1"]
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
PAGE = """<!doctype html><html><body><script>
(async () => {
  const stream = await navigator.mediaDevices.getUserMedia({audio: true,
      video: {width: 640, height: 360}});
  const pc = new RTCPeerConnection();
  pc.addTransceiver(stream.getAudioTracks()[0], {direction: 'sendrecv'});
  pc.addTransceiver(stream.getVideoTracks()[0],
      {direction: 'sendrecv', sendEncodings: [{scalabilityMode: 'L1T3'}]});
  pc.ontrack = (e) => { const v = document.createElement('video'); v.srcObject = e.streams[0] ||
      new MediaStream([e.track]); v.muted = true; v.play(); document.body.appendChild(v); };
  await pc.setLocalDescription(await pc.createOffer());
  await new Promise((r) => { if (pc.iceGatheringState === 'complete') r();
      pc.onicegatheringstatechange = () => pc.iceGatheringState === 'complete' && r(); });
  // Loopback only: keep only UDP host candidates on 127.0.0.1.
  const sdp = pc.localDescription.sdp.split('\\r\\n').filter((l) => !l.startsWith('a=candidate')
      || (l.includes(' 127.0.0.1 ') && l.includes(' udp '))).join('\\r\\n');
  const res = await fetch('/offer', {method: 'POST', body: sdp});
  await pc.setRemoteDescription({type: 'answer', sdp: await res.text()});
})();
</script></body></html>"""


class Handler(BaseHTTPRequestHandler):
    loop = None
    answer_fn = None

    def log_message(self, *args):
        pass

    def do_GET(self):
        self.send_response(200)
        self.send_header("Content-Type", "text/html")
        self.end_headers()
        self.wfile.write(PAGE.encode())

    def do_POST(self):
        offer = self.rfile.read(int(self.headers["Content-Length"])).decode()
        fut = asyncio.run_coroutine_threadsafe(Handler.answer_fn(offer), Handler.loop)
        answer = fut.result(timeout=20)
        self.send_response(200)
        self.send_header("Content-Type", "text/plain")
        self.end_headers()
        self.wfile.write(answer.encode())


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
        lines = [l for l in pc.localDescription.sdp.split("\r\n")
                 if not l.startswith("a=candidate") or " 127.0.0.1 " in l]
        return "\r\n".join(lines)

    Handler.loop = asyncio.get_running_loop()
    Handler.answer_fn = answer
    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    url = f"http://127.0.0.1:{server.server_port}/"
    profile = tempfile.mkdtemp(prefix="capture-chromium-")
    chrome = subprocess.Popen([
        "chromium", "--headless=new", "--no-sandbox", "--use-fake-device-for-media-stream",
        "--use-fake-ui-for-media-stream", "--allow-loopback-in-peer-connection",
        "--disable-features=WebRtcHideLocalIpsWithMdns", f"--user-data-dir={profile}",
        "--no-first-run", url], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        await asyncio.sleep(SECONDS)
    finally:
        chrome.terminate()
        chrome.wait(timeout=10)
        await sink.stop()
        await pc.close()
        server.shutdown()
    with open(out_path, "w") as f:
        for entry in LOG:
            f.write(json.dumps(entry) + "\n")
    print(f"{len(LOG)} packets -> {out_path}", file=sys.stderr)


if __name__ == "__main__":
    asyncio.run(main(sys.argv[1] if len(sys.argv) > 1 else "/tmp/capture.jsonl"))
