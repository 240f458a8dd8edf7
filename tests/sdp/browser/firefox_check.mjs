// Firefox must accept the server's answers and offers, and the server Firefox's offers and answers.
//
// Usage: node tests/sdp/browser/firefox_check.mjs <path to sdp_tool> [--capture <dataDir>]
// Registered with ctest as `sdp_firefox_check` (label `browser`); exits 77 (skipped) when
// Firefox (/usr/bin/firefox-esr, or $FIREFOX) or web/node_modules/puppeteer-core is missing.
// Firefox is driven over WebDriver BiDi (puppeteer-core talks to it on a loopback port). Nothing
// else touches the network: the page is a file:// page, the RTCPeerConnections use
// iceTransportPolicy 'relay' with no ICE servers, so no candidates are gathered.
//
// PUBLISH: Firefox offers as the Conclave client does (fake camera + microphone, sendonly,
// setCodecPreferences() down to Opus and VP8/RTX: Firefox then keeps rtcp-fb lines of the codecs
// it dropped); sdp_tool answers; Firefox must take the answer, audio and video sendonly.
// SUBSCRIBE: sdp_tool offers Opus + VP8/RTX; Firefox answers; sdp_tool checks the answer.
import { spawn } from "node:child_process";
import { existsSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { createRequire } from "node:module";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { createInterface } from "node:readline";
import { fileURLToPath, pathToFileURL } from "node:url";

const here = dirname(fileURLToPath(import.meta.url));
const toolPath = process.argv[2];
const captureIndex = process.argv.indexOf("--capture");
const captureDir = captureIndex > 0 ? process.argv[captureIndex + 1] : null;
const firefox = process.env.FIREFOX || "/usr/bin/firefox-esr";
if (!toolPath) {
  console.error("usage: firefox_check.mjs <sdp_tool> [--capture <dir>]");
  process.exit(2);
}
if (!existsSync(firefox)) {
  console.log(`SKIP: ${firefox} not found`);
  process.exit(77);
}
let puppeteer;
try {
  const webRequire = createRequire(
    join(here, "..", "..", "..", "web", "package.json"),
  );
  puppeteer = (
    await import(pathToFileURL(webRequire.resolve("puppeteer-core")).href)
  ).default;
} catch {
  console.log("SKIP: puppeteer-core not installed (cd web && npm ci)");
  process.exit(77);
}

// ---- sdp_tool, one JSON request per line ---------------------------------------------------
const tool = spawn(toolPath, [], { stdio: ["pipe", "pipe", "inherit"] });
const replies = createInterface({ input: tool.stdout });
const waiting = [];
replies.on("line", (line) => waiting.shift()(JSON.parse(line)));
function request(message) {
  return new Promise((resolve) => {
    waiting.push(resolve);
    tool.stdin.write(JSON.stringify(message) + "\n");
  });
}
async function must(message) {
  const reply = await request(message);
  if (!reply.ok)
    throw new Error(`sdp_tool ${message.cmd}: ${JSON.stringify(reply)}`);
  return reply;
}

let failures = 0;
function check(condition, what) {
  console.log(`${condition ? "ok  " : "FAIL"} ${what}`);
  if (!condition) failures++;
}

// ---- the page ------------------------------------------------------------------------------
const PAGE_SETUP = `(() => {
  window.pcs = {};
  window.tracks = [];
  window.newPc = (name) => {
    const pc = new RTCPeerConnection({ iceTransportPolicy: 'relay', iceServers: [] });
    pc.ontrack = (e) => window.tracks.push({ mid: e.transceiver.mid, kind: e.track.kind });
    window.pcs[name] = pc;
    return pc;
  };
  window.describe = (pc) => pc.getTransceivers().map((t) => ({ mid: t.mid,
    kind: t.receiver.track.kind, direction: t.direction, current: t.currentDirection }));
  return true;
})()`;

// As web/src/media/codecs.ts supportedCodecs() + call.ts setTrack() do it.
const PUBLISH_OFFER = `(async () => {
  const stream = await navigator.mediaDevices.getUserMedia({ audio: true, video: true });
  const pc = newPc('publish');
  for (const track of stream.getTracks()) {
    const transceiver = pc.addTransceiver(track, { direction: 'sendonly', streams: [stream] });
    const keep = track.kind === 'audio' ? ['audio/opus'] : ['video/vp8', 'video/rtx'];
    transceiver.setCodecPreferences(RTCRtpSender.getCapabilities(track.kind).codecs
      .filter((c) => keep.includes(c.mimeType.toLowerCase())));
  }
  const offer = await pc.createOffer();
  await pc.setLocalDescription(offer);
  return offer.sdp;
})()`;

async function publishChecks(page) {
  const offer = await page.evaluate(PUBLISH_OFFER);
  if (captureDir)
    writeFileSync(join(captureDir, "firefox-offer-publish.sdp"), offer);
  const unlisted = offer.split("\r\n").some((line) => {
    const match = /^a=rtcp-fb:(\d+) /.exec(line);
    return (
      match &&
      !offer
        .split("\r\n")
        .find((l) => l.startsWith("m=video"))
        ?.split(" ")
        .slice(3)
        .includes(match[1])
    );
  });
  check(
    unlisted,
    "publish: Firefox offers rtcp-fb lines for payload types not on the m= line",
  );
  const answer = await request({ cmd: "answer", sdp: offer });
  check(
    answer.ok,
    `publish: server answers Firefox's offer${answer.ok ? "" : ` (${JSON.stringify(answer)})`}`,
  );
  if (!answer.ok) return;
  check(
    answer.media.map((m) => m.accepted).join() === "true,true",
    "publish: server accepts audio + video",
  );
  const taken =
    await page.evaluate(`pcs.publish.setRemoteDescription({ type: 'answer',
    sdp: ${JSON.stringify(answer.sdp)} }).then(() => 'ok', (e) => String(e))`);
  check(
    taken === "ok",
    `publish: Firefox takes the server's answer (${taken})`,
  );
  const state = await page.evaluate("describe(pcs.publish)");
  check(
    state.length === 2 && state.every((t) => t.current === "sendonly"),
    "publish: audio and video sendonly",
  );
}

async function subscribeChecks(page) {
  await page.evaluate(`(newPc('subscribe'), true)`);
  const audio = await must({ cmd: "add", kind: "audio" });
  const video = await must({ cmd: "add", kind: "video" });
  const offer = await must({ cmd: "offer" });
  const answer = await page.evaluate(`(async () => {
    const pc = pcs.subscribe;
    await pc.setRemoteDescription({ type: 'offer', sdp: ${JSON.stringify(offer.sdp)} });
    const answer = await pc.createAnswer();
    await pc.setLocalDescription(answer);
    return answer.sdp;
  })()`);
  if (captureDir)
    writeFileSync(join(captureDir, "firefox-answer-subscribe.sdp"), answer);
  const applied = await request({ cmd: "apply-answer", sdp: answer });
  check(
    applied.ok,
    `subscribe: server accepts Firefox's answer${applied.ok ? "" : ` (${JSON.stringify(applied)})`}`,
  );
  check(
    applied.ok &&
      applied.media.every((m) => m.accepted && m.direction === "recvonly"),
    "subscribe: Firefox answers recvonly everywhere",
  );
  check(
    applied.ok && applied.media[1].codecs.join() === "VP8,rtx",
    "subscribe: Firefox accepts VP8 + rtx",
  );
  const state = await page.evaluate("describe(pcs.subscribe)");
  check(
    state.map((t) => `${t.mid}:${t.kind}:${t.current}`).join() ===
      `${audio.mid}:audio:recvonly,${video.mid}:video:recvonly`,
    "subscribe: audio + video recvonly in Firefox",
  );
}

const profile = mkdtempSync(join(tmpdir(), "conclave-sdp-firefox-"));
const browser = await puppeteer.launch({
  browser: "firefox",
  protocol: "webDriverBiDi",
  executablePath: firefox,
  headless: true,
  extraPrefsFirefox: {
    "media.navigator.streams.fake": true,
    "media.navigator.permission.disabled": true,
  },
});
try {
  const page = await browser.newPage();
  writeFileSync(
    join(profile, "index.html"),
    "<!doctype html><title>sdp check</title>",
  );
  await page.goto(pathToFileURL(join(profile, "index.html")).href);
  check(true, `launched ${await browser.version()}`);
  await page.evaluate(PAGE_SETUP);
  await publishChecks(page);
  await subscribeChecks(page);
} catch (error) {
  console.log(`FAIL ${error.message}`);
  failures++;
} finally {
  await browser.close();
  rmSync(profile, { recursive: true, force: true });
  tool.stdin.end();
}
console.log(
  failures === 0 ? "all Firefox checks passed" : `${failures} check(s) failed`,
);
process.exit(failures === 0 ? 0 : 1);
