// Publish negotiation (src/sdp/publish.h): captured Chromium, Firefox and aiortc offers -> answers, the
// answer SDP re-parsed, and the rejection and error rules.
#include "sdp/publish.h"

#include <gtest/gtest.h>

#include "sdp_test_util.h"
#include "server_transport.h"

namespace conclave::sdp {
namespace {

using test::readData;
using test::removeLines;
using test::replaceAll;
using test::replaceOnce;

LocalTransport serverTransport() {
  return test::makeServerTransport("srvU", "serverPasswordIs22Long", 0, 1,
                                   {{"192.0.2.10", 40000, 65535}, {"2001:db8::10", 40000, 65534}});
}

PublishAnswer negotiate(const std::string& offerText, const Capabilities& caps = Capabilities::defaults()) {
  auto offer = parseSessionDescription(offerText);
  EXPECT_TRUE(offer.ok()) << offer.error().code;
  if (!offer.ok()) return {};
  auto answer = negotiatePublish(offer.value(), caps);
  EXPECT_TRUE(answer.ok()) << answer.error().code << ": " << answer.error().message;
  return answer.ok() ? std::move(answer.value()) : PublishAnswer{};
}

std::string negotiateError(const std::string& offerText) {
  auto offer = parseSessionDescription(offerText);
  EXPECT_TRUE(offer.ok()) << offer.error().code;
  if (!offer.ok()) return "unparsed";
  auto answer = negotiatePublish(offer.value(), Capabilities::defaults());
  return answer.ok() ? "ok" : answer.error().code;
}

std::vector<uint16_t> ids(const std::vector<HeaderExtension>& extensions) {
  std::vector<uint16_t> out;
  for (const auto& e : extensions) out.push_back(e.id);
  return out;
}

TEST(Publish, ChromiumSimulcastOffer) {
  PublishAnswer answer = negotiate(readData("chromium-offer-simulcast.sdp"));
  ASSERT_EQ(answer.media.size(), 2u);
  EXPECT_EQ(answer.bundleMids, (std::vector<std::string>{"0", "1"}));
  EXPECT_EQ(answer.localSetup, SetupRole::Passive);
  EXPECT_EQ(answer.remote.setup, SetupRole::ActPass);
  EXPECT_EQ(answer.remote.mid, "0");
  EXPECT_EQ(answer.remote.fingerprints.size(), 1u);
  EXPECT_FALSE(answer.extmapAllowMixed);  // offered, but the SFU sticks to one-byte headers

  const AnswerMedia& audio = answer.media[0];
  ASSERT_TRUE(audio.accepted);
  EXPECT_EQ(audio.direction, Direction::RecvOnly);  // the offer was sendrecv
  ASSERT_EQ(audio.codecs.size(), 1u);
  EXPECT_EQ(audio.codecs[0].payloadType, 111);
  EXPECT_EQ(formatParameters(audio.codecs[0].parameters), "minptime=10;useinbandfec=1;usedtx=1");
  // transport-cc is not negotiated until the SFU sends transport-wide feedback.
  EXPECT_TRUE(audio.codecs[0].feedback.empty());
  EXPECT_EQ(ids(audio.extensions), (std::vector<uint16_t>{1, 2, 4}));
  EXPECT_TRUE(audio.rtcpRsize);

  const AnswerMedia& video = answer.media[1];
  ASSERT_TRUE(video.accepted);
  ASSERT_NE(video.mediaCodec(), nullptr);
  EXPECT_EQ(video.mediaCodec()->name, "VP8");
  EXPECT_EQ(video.mediaCodec()->payloadType, 96);
  ASSERT_NE(video.rtxCodec(), nullptr);
  EXPECT_EQ(video.rtxCodec()->payloadType, 97);
  EXPECT_EQ(video.rtxCodec()->rtxApt(), 96);
  EXPECT_EQ(video.mediaCodec()->feedback.size(), 4u);
  // Only common extensions, with Chromium's ids: abs-send-time, mid, rid, rrid.
  EXPECT_EQ(ids(video.extensions), (std::vector<uint16_t>{2, 4, 10, 11}));
  ASSERT_EQ(video.rids.size(), 3u);
  EXPECT_EQ(video.rids[0].id, "h");
  EXPECT_EQ(video.rids[0].direction, RidDirection::Recv);
  ASSERT_TRUE(video.simulcast.has_value());
  EXPECT_EQ(video.simulcast->recv.size(), 3u);
  EXPECT_TRUE(video.simulcast->send.empty());
}

TEST(Publish, ChromiumPublishOfferRejectsTheDataChannel) {
  std::string text = readData("chromium-offer-publish.sdp");
  PublishAnswer answer = negotiate(text);
  ASSERT_EQ(answer.media.size(), 3u);
  EXPECT_TRUE(answer.media[0].accepted);
  EXPECT_TRUE(answer.media[1].accepted);
  EXPECT_FALSE(answer.media[2].accepted);
  EXPECT_EQ(answer.media[2].rejectReason, "unsupported-media");
  EXPECT_EQ(answer.bundleMids, (std::vector<std::string>{"0", "1"}));
  // What the publisher sends is carried over for the SFU.
  const AnswerMedia& video = answer.media[1];
  EXPECT_EQ(video.direction, Direction::RecvOnly);
  ASSERT_EQ(video.ssrcGroups.size(), 1u);
  EXPECT_EQ(video.ssrcGroups[0].semantics, "FID");
  EXPECT_EQ(video.ssrcs.size(), 2u);
  EXPECT_EQ(video.msids.size(), 1u);
  EXPECT_TRUE(video.rids.empty());
  EXPECT_FALSE(video.simulcast.has_value());
}

TEST(Publish, AiortcOfferKeepsThePublishersPayloadTypes) {
  PublishAnswer answer = negotiate(readData("aiortc-offer.sdp"));
  ASSERT_EQ(answer.media.size(), 2u);
  EXPECT_EQ(answer.media[0].codecs[0].payloadType, 96);  // aiortc's Opus
  EXPECT_TRUE(answer.media[0].codecs[0].feedback.empty());
  EXPECT_EQ(ids(answer.media[0].extensions), (std::vector<uint16_t>{1, 2}));
  EXPECT_EQ(answer.media[1].mediaCodec()->payloadType, 97);  // aiortc's VP8
  EXPECT_EQ(answer.media[1].rtxCodec()->payloadType, 98);
  EXPECT_EQ(answer.media[1].mediaCodec()->feedback,
            (std::vector<RtcpFeedback>{{"nack", ""}, {"nack", "pli"}, {"goog-remb", ""}}));
  EXPECT_FALSE(answer.media[1].rtcpRsize);
  // The BUNDLE transport is the first section's (aiortc gives each section its own ufrag).
  EXPECT_EQ(answer.remote.ice.ufrag, "r7fX");
  EXPECT_EQ(answer.remote.ice.pwd, "brFC3cGg0P0zAPQHs5NI3K");
  EXPECT_EQ(answer.remote.candidates.size(), 2u);
  EXPECT_TRUE(answer.remote.endOfCandidates);
}

// Firefox's publish offer (with rtcp-fb lines for codecs it dropped) is answered like Chromium's,
// with Firefox's payload types and only extensions Firefox offered (Firefox refuses an answer
// with an extension id it did not offer).
TEST(Publish, FirefoxOfferIsAccepted) {
  std::string text = readData("firefox-offer-publish.sdp");
  PublishAnswer answer = negotiate(text);
  ASSERT_EQ(answer.media.size(), 2u);
  EXPECT_EQ(answer.bundleMids, (std::vector<std::string>{"0", "1"}));
  const AnswerMedia& audio = answer.media[0];
  ASSERT_TRUE(audio.accepted);
  EXPECT_EQ(audio.direction, Direction::RecvOnly);
  ASSERT_EQ(audio.codecs.size(), 1u);
  EXPECT_EQ(audio.codecs[0].payloadType, 109);
  const AnswerMedia& video = answer.media[1];
  ASSERT_TRUE(video.accepted);
  EXPECT_EQ(video.mediaCodec()->payloadType, 120);
  ASSERT_NE(video.rtxCodec(), nullptr);
  EXPECT_EQ(video.rtxCodec()->payloadType, 124);
  EXPECT_EQ(video.ssrcs.size(), 2u);
  ASSERT_EQ(video.ssrcGroups.size(), 1u);
  auto offer = parseSessionDescription(text);
  ASSERT_TRUE(offer.ok());
  for (size_t i = 0; i < answer.media.size(); ++i)
    for (const auto& ext : answer.media[i].extensions) {
      const HeaderExtension* offered = offer.value().media[i].extension(ext.uri);
      ASSERT_NE(offered, nullptr) << ext.uri;
      EXPECT_EQ(offered->id, ext.id) << ext.uri;
    }
}

TEST(Publish, TheAnswerOffersAPassiveTcpCandidateForEachHostCandidateBelowEveryUdpOne) {
  LocalTransport transport = serverTransport();
  transport.tcpPassive = true;
  PublishAnswer answer = negotiate(readData("chromium-offer-publish.sdp"));
  std::string text = writePublishAnswer(answer, transport, {1, 1});
  // RFC 6544 §4.5: "tcptype passive"; priority (90 << 24) + ((4 << 13 | 65535 >> 3) << 8) + 255.
  EXPECT_NE(text.find("a=candidate:t1 1 tcp 1520435199 192.0.2.10 40000 typ host tcptype passive\r\n"),
            std::string::npos)
      << text;
  EXPECT_NE(text.find("a=candidate:t2 1 tcp 1520435199 2001:db8::10 40000 typ host tcptype passive\r\n"),
            std::string::npos);
  // 65534 >> 3 == 65535 >> 3: the second address ties with the first over TCP, as over UDP it
  // is one lower; both stay below it.
  auto parsed = parseSessionDescription(text);
  ASSERT_TRUE(parsed.ok());
  for (const MediaDescription& m : parsed.value().media) {
    if (m.rejected()) continue;
    ASSERT_EQ(m.candidates.size(), 4u);
    EXPECT_EQ(m.candidates[0].transport, "udp");
    EXPECT_EQ(m.candidates[1].transport, "udp");
    for (size_t i : {2u, 3u}) {
      EXPECT_EQ(m.candidates[i].transport, "tcp");
      EXPECT_EQ(m.candidates[i].port, 40000);
      EXPECT_EQ(m.candidates[i].extensions, (std::vector<std::pair<std::string, std::string>>{{"tcptype", "passive"}}));
      EXPECT_LT(m.candidates[i].priority, m.candidates[1].priority);
      EXPECT_NE(m.candidates[i].foundation, m.candidates[0].foundation);
      EXPECT_NE(m.candidates[i].foundation, m.candidates[1].foundation);
    }
    EXPECT_TRUE(m.endOfCandidates);
    EXPECT_EQ(m.port, 40000);  // the default address stays the UDP one
  }
  // Without tcpPassive, UDP only.
  transport.tcpPassive = false;
  EXPECT_EQ(writePublishAnswer(answer, transport, {1, 1}).find(" tcp "), std::string::npos);
}

TEST(Publish, TcpCandidatePrioritiesFollowRfc6544) {
  EXPECT_EQ(tcpPassiveCandidatePriority(65535), (90u << 24) + ((4u << 13 | 8191u) << 8) + 255u);
  EXPECT_EQ(tcpPassiveCandidatePriority(0), (90u << 24) + ((4u << 13) << 8) + 255u);
  EXPECT_LT(tcpPassiveCandidatePriority(65535), hostCandidatePriority(0));
  EXPECT_LT(tcpPassiveCandidatePriority(1000), tcpPassiveCandidatePriority(65535));
}

TEST(Publish, WrittenAnswerParsesBackAndMatches) {
  for (const char* name : {"chromium-offer-simulcast.sdp", "chromium-offer-publish.sdp", "aiortc-offer.sdp",
                           "firefox-offer-publish.sdp"}) {
    SCOPED_TRACE(name);
    std::string offerText = readData(name);
    PublishAnswer answer = negotiate(offerText);
    LocalTransport transport = serverTransport();
    std::string text = writePublishAnswer(answer, transport, {4611686018427387904ull, 3});
    auto parsed = parseSessionDescription(text);
    ASSERT_TRUE(parsed.ok()) << parsed.error().code << " line " << parsed.error().line << "\n" << text;
    const SessionDescription& d = parsed.value();
    EXPECT_TRUE(d.iceLite);
    EXPECT_EQ(d.origin.sessionId, "4611686018427387904");
    EXPECT_EQ(d.origin.sessionVersion, "3");
    ASSERT_NE(d.bundleGroup(), nullptr);
    EXPECT_EQ(d.bundleGroup()->mids, answer.bundleMids);
    ASSERT_EQ(d.media.size(), answer.media.size());
    for (size_t i = 0; i < d.media.size(); ++i) {
      const MediaDescription& m = d.media[i];
      const AnswerMedia& a = answer.media[i];
      EXPECT_EQ(m.mid, a.mid);
      EXPECT_EQ(m.media, a.media);
      if (!a.accepted) {
        EXPECT_EQ(m.port, 0);
        EXPECT_TRUE(m.rejected());
        continue;
      }
      EXPECT_EQ(m.port, 40000);
      EXPECT_EQ(m.direction, a.direction);
      EXPECT_EQ(m.ice.ufrag, "srvU");
      EXPECT_EQ(m.ice.pwd, "serverPasswordIs22Long");
      ASSERT_EQ(m.fingerprints.size(), 1u);
      EXPECT_EQ(m.fingerprints[0], transport.fingerprint);
      EXPECT_EQ(m.setup, SetupRole::Passive);
      EXPECT_TRUE(m.rtcpMux);
      EXPECT_EQ(m.rtcpRsize, a.rtcpRsize);
      ASSERT_EQ(m.candidates.size(), 2u);
      EXPECT_EQ(m.candidates[0].priority, 2130706431u);  // (126 << 24) + (65535 << 8) + 255
      EXPECT_EQ(m.candidates[0].address, "192.0.2.10");
      EXPECT_EQ(m.candidates[1].address, "2001:db8::10");
      EXPECT_EQ(m.candidates[1].priority, 2130706175u);
      EXPECT_TRUE(m.endOfCandidates);
      ASSERT_EQ(m.codecs.size(), a.codecs.size());
      for (size_t c = 0; c < m.codecs.size(); ++c) {
        EXPECT_EQ(m.codecs[c].payloadType, a.codecs[c].payloadType);
        EXPECT_EQ(m.codecs[c].name, a.codecs[c].name);
        EXPECT_EQ(m.codecs[c].parameters, a.codecs[c].parameters);
        EXPECT_EQ(m.codecs[c].feedback, a.codecs[c].feedback);
      }
      EXPECT_EQ(m.extensions, a.extensions);
      EXPECT_EQ(m.rids.size(), a.rids.size());
    }
    EXPECT_EQ(text.find("a=ice-lite\r\n"), text.find("t=0 0\r\n") + 7);
  }
}

TEST(Publish, RejectedSectionIsWrittenWithPortZeroAndItsMid) {
  PublishAnswer answer = negotiate(readData("chromium-offer-publish.sdp"));
  std::string text = writePublishAnswer(answer, serverTransport(), {1, 1});
  EXPECT_NE(text.find("m=application 0 UDP/DTLS/SCTP webrtc-datachannel\r\nc=IN IP4 0.0.0.0\r\na=mid:2\r\n"
                      "a=inactive\r\n"),
            std::string::npos)
      << text;
}

TEST(Publish, SectionRejectionReasons) {
  std::string chromium = readData("chromium-offer-publish.sdp");
  auto reasonFor = [](const std::string& offer, size_t index) {
    PublishAnswer answer = negotiate(offer);
    return answer.media.size() > index ? answer.media[index].rejectReason : "missing";
  };
  // No rtcp-mux on video.
  std::string noMux = chromium;
  size_t video = noMux.find("m=video");
  noMux.replace(noMux.find("a=rtcp-mux\r\n", video), 12, "");
  EXPECT_EQ(reasonFor(noMux, 1), "rtcp-mux-required");
  EXPECT_EQ(reasonFor(replaceOnce(chromium, "BUNDLE 0 1 2", "BUNDLE 0 2"), 1), "not-bundled");
  std::string disabled = replaceOnce(replaceOnce(chromium, "m=video 9", "m=video 0"), "BUNDLE 0 1 2", "BUNDLE 0 2");
  EXPECT_EQ(reasonFor(disabled, 1), "disabled");
  EXPECT_EQ(reasonFor(replaceOnce(chromium, "m=video 9 UDP/TLS/RTP/SAVPF", "m=video 9 RTP/SAVPF"), 1),
            "unsupported-protocol");
  // Video without VP8: strip VP8 and its RTX from the m= line and attributes.
  std::string noVp8 = replaceOnce(chromium, "UDP/TLS/RTP/SAVPF 96 97 ", "UDP/TLS/RTP/SAVPF ");
  noVp8 = removeLines(removeLines(removeLines(noVp8, "a=rtpmap:96 "), "a=rtpmap:97 "), "a=fmtp:97 ");
  noVp8 = removeLines(noVp8, "a=rtcp-fb:96 ");
  EXPECT_EQ(reasonFor(noVp8, 1), "no-common-codec");
  // A bundle-only section (port 0 + a=bundle-only) is accepted, not disabled.
  std::string bundleOnly = replaceOnce(chromium, "m=video 9", "m=video 0");
  bundleOnly = replaceOnce(bundleOnly, "a=mid:1\r\n", "a=mid:1\r\na=bundle-only\r\n");
  EXPECT_EQ(reasonFor(bundleOnly, 1), "");
}

TEST(Publish, SetupAndDirection) {
  std::string chromium = readData("chromium-offer-publish.sdp");
  PublishAnswer passiveOffer = negotiate(replaceAll(chromium, "a=setup:actpass", "a=setup:passive"));
  EXPECT_EQ(passiveOffer.localSetup, SetupRole::Active);
  PublishAnswer activeOffer = negotiate(replaceAll(chromium, "a=setup:actpass", "a=setup:active"));
  EXPECT_EQ(activeOffer.localSetup, SetupRole::Passive);
  // A recvonly section asks the SFU to send on the publish connection, which it never does.
  PublishAnswer recvonly = negotiate(replaceOnce(chromium, "a=sendonly", "a=recvonly"));
  EXPECT_TRUE(recvonly.media[0].accepted);
  EXPECT_EQ(recvonly.media[0].direction, Direction::Inactive);
}

TEST(Publish, ExtensionRules) {
  std::string sim = readData("chromium-offer-simulcast.sdp");
  // Ids above 14 need two-byte headers: dropped unless mixed headers are allowed.
  std::string high =
      replaceOnce(sim,
                  "a=extmap:3 http://www.ietf.org/id/draft-holmer-rmcat-transport-wide-cc-extensions-01\r\n"
                  "a=extmap:4",
                  "a=extmap:23 http://www.ietf.org/id/draft-holmer-rmcat-transport-wide-cc-extensions-01\r\n"
                  "a=extmap:4");
  PublishAnswer oneByte = negotiate(high);
  EXPECT_EQ(ids(oneByte.media[0].extensions), (std::vector<uint16_t>{1, 2, 4}));
  Capabilities mixed = Capabilities::defaults();
  mixed.allowMixedExtmap = true;
  mixed.extensions.push_back({MediaKind::Audio, std::string(uri::kTransportCc), 3, true, true});
  PublishAnswer twoByte = negotiate(high, mixed);
  EXPECT_TRUE(twoByte.extmapAllowMixed);
  EXPECT_EQ(ids(twoByte.media[0].extensions), (std::vector<uint16_t>{1, 2, 23, 4}));
  std::string text = writePublishAnswer(twoByte, serverTransport(), {1, 1});
  EXPECT_NE(text.find("\r\na=extmap-allow-mixed\r\n"), std::string::npos);
}

TEST(Publish, SimulcastRules) {
  std::string sim = readData("chromium-offer-simulcast.sdp");
  Capabilities two = Capabilities::defaults();
  two.maxSimulcastLayers = 2;
  PublishAnswer limited = negotiate(sim, two);
  ASSERT_EQ(limited.media[1].rids.size(), 2u);
  EXPECT_EQ(limited.media[1].rids[1].id, "m");
  std::string text = writePublishAnswer(limited, serverTransport(), {1, 1});
  EXPECT_NE(text.find("a=rid:h recv\r\na=rid:m recv\r\na=simulcast:recv h;m\r\n"), std::string::npos) << text;

  // Without the rid header extension the layers cannot be told apart: no simulcast.
  PublishAnswer noRid = negotiate(removeLines(sim, "a=extmap:10 "));
  EXPECT_TRUE(noRid.media[1].accepted);
  EXPECT_TRUE(noRid.media[1].rids.empty());
  EXPECT_FALSE(noRid.media[1].simulcast.has_value());

  // A rid restricted to another codec is dropped; a paused layer stays paused.
  std::string restricted = replaceOnce(sim, "a=rid:l send", "a=rid:l send pt=98");
  restricted = replaceOnce(restricted, "a=simulcast:send h;m;l", "a=simulcast:send h;~m;l");
  PublishAnswer r = negotiate(restricted);
  ASSERT_EQ(r.media[1].rids.size(), 2u);
  EXPECT_TRUE(r.media[1].simulcast->recv[1][0].paused);
  text = writePublishAnswer(r, serverTransport(), {1, 1});
  EXPECT_NE(text.find("a=simulcast:recv h;~m\r\n"), std::string::npos) << text;
}

TEST(PublishErrors, WholeOfferFailures) {
  std::string chromium = readData("chromium-offer-publish.sdp");
  EXPECT_EQ(negotiateError(removeLines(chromium, "a=group:BUNDLE")), "missing-bundle");
  EXPECT_EQ(negotiateError(removeLines(chromium, "a=fingerprint")), "missing-fingerprint");
  EXPECT_EQ(negotiateError(removeLines(chromium, "a=setup")), "missing-setup");
  EXPECT_EQ(negotiateError(removeLines(chromium, "a=ice-pwd")), "missing-ice-credentials");
  EXPECT_EQ(negotiateError(replaceAll(chromium, "a=setup:actpass", "a=setup:holdconn")), "bad-setup");
  EXPECT_EQ(negotiateError(replaceOnce(chromium, "a=group:BUNDLE", "a=ice-lite\r\na=group:BUNDLE")), "remote-ice-lite");
  std::string sha1 = removeLines(chromium, "a=fingerprint");
  sha1 = replaceAll(sha1, "a=setup:actpass",
                    "a=fingerprint:sha-1 00:11:22:33:44:55:66:77:88:99:AA:BB:CC:DD:EE:FF:00:11:22:33\r\n"
                    "a=setup:actpass");
  EXPECT_EQ(negotiateError(sha1), "unsupported-fingerprint");
  EXPECT_EQ(negotiateError("v=0\r\no=- 1 1 IN IP4 127.0.0.1\r\ns=-\r\nt=0 0\r\n"), "not-an-offer");
}

}  // namespace
}  // namespace conclave::sdp
