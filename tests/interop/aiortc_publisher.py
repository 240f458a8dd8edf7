#!/usr/bin/python3
"""An aiortc (python3-aiortc) participant for the Conclave interop test.

Joins a room over the signaling WebSocket and either publishes a synthetic sine (audio) and a
moving test pattern (video), or subscribes and counts the frames it decodes. Progress goes to
stdout as one JSON object per line, so that aiortc_to_chromium.mjs can follow it:

  {"event": "joined", "participantId": "..."}
  {"event": "published"}                         (publish mode)
  {"event": "subscribed", "tracks": 2}           (subscribe mode, after each answer)
  {"event": "stats", ...}                        (once a second)
  {"event": "done", ...}                         (at the end)
  {"event": "error", "message": "..."}           (then exit 1)

Exit codes: 0 done, 1 failure, 77 a Python module is missing (the test is skipped).

Usage: aiortc_publisher.py --url=https://localhost:PORT --room=ROOMID
                           [--mode publish|subscribe] [--duration SECONDS]
"""

import argparse
import asyncio
import fractions
import json
import math
import ssl
import sys
import time

try:
    import numpy
    import websockets
    from aiortc import MediaStreamTrack, RTCPeerConnection, RTCSessionDescription
    from aiortc.mediastreams import MediaStreamError, VideoStreamTrack
    from av import AudioFrame, VideoFrame
except ImportError as missing:  # the ctest wrapper maps 77 to "skipped"
    print(json.dumps({"event": "error", "message": f"missing module: {missing}"}), flush=True)
    sys.exit(77)

AUDIO_RATE = 48000
AUDIO_PTIME = 0.020
VIDEO_WIDTH = 320
VIDEO_HEIGHT = 240


def emit(event, **fields):
    print(json.dumps({"event": event, **fields}), flush=True)


class SineTrack(MediaStreamTrack):
    """A 440 Hz sine, 20 ms mono s16 frames at 48 kHz, paced in real time."""

    kind = "audio"

    def __init__(self):
        super().__init__()
        self._start = None
        self._pts = 0
        self.frames_sent = 0

    async def recv(self):
        if self.readyState != "live":
            raise MediaStreamError
        samples = int(AUDIO_PTIME * AUDIO_RATE)
        if self._start is None:
            self._start = time.time()
        else:
            self._pts += samples
            await asyncio.sleep(self._start + self._pts / AUDIO_RATE - time.time())
        t = (numpy.arange(samples) + self._pts) / AUDIO_RATE
        pcm = (numpy.sin(2 * math.pi * 440 * t) * 8000).astype(numpy.int16)
        frame = AudioFrame.from_ndarray(pcm.reshape(1, -1), format="s16", layout="mono")
        frame.pts = self._pts
        frame.sample_rate = AUDIO_RATE
        frame.time_base = fractions.Fraction(1, AUDIO_RATE)
        self.frames_sent += 1
        return frame


