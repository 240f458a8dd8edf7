// The typed WebRTC view (src/sdp/session_description.h) of captured Chromium 156, Firefox ESR 153
// and aiortc 1.4 descriptions, and the errors of malformed WebRTC attributes.
#include "sdp/session_description.h"

#include <gtest/gtest.h>

#include "sdp_test_util.h"

namespace conclave::sdp {
namespace {

using test::lineOf;
using test::readData;
using test::removeLines;
using test::replaceOnce;

SessionDescription mustParse(const std::string& text) {
  auto result = parseSessionDescription(text);
  EXPECT_TRUE(result.ok()) << result.error().code << " line " << result.error().line << ": " << result.error().message;
  return result.ok() ? std::move(result.value()) : SessionDescription{};
}

void expectError(const std::string& text, std::string_view code, std::string_view linePrefix) {
  auto result = parseSessionDescription(text);
  ASSERT_FALSE(result.ok()) << "accepted, expected " << code;
  EXPECT_EQ(result.error().code, code) << result.error().message;
  if (!linePrefix.empty()) {
    EXPECT_EQ(result.error().line, lineOf(text, linePrefix)) << result.error().message;
  }
}

TEST(SessionDescription, ChromiumSimulcastOffer) {
  SessionDescription d = mustParse(readData("chromium-offer-simulcast.sdp"));
  EXPECT_FALSE(d.iceLite);
  EXPECT_TRUE(d.extmapAllowMixed);
  ASSERT_NE(d.bundleGroup(), nullptr);
  EXPECT_EQ(d.bundleGroup()->mids, (std::vector<std::string>{"0", "1"}));
  ASSERT_EQ(d.media.size(), 2u);

  const MediaDescription& audio = d.media[0];
  EXPECT_EQ(audio.kind, MediaKind::Audio);
  EXPECT_EQ(audio.mid, "0");
  EXPECT_EQ(audio.direction, Direction::SendRecv);
  EXPECT_TRUE(audio.rtcpMux);
  EXPECT_TRUE(audio.rtcpRsize);
  EXPECT_TRUE(audio.extmapAllowMixed);  // inherited from session level
  ASSERT_EQ(audio.codecs.size(), 8u);
  const Codec& opus = audio.codecs[0];
  EXPECT_EQ(opus.payloadType, 111);
  EXPECT_EQ(opus.name, "opus");
  EXPECT_EQ(opus.clockRate, 48000u);
  EXPECT_EQ(opus.channels, 2);
  ASSERT_NE(opus.parameter("useinbandfec"), nullptr);
  EXPECT_EQ(*opus.parameter("useinbandfec"), "1");
  EXPECT_EQ(*opus.parameter("minptime"), "10");
  EXPECT_EQ(opus.feedback, (std::vector<RtcpFeedback>{{"transport-cc", ""}}));
  const Codec* red = audio.codec(63);
  ASSERT_NE(red, nullptr);
  ASSERT_EQ(red->parameters.size(), 1u);
  EXPECT_EQ(red->parameters[0].name, "");
  EXPECT_EQ(red->parameters[0].value, "111/111");
  EXPECT_EQ(audio.codec(0)->name, "PCMU");
  ASSERT_EQ(audio.extensions.size(), 4u);
  EXPECT_EQ(audio.extensions[0].id, 1);
  EXPECT_EQ(audio.extensions[0].uri, "urn:ietf:params:rtp-hdrext:ssrc-audio-level");
  ASSERT_EQ(audio.msids.size(), 1u);
  EXPECT_EQ(audio.msids[0].stream, "-");
  EXPECT_EQ(audio.msids[0].track.size(), 36u);
  ASSERT_EQ(audio.ssrcs.size(), 1u);
  EXPECT_FALSE(audio.ssrcs[0].cname.empty());
  EXPECT_EQ(audio.ssrcs[0].msid, audio.msids[0]);

  EXPECT_EQ(audio.ice.ufrag.size(), 4u);
  EXPECT_EQ(audio.ice.pwd.size(), 24u);
  EXPECT_TRUE(audio.ice.hasOption("trickle"));
  ASSERT_EQ(audio.fingerprints.size(), 1u);
  EXPECT_EQ(audio.fingerprints[0].algorithm, "sha-256");
  EXPECT_EQ(audio.fingerprints[0].bytes.size(), 32u);
  EXPECT_EQ(audio.setup, SetupRole::ActPass);

  const MediaDescription& video = d.media[1];
  EXPECT_EQ(video.kind, MediaKind::Video);
  const Codec* vp8 = video.codec(96);
  ASSERT_NE(vp8, nullptr);
  EXPECT_EQ(vp8->name, "VP8");
  EXPECT_EQ(vp8->clockRate, 90000u);
  EXPECT_EQ(vp8->feedback.size(), 5u);
  EXPECT_EQ(vp8->feedback[2], (RtcpFeedback{"ccm", "fir"}));
  EXPECT_EQ(vp8->feedback[4], (RtcpFeedback{"nack", "pli"}));
  const Codec* rtx = video.codec(97);
  ASSERT_NE(rtx, nullptr);
  EXPECT_TRUE(rtx->isRtx());
  EXPECT_EQ(rtx->rtxApt(), 96);
  EXPECT_EQ(video.codec(45)->name, "AV1");  // a dynamic type below 96
  EXPECT_EQ(video.extensions.size(), 13u);
  ASSERT_NE(video.extension("urn:ietf:params:rtp-hdrext:sdes:rtp-stream-id"), nullptr);
  EXPECT_EQ(video.extension("urn:ietf:params:rtp-hdrext:sdes:rtp-stream-id")->id, 10);
  ASSERT_EQ(video.rids.size(), 3u);
  EXPECT_EQ(video.rids[0].id, "h");
  EXPECT_EQ(video.rids[2].id, "l");
  EXPECT_EQ(video.rids[1].direction, RidDirection::Send);
  ASSERT_TRUE(video.simulcast.has_value());
  ASSERT_EQ(video.simulcast->send.size(), 3u);
  EXPECT_EQ(video.simulcast->send[1][0].rid, "m");
  EXPECT_TRUE(video.simulcast->recv.empty());
  EXPECT_TRUE(video.ssrcs.empty());  // RID simulcast: no SSRCs signalled
}

TEST(SessionDescription, ChromiumPublishOffer) {
  SessionDescription d = mustParse(readData("chromium-offer-publish.sdp"));
  ASSERT_EQ(d.media.size(), 3u);
  const MediaDescription& video = d.media[1];
  EXPECT_EQ(video.direction, Direction::SendOnly);
  ASSERT_EQ(video.ssrcGroups.size(), 1u);
  EXPECT_EQ(video.ssrcGroups[0].semantics, "FID");
  ASSERT_EQ(video.ssrcGroups[0].ssrcs.size(), 2u);
  ASSERT_EQ(video.ssrcs.size(), 2u);
  EXPECT_EQ(video.ssrcs[0].ssrc, video.ssrcGroups[0].ssrcs[0]);
  EXPECT_EQ(video.ssrcs[1].ssrc, video.ssrcGroups[0].ssrcs[1]);
  EXPECT_EQ(video.ssrcs[0].cname, d.media[0].ssrcs[0].cname);
  ASSERT_TRUE(video.ssrcs[1].msid.has_value());
  EXPECT_EQ(video.ssrcs[1].msid->stream, video.msids[0].stream);
  EXPECT_NE(video.msids[0].stream, "-");
  EXPECT_EQ(video.msids[0].stream, d.media[0].msids[0].stream);  // one MediaStream

  const MediaDescription& data = d.media[2];
  EXPECT_EQ(data.kind, MediaKind::Application);
  EXPECT_EQ(data.protocol, "UDP/DTLS/SCTP");
  EXPECT_TRUE(data.codecs.empty());
  EXPECT_EQ(data.sctpPort, 5000);
  EXPECT_EQ(data.maxMessageSize, 262144u);
  EXPECT_EQ(data.mid, "2");
}

TEST(SessionDescription, AiortcOffer) {
  std::string text = readData("aiortc-offer.sdp");
  SessionDescription d = mustParse(text);
  ASSERT_EQ(d.media.size(), 2u);
  const MediaDescription& audio = d.media[0];
  EXPECT_EQ(audio.direction, Direction::SendOnly);
  EXPECT_FALSE(audio.rtcpRsize);
  EXPECT_EQ(audio.codecs[0].name, "opus");
  EXPECT_EQ(audio.codecs[0].payloadType, 96);
  EXPECT_TRUE(audio.codecs[0].feedback.empty());
  ASSERT_EQ(audio.candidates.size(), 2u);
  const Candidate& v4 = audio.candidates[0];
  EXPECT_EQ(v4.foundation.size(), 32u);
  EXPECT_EQ(v4.component, 1);
  EXPECT_EQ(v4.transport, "udp");
  EXPECT_EQ(v4.priority, 2130706431u);
  EXPECT_EQ(v4.address, "192.0.2.2");
  EXPECT_EQ(v4.port, audio.port);
  EXPECT_EQ(v4.type, "host");
  EXPECT_EQ(audio.candidates[1].address, "fd00::2");
  EXPECT_TRUE(audio.endOfCandidates);
  // aiortc gives every section its own credentials (BUNDLE picks the first).
  EXPECT_NE(d.media[0].ice.ufrag, d.media[1].ice.ufrag);
  EXPECT_EQ(audio.ice.ufrag, "r7fX");
  // The fingerprint bytes are the hex of the line.
  ASSERT_EQ(audio.fingerprints.size(), 1u);
  EXPECT_EQ(audio.fingerprints[0].bytes.front(), 0x44);
  EXPECT_EQ(audio.fingerprints[0].bytes.back(), 0xC8);
  const MediaDescription& video = d.media[1];
  EXPECT_EQ(video.codecs[0].name, "VP8");
  EXPECT_EQ(video.codecs[0].payloadType, 97);
  EXPECT_EQ(video.codec(98)->rtxApt(), 97);
  EXPECT_EQ(video.ssrcGroups.size(), 1u);
}

// Firefox ESR 153 after setCodecPreferences(Opus; VP8, rtx), as the Conclave client publishes.
TEST(SessionDescription, FirefoxPublishOffer) {
  std::string text = readData("firefox-offer-publish.sdp");
  SessionDescription d = mustParse(text);
  ASSERT_EQ(d.media.size(), 2u);
  ASSERT_NE(d.bundleGroup(), nullptr);
  EXPECT_EQ(d.bundleGroup()->mids, (std::vector<std::string>{"0", "1"}));
  const MediaDescription& audio = d.media[0];
  EXPECT_EQ(audio.direction, Direction::SendOnly);
  ASSERT_EQ(audio.codecs.size(), 1u);
  EXPECT_EQ(audio.codecs[0].name, "opus");
  EXPECT_EQ(audio.codecs[0].channels, 2);
  EXPECT_EQ(audio.ignoredAttributes, 0u);
  EXPECT_TRUE(audio.extmapAllowMixed);  // Firefox writes it per section
  const MediaDescription& video = d.media[1];
  ASSERT_EQ(video.codecs.size(), 2u);
  EXPECT_EQ(video.codecs[0].name, "VP8");
  EXPECT_EQ(video.codecs[1].rtxApt(), video.codecs[0].payloadType);
  EXPECT_EQ(video.codecs[0].feedback.size(), 5u);  // nack, nack pli, ccm fir, goog-remb, transport-cc
  // The rtcp-fb lines of the four codecs Firefox dropped (VP9, AV1, ulpfec, red), five each.
  EXPECT_EQ(video.ignoredAttributes, 20u);
  ASSERT_EQ(video.ssrcGroups.size(), 1u);
  EXPECT_EQ(video.ssrcGroups[0].semantics, "FID");
  EXPECT_EQ(video.ssrcs.size(), 2u);
  ASSERT_EQ(video.msids.size(), 1u);
  EXPECT_EQ(video.msids[0].stream, audio.msids.at(0).stream);  // one stream for camera and microphone
  EXPECT_EQ(video.ice.ufrag, audio.ice.ufrag);
  ASSERT_EQ(video.fingerprints.size(), 1u);  // session level, inherited
  EXPECT_EQ(video.setup, SetupRole::ActPass);
}

// Firefox ESR 153's answer to Conclave's subscribe offer (conclave-offer-subscribe.sdp).
TEST(SessionDescription, FirefoxSubscribeAnswer) {
  SessionDescription d = mustParse(readData("firefox-answer-subscribe.sdp"));
  ASSERT_EQ(d.media.size(), 2u);
  EXPECT_EQ(d.media[0].direction, Direction::RecvOnly);
  EXPECT_EQ(d.media[1].direction, Direction::RecvOnly);
  EXPECT_EQ(d.media[0].setup, SetupRole::Active);
  EXPECT_EQ(d.ignoredAttributes(), 0u);
}

TEST(SessionDescription, SessionLevelAttributesAreInherited) {
  std::string text =
      "v=0\r\no=- 1 1 IN IP4 127.0.0.1\r\ns=-\r\nt=0 0\r\na=group:BUNDLE a v\r\n"
      "a=ice-ufrag:ABCD\r\na=ice-pwd:abcdefghijklmnopqrstuv\r\na=ice-options:ice2 trickle\r\n"
      "a=fingerprint:SHA-256 " +
      std::string(31 * 3, 'x') + "\r\n";
  std::string fingerprint;
  for (int i = 0; i < 32; ++i) fingerprint += std::string(i ? ":" : "") + "ab";
  text = replaceOnce(text, std::string(31 * 3, 'x'), fingerprint);
  text +=
      "a=setup:actpass\r\na=sendonly\r\na=extmap:3 urn:x\r\n"
      "m=audio 9 UDP/TLS/RTP/SAVPF 111\r\na=mid:a\r\na=rtpmap:111 opus/48000/2\r\n"
      "m=video 9 UDP/TLS/RTP/SAVPF 96\r\na=mid:v\r\na=ice-ufrag:WXYZ\r\na=setup:passive\r\n"
      "a=inactive\r\na=rtpmap:96 VP8/90000\r\na=rtcp-fb:* nack\r\na=rtcp-fb:96 nack pli\r\n";
  SessionDescription d = mustParse(text);
  ASSERT_EQ(d.media.size(), 2u);
  EXPECT_EQ(d.media[0].ice.ufrag, "ABCD");
  EXPECT_EQ(d.media[1].ice.ufrag, "WXYZ");
  EXPECT_EQ(d.media[1].ice.pwd, "abcdefghijklmnopqrstuv");
  EXPECT_TRUE(d.media[0].ice.hasOption("ice2"));
  ASSERT_EQ(d.media[1].fingerprints.size(), 1u);
  EXPECT_EQ(d.media[1].fingerprints[0].algorithm, "sha-256");  // lower-cased
  EXPECT_EQ(d.media[1].fingerprints[0].bytes, std::vector<uint8_t>(32, 0xAB));
  EXPECT_EQ(d.media[0].setup, SetupRole::ActPass);
  EXPECT_EQ(d.media[1].setup, SetupRole::Passive);
  EXPECT_EQ(d.media[0].direction, Direction::SendOnly);
  EXPECT_EQ(d.media[1].direction, Direction::Inactive);
  ASSERT_EQ(d.media[0].extensions.size(), 1u);
  EXPECT_EQ(d.media[0].extensions[0].uri, "urn:x");
  // rtcp-fb:* applies to every codec of the section.
  EXPECT_EQ(d.media[1].codecs[0].feedback, (std::vector<RtcpFeedback>{{"nack", "pli"}, {"nack", ""}}));
}

TEST(SessionDescription, FingerprintFormatRoundTrip) {
  auto fingerprint = parseFingerprint(
      "sha-256 9C:FC:F5:6D:DD:62:C3:9B:F6:38:5A:28:E5:9C:03:BB:25:93:A9:78:AB:1C:61:6B:E0:FF:CD:5B:34:9C:B5:71");
  ASSERT_TRUE(fingerprint.has_value());
  EXPECT_EQ(formatFingerprint(*fingerprint),
            "sha-256 9C:FC:F5:6D:DD:62:C3:9B:F6:38:5A:28:E5:9C:03:BB:25:93:A9:78:AB:1C:61:6B:E0:FF:CD:5B:34:9C:B5:71");
  EXPECT_TRUE(parseFingerprint("sha-1 00:11:22:33:44:55:66:77:88:99:aa:bb:cc:dd:ee:ff:00:11:22:33").has_value());
  EXPECT_FALSE(parseFingerprint("sha-1 00:11:22:33:44:55:66:77:88:99:aa:bb:cc:dd:ee:ff:00:11:22").has_value());
  EXPECT_FALSE(parseFingerprint("md5 00:11:22:33:44:55:66:77:88:99:aa:bb:cc:dd:ee:ff").has_value());
  EXPECT_FALSE(parseFingerprint("sha-1 00-11:22:33:44:55:66:77:88:99:aa:bb:cc:dd:ee:ff:00:11:22:33").has_value());
  EXPECT_FALSE(parseFingerprint("sha-1 0g:11:22:33:44:55:66:77:88:99:aa:bb:cc:dd:ee:ff:00:11:22:33").has_value());
  EXPECT_FALSE(parseFingerprint("").has_value());
}

TEST(SessionDescription, CandidateRoundTrip) {
  std::string line =
      "842163049 1 udp 1677729535 203.0.113.7 61665 typ srflx raddr 10.0.0.2 rport 61665 "
      "generation 0 ufrag a+/b network-cost 999";
  auto candidate = parseCandidate(line);
  ASSERT_TRUE(candidate.has_value());
  EXPECT_EQ(candidate->type, "srflx");
  EXPECT_EQ(*candidate->relatedAddress, "10.0.0.2");
  EXPECT_EQ(*candidate->relatedPort, 61665);
  ASSERT_EQ(candidate->extensions.size(), 3u);
  EXPECT_EQ(candidate->extensions[1], (std::pair<std::string, std::string>{"ufrag", "a+/b"}));
  EXPECT_EQ(formatCandidate(*candidate), line);
  auto mdns = parseCandidate("1 1 udp 2122260223 7b4c0ad6-1b6f-4ab1-9f8e-2d3c2c1b0a9e.local 54321 typ host");
  ASSERT_TRUE(mdns.has_value());
  EXPECT_EQ(mdns->address, "7b4c0ad6-1b6f-4ab1-9f8e-2d3c2c1b0a9e.local");
  EXPECT_FALSE(parseCandidate("1 1 udp 2122260223 10.0.0.1 54321 host").has_value());
  EXPECT_FALSE(parseCandidate("1 0 udp 2122260223 10.0.0.1 54321 typ host").has_value());
  EXPECT_FALSE(parseCandidate("1 1 udp 4294967296 10.0.0.1 54321 typ host").has_value());
  EXPECT_FALSE(parseCandidate("1 1 udp 1 10.0.0.1 65536 typ host").has_value());
  EXPECT_FALSE(parseCandidate("1 1 udp 1 10.0.0.1 5 typ host raddr").has_value());
  EXPECT_FALSE(parseCandidate("1 1 udp 1 10.0.0.1 5 typ host rport x").has_value());
}

class SessionDescriptionErrors : public ::testing::Test {
 protected:
  std::string chromium = readData("chromium-offer-publish.sdp");
};

TEST_F(SessionDescriptionErrors, Mids) {
  expectError(replaceOnce(chromium, "a=mid:1", "a=mid:0"), "duplicate-mid", "m=video");
  expectError(removeLines(chromium, "a=mid:1"), "missing-mid", "m=video");
  expectError(replaceOnce(chromium, "a=mid:1", "a=mid:1\r\na=mid:1"), "duplicate-mid", "");
  expectError(replaceOnce(chromium, "a=mid:1", "a=mid:01234567890123456"), "bad-mid", "a=mid:0123");
  expectError(replaceOnce(chromium, "a=mid:1", "a=mid"), "bad-mid", "a=mid\r");
}

TEST_F(SessionDescriptionErrors, GroupsAndTransport) {
  expectError(replaceOnce(chromium, "BUNDLE 0 1 2", "BUNDLE 0 1 2 3"), "bad-group", "a=group");
  expectError(replaceOnce(chromium, "BUNDLE 0 1 2", "BUNDLE 0 1 2 1"), "bad-group", "a=group");
  expectError(replaceOnce(chromium, "m=video 9", "m=video 0"), "bad-group", "a=group");
  std::string fingerprintLine = chromium.substr(chromium.find("a=fingerprint:"), 110);
  expectError(replaceOnce(chromium, fingerprintLine, "a=fingerprint:sha-256 00:11"), "bad-fingerprint",
              "a=fingerprint:sha-256 00:11");
  expectError(replaceOnce(chromium, "a=fingerprint:sha-256", "a=fingerprint:sha-257"), "bad-fingerprint",
              "a=fingerprint:sha-257");
  expectError(replaceOnce(chromium, "a=setup:actpass", "a=setup:both"), "bad-setup", "a=setup:both");
  expectError(replaceOnce(chromium, "a=setup:actpass", "a=setup:actpass\r\na=setup:active"), "bad-setup",
              "a=setup:active");
  std::string ufrag = chromium.substr(chromium.find("a=ice-ufrag:"), 16);
  expectError(replaceOnce(chromium, ufrag, "a=ice-ufrag:abc"), "bad-ice-ufrag", "a=ice-ufrag:abc");
  expectError(replaceOnce(chromium, ufrag, "a=ice-ufrag:ab=c"), "bad-ice-ufrag", "a=ice-ufrag:ab=c");
  std::string pwd = chromium.substr(chromium.find("a=ice-pwd:"), 34);
  expectError(replaceOnce(chromium, pwd, "a=ice-pwd:tooShort"), "bad-ice-pwd", "a=ice-pwd:tooShort");
  expectError(replaceOnce(chromium, "a=ice-options:trickle", "a=ice-options:trickle,ice2"), "bad-ice-options",
              "a=ice-options:trickle,");
  expectError(replaceOnce(chromium, "a=sendonly", "a=sendonly\r\na=recvonly"), "bad-direction", "a=recvonly");
  expectError(replaceOnce(chromium, "a=sctp-port:5000", "a=sctp-port:99999"), "bad-sctp", "a=sctp-port");
  expectError(replaceOnce(chromium, "a=rtcp-mux", "a=rtcp-mux:yes"), "bad-attribute", "a=rtcp-mux:yes");
}

TEST_F(SessionDescriptionErrors, Codecs) {
  expectError(replaceOnce(chromium, "a=rtpmap:111 opus/48000/2", "a=rtpmap:111 opus"), "bad-rtpmap", "a=rtpmap:111");
  expectError(replaceOnce(chromium, "a=rtpmap:111 opus/48000/2", "a=rtpmap:111 opus/0/2"), "bad-rtpmap",
              "a=rtpmap:111");
  expectError(replaceOnce(chromium, "a=rtpmap:111 opus/48000/2", "a=rtpmap:111 opus/48000/2\r\na=rtpmap:111 x/1"),
              "bad-rtpmap", "a=rtpmap:111 x");
  expectError(removeLines(chromium, "a=rtpmap:111 "), "missing-rtpmap", "m=audio");
  expectError(replaceOnce(chromium, "m=audio 9 UDP/TLS/RTP/SAVPF 111", "m=audio 9 UDP/TLS/RTP/SAVPF 128"), "bad-media",
              "m=audio");
  expectError(replaceOnce(chromium, "m=audio 9 UDP/TLS/RTP/SAVPF 111", "m=audio 9 UDP/TLS/RTP/SAVPF 111 111"),
              "bad-media", "m=audio");
  expectError(replaceOnce(chromium, "a=fmtp:111 ", "a=fmtp:111 x=1\r\na=fmtp:111 "), "bad-fmtp", "a=fmtp:111 minptime");
  // A payload type that is no number 0..127 is malformed, listed or not.
  expectError(replaceOnce(chromium, "a=rtpmap:111 ", "a=rtpmap:128 "), "bad-rtpmap", "a=rtpmap:128");
  expectError(replaceOnce(chromium, "a=fmtp:111 ", "a=fmtp:x "), "bad-fmtp", "a=fmtp:x");
  expectError(replaceOnce(chromium, "a=rtcp-fb:111 transport-cc", "a=rtcp-fb:-1 transport-cc"), "bad-rtcp-fb",
              "a=rtcp-fb:-1");
  expectError(replaceOnce(chromium, "a=rtcp-fb:111 transport-cc", "a=rtcp-fb:112"), "bad-rtcp-fb", "a=rtcp-fb:112");
  // rtpmap, fmtp and rtcp-fb belong to RTP sections only.
  expectError(replaceOnce(chromium, "a=sctp-port:5000", "a=sctp-port:5000\r\na=rtpmap:111 opus/48000/2"), "bad-rtpmap",
              "a=rtpmap:111 opus/48000/2\r\na=max");
  // Rejected sections need no rtpmap: their formats mean nothing.
  std::string rejected = replaceOnce(removeLines(chromium, "a=rtpmap:96 "), "m=video 9", "m=video 0");
  rejected = replaceOnce(rejected, "BUNDLE 0 1 2", "BUNDLE 0 2");
  EXPECT_TRUE(parseSessionDescription(rejected).ok());
}

// Firefox keeps rtpmap/fmtp/rtcp-fb lines of codecs that setCodecPreferences() took off the m=
// line; such lines describe nothing offered and are skipped, however many (the parse Limits bound
// them), while the listed codecs keep exactly their own attributes.
TEST_F(SessionDescriptionErrors, LinesForUnlistedPayloadTypesAreIgnored) {
  std::string extra = replaceOnce(chromium, "a=rtcp-fb:111 transport-cc",
                                  "a=rtcp-fb:111 transport-cc\r\na=rtcp-fb:112 transport-cc\r\na=rtcp-fb:112 nack\r\n"
                                  "a=rtpmap:112 telephone-event/8000\r\na=rtpmap:112 twice/8000\r\na=fmtp:112 0-15");
  SessionDescription d = mustParse(extra);
  ASSERT_EQ(d.media.size(), 3u);
  EXPECT_EQ(d.media[0].ignoredAttributes, 5u);
  EXPECT_EQ(d.media[1].ignoredAttributes, 0u);
  EXPECT_EQ(d.ignoredAttributes(), 5u);
  EXPECT_EQ(d.media[0].codec(112), nullptr);
  const Codec* opus = d.media[0].codec(111);
  ASSERT_NE(opus, nullptr);
  EXPECT_EQ(opus->feedback, (std::vector<RtcpFeedback>{{"transport-cc", ""}}));
  EXPECT_EQ(opus->name, "opus");
  EXPECT_EQ(mustParse(chromium).ignoredAttributes(), 0u);
}

TEST_F(SessionDescriptionErrors, Extensions) {
  expectError(replaceOnce(chromium, "a=extmap:1 ", "a=extmap:0 "), "bad-extmap", "a=extmap:0");
  expectError(replaceOnce(chromium, "a=extmap:1 ", "a=extmap:256 "), "bad-extmap", "a=extmap:256");
  expectError(replaceOnce(chromium, "a=extmap:1 ", "a=extmap:1/sideways "), "bad-extmap", "a=extmap:1/");
  expectError(replaceOnce(chromium, "a=extmap:2 ", "a=extmap:1 "), "duplicate-extmap-id", "");
  // The mid extension's id means something else in another bundled section (RFC 8843 §9.1).
  std::string conflict = replaceOnce(chromium, "a=extmap:4 urn:ietf:params:rtp-hdrext:sdes:mid",
                                     "a=extmap:14 urn:ietf:params:rtp-hdrext:sdes:mid");
  expectError(conflict, "conflicting-extmap", "m=video");
  // Other ids may differ between sections, as aiortc writes them.
  std::string tolerated = replaceOnce(chromium, "a=extmap:1 urn:ietf:params:rtp-hdrext:ssrc-audio-level",
                                      "a=extmap:14 urn:ietf:params:rtp-hdrext:ssrc-audio-level");
  EXPECT_TRUE(parseSessionDescription(tolerated).ok());
}

TEST_F(SessionDescriptionErrors, SsrcsAndMsid) {
  std::string group = chromium.substr(chromium.find("a=ssrc-group:FID "));
  group = group.substr(0, group.find("\r\n"));
  std::string first = group.substr(17, group.find(' ', 17) - 17);
  // SIM groups (legacy SSRC simulcast) hold any number of declared ssrcs.
  std::string sim = replaceOnce(chromium, "a=ssrc-group:FID ", "a=ssrc-group:SIM ");
  SessionDescription simulcast = mustParse(sim);
  EXPECT_EQ(simulcast.media[1].ssrcGroups[0].semantics, "SIM");
  EXPECT_EQ(simulcast.media[1].ssrcGroups[0].ssrcs.size(), 2u);
  expectError(replaceOnce(chromium, group, "a=ssrc-group:FID " + first), "bad-ssrc-group", "a=ssrc-group");
  expectError(replaceOnce(chromium, group, "a=ssrc-group:FID " + first + " 1"), "bad-ssrc-group", "a=ssrc-group");
  expectError(replaceOnce(chromium, group, "a=ssrc-group:FID " + first + " x"), "bad-ssrc-group", "a=ssrc-group");
  expectError(replaceOnce(chromium, "a=ssrc:" + first + " cname:", "a=ssrc:4294967296 cname:"), "bad-ssrc",
              "a=ssrc:4294967296");
  expectError(replaceOnce(chromium,
                          "a=ssrc:" + first + " cname:", "a=ssrc:" + first + " cname:x\r\na=ssrc:" + first + " cname:"),
              "bad-ssrc", "");
  expectError(replaceOnce(chromium, "a=msid:", "a=msid:a b c\r\na=x:"), "bad-msid", "a=msid:a b c");
  expectError(replaceOnce(chromium, "a=msid:", "a=msid:" + std::string(65, 'a') + "\r\na=x:"), "bad-msid",
              "a=msid:aaaa");
}

TEST(SessionDescriptionRidErrors, RidsAndSimulcast) {
  std::string sim = readData("chromium-offer-simulcast.sdp");
  expectError(replaceOnce(sim, "a=simulcast:send h;m;l", "a=simulcast:send h;m;x"), "bad-simulcast", "a=simulcast");
  expectError(replaceOnce(sim, "a=simulcast:send h;m;l", "a=simulcast:recv h;m;l"), "bad-simulcast", "a=simulcast");
  expectError(replaceOnce(sim, "a=simulcast:send h;m;l", "a=simulcast:send h;;l"), "bad-simulcast", "a=simulcast");
  expectError(replaceOnce(sim, "a=simulcast:send h;m;l", "a=simulcast:up h;m;l"), "bad-simulcast", "a=simulcast");
  expectError(replaceOnce(sim, "a=rid:m send", "a=rid:m sideways"), "bad-rid", "a=rid:m");
  expectError(replaceOnce(sim, "a=rid:m send", "a=rid:h send"), "bad-rid", "a=rid:h send\r\na=rid:l");
  expectError(replaceOnce(sim, "a=rid:m send", "a=rid:m send pt=55"), "bad-rid", "a=rid:m");
  expectError(replaceOnce(sim, "a=rid:m send", "a=rid:m! send"), "bad-rid", "a=rid:m!");

  // Alternatives, paused streams and restrictions parse.
  std::string rich = replaceOnce(sim, "a=rid:m send", "a=rid:m send pt=96,98;max-width=640;max-fps=15");
  rich = replaceOnce(rich, "a=simulcast:send h;m;l", "a=simulcast:send h,~m;l");
  SessionDescription d = mustParse(rich);
  const MediaDescription& video = d.media[1];
  EXPECT_EQ(video.rids[1].payloadTypes, (std::vector<uint8_t>{96, 98}));
  ASSERT_EQ(video.rids[1].restrictions.size(), 2u);
  EXPECT_EQ(video.rids[1].restrictions[0].name, "max-width");
  ASSERT_EQ(video.simulcast->send.size(), 2u);
  ASSERT_EQ(video.simulcast->send[0].size(), 2u);
  EXPECT_TRUE(video.simulcast->send[0][1].paused);
  EXPECT_EQ(video.simulcast->send[0][1].rid, "m");
}

TEST(SessionDescriptionCandidates, BadCandidateLine) {
  std::string aiortc = readData("aiortc-offer.sdp");
  std::string bad = replaceOnce(aiortc, " typ host", " type host");
  expectError(bad, "bad-candidate", "a=candidate:f957a2332b1715da3b0ef8ba684454eb 1 udp 2130706431 192.0.2.2");
}

}  // namespace
}  // namespace conclave::sdp
