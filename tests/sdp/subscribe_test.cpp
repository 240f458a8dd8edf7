// Subscribe offers (src/sdp/subscribe.h): the mid allocation policy, offer generation and
// re-parse, renegotiation, and checking Chromium's captured answer.
#include "sdp/subscribe.h"

#include <gtest/gtest.h>

#include "sdp_test_util.h"
#include "server_transport.h"

namespace conclave::sdp {
namespace {

using test::loopbackServerTransport;
using test::readData;
using test::removeLines;
using test::replaceAll;
using test::replaceOnce;

OutgoingTrack track(const std::string& mid, MediaKind kind, uint32_t ssrc, int n) {
  OutgoingTrack t;
  t.mid = mid;
  t.kind = kind;
  t.ssrc = ssrc;
  if (kind == MediaKind::Video) t.rtxSsrc = ssrc + 1;
  t.cname = "publisher" + std::to_string(n);
  t.streamId = "stream" + std::to_string(n);
  t.trackId = "track" + std::to_string(n);
  return t;
}

SessionDescription offerOf(const MidAllocator& slots, const std::vector<OutgoingTrack>& tracks, uint64_t version = 1) {
  auto text = buildSubscribeOffer(slots.slots(), tracks, loopbackServerTransport(), {987654321, version},
                                  Capabilities::defaults());
  EXPECT_TRUE(text.ok()) << text.error().code;
  if (!text.ok()) return {};
  auto parsed = parseSessionDescription(text.value());
  EXPECT_TRUE(parsed.ok()) << parsed.error().code << " line " << parsed.error().line << "\n" << text.value();
  return parsed.ok() ? std::move(parsed.value()) : SessionDescription{};
}

TEST(MidAllocator, Policy) {
  MidAllocator slots;
  EXPECT_EQ(slots.acquire(MediaKind::Audio), "0");
  EXPECT_EQ(slots.acquire(MediaKind::Video), "1");
  EXPECT_EQ(slots.acquire(MediaKind::Video), "2");
  // Released slots are reused by the same kind, with the same mid.
  EXPECT_TRUE(slots.release("1"));
  EXPECT_FALSE(slots.release("1"));
  EXPECT_EQ(slots.find("1")->state, SlotState::Inactive);
  EXPECT_EQ(slots.acquire(MediaKind::Audio), "3");  // not the inactive video slot
  EXPECT_EQ(slots.acquire(MediaKind::Video), "1");
  EXPECT_EQ(slots.find("1")->state, SlotState::Active);
  // Stopped slots are recycled (any kind, fresh mid) only once the stop has been answered.
  EXPECT_TRUE(slots.stop("0"));
  EXPECT_FALSE(slots.stop("0"));
  EXPECT_EQ(slots.acquire(MediaKind::Video), "4");  // appended
  slots.onNegotiated();
  EXPECT_TRUE(slots.find("0")->recyclable);
  EXPECT_EQ(slots.acquire(MediaKind::Video), "5");
  ASSERT_EQ(slots.slots().size(), 5u);
  EXPECT_EQ(slots.slots()[0].mid, "5");  // the first m-line, recycled
  EXPECT_EQ(slots.slots()[0].kind, MediaKind::Video);
  EXPECT_EQ(slots.find("0"), nullptr);  // mids are never reused
  EXPECT_FALSE(slots.release("nope"));
  EXPECT_FALSE(slots.stop("nope"));
}

TEST(MidAllocator, Capacity) {
  MidAllocator slots(2);
  EXPECT_TRUE(slots.acquire(MediaKind::Audio));
  EXPECT_TRUE(slots.acquire(MediaKind::Audio));
  EXPECT_FALSE(slots.acquire(MediaKind::Video));
  slots.release("0");
  EXPECT_FALSE(slots.acquire(MediaKind::Video));  // inactive audio slots are not for video
  EXPECT_EQ(slots.acquire(MediaKind::Audio), "0");
}

TEST(SubscribeOffer, GeneratedOfferParsesBack) {
  MidAllocator slots;
  std::vector<OutgoingTrack> tracks{track(*slots.acquire(MediaKind::Audio), MediaKind::Audio, 1000, 1),
                                    track(*slots.acquire(MediaKind::Video), MediaKind::Video, 2000, 2)};
  SessionDescription d = offerOf(slots, tracks);
  EXPECT_TRUE(d.iceLite);
  ASSERT_NE(d.bundleGroup(), nullptr);
  EXPECT_EQ(d.bundleGroup()->mids, (std::vector<std::string>{"0", "1"}));
  ASSERT_EQ(d.media.size(), 2u);

  const MediaDescription& audio = d.media[0];
  EXPECT_EQ(audio.kind, MediaKind::Audio);
  EXPECT_EQ(audio.mid, "0");
  EXPECT_EQ(audio.port, 40000);
  EXPECT_EQ(audio.direction, Direction::SendOnly);
  EXPECT_EQ(audio.setup, SetupRole::ActPass);
  EXPECT_EQ(audio.ice.ufrag, "cnclvSfu");
  EXPECT_TRUE(audio.rtcpMux);
  EXPECT_TRUE(audio.rtcpRsize);
  ASSERT_EQ(audio.codecs.size(), 1u);
  EXPECT_EQ(audio.codecs[0].payloadType, 111);
  EXPECT_EQ(formatParameters(audio.codecs[0].parameters), "minptime=10;useinbandfec=1;usedtx=1");
  ASSERT_EQ(audio.extensions.size(), 3u);  // audio level, abs-send-time, mid
  EXPECT_EQ(audio.extension(uri::kAudioLevel)->id, 1);
  EXPECT_EQ(audio.extension(uri::kMid)->id, 4);
  ASSERT_EQ(audio.msids.size(), 1u);
  EXPECT_EQ(audio.msids[0], (Msid{"stream1", "track1"}));
  ASSERT_EQ(audio.ssrcs.size(), 1u);
  EXPECT_EQ(audio.ssrcs[0].ssrc, 1000u);
  EXPECT_EQ(audio.ssrcs[0].cname, "publisher1");
  EXPECT_TRUE(audio.ssrcGroups.empty());
  ASSERT_EQ(audio.candidates.size(), 2u);  // UDP and ICE-TCP passive
  EXPECT_TRUE(audio.endOfCandidates);

  const MediaDescription& video = d.media[1];
  ASSERT_EQ(video.codecs.size(), 2u);
  EXPECT_EQ(video.codecs[0].name, "VP8");
  EXPECT_EQ(video.codecs[0].payloadType, 96);
  EXPECT_EQ(video.codecs[1].rtxApt(), 96);
  EXPECT_EQ(video.codecs[1].payloadType, 97);
  EXPECT_EQ(video.codecs[0].feedback.size(), 4u);
  EXPECT_EQ(video.extensions.size(), 2u);  // no rid extensions towards subscribers
  EXPECT_EQ(video.extension(uri::kRtpStreamId), nullptr);
  ASSERT_EQ(video.ssrcGroups.size(), 1u);
  EXPECT_EQ(video.ssrcGroups[0].semantics, "FID");
  EXPECT_EQ(video.ssrcGroups[0].ssrcs, (std::vector<uint32_t>{2000, 2001}));
  ASSERT_EQ(video.ssrcs.size(), 2u);
  EXPECT_EQ(video.ssrcs[1].msid, (Msid{"stream2", "track2"}));
}

TEST(SubscribeOffer, RenegotiationKeepsEveryMLine) {
  MidAllocator slots;
  std::vector<OutgoingTrack> tracks{track(*slots.acquire(MediaKind::Audio), MediaKind::Audio, 1000, 1),
                                    track(*slots.acquire(MediaKind::Video), MediaKind::Video, 2000, 2)};
  // The video publisher leaves: its section turns inactive, no SSRC or msid left.
  slots.release("1");
  tracks.pop_back();
  SessionDescription d = offerOf(slots, tracks, 2);
  ASSERT_EQ(d.media.size(), 2u);
  EXPECT_EQ(d.origin.sessionVersion, "2");
  EXPECT_EQ(d.media[1].mid, "1");
  EXPECT_EQ(d.media[1].direction, Direction::Inactive);
  EXPECT_NE(d.media[1].port, 0);
  EXPECT_TRUE(d.media[1].ssrcs.empty());
  EXPECT_TRUE(d.media[1].msids.empty());
  EXPECT_EQ(d.bundleGroup()->mids, (std::vector<std::string>{"0", "1"}));

  // A new video publisher takes the same mid.
  std::string mid = *slots.acquire(MediaKind::Video);
  EXPECT_EQ(mid, "1");
  tracks.push_back(track(mid, MediaKind::Video, 3000, 3));
  d = offerOf(slots, tracks, 3);
  EXPECT_EQ(d.media[1].direction, Direction::SendOnly);
  EXPECT_EQ(d.media[1].ssrcs[0].ssrc, 3000u);

  // The audio section is stopped: port 0, mid kept, out of the BUNDLE group.
  slots.stop("0");
  tracks.erase(tracks.begin());
  d = offerOf(slots, tracks, 4);
  ASSERT_EQ(d.media.size(), 2u);
  EXPECT_EQ(d.media[0].port, 0);
  EXPECT_TRUE(d.media[0].rejected());
  EXPECT_EQ(d.media[0].mid, "0");
  EXPECT_EQ(d.bundleGroup()->mids, (std::vector<std::string>{"1"}));
  slots.onNegotiated();

  // Recycled for video under a new mid, still two m-lines.
  mid = *slots.acquire(MediaKind::Video);
  EXPECT_EQ(mid, "2");
  tracks.push_back(track(mid, MediaKind::Video, 4000, 4));
  d = offerOf(slots, tracks, 5);
  ASSERT_EQ(d.media.size(), 2u);
  EXPECT_EQ(d.media[0].mid, "2");
  EXPECT_EQ(d.media[0].kind, MediaKind::Video);
  EXPECT_EQ(d.media[0].port, 40000);
  EXPECT_EQ(d.bundleGroup()->mids, (std::vector<std::string>{"2", "1"}));
}

TEST(SubscribeOffer, Errors) {
  MidAllocator slots;
  std::string audio = *slots.acquire(MediaKind::Audio);
  auto build = [&](const std::vector<OutgoingTrack>& tracks, const Capabilities& caps = Capabilities::defaults()) {
    auto result = buildSubscribeOffer(slots.slots(), tracks, loopbackServerTransport(), {1, 1}, caps);
    return result.ok() ? std::string("ok") : result.error().code;
  };
  EXPECT_EQ(build({}), "missing-track");
  EXPECT_EQ(build({track(audio, MediaKind::Audio, 1, 1)}), "ok");
  EXPECT_EQ(build({track("9", MediaKind::Audio, 1, 1)}), "unknown-mid");
  EXPECT_EQ(build({track(audio, MediaKind::Video, 1, 1)}), "kind-mismatch");
  OutgoingTrack bad = track(audio, MediaKind::Audio, 1, 1);
  bad.streamId = "has space";
  EXPECT_EQ(build({bad}), "bad-track");
  bad = track(audio, MediaKind::Audio, 1, 1);
  bad.cname.clear();
  EXPECT_EQ(build({bad}), "bad-track");
  bad = track(audio, MediaKind::Audio, 1, 1);
  bad.rtxSsrc = 1;
  EXPECT_EQ(build({bad}), "bad-track");
  Capabilities videoOnly = Capabilities::defaults();
  videoOnly.codecs.erase(videoOnly.codecs.begin());
  EXPECT_EQ(build({track(audio, MediaKind::Audio, 1, 1)}, videoOnly), "no-codec");
  slots.release(audio);
  EXPECT_EQ(build({track(audio, MediaKind::Audio, 1, 1)}), "unknown-mid");  // not active any more
  EXPECT_EQ(build({}), "ok");
}

// tests/sdp/data/conclave-offer-subscribe.sdp was written by sdp_tool and answered by
// Chromium 156 (chromium-answer-subscribe.sdp), see data/README.md. The offer is deterministic:
// this test builds it the way sdp_tool does and fails when what the code offers changes, so the
// captured pair is regenerated with it instead of testing an offer the server no longer makes.
TEST(SubscribeOffer, GoldenOfferIsWhatTheCodeOffers) {
  MidAllocator slots;
  std::vector<OutgoingTrack> tracks{track(*slots.acquire(MediaKind::Audio), MediaKind::Audio, 1000, 1),
                                    track(*slots.acquire(MediaKind::Video), MediaKind::Video, 1001, 2)};
  auto text =
      buildSubscribeOffer(slots.slots(), tracks, loopbackServerTransport(), {987654321, 1}, Capabilities::defaults());
  ASSERT_TRUE(text.ok()) << text.error().code;
  EXPECT_EQ(text.value(), readData("conclave-offer-subscribe.sdp"))
      << "the subscribe offer changed: regenerate conclave-offer-subscribe.sdp and "
         "chromium-answer-subscribe.sdp together (tests/sdp/data/README.md)";
}

class SubscribeAnswerTest : public ::testing::Test {
 protected:
  SessionDescription parsed(const std::string& text) {
    auto result = parseSessionDescription(text);
    EXPECT_TRUE(result.ok()) << result.error().code << " line " << result.error().line;
    return result.ok() ? std::move(result.value()) : SessionDescription{};
  }
  // The error code of parsing or checking `answerText`, "ok" if it passes.
  std::string check(const std::string& answerText) {
    auto description = parseSessionDescription(answerText);
    if (!description.ok()) return description.error().code;
    auto result = checkSubscribeAnswer(offer, description.value(), Capabilities::defaults());
    return result.ok() ? std::string("ok") : result.error().code;
  }
  SessionDescription offer = parsed(readData("conclave-offer-subscribe.sdp"));
  std::string answer = readData("chromium-answer-subscribe.sdp");
};

TEST_F(SubscribeAnswerTest, ChromiumAnswerIsAccepted) {
  auto result = checkSubscribeAnswer(offer, parsed(answer), Capabilities::defaults());
  ASSERT_TRUE(result.ok()) << result.error().code << ": " << result.error().message;
  const SubscribeAnswer& a = result.value();
  EXPECT_EQ(a.localSetup, SetupRole::Passive);  // Chromium is the DTLS client
  EXPECT_EQ(a.remote.setup, SetupRole::Active);
  EXPECT_EQ(a.remote.ice.ufrag.size(), 4u);
  ASSERT_EQ(a.remote.fingerprints.size(), 1u);
  EXPECT_EQ(a.remote.fingerprints[0].algorithm, "sha-256");
  EXPECT_EQ(a.bundleMids, (std::vector<std::string>{"0", "1"}));
  ASSERT_EQ(a.media.size(), 2u);
  EXPECT_TRUE(a.media[0].accepted);
  EXPECT_EQ(a.media[0].direction, Direction::RecvOnly);
  ASSERT_EQ(a.media[0].codecs.size(), 1u);
  EXPECT_EQ(a.media[0].codecs[0].name, "opus");
  EXPECT_EQ(a.media[0].extensions.size(), 3u);  // audio level, abs-send-time, mid (no transport-cc yet)
  ASSERT_EQ(a.media[1].codecs.size(), 2u);
  EXPECT_EQ(a.media[1].codecs[0].name, "VP8");
  EXPECT_TRUE(a.media[1].codecs[1].isRtx());
  EXPECT_EQ(a.media[1].codecs[0].feedback.size(), 4u);  // goog-remb, ccm fir, nack, nack pli
}

TEST_F(SubscribeAnswerTest, FirefoxAnswerIsAccepted) {
  auto result = checkSubscribeAnswer(offer, parsed(readData("firefox-answer-subscribe.sdp")), Capabilities::defaults());
  ASSERT_TRUE(result.ok()) << result.error().code << ": " << result.error().message;
  const SubscribeAnswer& a = result.value();
  EXPECT_EQ(a.localSetup, SetupRole::Passive);  // Firefox is the DTLS client too
  EXPECT_EQ(a.bundleMids, (std::vector<std::string>{"0", "1"}));
  ASSERT_EQ(a.media.size(), 2u);
  EXPECT_EQ(a.media[0].direction, Direction::RecvOnly);
  ASSERT_EQ(a.media[0].codecs.size(), 1u);
  EXPECT_EQ(a.media[0].codecs[0].name, "opus");
  ASSERT_EQ(a.media[1].codecs.size(), 2u);
  EXPECT_EQ(a.media[1].codecs[0].name, "VP8");
  EXPECT_TRUE(a.media[1].codecs[1].isRtx());
}

TEST_F(SubscribeAnswerTest, RejectsAnswersThatDoNotFitTheOffer) {
  EXPECT_EQ(check(replaceAll(answer, "a=mid:1", "a=mid:7")), "bad-group");  // group names mid 1
  EXPECT_EQ(check(replaceAll(replaceAll(answer, "a=mid:1", "a=mid:7"), "BUNDLE 0 1", "BUNDLE 0 7")), "answer-mismatch");
  std::string oneSection = answer.substr(0, answer.find("m=video"));
  EXPECT_EQ(check(replaceOnce(oneSection, "BUNDLE 0 1", "BUNDLE 0")), "answer-mismatch");
  EXPECT_EQ(check(replaceOnce(answer, "a=recvonly", "a=sendrecv")), "bad-direction");
  EXPECT_EQ(check(replaceOnce(answer, "a=rtpmap:111 opus/48000/2", "a=rtpmap:111 G722/8000")), "unknown-codec");
  std::string onlyRtx = replaceOnce(answer, "m=video 9 UDP/TLS/RTP/SAVPF 96 97", "m=video 9 UDP/TLS/RTP/SAVPF 97");
  onlyRtx = removeLines(removeLines(removeLines(onlyRtx, "a=rtpmap:96"), "a=rtcp-fb:96"), "a=fmtp:97");
  EXPECT_EQ(check(onlyRtx), "no-common-codec");
  EXPECT_EQ(check(replaceOnce(answer, "a=extmap:4 urn:ietf:params:rtp-hdrext:sdes:mid",
                              "a=extmap:5 urn:ietf:params:rtp-hdrext:sdes:mid")),
            "bad-extmap");
  EXPECT_EQ(check(removeLines(answer, "a=rtcp-mux")), "rtcp-mux-required");
  EXPECT_EQ(check(removeLines(answer, "a=group:BUNDLE")), "missing-bundle");
  EXPECT_EQ(check(replaceAll(answer, "a=setup:active", "a=setup:actpass")), "bad-setup");
  EXPECT_EQ(check(removeLines(answer, "a=fingerprint")), "missing-fingerprint");
  EXPECT_EQ(check(replaceAll(answer, "a=setup:active", "a=setup:passive")), "ok");
}

TEST_F(SubscribeAnswerTest, BrowserMayRejectASection) {
  std::string rejected = replaceOnce(answer, "m=video 9", "m=video 0");
  rejected = replaceOnce(rejected, "BUNDLE 0 1", "BUNDLE 0");
  auto result = checkSubscribeAnswer(offer, parsed(rejected), Capabilities::defaults());
  ASSERT_TRUE(result.ok()) << result.error().code;
  EXPECT_TRUE(result->media[0].accepted);
  EXPECT_FALSE(result->media[1].accepted);
}

TEST(SubscribeAnswer, StoppedSectionMustStayStopped) {
  MidAllocator slots;
  std::vector<OutgoingTrack> tracks{track(*slots.acquire(MediaKind::Audio), MediaKind::Audio, 1000, 1),
                                    track(*slots.acquire(MediaKind::Video), MediaKind::Video, 2000, 2)};
  slots.stop("0");
  tracks.erase(tracks.begin());
  SessionDescription offer = offerOf(slots, tracks);
  // An answer that brings mid 0 back to life.
  std::string answerText = readData("chromium-answer-subscribe.sdp");
  auto answer = parseSessionDescription(answerText);
  ASSERT_TRUE(answer.ok());
  auto result = checkSubscribeAnswer(offer, answer.value(), Capabilities::defaults());
  ASSERT_FALSE(result.ok());
  EXPECT_EQ(result.error().code, "answer-mismatch");
}

}  // namespace
}  // namespace conclave::sdp
