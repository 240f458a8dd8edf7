// The real test of Conclave's SDP: Chromium must accept the server's answers and offers.
//
// Usage: node tests/sdp/browser/chromium_check.mjs <path to sdp_tool> [--capture <dataDir>]
// Registered with ctest as `sdp_chromium_check` (label `browser`); exits 77 (skipped) when
// Chromium is missing. Nothing touches the network: the page's RTCPeerConnections use
// iceTransportPolicy 'relay' with no ICE servers, so Chromium gathers no candidates at all,
// and only setRemoteDescription / createAnswer are exercised (no ICE, no DTLS).
//
// PUBLISH: Chromium offers (fake camera + microphone, 3-layer RID simulcast, a data channel);
// sdp_tool answers; Chromium must take the answer: audio and video sendonly, the three
// encodings kept, the data channel's m-line rejected. Then a browser-side renegotiation (a
// second video track) and an H264-only offer whose video the server must reject.
// SUBSCRIBE: sdp_tool offers; Chromium answers; sdp_tool checks the answer. Renegotiation
// goes through removing a track (a=inactive), reusing its mid for a new track, stopping a
// section (port 0) and recycling that m-line for another kind under a new mid.
import { spawn } from 'node:child_process';
import { existsSync, writeFileSync } from 'node:fs';
import { createInterface } from 'node:readline';
import { join } from 'node:path';
import { Browser } from './cdp.mjs';

const toolPath = process.argv[2];
const captureIndex = process.argv.indexOf('--capture');
const captureDir = captureIndex > 0 ? process.argv[captureIndex + 1] : null;
const chromium = process.env.CHROMIUM || '/usr/bin/chromium';
if (!toolPath) {
  console.error('usage: chromium_check.mjs <sdp_tool> [--capture <dir>]');
  process.exit(2);
}
if (!existsSync(chromium)) {
  console.log(`SKIP: ${chromium} not found`);
  process.exit(77);
}

// ---- sdp_tool, one JSON request per line ---------------------------------------------------
const tool = spawn(toolPath, [], { stdio: ['pipe', 'pipe', 'inherit'] });
const replies = createInterface({ input: tool.stdout });
const waiting = [];
replies.on('line', (line) => waiting.shift()(JSON.parse(line)));
function request(message) {
  return new Promise((resolve) => {
    waiting.push(resolve);
    tool.stdin.write(JSON.stringify(message) + '\n');
  });
}
async function must(message) {
  const reply = await request(message);
  if (!reply.ok) throw new Error(`sdp_tool ${message.cmd}: ${JSON.stringify(reply)}`);
  return reply;
}

let failures = 0;
function check(condition, what) {
  console.log(`${condition ? 'ok  ' : 'FAIL'} ${what}`);
  if (!condition) failures++;
}

// ---- page helpers --------------------------------------------------------------------------
const PAGE_SETUP = `(() => {
  window.pcs = {};
  window.tracks = [];
  window.newPc = (name) => {
    const pc = new RTCPeerConnection({ iceTransportPolicy: 'relay', iceServers: [] });
    pc.ontrack = (e) => window.tracks.push({ mid: e.transceiver.mid, kind: e.track.kind,
      streams: e.streams.map((s) => s.id) });
    window.pcs[name] = pc;
    return pc;
  };
  window.describe = (pc) => pc.getTransceivers().map((t) => ({ mid: t.mid,
    kind: t.receiver.track.kind, direction: t.direction, current: t.currentDirection,
    encodings: t.sender.getParameters().encodings.length }));
  return true;
})()`;

