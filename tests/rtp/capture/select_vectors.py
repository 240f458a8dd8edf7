#!/usr/bin/python3
"""Pick test vectors out of a capture made by capture_webrtc.py and write them as C++ arrays.

    /usr/bin/python3 tests/rtp/capture/select_vectors.py /tmp/capture.jsonl

writes tests/rtp/captured_packets.h, tests/rtcp/captured_packets.h and the seed corpora in
fuzz/rtp/corpus/rtp and fuzz/rtcp/corpus/rtcp. Each packet is also parsed with aiortc's own
parsers (aiortc.rtp.RtpPacket / RtcpPacket) and with the small transport-cc decoder below, and
the summary printed, so that the expectations written in the tests come from an independent
implementation.
"""

import json
import os
import sys

from aiortc.rtp import RtcpPacket, RtpPacket

ROOT = os.path.normpath(os.path.join(os.path.dirname(__file__), "..", "..", ".."))


def rtcp_types(d):
    pos, out = 0, []
    while pos + 4 <= len(d):
        out.append((d[pos + 1], d[pos] & 0x1F))
        pos += 4 + 4 * int.from_bytes(d[pos + 2:pos + 4], "big")
    return tuple(out)


def vp8_descriptor(d):
    p = RtpPacket.parse(d).payload
    i, x = 1, p[1] if p[0] & 0x80 else 0
    i += 1 if p[0] & 0x80 else 0
    pid = tl0 = tid = None
    if x & 0x80:
        pid = ((p[i] & 0x7F) << 8 | p[i + 1]) if p[i] & 0x80 else p[i] & 0x7F
        i += 2 if p[i] & 0x80 else 1
    if x & 0x40:
        tl0 = p[i]
        i += 1
    if x & 0x30:
        tid = p[i] >> 6
        i += 1
    key = bool(p[0] & 0x10) and (p[0] & 0x0F) == 0 and not (p[i] & 1)
    return {"pid": pid, "tl0": tl0, "tid": tid, "key": key, "size": i}


def twcc_decode(d):
    """Independent transport-cc decoder: [(seq, delta_ticks or None)]."""
    body = d[4:len(d) - (d[-1] if d[0] & 0x20 else 0)]
    base = int.from_bytes(body[8:10], "big")
    count = int.from_bytes(body[10:12], "big")
    pos, symbols = 16, []
    while len(symbols) < count:
        c = int.from_bytes(body[pos:pos + 2], "big")
        pos += 2
        if not c & 0x8000:
            symbols += [(c >> 13) & 3] * (c & 0x1FFF)
        elif not c & 0x4000:
            symbols += [(c >> (13 - k)) & 1 for k in range(14)]
        else:
            symbols += [(c >> (12 - 2 * k)) & 3 for k in range(7)]
    out = []
    for k, s in enumerate(symbols[:count]):
        seq = (base + k) & 0xFFFF
        if s == 0:
            out.append((seq, None))
        elif s == 1:
            out.append((seq, body[pos]))
            pos += 1
        else:
            out.append((seq, int.from_bytes(body[pos:pos + 2], "big", signed=True)))
            pos += 2
    return out


def cpp_array(name, data, comment):
    lines = [f"// {comment}", f"inline constexpr uint8_t {name}[] = {{"]
    for i in range(0, len(data), 16):
        lines.append("    " + ", ".join(f"0x{b:02x}" for b in data[i:i + 16]) + ",")
    lines.append("};")
    return "\n".join(lines)


