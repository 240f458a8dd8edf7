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
import ctypes
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import aioice.ice
from aiortc import RTCPeerConnection, RTCSessionDescription
from aiortc.rtcdtlstransport import RTCDtlsTransport

aioice.ice.get_host_addresses = lambda use_ipv4, use_ipv6: ["127.0.0.1"]
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

PAGE = """<!doctype html><html><body><script>
(async () => {
  const pc = new RTCPeerConnection();
  pc.addTransceiver('audio', {direction: 'recvonly'});
  pc.addTransceiver('video', {direction: 'recvonly'});
  const dc = pc.createDataChannel('chat');
  dc.onopen = () => dc.send('hello');
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
    pc = RTCPeerConnection()
    states = []
    pc.on("connectionstatechange", lambda: states.append(pc.connectionState))

    async def answer(offer_sdp):
        await pc.setRemoteDescription(RTCSessionDescription(sdp=offer_sdp, type="offer"))
        await pc.setLocalDescription(await pc.createAnswer())
        lines = [l for l in pc.localDescription.sdp.split("\r\n")
                 if not l.startswith("a=candidate") or " 127.0.0.1 " in l]
        setup = [l for l in lines if l.startswith("a=setup:")]
        print("answer", setup[0] if setup else "?", file=sys.stderr)
        return "\r\n".join(lines)

    Handler.loop = asyncio.get_running_loop()
    Handler.answer_fn = answer
    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    profile = tempfile.mkdtemp(prefix="conclave-dtls-capture-")
    chrome = subprocess.Popen([
        "chromium", "--headless=new", "--no-sandbox", "--allow-loopback-in-peer-connection",
        "--disable-features=WebRtcHideLocalIpsWithMdns", f"--user-data-dir={profile}",
        "--no-first-run", f"http://127.0.0.1:{server.server_port}/"],
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, preexec_fn=_die_with_parent)
    try:
        await asyncio.sleep(float(os.environ.get("CAPTURE_SECONDS", "6")))
    finally:
        chrome.terminate()
        chrome.wait(timeout=10)
        await pc.close()
        server.shutdown()
        shutil.rmtree(profile, ignore_errors=True)
    os.makedirs(OUT_DIR, exist_ok=True)
    for i, (direction, data) in enumerate(DATAGRAMS):
        with open(os.path.join(OUT_DIR, f"chromium-{AIORTC_ROLE}-{i:02d}-{direction}.bin"), "wb") as f:
            f.write(data)
    print(f"states {states}; {len(DATAGRAMS)} DTLS datagrams -> {OUT_DIR}", file=sys.stderr)


if __name__ == "__main__":
    asyncio.run(main())