async function publishChecks(browser) {
  const offer = await browser.evaluate(`(async () => {
    const stream = await navigator.mediaDevices.getUserMedia({ audio: true, video: true });
    window.stream = stream;
    const pc = newPc('publish');
    pc.addTransceiver(stream.getAudioTracks()[0], { direction: 'sendonly', streams: [stream] });
    pc.addTransceiver(stream.getVideoTracks()[0], { direction: 'sendonly', streams: [stream],
      sendEncodings: [{ rid: 'h' }, { rid: 'm', scaleResolutionDownBy: 2 },
                      { rid: 'l', scaleResolutionDownBy: 4 }] });
    pc.createDataChannel('chat');
    const offer = await pc.createOffer();
    await pc.setLocalDescription(offer);
    return offer.sdp;
  })()`);
  const answer = await must({ cmd: 'answer', sdp: offer });
  check(answer.media.map((m) => m.accepted).join() === 'true,true,false',
    'publish: server accepts audio + video, rejects the data channel');
  check(answer.media[1].rids === 3, 'publish: server keeps the three simulcast layers');
  await browser.evaluate(`pcs.publish.setRemoteDescription({ type: 'answer', sdp: ${JSON.stringify(answer.sdp)} })`);
  let state = await browser.evaluate('describe(pcs.publish)');
  check(state[0].current === 'sendonly' && state[1].current === 'sendonly',
    'publish: Chromium took the answer, audio and video sendonly');
  check(state[1].encodings === 3, 'publish: Chromium keeps 3 simulcast encodings');
  const sctp = await browser.evaluate('pcs.publish.sctp === null');
  check(sctp, 'publish: the rejected data channel has no SCTP transport');

  // Negative control: the same kind of answer with a mid Chromium never offered must be refused,
  // so the checks above cannot pass by Chromium accepting anything.
  const refused = await browser.evaluate(`(async () => {
    const pc = newPc('control');
    pc.addTransceiver('audio', { direction: 'sendonly' });
    const offer = await pc.createOffer();
    await pc.setLocalDescription(offer);
    window.controlOffer = offer.sdp;
    return offer.sdp;
  })()`).then((sdp) => must({ cmd: 'answer', sdp }))
    .then((reply) => browser.evaluate(`pcs.control.setRemoteDescription({ type: 'answer',
      sdp: ${JSON.stringify(reply.sdp.replace('a=mid:0', 'a=mid:7').replace('BUNDLE 0', 'BUNDLE 7'))} })
      .then(() => false, () => true)`));
  check(refused, 'publish: negative control, Chromium refuses an answer with a wrong mid');

  // The offerer-tagged (first) m-section is an H264-only video, which the server rejects: the
  // answer's BUNDLE group then starts with the audio section (the answerer may tag another
  // section, RFC 8843 §7.3.1; the transport stays the one the offer described).
  const offerTagRejected = await browser.evaluate(`(async () => {
    const pc = newPc('tagRejected');
    const video = pc.addTransceiver(stream.getVideoTracks()[0], { direction: 'sendonly', streams: [stream] });
    video.setCodecPreferences(RTCRtpReceiver.getCapabilities('video').codecs
      .filter((c) => c.mimeType === 'video/H264'));
    pc.addTransceiver(stream.getAudioTracks()[0], { direction: 'sendonly', streams: [stream] });
    const offer = await pc.createOffer();
    await pc.setLocalDescription(offer);
    return offer.sdp;
  })()`);
  const answerTagRejected = await must({ cmd: 'answer', sdp: offerTagRejected });
  check(answerTagRejected.media.map((m) => m.accepted).join() === 'false,true',
    'publish: first section (H264 video) rejected, audio accepted');
  await browser.evaluate(`pcs.tagRejected.setRemoteDescription({ type: 'answer', sdp: ${JSON.stringify(answerTagRejected.sdp)} })`);
  state = await browser.evaluate('describe(pcs.tagRejected)');
  check(state.length === 1 && state[0].kind === 'audio' && state[0].current === 'sendonly',
    'publish: Chromium takes an answer whose BUNDLE tag moved off the rejected first section');

  // The browser renegotiates: one more (screen-like) video track, no simulcast.
  const offer2 = await browser.evaluate(`(async () => {
    const pc = pcs.publish;
    const track = stream.getVideoTracks()[0].clone();
    pc.addTransceiver(track, { direction: 'sendonly', streams: [stream] });
    const offer = await pc.createOffer();
    await pc.setLocalDescription(offer);
    return offer.sdp;
  })()`);
  const answer2 = await must({ cmd: 'answer', sdp: offer2 });
  await browser.evaluate(`pcs.publish.setRemoteDescription({ type: 'answer', sdp: ${JSON.stringify(answer2.sdp)} })`);
  state = await browser.evaluate('describe(pcs.publish)');
  check(state.length === 3 && state[2].current === 'sendonly' && state[2].mid === '3',
    'publish: renegotiated answer adds a second video sendonly');

  // An H264-only video offer: the SFU forwards VP8 only, so the video m-line is rejected.
  const offer3 = await browser.evaluate(`(async () => {
    const pc = newPc('h264');
    pc.addTransceiver(stream.getAudioTracks()[0], { direction: 'sendonly', streams: [stream] });
    const video = pc.addTransceiver(stream.getVideoTracks()[0], { direction: 'sendonly', streams: [stream] });
    const h264 = RTCRtpReceiver.getCapabilities('video').codecs.filter((c) => c.mimeType === 'video/H264');
    video.setCodecPreferences(h264);
    const offer = await pc.createOffer();
    await pc.setLocalDescription(offer);
    return offer.sdp;
  })()`);
  const answer3 = await must({ cmd: 'answer', sdp: offer3 });
  check(answer3.media[1].accepted === false && answer3.media[1].reason === 'no-common-codec',
    'publish: H264-only video rejected with no-common-codec');
  await browser.evaluate(`pcs.h264.setRemoteDescription({ type: 'answer', sdp: ${JSON.stringify(answer3.sdp)} })`);
  state = await browser.evaluate('describe(pcs.h264)');
  // A transceiver rejected by the answer is stopped and, once negotiated, removed from the list.
  check(state[0].current === 'sendonly' && (state.length === 1 || state[1].current === 'stopped'),
    'publish: Chromium takes the rejection (video transceiver stopped, audio sendonly)');
}

