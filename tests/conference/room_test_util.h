// The test's side of MediaRoom, shared by the conference tests: a timer the test runs by hand,
// a recorder of what the room tells a participant, a browser that answers subscribe offers as
// Chromium does, and publish offers made from Chromium's capture.
#pragma once

#include <gtest/gtest.h>

#include <cstdint>
#include <functional>
#include <string>
#include <utility>
#include <vector>

#include "conference/media_room.h"
#include "sdp/sdp_test_util.h"
#include "sdp/session_description.h"

namespace conclave::conference::test {

using sdp::Direction;
using sdp::MediaKind;
using sdp::test::readData;
using sdp::test::replaceAll;
using sdp::test::replaceOnce;

// ---- How MediaRoom reports results --------------------------------------------------------
// The only lines that know the result types (publish's common::Result, MediaError's enum code).
// Codes are compared by their wire names so a failure message reads like the protocol.

using PublishResult = common::Result<std::string, MediaError>;

inline std::string codeOf(const MediaError& error) {
  switch (error.code) {
    case common::ErrorCode::BadSdp:
      return "bad-sdp";
    case common::ErrorCode::NegotiationFailed:
      return "negotiation-failed";
    case common::ErrorCode::InvalidState:
      return "invalid-state";
    case common::ErrorCode::TooManyTracks:
      return "too-many-tracks";
    case common::ErrorCode::MediaUnavailable:
      return "media-unavailable";
    case common::ErrorCode::ForbiddenByPolicy:
      return "forbidden-by-policy";
    case common::ErrorCode::RateLimited:
      return "rate-limited";
    default:
      return "code-" + std::to_string(static_cast<int>(error.code));
  }
}

// The error code of a publish, "" when it produced an answer.
inline std::string errorCode(const PublishResult& result) { return result.ok() ? "" : codeOf(result.error()); }
// The error code of a subscribe answer, "" when it was accepted.
inline std::string errorCode(const std::optional<MediaError>& error) { return error ? codeOf(*error) : ""; }

inline std::string answerOf(const PublishResult& result) { return result.ok() ? result.value() : ""; }

// ---- The test's side of MediaRoom -----------------------------------------------------------

// MediaEnvironment::schedule under the test's control: delayed tasks wait until elapse().
class ManualTimer {
 public:
  void schedule(common::Duration delay, std::function<void()> task) {
    EXPECT_GT(delay, common::Duration::zero()) << "a batching delay that does not wait batches nothing";
    mTasks.push_back(std::move(task));
  }
  size_t pending() const { return mTasks.size(); }
  // The delay passes: the tasks scheduled so far run (those they schedule wait for the next call).
  size_t elapse() {
    auto tasks = std::exchange(mTasks, {});
    for (auto& task : tasks) task();
    return tasks.size();
  }

 private:
  std::vector<std::function<void()>> mTasks;
};

// What the room tells one participant's browser.
class PeerRecorder final : public MediaPeer {
 public:
  struct Offer {
    std::string sdp;
    std::vector<OfferedTrack> tracks;
  };
  void subscribeOffer(const std::string& sdp, const std::vector<OfferedTrack>& tracks) override {
    offers.push_back({sdp, tracks});
  }
  void mediaFailed(sfu::TransportRole role) override { failures.push_back(role); }

  std::vector<Offer> offers;
  std::vector<sfu::TransportRole> failures;
};

inline sdp::SessionDescription parsed(const std::string& text) {
  auto result = sdp::parseSessionDescription(text);
  EXPECT_TRUE(result.ok()) << result.error().code << " line " << result.error().line << "\n" << text;
  return result.ok() ? std::move(result.value()) : sdp::SessionDescription{};
}

// A browser's subscribe connection: answers the server's offers as Chromium 156 does
// (tests/sdp/data/chromium-answer-subscribe.sdp): setup:active, recvonly where the server
// sends, inactive where it does not, the offered codecs and extensions with the offered ids,
// port 0 kept for stopped sections. Its ICE credentials and fingerprint are Chromium's; an
// offer with new ICE credentials (an ICE restart) gets new ones back, as in a browser.
class BrowserSubscriber {
 public:
  BrowserSubscriber() {
    auto captured = parsed(readData("chromium-answer-subscribe.sdp"));
    if (captured.media.empty() || captured.media[0].fingerprints.empty()) {
      ADD_FAILURE() << "chromium-answer-subscribe.sdp has no transport";
      return;
    }
    mUfrag = captured.media[0].ice.ufrag;
    mPwd = captured.media[0].ice.pwd;
    mFingerprint = sdp::formatFingerprint(captured.media[0].fingerprints[0]);
  }
  // A browser side of the test's own (real ICE and DTLS): its credentials and its certificate's
  // fingerprint go into the answers.
  BrowserSubscriber(std::string ufrag, std::string pwd, const sdp::Fingerprint& fingerprint)
      : mUfrag(std::move(ufrag)), mPwd(std::move(pwd)), mFingerprint(sdp::formatFingerprint(fingerprint)) {}

