// conclave-load's SDP (session_sdp.h) against the server's own negotiation code: the publish
// offer is what negotiatePublish() accepts in full, the subscribe answer what
// checkSubscribeAnswer() accepts, and what the load tool reads from the server's SDP is what the
// server wrote there.
#include "load/session_sdp.h"

#include <gtest/gtest.h>

#include "clients/media_clients.h"
#include "sdp/capabilities.h"
#include "sdp/publish.h"
#include "sdp/sdp_test_util.h"
#include "sdp/server_transport.h"
#include "sdp/subscribe.h"

namespace conclave::bench::load {
namespace {

LocalEndpoint localEndpoint() {
  LocalEndpoint local;
  local.ice = ice::IceCredentials::generate();
  local.fingerprint = {"sha-256", std::vector<uint8_t>(32, 0xAB)};
  local.address = *net::Endpoint::parse("127.0.0.1:51234");
  return local;
}

sdp::SessionDescription parsed(const std::string& text) {
  auto d = sdp::parseSessionDescription(text);
  EXPECT_TRUE(d.ok()) << (d.ok() ? "" : d.error().code + " line " + std::to_string(d.error().line)) << "\n" << text;
  return d.ok() ? std::move(d.value()) : sdp::SessionDescription{};
}

TEST(LoadSdp, ThePublishOfferIsAcceptedWholeWithThreeSimulcastLayersRtxAndTransportCc) {
  const LocalEndpoint local = localEndpoint();
  PublishTracks tracks;
  tracks.audioSsrc = 0x40000010;
  tracks.cname = "load1";
  const auto offer = parsed(buildPublishOffer(local, tracks, 42));
  auto answer = sdp::negotiatePublish(offer, sdp::Capabilities::defaults());
  ASSERT_TRUE(answer.ok()) << answer.error().code;
  ASSERT_EQ(answer->media.size(), 2u);
  const auto& audio = answer->media[0];
  const auto& video = answer->media[1];
  EXPECT_TRUE(audio.accepted) << audio.rejectReason;
  EXPECT_TRUE(video.accepted) << video.rejectReason;
  EXPECT_EQ(audio.mid, "0");
  EXPECT_EQ(video.mid, "1");
  EXPECT_EQ(audio.direction, sdp::Direction::RecvOnly);
  ASSERT_EQ(audio.ssrcs.size(), 1u);
  EXPECT_EQ(audio.ssrcs[0].ssrc, 0x40000010u);
  ASSERT_NE(video.mediaCodec(), nullptr);
  EXPECT_EQ(video.mediaCodec()->payloadType, kVp8Pt);
  ASSERT_NE(video.rtxCodec(), nullptr);
  EXPECT_EQ(video.rtxCodec()->payloadType, kRtxPt);
  ASSERT_EQ(video.rids.size(), 3u);
  EXPECT_EQ(video.rids[0].id, "q");
  EXPECT_EQ(video.rids[2].id, "f");
  // The ids the synthetic publisher writes are the ones the server maps.
  auto idOf = [](const sdp::AnswerMedia& m, std::string_view uri) {
    for (const auto& e : m.extensions)
      if (e.uri == uri) return int(e.id);
    return -1;
  };
  EXPECT_EQ(idOf(video, sdp::uri::kTransportCc), kTccId);
  EXPECT_EQ(idOf(video, sdp::uri::kMid), kMidId);
  EXPECT_EQ(idOf(video, sdp::uri::kRtpStreamId), kRidId);
  EXPECT_EQ(idOf(video, sdp::uri::kRepairedRtpStreamId), kRepairedRidId);
  EXPECT_EQ(idOf(audio, sdp::uri::kAudioLevel), kAudioLevelId);
  EXPECT_EQ(answer->remote.ice.ufrag, local.ice.ufrag);
  EXPECT_EQ(answer->remote.candidates.size(), 1u);

  // The server's answer, read back: its ICE credentials, candidate and fingerprint; we are the
  // DTLS client.
  const auto server = sdp::test::loopbackServerTransport();
  const auto text = sdp::writePublishAnswer(answer.value(), server, {7, 1});
  auto remote = readPublishAnswer(text, net::Endpoint::Family::V4);
  ASSERT_TRUE(remote.ok()) << remote.error();
  EXPECT_EQ(remote->ice.ufrag, server.iceUfrag);
  EXPECT_EQ(remote->ice.pwd, server.icePwd);
  EXPECT_EQ(remote->address, *net::Endpoint::parse("127.0.0.1:40000"));
  EXPECT_EQ(remote->fingerprint.digest, server.fingerprint.bytes);
  EXPECT_EQ(remote->localRole, dtls::DtlsRole::Client);
  // No IPv6 candidate in it.
  EXPECT_FALSE(readPublishAnswer(text, net::Endpoint::Family::V6).ok());
}

TEST(LoadSdp, AnAudioOnlyOfferHasOneSection) {
  PublishTracks tracks;
  tracks.video = false;
  tracks.audioSsrc = 5;
  tracks.cname = "a";
  const auto offer = parsed(buildPublishOffer(localEndpoint(), tracks, 1));
  auto answer = sdp::negotiatePublish(offer, sdp::Capabilities::defaults());
  ASSERT_TRUE(answer.ok());
  ASSERT_EQ(answer->media.size(), 1u);
  EXPECT_TRUE(answer->media[0].accepted);
}

TEST(LoadSdp, TheSubscribeAnswerToTheServersCapturedOfferPassesTheServersCheck) {
  const std::string offerText = sdp::test::readData("conclave-offer-subscribe.sdp");
  const LocalEndpoint local = localEndpoint();
  auto offer = answerSubscribeOffer(offerText, local, net::Endpoint::Family::V4, 9, 2);
  ASSERT_TRUE(offer.ok()) << offer.error();
  auto checked = sdp::checkSubscribeAnswer(parsed(offerText), parsed(offer->answer), sdp::Capabilities::defaults());
  ASSERT_TRUE(checked.ok()) << checked.error().code << ": " << checked.error().message << "\n" << offer->answer;
  EXPECT_EQ(checked->localSetup, sdp::SetupRole::Passive);  // the server stays the DTLS server
  EXPECT_EQ(checked->remote.ice.ufrag, local.ice.ufrag);
  for (const auto& m : checked->media) EXPECT_EQ(m.direction, sdp::Direction::RecvOnly) << m.mid;

  ASSERT_EQ(offer->tracks.size(), 2u);
  EXPECT_FALSE(offer->tracks[0].video);
  EXPECT_TRUE(offer->tracks[0].active);
  EXPECT_EQ(offer->tracks[0].ssrc, 1000u);
  EXPECT_EQ(offer->tracks[0].clockRate, 48000u);
  EXPECT_TRUE(offer->tracks[1].video);
  EXPECT_EQ(offer->tracks[1].ssrc, 1001u);
  EXPECT_EQ(offer->tracks[1].rtxSsrc, 1002u);
  EXPECT_EQ(offer->transportCcId, 3);
  EXPECT_EQ(offer->remote.address, *net::Endpoint::parse("127.0.0.1:40000"));
  EXPECT_EQ(offer->remote.localRole, dtls::DtlsRole::Client);
  EXPECT_TRUE(offer->remote.iceLite);  // we control: the server sends no checks
}

// A subscriber offer of Janus 1.1.2's VideoRoom (captured in the load lab): fingerprint at
// session level, candidates after the codecs, transport-cc on video only, no a=ice-lite.
TEST(LoadSdp, JanussSubscriberOfferIsReadAndAnsweredAsTheControlledSide) {
  const std::string kFingerprint =
      "37:8F:65:E0:92:00:50:96:6B:01:FC:B4:E4:96:8E:F1:2C:40:57:B6:8D:BB:8F:B7:40:30:BE:99:5B:0A:06:BD";
  const std::vector<std::string> lines = {
      "v=0",
      "o=- 1796406091275488 1 IN IP4 10.214.0.1",
      "s=VideoRoom 1010783442",
      "t=0 0",
      "a=group:BUNDLE 0 1",
      "a=ice-options:trickle",
      "a=fingerprint:sha-256 " + kFingerprint,
      "a=extmap-allow-mixed",
      "a=msid-semantic: WMS *",
      "m=audio 9 UDP/TLS/RTP/SAVPF 111",
      "c=IN IP4 10.214.0.1",
      "a=sendonly",
      "a=mid:0",
      "a=rtcp-mux",
      "a=ice-ufrag:DLZE",
      "a=ice-pwd:YfXq5p9L29Sj8WX4eTZjLH",
      "a=ice-options:trickle",
      "a=setup:actpass",
      "a=rtpmap:111 opus/48000/2",
      "a=rtcp-fb:111 transport-cc",
      "a=extmap:1 urn:ietf:params:rtp-hdrext:ssrc-audio-level",
      "a=extmap:4 urn:ietf:params:rtp-hdrext:sdes:mid",
      "a=fmtp:111 useinbandfec=1",
      "a=msid:janus janus0",
      "a=ssrc:2751796368 cname:janus",
      "a=candidate:1 1 udp 2015363327 10.214.0.1 24274 typ host",
      "a=end-of-candidates",
      "m=video 9 UDP/TLS/RTP/SAVPF 96 97",
      "c=IN IP4 10.214.0.1",
      "a=sendonly",
      "a=mid:1",
      "a=rtcp-mux",
      "a=ice-ufrag:DLZE",
      "a=ice-pwd:YfXq5p9L29Sj8WX4eTZjLH",
      "a=ice-options:trickle",
      "a=setup:actpass",
      "a=rtpmap:96 VP8/90000",
      "a=rtcp-fb:96 ccm fir",
      "a=rtcp-fb:96 nack",
      "a=rtcp-fb:96 nack pli",
      "a=rtcp-fb:96 goog-remb",
      "a=rtcp-fb:96 transport-cc",
      "a=extmap:2 http://www.webrtc.org/experiments/rtp-hdrext/abs-send-time",
      "a=extmap:3 http://www.ietf.org/id/draft-holmer-rmcat-transport-wide-cc-extensions-01",
      "a=extmap:4 urn:ietf:params:rtp-hdrext:sdes:mid",
      "a=rtpmap:97 rtx/90000",
      "a=fmtp:97 apt=96",
      "a=ssrc-group:FID 3315769787 2413686503",
      "a=msid:janus janus1",
      "a=ssrc:3315769787 cname:janus",
      "a=ssrc:2413686503 cname:janus",
      "a=candidate:1 1 udp 2015363327 10.214.0.1 24274 typ host",
      "a=end-of-candidates"};
  std::string text;
  for (const auto& line : lines) text += line + "\r\n";
  auto offer = answerSubscribeOffer(text, localEndpoint(), net::Endpoint::Family::V4, 9, 2);
  ASSERT_TRUE(offer.ok()) << offer.error();
  EXPECT_FALSE(offer->remote.iceLite);  // Janus controls; we answer its checks and nominate nothing
  EXPECT_EQ(offer->remote.localRole, dtls::DtlsRole::Client);
  EXPECT_EQ(offer->remote.address, *net::Endpoint::parse("10.214.0.1:24274"));
  EXPECT_EQ(offer->remote.ice.ufrag, "DLZE");
  EXPECT_EQ(offer->remote.fingerprint.digest.size(), 32u);
  ASSERT_EQ(offer->tracks.size(), 2u);
  EXPECT_TRUE(offer->tracks[0].active);
  EXPECT_EQ(offer->tracks[0].ssrc, 2751796368u);
  EXPECT_EQ(offer->tracks[1].ssrc, 3315769787u);
  EXPECT_EQ(offer->tracks[1].rtxSsrc, 2413686503u);
  EXPECT_EQ(offer->transportCcId, 3);
  const auto answer = parsed(offer->answer);
  ASSERT_EQ(answer.media.size(), 2u);
  EXPECT_EQ(answer.media[1].setup, sdp::SetupRole::Active);
  EXPECT_EQ(answer.media[1].direction, sdp::Direction::RecvOnly);
}

TEST(LoadSdp, EndedAndStoppedTracksAreAnsweredAsTheServerExpectsAndNotCountedActive) {
  sdp::MidAllocator slots;
  const auto audio = slots.acquire(sdp::MediaKind::Audio);
  const auto video = slots.acquire(sdp::MediaKind::Video);
  const auto gone = slots.acquire(sdp::MediaKind::Audio);
  ASSERT_TRUE(audio && video && gone);
  slots.release(*video);  // its publisher left: inactive
  slots.stop(*gone);      // port 0
  sdp::OutgoingTrack a{*audio, sdp::MediaKind::Audio, 1000, std::nullopt, "c", "s", "t"};
  const auto text = sdp::buildSubscribeOffer(slots.slots(), {a}, sdp::test::loopbackServerTransport(), {1, 3},
                                             sdp::Capabilities::defaults());
  ASSERT_TRUE(text.ok()) << text.error().code;
  auto offer = answerSubscribeOffer(text.value(), localEndpoint(), net::Endpoint::Family::V4, 9, 4);
  ASSERT_TRUE(offer.ok()) << offer.error();
  auto checked = sdp::checkSubscribeAnswer(parsed(text.value()), parsed(offer->answer), sdp::Capabilities::defaults());
  ASSERT_TRUE(checked.ok()) << checked.error().code << ": " << checked.error().message << "\n" << offer->answer;
  ASSERT_EQ(offer->tracks.size(), 3u);
  EXPECT_TRUE(offer->tracks[0].active);
  EXPECT_FALSE(offer->tracks[1].active);
  EXPECT_FALSE(offer->tracks[2].active);
  EXPECT_EQ(checked->media[1].direction, sdp::Direction::Inactive);
  EXPECT_FALSE(checked->media[2].accepted);
}

}  // namespace
}  // namespace conclave::bench::load
