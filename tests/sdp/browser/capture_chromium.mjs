// Captures real offers from the local Chromium into tests/sdp/data/ (see data/README.md).
// Usage: node tests/sdp/browser/capture_chromium.mjs [outDir]
// Nothing leaves the machine: no ICE servers, createOffer only (no candidate gathering).
import { writeFileSync } from 'node:fs';
import { join, dirname } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Browser } from './cdp.mjs';

const outDir = process.argv[2] || join(dirname(fileURLToPath(import.meta.url)), '..', 'data');

// The brief's recipe: trackless transceivers, three RID simulcast layers on video.
const SIMULCAST = `(async () => {
  const pc = new RTCPeerConnection();
  pc.addTransceiver('audio');
  pc.addTransceiver('video', { sendEncodings: [{ rid: 'h' },
    { rid: 'm', scaleResolutionDownBy: 2 }, { rid: 'l', scaleResolutionDownBy: 4 }] });
  const offer = await pc.createOffer();
  pc.close();
  return offer.sdp;
})()`;

// A publisher as the Conclave client makes it: fake camera and microphone, sendonly, one stream,
// no simulcast (so Chromium writes ssrc-group FID), plus a data channel the server will reject.
const PUBLISH = `(async () => {
  const stream = await navigator.mediaDevices.getUserMedia({ audio: true, video: true });
  const pc = new RTCPeerConnection();
  for (const track of stream.getTracks())
    pc.addTransceiver(track, { direction: 'sendonly', streams: [stream] });
  pc.createDataChannel('chat');
  const offer = await pc.createOffer();
  pc.close();
  stream.getTracks().forEach((t) => t.stop());
  return offer.sdp;
})()`;

const browser = await Browser.launch();
try {
  const version = (await browser.send('Browser.getVersion', {}, null)).product;
  for (const [name, script] of [['simulcast', SIMULCAST], ['publish', PUBLISH]]) {
    const sdp = await browser.evaluate(script);
    const file = join(outDir, `chromium-offer-${name}.sdp`);
    writeFileSync(file, sdp);
    console.log(`${version}: wrote ${file} (${sdp.length} bytes)`);
  }
} finally {
  await browser.close();
}