  std::string answer(const std::string& offerText) {
    auto offer = parsed(offerText);
    std::string serverUfrag;
    for (const auto& m : offer.media)
      if (!m.rejected()) serverUfrag = m.ice.ufrag;
    if (!mServerUfrag.empty() && serverUfrag != mServerUfrag) ++mGeneration;
    mServerUfrag = serverUfrag;
    const std::string ufrag = mUfrag + (mGeneration ? std::to_string(mGeneration) : "");

    std::string out = "v=0\r\no=- 4838488043106654439 " + std::to_string(++mVersion) + " IN IP4 127.0.0.1\r\n";
    out += "s=-\r\nt=0 0\r\n";
    std::string bundle;
    for (const auto& m : offer.media)
      if (!m.rejected()) bundle += ' ' + m.mid;
    if (!bundle.empty()) out += "a=group:BUNDLE" + bundle + "\r\n";
    out += "a=msid-semantic: WMS\r\n";
    for (const auto& m : offer.media) {
      std::string formats;
      for (const auto& c : m.codecs) formats += ' ' + std::to_string(c.payloadType);
      out += "m=" + m.media + (m.rejected() ? " 0 " : " 9 ") + m.protocol + formats + "\r\n";
      out += "c=IN IP4 0.0.0.0\r\n";
      if (m.rejected()) {
        out += "a=mid:" + m.mid + "\r\na=inactive\r\n";
        for (const auto& c : m.codecs) out += rtpmap(c);
        continue;
      }
      out += "a=rtcp:9 IN IP4 0.0.0.0\r\n";
      out += "a=ice-ufrag:" + ufrag + "\r\na=ice-pwd:" + mPwd + "\r\na=ice-options:trickle\r\n";
      out += "a=fingerprint:" + mFingerprint + "\r\na=setup:active\r\n";
      out += "a=mid:" + m.mid + "\r\n";
      for (const auto& e : m.extensions) out += "a=extmap:" + std::to_string(e.id) + ' ' + e.uri + "\r\n";
      out += m.direction == Direction::SendOnly ? "a=recvonly\r\n" : "a=inactive\r\n";
      out += "a=rtcp-mux\r\na=rtcp-rsize\r\n";
      for (const auto& c : m.codecs) {
        out += rtpmap(c);
        for (const auto& fb : c.feedback)
          out += "a=rtcp-fb:" + std::to_string(c.payloadType) + ' ' + fb.type +
                 (fb.parameter.empty() ? "" : ' ' + fb.parameter) + "\r\n";
        std::string fmtp;
        for (const auto& p : c.parameters)
          fmtp += (fmtp.empty() ? "" : ";") + (p.name.empty() ? p.value : p.name + '=' + p.value);
        if (!fmtp.empty()) out += "a=fmtp:" + std::to_string(c.payloadType) + ' ' + fmtp + "\r\n";
      }
    }
    return out;
  }

  std::string ufrag() const { return mUfrag + (mGeneration ? std::to_string(mGeneration) : ""); }

 private:
  static std::string rtpmap(const sdp::Codec& c) {
    return "a=rtpmap:" + std::to_string(c.payloadType) + ' ' + c.name + '/' + std::to_string(c.clockRate) +
           (c.channels > 1 ? '/' + std::to_string(c.channels) : "") + "\r\n";
  }

  std::string mUfrag, mPwd, mFingerprint;
  std::string mServerUfrag;
  int mGeneration = 0;
  uint64_t mVersion = 1;
};

// ---- Publish offers from Chromium's capture -------------------------------------------------

// tests/sdp/data/chromium-offer-publish.sdp: microphone (mid 0), camera (mid 1, VP8 + RTX) and a
// data channel (mid 2). Publisher n gets its own SSRCs and ICE ufrag.
constexpr uint32_t kAudioSsrc = 2015102730, kVideoSsrc = 519600215, kRtxSsrc = 1993342661;

inline std::string withSsrcs(std::string text, uint32_t offset) {
  for (uint32_t ssrc : {kAudioSsrc, kVideoSsrc, kRtxSsrc})
    text = replaceAll(std::move(text), std::to_string(ssrc), std::to_string(ssrc + offset));
  return text;
}

enum class Sends { AudioAndVideo, AudioOnly, VideoOnly };

inline std::string publishOffer(int n, Sends sends = Sends::AudioAndVideo) {
  std::string text = withSsrcs(readData("chromium-offer-publish.sdp"), static_cast<uint32_t>(n) * 10);
  text = replaceAll(std::move(text), "a=ice-ufrag:Sb8F", "a=ice-ufrag:Sb8F" + std::to_string(n));
  // A track the browser stopped sending: its transceiver's direction becomes inactive.
  const size_t video = text.find("m=video");
  if (sends == Sends::VideoOnly) text.replace(text.find("a=sendonly"), 10, "a=inactive");
  if (sends == Sends::AudioOnly) text.replace(text.find("a=sendonly", video), 10, "a=inactive");
  return text;
}

// The offer with `extra` more sections of `kind`, copies of the captured one with new mids
// (3, 4, ...) and SSRCs, as a browser that adds transceivers writes it.
inline std::string publishOfferWithExtra(int n, MediaKind kind, int extra) {
  std::string text = publishOffer(n);
  const size_t audio = text.find("m=audio"), video = text.find("m=video"), data = text.find("m=application");
  const std::string section =
      kind == MediaKind::Audio ? text.substr(audio, video - audio) : text.substr(video, data - video);
  std::string bundle = "a=group:BUNDLE 0 1 2";
  for (int i = 0; i < extra; ++i) {
    const std::string mid = std::to_string(3 + i);
    std::string copy = withSsrcs(section, 1000 + static_cast<uint32_t>(i));
    text += replaceOnce(copy, "a=mid:" + std::string(kind == MediaKind::Audio ? "0" : "1"), "a=mid:" + mid);
    bundle += ' ' + mid;
  }
  return replaceOnce(std::move(text), "a=group:BUNDLE 0 1 2", bundle);
}

inline const std::vector<TrackSource> kMicAndCamera{{"0", "microphone"}, {"1", "camera"}};

}  // namespace conclave::conference::test
