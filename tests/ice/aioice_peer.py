#!/usr/bin/python3
"""An independent STUN/ICE peer for Conclave's ICE-lite tests, built on aioice (python3-aiortc).

Modes:
  capture    Print Binding requests built by aioice's STUN code (hex, one per line) with the
             fixed credentials below; tests/ice/ice_server_test.cpp embeds the output.
  verify HEX Parse a response with aioice, checking MESSAGE-INTEGRITY with the server password
             and FINGERPRINT; print its attributes.
  interop --port N
             Run a real aioice Connection (full agent, controlling) against an ICE-lite agent
             listening on 127.0.0.1:N, then send one datagram over the nominated pair. Prints one
             JSON line: {"connected": bool, "local": [host, port], "verified": n, "failed": n}.
             Used by tests/ice/ice_interop_test.cpp. Only 127.0.0.1 is ever used.
"""
import asyncio
import hashlib
import hmac
import json
import struct
import sys
from collections import OrderedDict

import aioice
import aioice.ice
from aioice import stun

# Fixed credentials shared with the C++ tests (all ice-chars, RFC 8839 §5.4).
SERVER_UFRAG = "cnclvSrv"
SERVER_PWD = "cnclvServerPassword01234"
CLIENT_UFRAG = "aioiCli1"
CLIENT_PWD = "aioiceClientPassword0123"
TRANSACTION_ID = bytes.fromhex("0102030405060708090a0b0c")
TIE_BREAKER = 0x1122334455667788
PRIORITY = 0x6E7F1EFF


def _check_request() -> stun.Message:
    """A Binding request with the attributes of every check, not yet signed."""
    request = stun.Message(
        message_method=stun.Method.BINDING,
        message_class=stun.Class.REQUEST,
        transaction_id=TRANSACTION_ID,
    )
    request.attributes["USERNAME"] = f"{SERVER_UFRAG}:{CLIENT_UFRAG}"
    request.attributes["PRIORITY"] = PRIORITY
    request.attributes["ICE-CONTROLLING"] = TIE_BREAKER
    return request


def binding_request(use_candidate: bool) -> bytes:
    """A check as aioice's Connection.build_request() makes it (controlling side)."""
    request = _check_request()
    if use_candidate:
        request.attributes["USE-CANDIDATE"] = None
    request.add_message_integrity(SERVER_PWD.encode("utf8"))  # adds MI, then FINGERPRINT
    return bytes(request)


def binding_request_sha256() -> bytes:
    """Same check signed with MESSAGE-INTEGRITY-SHA256 (RFC 8489 §14.6) instead of MI.

    aioice has no MESSAGE-INTEGRITY-SHA256, so the attribute is computed here with Python's hmac
    module, following the RFC's rule: HMAC-SHA256 over the message up to the attribute, with the
    header length already counting the attribute (4 + 32 bytes).
    """
    request = _check_request()
    data = bytes(request)
    mac_input = stun.set_body_length(data, len(data) - stun.HEADER_LENGTH + 4 + 32)
    mac = hmac.new(SERVER_PWD.encode("utf8"), mac_input, hashlib.sha256).digest()
    data = stun.set_body_length(data + struct.pack("!HH", 0x001C, 32) + mac, len(data) - 20 + 36)
    fingerprint = stun.message_fingerprint(data)
    data = stun.set_body_length(data, len(data) - 20 + 8) + struct.pack("!HHI", 0x8028, 4, fingerprint)
    return data


def capture() -> None:
    print(binding_request(use_candidate=False).hex())
    print(binding_request(use_candidate=True).hex())
    print(binding_request_sha256().hex())


def verify(hex_bytes: str) -> None:
    message = stun.parse_message(bytes.fromhex(hex_bytes), integrity_key=SERVER_PWD.encode("utf8"))
    print(message)
    for name, value in message.attributes.items():
        print(f"  {name}: {value!r}")


async def interop(port: int) -> dict:
    # Host candidates on loopback only: no other address is ever used.
    aioice.ice.get_host_addresses = lambda use_ipv4, use_ipv6: ["127.0.0.1"]
    counts = {"verified": 0, "failed": 0}
    original = aioice.ice.StunProtocol.datagram_received

    def checked_datagram_received(self, data, addr):
        # Check every STUN response of the ICE-lite agent with the server password.
        try:
            message = stun.parse_message(data)
            if message.message_class in (stun.Class.RESPONSE, stun.Class.ERROR):
                try:
                    stun.parse_message(data, integrity_key=SERVER_PWD.encode("utf8"))
                    ok = "MESSAGE-INTEGRITY" in message.attributes and "FINGERPRINT" in message.attributes
                    counts["verified" if ok else "failed"] += 1
                except ValueError:
                    counts["failed"] += 1
        except ValueError:
            pass
        return original(self, data, addr)

    aioice.ice.StunProtocol.datagram_received = checked_datagram_received

    connection = aioice.Connection(ice_controlling=True, use_ipv6=False)
    connection.local_username = CLIENT_UFRAG
    connection.local_password = CLIENT_PWD
    connection.remote_username = SERVER_UFRAG
    connection.remote_password = SERVER_PWD
    connection.remote_is_lite = True
    await connection.gather_candidates()
    await connection.add_remote_candidate(
        aioice.Candidate(
            foundation="1", component=1, transport="udp", priority=2130706431,
            host="127.0.0.1", port=port, type="host",
        )
    )
    await connection.add_remote_candidate(None)
    result = {"connected": False, "local": None}
    try:
        await asyncio.wait_for(connection.connect(), timeout=10)
        result["connected"] = True
        local = connection.local_candidates[0]
        result["local"] = [local.host, local.port]
        await connection.send(b"hello from aioice")
        await asyncio.sleep(0.2)
    finally:
        await connection.close()
    result.update(counts)
    return result


def main() -> int:
    if len(sys.argv) >= 2 and sys.argv[1] == "capture":
        capture()
        return 0
    if len(sys.argv) == 3 and sys.argv[1] == "verify":
        verify(sys.argv[2])
        return 0
    if len(sys.argv) == 4 and sys.argv[1] == "interop" and sys.argv[2] == "--port":
        result = asyncio.run(interop(int(sys.argv[3])))
        print(json.dumps(result), flush=True)
        return 0 if result["connected"] else 1
    print(__doc__, file=sys.stderr)
    return 2


if __name__ == "__main__":
    sys.exit(main())
