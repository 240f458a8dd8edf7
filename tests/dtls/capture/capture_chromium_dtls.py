#!/usr/bin/python3
"""Capture the DTLS datagrams headless Chromium sends to a WebRTC peer, over loopback.

How tests/dtls/data/chromium-*.bin and the fuzz/dtls seed corpus were made:

    /usr/bin/python3 tests/dtls/capture/capture_chromium_dtls.py server OUT_DIR
    /usr/bin/python3 tests/dtls/capture/capture_chromium_dtls.py client OUT_DIR

A page on 127.0.0.1 makes Chromium offer audio + video + a data channel (a=setup:actpass); aiortc
answers. With "server", aiortc answers a=setup:passive like the Conclave SFU on a publish
connection, so Chromium is the DTLS client (its ClientHello and second flight are recorded);
with "client" aiortc answers a=setup:active and Chromium is the DTLS server (its ServerHello
flight is recorded). Every DTLS datagram in each direction is written to
OUT_DIR/chromium-<role>-<n>-<dir>.bin in order, dir being "in" (from Chromium) or "out".
Loopback only: only 127.0.0.1 candidates are gathered or used.
"""

import asyncio
import os
import sys

import aioice.ice
from aiortc import RTCPeerConnection, RTCSessionDescription
from aiortc.rtcdtlstransport import RTCDtlsTransport

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "tools"))
from chromium_page import (chromium_on_page, gather_loopback_only,  # noqa: E402
                           keep_loopback_candidates, offer_page)

if len(sys.argv) > 1 and sys.argv[1] in ("-h", "--help"):
    print(__doc__.strip())
    sys.exit(0)
gather_loopback_only()
AIORTC_ROLE = sys.argv[1] if len(sys.argv) > 1 else "server"
OUT_DIR = sys.argv[2] if len(sys.argv) > 2 else "/tmp/dtls-capture"
DATAGRAMS = []

_orig_init = RTCDtlsTransport.__init__
_orig_recv = aioice.ice.Connection.recv
_orig_send = aioice.ice.Connection.send


def _init(self, *args, **kwargs):
    _orig_init(self, *args, **kwargs)
    self._role = AIORTC_ROLE  # makes createAnswer() write a=setup:passive / active


async def _recv(self):
    data = await _orig_recv(self)
    if data and 20 <= data[0] <= 63:
        DATAGRAMS.append(("in", bytes(data)))
    return data


async def _send(self, data):
    if data and 20 <= data[0] <= 63:
        DATAGRAMS.append(("out", bytes(data)))
    return await _orig_send(self, data)


RTCDtlsTransport.__init__ = _init
aioice.ice.Connection.recv = _recv  # what RTCIceTransport._recv / _send are bound to
aioice.ice.Connection.send = _send

PAGE = offer_page("""
  const pc = new RTCPeerConnection();
  pc.addTransceiver('audio', {direction: 'recvonly'});
  pc.addTransceiver('video', {direction: 'recvonly'});
  const dc = pc.createDataChannel('chat');
  dc.onopen = () => dc.send('hello');
""")


async def main():
    pc = RTCPeerConnection()
    states = []
    pc.on("connectionstatechange", lambda: states.append(pc.connectionState))

    async def answer(offer_sdp):
        await pc.setRemoteDescription(RTCSessionDescription(sdp=offer_sdp, type="offer"))
        await pc.setLocalDescription(await pc.createAnswer())
        lines = keep_loopback_candidates(pc.localDescription.sdp).split("\r\n")
        setup = [l for l in lines if l.startswith("a=setup:")]
        print("answer", setup[0] if setup else "?", file=sys.stderr)
        return "\r\n".join(lines)

    try:
        async with chromium_on_page(PAGE, answer, profile_prefix="conclave-dtls-capture-"):
            await asyncio.sleep(float(os.environ.get("CAPTURE_SECONDS", "6")))
    finally:
        await pc.close()
    os.makedirs(OUT_DIR, exist_ok=True)
    for i, (direction, data) in enumerate(DATAGRAMS):
        with open(os.path.join(OUT_DIR, f"chromium-{AIORTC_ROLE}-{i:02d}-{direction}.bin"), "wb") as f:
            f.write(data)
    print(f"states {states}; {len(DATAGRAMS)} DTLS datagrams -> {OUT_DIR}", file=sys.stderr)


if __name__ == "__main__":
    asyncio.run(main())