def select(packets):
    def find(pred, nth=0):
        hits = [bytes.fromhex(p["hex"]) for p in packets if pred(p, bytes.fromhex(p["hex"]))]
        return hits[nth]

    c2a = lambda p: p["dir"] == "chrome->aiortc"
    a2c = lambda p: p["dir"] == "aiortc->chrome"
    rtp = lambda p, d: p["kind"] == "rtp"
    rtcp = lambda p, d: p["kind"] == "rtcp"
    pt = lambda d: d[1] & 0x7F
    key = find(lambda p, d: c2a(p) and rtp(p, d) and pt(d) == 96 and vp8_descriptor(d)["key"])
    key_seq = RtpPacket.parse(key).sequence_number
    sel = {"rtp": [], "rtcp": []}
    sel["rtp"] += [
        ("kChromeOpus", "Chromium -> aiortc, Opus (PT 111), extensions audio-level/twcc/mid",
         find(lambda p, d: c2a(p) and rtp(p, d) and pt(d) == 111)),
        ("kChromeVp8Key", "Chromium -> aiortc, VP8 key frame, first packet (L1T3)", key),
        ("kChromeVp8Tid2", "Chromium -> aiortc, VP8 delta frame in temporal layer 2",
         find(lambda p, d: c2a(p) and rtp(p, d) and pt(d) == 96
              and vp8_descriptor(d)["tid"] == 2)),
        ("kChromeRtxOfKey", "Chromium -> aiortc, RTX (PT 97) retransmission of kChromeVp8Key",
         find(lambda p, d: c2a(p) and rtp(p, d) and pt(d) == 97 and not d[0] & 0x20
              and RtpPacket.parse(d).payload[:2] == key_seq.to_bytes(2, "big"))),
        ("kChromePaddingOnly", "Chromium -> aiortc, RTX padding-only probe (P bit, 255 bytes)",
         find(lambda p, d: c2a(p) and rtp(p, d) and d[0] & 0x20)),
        ("kAiortcVp8Key", "aiortc -> Chromium, VP8 key frame, 15-bit picture id",
         find(lambda p, d: a2c(p) and rtp(p, d) and vp8_descriptor(d)["key"])),
    ]
    t = lambda types: (lambda p, d: rtcp(p, d) and rtcp_types(d) == types)
    twcc = lambda p, d: c2a(p) and t(((205, 15),))(p, d)
    sel["rtcp"] += [
        ("kChromeSrSdes", "Chromium -> aiortc, SR + SDES(CNAME)",
         find(lambda p, d: c2a(p) and t(((200, 0), (202, 1)))(p, d))),
        ("kChromeRrNack", "Chromium -> aiortc, RR + generic NACK",
         find(lambda p, d: c2a(p) and rtcp(p, d) and (205, 1) in rtcp_types(d))),
        ("kChromeRrPli", "Chromium -> aiortc, RR + PLI",
         find(lambda p, d: c2a(p) and rtcp(p, d) and (206, 1) in rtcp_types(d))),
        ("kChromeTwccRun", "Chromium -> aiortc, transport-cc feedback, run-length chunk",
         find(lambda p, d: twcc(p, d) and not d[0] & 0x20)),
        ("kChromeTwccLoss", "Chromium -> aiortc, transport-cc feedback with lost packets",
         find(lambda p, d: twcc(p, d) and any(x is None for _, x in twcc_decode(d))
              and len(twcc_decode(d)) > 4)),
        ("kChromeTwccPadded", "Chromium -> aiortc, transport-cc feedback with P-bit padding",
         find(lambda p, d: twcc(p, d) and d[0] & 0x20 and len(twcc_decode(d)) > 2)),
        ("kAiortcSrSdes", "aiortc -> Chromium, SR + SDES(CNAME)",
         find(lambda p, d: a2c(p) and t(((200, 0), (202, 1)))(p, d))),
        ("kAiortcRr2", "aiortc -> Chromium, RR with two report blocks",
         find(lambda p, d: a2c(p) and t(((201, 2),))(p, d), 2)),
        ("kAiortcRemb", "aiortc -> Chromium, REMB",
         find(lambda p, d: a2c(p) and t(((206, 15),))(p, d))),
        ("kAiortcNack", "aiortc -> Chromium, generic NACK",
         find(lambda p, d: a2c(p) and t(((205, 1),))(p, d))),
        ("kAiortcBye", "aiortc -> Chromium, BYE",
         find(lambda p, d: a2c(p) and t(((203, 1),))(p, d))),
    ]
    return sel


def describe(kind, name, data):
    if kind == "rtp":
        p = RtpPacket.parse(data)
        extra = ""
        if p.payload_type == 96:
            extra = f" vp8={vp8_descriptor(data)}"
        if p.payload_type == 97 and len(p.payload) >= 2:
            extra = f" osn={int.from_bytes(p.payload[:2], 'big')}"
        print(f"{name}: len={len(data)} pt={p.payload_type} m={p.marker} "
              f"seq={p.sequence_number} ts={p.timestamp} ssrc={p.ssrc:#x} "
              f"payload={len(p.payload)} pad={p.padding_size}{extra}")
    else:
        print(f"{name}: len={len(data)} types={rtcp_types(data)}")
        if rtcp_types(data) == ((205, 15),):  # aiortc does not parse transport-cc
            print("    twcc:", twcc_decode(data))
            return
        for pkt in RtcpPacket.parse(data):
            print("   ", pkt)


HEADER = """// Real packets, captured from a Chromium <-> aiortc call over loopback (decrypted).
// Made with tests/rtp/capture/capture_webrtc.py and picked by select_vectors.py (see there).
// Generated file: do not edit by hand.
#pragma once

#include <cstdint>

namespace conclave::testdata {{

{body}

}}  // namespace conclave::testdata
"""


def main():
    packets = [json.loads(line) for line in open(sys.argv[1])]
    sel = select(packets)
    for kind, folder in (("rtp", "tests/rtp"), ("rtcp", "tests/rtcp")):
        arrays = []
        for name, comment, data in sel[kind]:
            describe(kind, name, data)
            arrays.append(cpp_array(name, data, comment))
        with open(os.path.join(ROOT, folder, "captured_packets.h"), "w") as f:
            f.write(HEADER.format(body="\n\n".join(arrays)))
        corpus = os.path.join(ROOT, "fuzz", kind, "corpus", kind)
        os.makedirs(corpus, exist_ok=True)
        for name, _, data in sel[kind]:
            with open(os.path.join(corpus, name[1:].lower() + ".bin"), "wb") as f:
                f.write(data)


if __name__ == "__main__":
    main()
