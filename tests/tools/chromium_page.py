"""Headless Chromium as a WebRTC offerer on loopback, answered from Python (aiortc).

Shared by tests/dtls/chromium_peer.py (the ctest dtls_browser_tests) and the capture tools
tests/dtls/capture/capture_chromium_dtls.py and tests/rtp/capture/capture_webrtc.py, which import
it through a sys.path entry relative to their own file.

    gather_loopback_only()
    page = offer_page("const pc = new RTCPeerConnection(); pc.addTransceiver('audio');")
    async with chromium_on_page(page, answer_fn):   # answer_fn: async (offer_sdp) -> answer_sdp
        await asyncio.sleep(5)

offer_page() wraps a script that sets up an RTCPeerConnection named `pc`: the page then creates
the offer, waits for ICE gathering, keeps only the UDP host candidates on 127.0.0.1, POSTs the
offer to /offer and applies the answer it gets back. chromium_on_page() serves that page on
127.0.0.1 and opens it in headless Chromium (`chromium` on PATH: /usr/bin/chromium) with fake
camera and microphone and a throw-away profile; Chromium dies with this process. Loopback only.
"""
import asyncio
import contextlib
import ctypes
import shutil
import signal
import subprocess
import tempfile
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import aioice.ice

CHROMIUM = "chromium"

_OFFER_AND_ANSWER_JS = """
  await pc.setLocalDescription(await pc.createOffer());
  await new Promise((r) => { if (pc.iceGatheringState === 'complete') r();
      pc.onicegatheringstatechange = () => pc.iceGatheringState === 'complete' && r(); });
  // Loopback only: keep only UDP host candidates on 127.0.0.1.
  const sdp = pc.localDescription.sdp.split('\\r\\n').filter((l) => !l.startsWith('a=candidate')
      || (l.includes(' 127.0.0.1 ') && l.includes(' udp '))).join('\\r\\n');
  const res = await fetch('/offer', {method: 'POST', body: sdp});
  await pc.setRemoteDescription({type: 'answer', sdp: await res.text()});
"""


def gather_loopback_only():
    """Makes aioice (and so aiortc) gather only the 127.0.0.1 host candidate."""
    aioice.ice.get_host_addresses = lambda use_ipv4, use_ipv6: ["127.0.0.1"]


def keep_loopback_candidates(sdp):
    """The SDP without its a=candidate lines other than those on 127.0.0.1."""
    return "\r\n".join(line for line in sdp.split("\r\n")
                       if not line.startswith("a=candidate") or " 127.0.0.1 " in line)


def offer_page(setup_js):
    """The page: setup_js (which must define `pc`), then offer, loopback filter and answer."""
    return ("<!doctype html><html><body><script>\n(async () => {\n" + setup_js.strip("\n") + "\n"
            + _OFFER_AND_ANSWER_JS.lstrip("\n") + "})();\n</script></body></html>")


def _die_with_parent():
    # Chromium must not outlive this script, even if the test kills it.
    ctypes.CDLL("libc.so.6").prctl(1, signal.SIGTERM)  # PR_SET_PDEATHSIG


def _handler_class(page, answer_fn, loop):
    body = page.encode()

    class Handler(BaseHTTPRequestHandler):
        def log_message(self, *args):
            pass

        def _reply(self, content_type, data):
            self.send_response(200)
            self.send_header("Content-Type", content_type)
            self.end_headers()
            self.wfile.write(data)

        def do_GET(self):
            self._reply("text/html", body)

        def do_POST(self):
            offer = self.rfile.read(int(self.headers["Content-Length"])).decode()
            fut = asyncio.run_coroutine_threadsafe(answer_fn(offer), loop)
            self._reply("text/plain", fut.result(timeout=20).encode())

    return Handler


@contextlib.asynccontextmanager
async def chromium_on_page(page, answer_fn, profile_prefix="conclave-chromium-"):
    """Serves `page` on 127.0.0.1 and keeps headless Chromium on it while the block runs.

    answer_fn(offer_sdp) is awaited on the running loop for every POST to /offer and returns the
    answer SDP. Yields the Chromium subprocess.Popen.
    """
    handler = _handler_class(page, answer_fn, asyncio.get_running_loop())
    server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    profile = tempfile.mkdtemp(prefix=profile_prefix)
    chrome = None
    try:
        chrome = subprocess.Popen([
            CHROMIUM, "--headless=new", "--no-sandbox", "--use-fake-device-for-media-stream",
            "--use-fake-ui-for-media-stream", "--allow-loopback-in-peer-connection",
            "--disable-features=WebRtcHideLocalIpsWithMdns", f"--user-data-dir={profile}",
            "--no-first-run", f"http://127.0.0.1:{server.server_port}/"],
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, preexec_fn=_die_with_parent)
        yield chrome
    finally:
        if chrome is not None:
            chrome.terminate()
            chrome.wait(timeout=10)
        server.shutdown()
        server.server_close()
        shutil.rmtree(profile, ignore_errors=True)
