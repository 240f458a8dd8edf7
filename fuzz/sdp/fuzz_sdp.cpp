// libFuzzer target for the SDP layer: parse, typed view, publish negotiation, answer writing,
// and subscribe-answer checking. Besides crashes it checks two properties and aborts if they
// break: serialize(parse(x)) is a fixed point, and every answer the server writes parses back.
// Seed corpus: real Chromium 156 and aiortc 1.4 descriptions (tests/sdp/data).
#include <cstdint>
#include <cstdlib>
#include <string_view>

#include "sdp/publish.h"
#include "sdp/subscribe.h"

namespace {

using namespace conclave::sdp;

const LocalTransport& transport() {
  static const LocalTransport t = [] {
    LocalTransport out;
    out.iceUfrag = "fuzzUfrag";
    out.icePwd = "fuzzPasswordFuzzPassword";
    out.fingerprint = Fingerprint{"sha-256", std::vector<uint8_t>(32, 0x5A)};
    out.candidates.push_back({"192.0.2.1", 3478, 65535});
    return out;
  }();
  return t;
}

// A fixed subscribe offer (audio + video) the input is checked against as an answer.
const SessionDescription& subscribeOffer() {
  static const SessionDescription offer = [] {
    MidAllocator slots;
    std::vector<OutgoingTrack> tracks;
    for (MediaKind kind : {MediaKind::Audio, MediaKind::Video}) {
      OutgoingTrack t;
      t.mid = *slots.acquire(kind);
      t.kind = kind;
      t.ssrc = kind == MediaKind::Audio ? 1111 : 2222;
      if (kind == MediaKind::Video) t.rtxSsrc = 2223;
      t.cname = "fuzz";
      t.streamId = "stream";
      t.trackId = kind == MediaKind::Audio ? "a" : "v";
      tracks.push_back(t);
    }
    auto text = buildSubscribeOffer(slots.slots(), tracks, transport(), {1, 1}, Capabilities::defaults());
    if (!text) std::abort();
    auto parsed = parseSessionDescription(text.value());
    if (!parsed) std::abort();
    return parsed.value();
  }();
  return offer;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string_view text(reinterpret_cast<const char*>(data), size);
  auto parsed = parse(text);
  if (!parsed) return 0;

  // serialize() output must parse, and serializing again gives the same text. (CRLF may make
  // it longer than the LF input, hence the larger size limit.)
  std::string once = serialize(parsed.value());
  Limits relaxed;
  relaxed.maxBytes *= 2;
  auto again = parse(once, relaxed);
  if (!again || serialize(again.value()) != once) std::abort();

  auto description = interpret(parsed.value());
  if (!description) return 0;

  static const Capabilities capabilities = Capabilities::defaults();
  auto answer = negotiatePublish(description.value(), capabilities);
  if (answer) {
    std::string written = writePublishAnswer(answer.value(), transport(), {42, 1});
    auto reparsed = parseSessionDescription(written);
    if (!reparsed) std::abort();  // the server must never write an answer it cannot read
  }

  (void)checkSubscribeAnswer(subscribeOffer(), description.value(), capabilities);
  return 0;
}