// One subscribe round: server offer -> Chromium answer -> server check.
async function negotiateSubscribe(browser, label) {
  const offer = await must({ cmd: 'offer' });
  const answerSdp = await browser.evaluate(`(async () => {
    const pc = pcs.subscribe;
    await pc.setRemoteDescription({ type: 'offer', sdp: ${JSON.stringify(offer.sdp)} });
    const answer = await pc.createAnswer();
    await pc.setLocalDescription(answer);
    return answer.sdp;
  })()`);
  const applied = await request({ cmd: 'apply-answer', sdp: answerSdp });
  check(applied.ok, `subscribe ${label}: server accepts Chromium's answer` +
    (applied.ok ? '' : ` (${applied.code} line ${applied.line}: ${applied.message})`));
  return { offer: offer.sdp, answer: answerSdp, applied,
    state: await browser.evaluate('describe(pcs.subscribe)') };
}

async function subscribeChecks(browser) {
  await browser.evaluate(`(newPc('subscribe'), window.tracks = [], true)`);
  const audio = await must({ cmd: 'add', kind: 'audio' });
  const video = await must({ cmd: 'add', kind: 'video' });
  let round = await negotiateSubscribe(browser, 'initial');
  if (captureDir) {
    writeFileSync(join(captureDir, 'conclave-offer-subscribe.sdp'), round.offer);
    writeFileSync(join(captureDir, 'chromium-answer-subscribe.sdp'), round.answer);
  }
  check(round.state.map((t) => `${t.mid}:${t.kind}:${t.current}`).join() ===
    `${audio.mid}:audio:recvonly,${video.mid}:video:recvonly`, 'subscribe: audio + video recvonly');
  check(round.applied.ok && round.applied.setup === 'passive' &&
    round.applied.media.every((m) => m.accepted && m.direction === 'recvonly'),
    'subscribe: Chromium answers setup:active, recvonly everywhere');
  check(round.applied.ok && round.applied.media[1].codecs.join() === 'VP8,rtx',
    'subscribe: Chromium accepts VP8 + rtx');
  let tracks = await browser.evaluate('tracks');
  check(tracks.length === 2 && tracks[1].streams[0] === video.streamId,
    'subscribe: two track events carrying the msid stream ids');

  await must({ cmd: 'remove', mid: video.mid });
  round = await negotiateSubscribe(browser, 'remove video');
  check(round.state[1].current === 'inactive', 'subscribe: removed track -> m-section inactive');

  const video2 = await must({ cmd: 'add', kind: 'video' });
  check(video2.mid === video.mid, 'subscribe: a new video track reuses the inactive mid');
  round = await negotiateSubscribe(browser, 'reuse mid');
  tracks = await browser.evaluate('tracks');
  check(round.state[1].current === 'recvonly' && tracks.length === 3 &&
    tracks[2].streams[0] === video2.streamId, 'subscribe: reused mid fires a new track event');

  await must({ cmd: 'stop', mid: audio.mid });
  round = await negotiateSubscribe(browser, 'stop audio');
  check(round.state.length === 1 || round.state[0].current === 'stopped',
    'subscribe: stopped section (port 0) stops the transceiver');

  const video3 = await must({ cmd: 'add', kind: 'video' });
  check(video3.mid !== audio.mid, 'subscribe: the recycled m-line gets a new mid');
  round = await negotiateSubscribe(browser, 'recycle m-line');
  const recycled = round.state.find((t) => t.mid === video3.mid);
  check(recycled && recycled.kind === 'video' && recycled.current === 'recvonly',
    'subscribe: the recycled m-line now carries video');
  check(round.offer.split('\r\n').filter((l) => l.startsWith('m=')).length === 2,
    'subscribe: the offer still has two m-lines (recycled, not appended)');

  const audio2 = await must({ cmd: 'add', kind: 'audio' });
  round = await negotiateSubscribe(browser, 'append audio');
  check(round.state.some((t) => t.mid === audio2.mid && t.current === 'recvonly'),
    'subscribe: an appended audio section is received');
}

const browser = await Browser.launch(chromium);
try {
  await browser.evaluate(PAGE_SETUP);
  await publishChecks(browser);
  await subscribeChecks(browser);
} catch (error) {
  console.log(`FAIL ${error.message}`);
  failures++;
} finally {
  await browser.close();
  tool.stdin.end();
}
console.log(failures === 0 ? 'all Chromium checks passed' : `${failures} check(s) failed`);
process.exit(failures === 0 ? 0 : 1);
