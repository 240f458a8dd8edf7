// A line-protocol driver of the SDP layer for browser checks (browser/chromium_check.mjs).
//
// Reads one JSON object per line on stdin, writes one JSON object per line on stdout:
//   {"cmd":"answer","sdp":OFFER}            -> {"ok":true,"sdp":ANSWER,"media":[{mid,accepted,reason}]}
//   {"cmd":"add","kind":"audio"|"video"}    -> {"ok":true,"mid":MID}   (subscribe side)
//   {"cmd":"remove","mid":MID}              -> {"ok":true}             (slot becomes inactive)
//   {"cmd":"stop","mid":MID}                -> {"ok":true}             (port 0 next offer)
//   {"cmd":"offer"}                         -> {"ok":true,"sdp":OFFER}
//   {"cmd":"apply-answer","sdp":ANSWER}     -> {"ok":true,"media":[...],"setup":"passive"}
// Failures: {"ok":false,"code":CODE,"line":N,"message":TEXT}.
#include <nlohmann/json.hpp>

#include <cstdio>
#include <iostream>
#include <map>
#include <string>

#include "sdp/publish.h"
#include "sdp/subscribe.h"
#include "server_transport.h"

namespace {

using conclave::sdp::Error;
using nlohmann::json;
namespace sdp = conclave::sdp;

json failure(const Error& e) { return json{{"ok", false}, {"code", e.code}, {"line", e.line}, {"message", e.message}}; }

class Tool {
 public:
  json handle(const json& request) {
    const std::string cmd = request.value("cmd", "");
    if (cmd == "answer") return answer(request.at("sdp").get<std::string>());
    if (cmd == "add") return add(request.at("kind").get<std::string>());
    if (cmd == "remove")
      return json{{"ok", mSlots.release(request.at("mid").get<std::string>()) && dropTrack(request)}};
    if (cmd == "stop") {
      dropTrack(request);
      return json{{"ok", mSlots.stop(request.at("mid").get<std::string>())}};
    }
    if (cmd == "offer") return offer();
    if (cmd == "apply-answer") return applyAnswer(request.at("sdp").get<std::string>());
    return json{{"ok", false}, {"code", "unknown-command"}};
  }

 private:
  json answer(const std::string& offerText) {
    auto offer = sdp::parseSessionDescription(offerText);
    if (!offer) return failure(offer.error());
    auto negotiated = sdp::negotiatePublish(offer.value(), mCapabilities);
    if (!negotiated) return failure(negotiated.error());
    json media = json::array();
    for (const auto& m : negotiated->media)
      media.push_back({{"mid", m.mid}, {"accepted", m.accepted}, {"reason", m.rejectReason}, {"rids", m.rids.size()}});
    std::string text = sdp::writePublishAnswer(negotiated.value(), mTransport, {1234567890123, mPublishVersion++});
    return json{{"ok", true}, {"sdp", text}, {"media", media}};
  }

  json add(const std::string& kindText) {
    sdp::MediaKind kind = kindText == "audio" ? sdp::MediaKind::Audio : sdp::MediaKind::Video;
    auto mid = mSlots.acquire(kind);
    if (!mid) return json{{"ok", false}, {"code", "full"}};
    sdp::OutgoingTrack track;
    track.mid = *mid;
    track.kind = kind;
    track.ssrc = mNextSsrc++;
    if (kind == sdp::MediaKind::Video) track.rtxSsrc = mNextSsrc++;
    track.cname = "publisher" + std::to_string(mNextTrack);
    track.streamId = "stream" + std::to_string(mNextTrack);
    track.trackId = "track" + std::to_string(mNextTrack++);
    mTracks[*mid] = track;
    return json{{"ok", true}, {"mid", *mid}, {"streamId", track.streamId}, {"trackId", track.trackId}};
  }

  bool dropTrack(const json& request) { return mTracks.erase(request.at("mid").get<std::string>()) == 1; }

  json offer() {
    std::vector<sdp::OutgoingTrack> tracks;
    for (const auto& [mid, track] : mTracks) tracks.push_back(track);
    auto text =
        sdp::buildSubscribeOffer(mSlots.slots(), tracks, mTransport, {987654321, mSubscribeVersion++}, mCapabilities);
    if (!text) return failure(text.error());
    mLastOffer = text.value();
    return json{{"ok", true}, {"sdp", text.value()}};
  }

  json applyAnswer(const std::string& answerText) {
    auto offer = sdp::parseSessionDescription(mLastOffer);
    if (!offer) return failure(offer.error());  // our own offer must always parse
    auto answer = sdp::parseSessionDescription(answerText);
    if (!answer) return failure(answer.error());
    auto checked = sdp::checkSubscribeAnswer(offer.value(), answer.value(), mCapabilities);
    if (!checked) return failure(checked.error());
    mSlots.onNegotiated();
    json media = json::array();
    for (const auto& m : checked->media) {
      json codecs = json::array();
      for (const auto& c : m.codecs) codecs.push_back(c.name);
      media.push_back({{"mid", m.mid},
                       {"accepted", m.accepted},
                       {"direction", sdp::toString(m.direction)},
                       {"codecs", codecs},
                       {"extensions", m.extensions.size()}});
    }
    return json{{"ok", true}, {"media", media}, {"setup", sdp::toString(checked->localSetup)}};
  }

  sdp::Capabilities mCapabilities = sdp::Capabilities::defaults();
  sdp::LocalTransport mTransport = sdp::test::loopbackServerTransport();
  sdp::MidAllocator mSlots;
  std::map<std::string, sdp::OutgoingTrack> mTracks;
  std::string mLastOffer;
  uint64_t mPublishVersion = 1;
  uint64_t mSubscribeVersion = 1;
  uint32_t mNextSsrc = 1000;
  int mNextTrack = 1;
};

}  // namespace

// An error outside one request (a reply that cannot be serialised) ends the tool, as it should.
int main() {  // NOLINT(bugprone-exception-escape)
  Tool tool;
  std::string line;
  while (std::getline(std::cin, line)) {
    json reply;
    try {
      reply = tool.handle(json::parse(line));
    } catch (const std::exception& e) {
      reply = json{{"ok", false}, {"code", "bad-request"}, {"message", e.what()}};
    }
    std::cout << reply.dump() << std::endl;
  }
  return 0;
}
