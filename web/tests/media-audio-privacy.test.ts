// Speech must not show through packet sizes or clear header fields: the publish answer is turned
// into constant-bitrate Opus without DTX and without the audio-level header extension.
import { describe, expect, it } from 'vitest';
import { Call } from '../src/media/call';
import { constantBitrateAudio } from '../src/media/codecs';
import { FakePeerConnection, FakeSignaling, FakeTrack, FakeTransforms, settle } from './fake-webrtc';
import { SELF_ID } from './fake-socket';

const ANSWER = [
  'v=0',
  'o=- 1 2 IN IP4 127.0.0.1',
  's=-',
  't=0 0',
  'm=audio 9 UDP/TLS/RTP/SAVPF 111',
  'a=mid:0',
  'a=extmap:1 urn:ietf:params:rtp-hdrext:ssrc-audio-level',
  'a=extmap:4 urn:ietf:params:rtp-hdrext:sdes:mid',
  'a=rtpmap:111 opus/48000/2',
  'a=fmtp:111 minptime=10;useinbandfec=1;usedtx=1',
  'm=video 9 UDP/TLS/RTP/SAVPF 96',
  'a=mid:1',
  'a=rtpmap:96 VP8/90000',
  'a=fmtp:96 x-google-start-bitrate=300',
  '',
].join('\r\n');

describe('constant-bitrate audio', () => {
  it('asks for CBR without DTX and drops the audio-level extension, and nothing else', () => {
    const out = constantBitrateAudio(ANSWER);
    expect(out).toContain('a=fmtp:111 minptime=10;useinbandfec=1;usedtx=0;cbr=1\r\n');
    expect(out).not.toContain('ssrc-audio-level');
    expect(out).toContain('a=extmap:4 urn:ietf:params:rtp-hdrext:sdes:mid\r\n');
    expect(out).toContain('a=fmtp:96 x-google-start-bitrate=300\r\n');
    expect(out.split('\r\n')).toHaveLength(ANSWER.split('\r\n').length - 1);
    // Idempotent, and an Opus without fmtp gets one.
    expect(constantBitrateAudio(out)).toBe(out);
    const bare = ANSWER.replace('a=fmtp:111 minptime=10;useinbandfec=1;usedtx=1\r\n', '');
    expect(constantBitrateAudio(bare)).toContain('a=rtpmap:111 opus/48000/2\r\na=fmtp:111 usedtx=0;cbr=1\r\n');
  });

  it('applies it to the publish answer before the browser uses it', async () => {
    FakePeerConnection.created = [];
    const signaling = new FakeSignaling();
    const call = new Call({
      signaling,
      selfId: SELF_ID,
      transforms: new FakeTransforms(),
      onChange: () => undefined,
      createPeerConnection: (config) => new FakePeerConnection(config) as unknown as RTCPeerConnection,
      codecCapabilities: null,
    });
    const done = call.setTrack('microphone', new FakeTrack('audio') as unknown as MediaStreamTrack, {} as MediaStream);
    await settle();
    signaling.last('publish').reply.resolve(ANSWER);
    await done;
    const sdp = FakePeerConnection.created[1]?.remoteDescription?.sdp ?? '';
    expect(sdp).toContain('usedtx=0;cbr=1');
    expect(sdp).not.toContain('ssrc-audio-level');
  });
});
