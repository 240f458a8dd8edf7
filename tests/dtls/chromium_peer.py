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
import ctypes
import os
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import aioice.ice
from aiortc import RTCPeerConnection, RTCSessionDescription
from aiortc.rtcdtlstransport import RTCDtlsTransport, State

aioice.ice.get_host_addresses = lambda use_ipv4, use_ipv6: ["127.0.0.1"]
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

PAGE = """<!doctype html><html><body><script>
(async () => {
  const stream = await navigator.mediaDevices.getUserMedia({audio: true,
      video: {width: 320, height: 180}});
  const pc = new RTCPeerConnection();
  for (const track of stream.getTracks()) pc.addTransceiver(track, {direction: 'sendonly'});
  const dc = pc.createDataChannel('chat');
  await pc.setLocalDescription(await pc.createOffer());
  await new Promise((r) => { if (pc.iceGatheringState === 'complete') r();
      pc.onicegatheringstatechange = () => pc.iceGatheringState === 'complete' && r(); });
  const sdp = pc.localDescription.sdp.split('\\r\\n').filter((l) => !l.startsWith('a=candidate')
      || (l.includes(' 127.0.0.1 ') && l.includes(' udp '))).join('\\r\\n');
  const res = await fetch('/offer', {method: 'POST', body: sdp});
  await pc.setRemoteDescription({type: 'answer', sdp: await res.text()});
})();
</script></body></html>"""



def _die_with_parent():
    # Chromium must not outlive this script, even if the test kills it.
    ctypes.CDLL("libc.so.6").prctl(1, signal.SIGTERM)  # PR_SET_PDEATHSIG


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
        for line in pc.localDescription.sdp.split("\r\n"):
            if line.startswith("a=candidate") and " 127.0.0.1 " not in line:
                continue
            if line.startswith("a=fingerprint:"):
                line = "a=fingerprint:sha-256 " + CONCLAVE_FINGERPRINT
            if line.startswith("a=setup:"):
                line = "a=setup:" + SETUP
            lines.append(line)
        return "\r\n".join(lines)

    Handler.loop = loop
    Handler.answer_fn = answer
    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    stdin_closed = asyncio.Event()
    threading.Thread(target=lambda: (sys.stdin.read(), loop.call_soon_threadsafe(stdin_closed.set)),
                     daemon=True).start()
    profile = tempfile.mkdtemp(prefix="conclave-chromium-")
    chrome = subprocess.Popen([
        "chromium", "--headless=new", "--no-sandbox", "--use-fake-device-for-media-stream",
        "--use-fake-ui-for-media-stream", "--allow-loopback-in-peer-connection",
        "--disable-features=WebRtcHideLocalIpsWithMdns", f"--user-data-dir={profile}",
        "--no-first-run", f"http://127.0.0.1:{server.server_port}/"],
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, preexec_fn=_die_with_parent)
    try:
        await asyncio.wait_for(stdin_closed.wait(), timeout=60)
    except asyncio.TimeoutError:
        pass
    finally:
        chrome.terminate()
        chrome.wait(timeout=10)
        server.shutdown()
        shutil.rmtree(profile, ignore_errors=True)
    print("DONE", flush=True)
    os._exit(0)  # the relay task and aiortc's ICE would otherwise keep the loop alive


if __name__ == "__main__":
    asyncio.run(main())