class MovingBarsTrack(VideoStreamTrack):
    """Colour bars that scroll one step per frame, so that every VP8 frame differs."""

    def __init__(self):
        super().__init__()
        x = numpy.arange(VIDEO_WIDTH)
        self._bars = numpy.zeros((VIDEO_HEIGHT, VIDEO_WIDTH, 3), numpy.uint8)
        for channel, period in enumerate((40, 64, 96)):
            self._bars[:, :, channel] = ((x // period) % 2 * 200 + 30).astype(numpy.uint8)
        self.frames_sent = 0

    async def recv(self):
        pts, time_base = await self.next_timestamp()
        image = numpy.roll(self._bars, shift=(self.frames_sent * 4) % VIDEO_WIDTH, axis=1)
        frame = VideoFrame.from_ndarray(image, format="bgr24")
        frame.pts = pts
        frame.time_base = time_base
        self.frames_sent += 1
        return frame


class Signaling:
    """Request/reply over the Conclave signaling WebSocket (docs/protocol.md)."""

    def __init__(self, ws):
        self._ws = ws
        self._next_id = 1
        self._waiting = {}
        self.offers = asyncio.Queue()

    async def request(self, message):
        message["id"] = self._next_id
        self._next_id += 1
        reply = asyncio.get_running_loop().create_future()
        self._waiting[message["id"]] = reply
        await self._ws.send(json.dumps(message))
        answer = await asyncio.wait_for(reply, 10)
        if answer.get("type") == "error":
            raise RuntimeError(f"{message['type']} refused: {answer.get('code')} {answer.get('message')}")
        return answer

    async def run(self):
        async for text in self._ws:
            message = json.loads(text)
            waiter = self._waiting.pop(message.get("id"), None)
            if waiter is not None and not waiter.done():
                waiter.set_result(message)
            elif message.get("type") == "subscribe-offer":
                self.offers.put_nowait(message)
            elif message.get("type") == "error":
                emit("server-error", code=message.get("code"), message=message.get("message"))


async def publish(signaling, duration):
    pc = RTCPeerConnection()
    audio, video = SineTrack(), MovingBarsTrack()
    # aiortc offers sendrecv unless told otherwise; a publish connection only sends.
    transceivers = [pc.addTransceiver(audio, direction="sendonly"),
                    pc.addTransceiver(video, direction="sendonly")]
    await pc.setLocalDescription(await pc.createOffer())
    tracks = [{"mid": t.mid, "source": "microphone" if t.kind == "audio" else "camera"}
              for t in transceivers]
    reply = await signaling.request({"type": "publish", "sdp": pc.localDescription.sdp,
                                     "tracks": tracks})
    await pc.setRemoteDescription(RTCSessionDescription(sdp=reply["sdp"], type="answer"))
    emit("published", mids=[t.mid for t in transceivers])

    async def sent_stats():
        out = {}
        for report in (await pc.getStats()).values():
            if report.type == "outbound-rtp":
                out[report.kind] = report.packetsSent
        return out

    try:
        for _ in range(int(duration)):
            await asyncio.sleep(1)
            emit("stats", connection=pc.connectionState, packetsSent=await sent_stats(),
                 audioFrames=audio.frames_sent, videoFrames=video.frames_sent)
        emit("done", connection=pc.connectionState, packetsSent=await sent_stats(),
             audioFrames=audio.frames_sent, videoFrames=video.frames_sent)
    finally:
        await pc.close()


async def subscribe(signaling, duration):
    pc = RTCPeerConnection()
    received = {"audio": 0, "video": 0}
    readers = []

    async def read(track):
        try:
            while True:
                await track.recv()
                received[track.kind] += 1
        except MediaStreamError:
            pass

    @pc.on("track")
    def on_track(track):
        readers.append(asyncio.ensure_future(read(track)))

    async def answer_offers():
        while True:
            offer = await signaling.offers.get()
            await pc.setRemoteDescription(RTCSessionDescription(sdp=offer["sdp"], type="offer"))
            await pc.setLocalDescription(await pc.createAnswer())
            await signaling.request({"type": "subscribe-answer", "sdp": pc.localDescription.sdp})
            emit("subscribed", tracks=len(offer.get("tracks", [])))

    answering = asyncio.ensure_future(answer_offers())
    try:
        for _ in range(int(duration)):
            await asyncio.sleep(1)
            if answering.done():
                answering.result()  # raises the negotiation failure
            emit("stats", connection=pc.connectionState, framesReceived=dict(received))
        emit("done", connection=pc.connectionState, framesReceived=dict(received))
    finally:
        answering.cancel()
        for reader in readers:
            reader.cancel()
        await pc.close()


async def main(args):
    host = args.url.split("://", 1)[1].rstrip("/")
    context = ssl.create_default_context()
    context.check_hostname = False  # loopback test server with a self-signed certificate
    context.verify_mode = ssl.CERT_NONE
    async with websockets.connect(f"wss://{host}/ws", ssl=context, origin=f"https://{host}",
                                  max_size=1 << 20) as ws:
        signaling = Signaling(ws)
        reading = asyncio.ensure_future(signaling.run())
        try:
            await signaling.request({"type": "hello", "version": 1, "client": "aiortc-interop"})
            joined = await signaling.request({"type": "join", "roomId": args.room,
                                              "profile": args.profile})
            emit("joined", participantId=joined["participantId"])
            if args.mode == "publish":
                await publish(signaling, args.duration)
            else:
                await subscribe(signaling, args.duration)
        finally:
            reading.cancel()


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--url", required=True, help="https://localhost:PORT")
    parser.add_argument("--room", required=True)
    parser.add_argument("--mode", choices=("publish", "subscribe"), default="publish")
    parser.add_argument("--duration", type=float, default=20)
    parser.add_argument("--profile", default="aiortc")
    try:
        asyncio.run(main(parser.parse_args()))
    except Exception as failure:  # reported as one line for the driver script
        emit("error", message=f"{type(failure).__name__}: {failure}")
        sys.exit(1)
