#!/usr/bin/python3
"""A DTLS-SRTP peer built from aiortc's own RTCDtlsTransport, for dtls_interop_test.

Usage: aiortc_peer.py ROLE CONCLAVE_PORT CONCLAVE_FINGERPRINT   (ROLE: client | server)

Prints PORT and FINGERPRINT, runs the DTLS handshake with the Conclave side on 127.0.0.1, sends one
SRTP packet, one SRTCP packet and one data record (SENT_RTP / SENT_RTCP lines give their plaintext),
waits for the same from Conclave (GOT_RTP / GOT_RTCP / GOT_DATA lines), then closes with
close_notify. Loopback only.
"""
import asyncio
import sys

try:
    from aiortc.rtcdtlstransport import (
        RTCCertificate,
        RTCDtlsFingerprint,
        RTCDtlsParameters,
        RTCDtlsTransport,
    )
except ImportError as exc:  # pragma: no cover
    print(f"SKIP aiortc unavailable: {exc}")
    print("FINGERPRINT none", flush=True)
    sys.exit(0)


class UdpIce(asyncio.DatagramProtocol):
    """The two methods RTCDtlsTransport uses of an RTCIceTransport, over a UDP socket."""

    role = "controlled"

    def __init__(self, peer_port):
        self.peer = ("127.0.0.1", peer_port)
        self.queue = asyncio.Queue()
        self.transport = None

    def connection_made(self, transport):
        self.transport = transport

    def datagram_received(self, data, addr):
        self.queue.put_nowait(data)

    async def _recv(self):
        return await self.queue.get()

    async def _send(self, data):
        self.transport.sendto(data, self.peer)


def hexs(data):
    return data.hex().upper()


async def main(role, peer_port, peer_fingerprint):
    loop = asyncio.get_running_loop()
    _, ice = await loop.create_datagram_endpoint(
        lambda: UdpIce(peer_port), local_addr=("127.0.0.1", 0)
    )
    certificate = RTCCertificate.generateCertificate()
    dtls = RTCDtlsTransport(ice, [certificate])
    dtls._set_role(role)
    print("PORT", ice.transport.get_extra_info("sockname")[1])
    print("FINGERPRINT", certificate.getFingerprints()[0].value, flush=True)

    got = {}
    done = asyncio.Event()

    def record(kind, data):
        got.setdefault(kind, data)
        print(f"GOT_{kind}", hexs(data), flush=True)
        if len(got) == 3:
            done.set()

    class DataReceiver:
        async def _handle_data(self, data):
            record("DATA", data)

    async def on_rtp(data, arrival_time_ms):
        record("RTP", data)

    async def on_rtcp(data):
        record("RTCP", data)

    dtls._register_data_receiver(DataReceiver())
    dtls._handle_rtp_data = on_rtp
    dtls._handle_rtcp_data = on_rtcp

    params = RTCDtlsParameters(fingerprints=[RTCDtlsFingerprint("sha-256", peer_fingerprint)])
    await asyncio.wait_for(dtls.start(params), timeout=10)
    print("STATE", dtls.state, flush=True)
    if dtls.state != "connected":
        return 1

    rtp = bytes([0x80, 0x60, 0x00, 0x07, 0x00, 0x00, 0x30, 0x39, 0x11, 0x22, 0x33, 0x44])
    rtp += bytes(range(100))
    rtcp = bytes([0x81, 0xC9, 0x00, 0x07, 0x11, 0x22, 0x33, 0x44, 0xCA, 0xFE, 0xBA, 0xBE])
    rtcp += bytes(20)
    print("SENT_RTP", hexs(rtp))
    print("SENT_RTCP", hexs(rtcp), flush=True)
    await dtls._send_rtp(rtp)
    await dtls._send_rtp(rtcp)
    await dtls._send_data(b"hello from aiortc")

    try:
        await asyncio.wait_for(done.wait(), timeout=10)
    except asyncio.TimeoutError:
        print("TIMEOUT waiting for", {"RTP", "RTCP", "DATA"} - set(got), flush=True)
        return 1
    await dtls.stop()
    print("DONE", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(asyncio.run(main(sys.argv[1], int(sys.argv[2]), sys.argv[3])))
