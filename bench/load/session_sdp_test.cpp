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
