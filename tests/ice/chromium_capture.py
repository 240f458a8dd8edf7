#!/usr/bin/python3
"""Capture Chromium's ICE connectivity checks against an ICE-lite offer, over loopback.

How the Chromium bytes in tests/ice/ice_server_test.cpp were made:

    /usr/bin/python3 tests/ice/chromium_capture.py

The script plays a minimal ICE-lite server in Python: it serves a page on 127.0.0.1 that gives
headless Chromium an SDP offer with a=ice-lite, the credentials of tests/ice/aioice_peer.py
(ufrag "cnclvSrv", pwd "cnclvServerPassword01234") and one host candidate 127.0.0.1:PORT, a UDP
socket on that port. Chromium answers (its ufrag/pwd are reported back by the page), becomes the
controlling agent and sends Binding requests; the script answers each with aioice's STUN code
(XOR-MAPPED-ADDRESS, MESSAGE-INTEGRITY, FINGERPRINT), so Chromium goes on to nominate the pair
with USE-CANDIDATE and then starts DTLS. Printed, one per line, as JSON:
    {"chrome": version, "ufrag": ..., "pwd": ..., "kind": "stun" | "dtls", "from": port, "hex": ...}
Only 127.0.0.1 is used: the offer has only a loopback candidate and no STUN/TURN server.
"""

import asyncio
import json
import os
import shutil
import subprocess
import sys
import tempfile
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

from aioice import stun

SERVER_UFRAG = "cnclvSrv"
SERVER_PWD = "cnclvServerPassword01234"
# Any 32 bytes: the DTLS handshake is never completed.
FINGERPRINT = ":".join(f"{b:02X}" for b in range(32))

PAGE = """<!doctype html><html><body><script>
(async () => {
  const offer = await (await fetch('/offer')).text();
  const pc = new RTCPeerConnection();
  await pc.setRemoteDescription({type: 'offer', sdp: offer});
  await pc.setLocalDescription(await pc.createAnswer());
  const sdp = pc.localDescription.sdp;
  const ufrag = sdp.match(/a=ice-ufrag:(\\S+)/)[1];
  const pwd = sdp.match(/a=ice-pwd:(\\S+)/)[1];
  pc.oniceconnectionstatechange = () => fetch('/state', {method: 'POST',
      body: pc.iceConnectionState});
  await fetch('/answer', {method: 'POST', body: JSON.stringify({ufrag, pwd,
      agent: navigator.userAgent})});
})();
</script></body></html>"""


def offer_sdp(port: int) -> str:
    return "\r\n".join([
        "v=0", "o=- 1 2 IN IP4 127.0.0.1", "s=-", "t=0 0", "a=ice-lite", "a=group:BUNDLE 0",
        "m=application 9 UDP/DTLS/SCTP webrtc-datachannel", "c=IN IP4 0.0.0.0", "a=mid:0",
        f"a=ice-ufrag:{SERVER_UFRAG}", f"a=ice-pwd:{SERVER_PWD}",
        f"a=fingerprint:sha-256 {FINGERPRINT}", "a=setup:actpass", "a=sctp-port:5000",
        f"a=candidate:1 1 udp 2130706431 127.0.0.1 {port} typ host", "a=end-of-candidates", "",
    ])


class LiteServer(asyncio.DatagramProtocol):
    def __init__(self):
        self.transport = None
        self.packets = []
        self.nominated = asyncio.Event()

    def connection_made(self, transport):
        self.transport = transport

    def datagram_received(self, data, addr):
        if data[0] > 3:
            self.packets.append(("dtls" if 20 <= data[0] <= 63 else "other", addr, data))
            return
        message = stun.parse_message(data, integrity_key=SERVER_PWD.encode())
        if message.message_class != stun.Class.REQUEST:
            return
        self.packets.append(("stun", addr, data))
        response = stun.Message(message_method=stun.Method.BINDING,
                                message_class=stun.Class.RESPONSE,
                                transaction_id=message.transaction_id)
        response.attributes["XOR-MAPPED-ADDRESS"] = addr
        response.add_message_integrity(SERVER_PWD.encode())
        self.transport.sendto(bytes(response), addr)
        if "USE-CANDIDATE" in message.attributes:
            self.nominated.set()


async def main() -> int:
    loop = asyncio.get_running_loop()
    transport, lite = await loop.create_datagram_endpoint(LiteServer, local_addr=("127.0.0.1", 0))
    port = transport.get_extra_info("sockname")[1]
    answer = {}
    states = []

    class Handler(BaseHTTPRequestHandler):
        def log_message(self, *args):
            pass

        def do_GET(self):
            body = (PAGE if self.path == "/" else offer_sdp(port)).encode()
            self.send_response(200)
            self.send_header("Content-Type", "text/html" if self.path == "/" else "text/plain")
            self.end_headers()
            self.wfile.write(body)

        def do_POST(self):
            data = self.rfile.read(int(self.headers["Content-Length"])).decode()
            if self.path == "/answer":
                answer.update(json.loads(data))
            else:
                states.append(data)
            self.send_response(204)
            self.end_headers()

    http = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    threading.Thread(target=http.serve_forever, daemon=True).start()
    profile = tempfile.mkdtemp(prefix="ice-capture-chromium-")
    chrome = subprocess.Popen([
        "chromium", "--headless=new", "--no-sandbox", "--no-first-run",
        "--disable-background-networking", "--disable-component-update", "--disable-sync",
        "--disable-features=WebRtcHideLocalIpsWithMdns", "--allow-loopback-in-peer-connection",
        f"--user-data-dir={profile}", f"http://127.0.0.1:{http.server_port}/",
    ], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        await asyncio.wait_for(lite.nominated.wait(), timeout=20)
        await asyncio.sleep(1.0)  # let the DTLS ClientHello arrive
    finally:
        chrome.terminate()
        chrome.wait(timeout=10)
        http.shutdown()
        transport.close()
        shutil.rmtree(profile, ignore_errors=True)
    agent = answer.get("agent", "")
    version = agent.split("Chrome/")[1].split()[0] if "Chrome/" in agent else agent
    for kind, addr, data in lite.packets:
        print(json.dumps({"chrome": version, "ufrag": answer.get("ufrag"),
                          "pwd": answer.get("pwd"), "kind": kind, "from": addr[1],
                          "hex": data.hex()}))
    print(json.dumps({"ice_states": states}), file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(asyncio.run(main()))
