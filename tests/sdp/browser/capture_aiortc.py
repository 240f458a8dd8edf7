#!/usr/bin/python3
"""Captures a real offer from aiortc into tests/sdp/data/ (see data/README.md).

Usage: /usr/bin/python3 tests/sdp/browser/capture_aiortc.py [outDir]
iceServers=[] keeps aiortc from asking its default public STUN server: it only lists the host's
own addresses (gathering binds sockets but sends nothing).
"""
import asyncio
import os
import sys

import aiortc
from aiortc import RTCConfiguration, RTCPeerConnection
from aiortc.mediastreams import AudioStreamTrack, VideoStreamTrack


async def main(out_dir: str) -> None:
    pc = RTCPeerConnection(RTCConfiguration(iceServers=[]))
    pc.addTransceiver(AudioStreamTrack(), direction="sendonly")
    pc.addTransceiver(VideoStreamTrack(), direction="sendonly")
    offer = await pc.createOffer()
    await pc.setLocalDescription(offer)  # gathers host candidates into localDescription
    path = os.path.join(out_dir, "aiortc-offer.sdp")
    with open(path, "w", newline="") as f:
        f.write(pc.localDescription.sdp)
    print(f"aiortc {aiortc.__version__}: wrote {path}")
    await pc.close()


if __name__ == "__main__":
    here = os.path.dirname(os.path.abspath(__file__))
    asyncio.run(main(sys.argv[1] if len(sys.argv) > 1 else os.path.join(here, "..", "data")))
