#!/usr/bin/python3
"""Puts headless Chromium on the other end of Conclave's DtlsTransport, for dtls_browser_tests.

Usage: chromium_peer.py SETUP CONCLAVE_PORT CONCLAVE_FINGERPRINT   (SETUP: passive | active)

A page on 127.0.0.1 makes Chromium offer audio + video (fake devices) and a data channel. aiortc
answers and does ICE only: its DTLS transport is replaced by a relay that forwards every datagram
between the ICE connection and the Conclave test's UDP socket on 127.0.0.1:CONCLAVE_PORT. The
answer carries Conclave's fingerprint and a=setup:SETUP, so DTLS and SRTP run between Chromium and
the C++ DtlsTransport. Prints RELAY_PORT and CHROMIUM_FINGERPRINT; exits when stdin closes (or
after 60 s). Loopback only.
"""
import asyncio
import os
import re
import sys
import threading

from aiortc import RTCPeerConnection, RTCSessionDescription
from aiortc.rtcdtlstransport import RTCDtlsTransport, State

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "tools"))
from chromium_page import (chromium_on_page, gather_loopback_only,  # noqa: E402
                           keep_loopback_candidates, offer_page)

gather_loopback_only()
SETUP, CONCLAVE_PORT, CONCLAVE_FINGERPRINT = sys.argv[1], int(sys.argv[2]), sys.argv[3]


class Relay(asyncio.DatagramProtocol):
    """UDP socket towards Conclave; datagrams from Conclave go out on the ICE connection."""

    def __init__(self):
        self.sock = None
        self.ice = None
        self.pending = []

    def connection_made(self, transport):
        self.sock = transport

    def datagram_received(self, data, addr):
        if self.ice is None:
            self.pending.append(data)  # e.g. our ClientHello before ICE completed
        else:
            asyncio.ensure_future(self.ice._send(data))

    async def run(self, ice):
        self.ice = ice
        for data in self.pending:
            await ice._send(data)
        self.pending = []
        while True:
            data = await ice._recv()
            self.sock.sendto(data, ("127.0.0.1", CONCLAVE_PORT))


RELAY = Relay()


async def relay_start(self, remote_parameters):
    # Instead of aiortc's DTLS: relay everything (DTLS, SRTP, SRTCP) to the Conclave side.
    self._set_state(State.CONNECTING)
    await RELAY.run(self.transport)


RTCDtlsTransport.start = relay_start

PAGE = offer_page("""
  const stream = await navigator.mediaDevices.getUserMedia({audio: true,
      video: {width: 320, height: 180}});
  const pc = new RTCPeerConnection();
  for (const track of stream.getTracks()) pc.addTransceiver(track, {direction: 'sendonly'});
  const dc = pc.createDataChannel('chat');
""")


async def main():
    loop = asyncio.get_running_loop()
    await loop.create_datagram_endpoint(lambda: RELAY, local_addr=("127.0.0.1", 0))
    print("RELAY_PORT", RELAY.sock.get_extra_info("sockname")[1], flush=True)
    pc = RTCPeerConnection()

    async def answer(offer_sdp):
        fingerprint = re.search(r"a=fingerprint:sha-256 ([0-9A-Fa-f:]+)", offer_sdp).group(1)
        print("CHROMIUM_FINGERPRINT", fingerprint, flush=True)
        await pc.setRemoteDescription(RTCSessionDescription(sdp=offer_sdp, type="offer"))
        await pc.setLocalDescription(await pc.createAnswer())
        lines = []
        for line in keep_loopback_candidates(pc.localDescription.sdp).split("\r\n"):
            if line.startswith("a=fingerprint:"):
                line = "a=fingerprint:sha-256 " + CONCLAVE_FINGERPRINT
            if line.startswith("a=setup:"):
                line = "a=setup:" + SETUP
            lines.append(line)
        return "\r\n".join(lines)

    stdin_closed = asyncio.Event()
    threading.Thread(target=lambda: (sys.stdin.read(), loop.call_soon_threadsafe(stdin_closed.set)),
                     daemon=True).start()
    async with chromium_on_page(PAGE, answer):
        try:
            await asyncio.wait_for(stdin_closed.wait(), timeout=60)
        except asyncio.TimeoutError:
            pass
    print("DONE", flush=True)
    os._exit(0)  # the relay task and aiortc's ICE would otherwise keep the loop alive


if __name__ == "__main__":
    asyncio.run(main())
