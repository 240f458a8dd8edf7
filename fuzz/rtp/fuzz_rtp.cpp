// Fuzzes RTP parsing, every in-place mutation, RTX, the VP8 descriptor and Opus TOC, the stream
// rewriter and the packet cache. Mutations must leave a packet that still parses.
#include <array>
#include <cstdint>
#include <cstring>
#include <span>

#include "rtp/header_extensions.h"
#include "rtp/opus.h"
#include "rtp/packet.h"
#include "rtp/packet_cache.h"
#include "rtp/packet_writer.h"
#include "rtp/stream_rewriter.h"
#include "rtp/vp8.h"

using namespace conclave::rtp;

namespace {

void check(bool condition) {
  if (!condition) __builtin_trap();
}

void readEverything(const RtpPacket& p) {
  volatile uint64_t sink = p.payloadType() + p.sequenceNumber() + p.timestamp() + p.ssrc() + p.marker() +
                           p.extensionProfileValue() + p.paddingSize();
  for (size_t i = 0; i < p.csrcCount(); ++i) sink = sink + p.csrc(i);
  check(p.headerSize() + p.payloadSize() + p.paddingSize() == p.size());
  p.forEachExtension([&](const HeaderExtension& e) {
    const auto found = p.extension(e.id);
    check(found.has_value());
    sink = sink + e.value.size();
    (void)parseAudioLevel(e.value);
    (void)parseAbsSendTime(e.value);
    (void)parseTransportSequenceNumber(e.value);
  });
  (void)p.extensionString(1);
  const auto payload = p.payload();
  if (const auto d = Vp8Descriptor::parse(payload)) check(d->size < payload.size());
  (void)OpusToc::parse(payload);
  (void)opusPacketSamples(payload);
}

void mutate(RtpPacket& p, std::span<const uint8_t> data) {
  const uint8_t k = data.empty() ? 0 : data[0];
  p.setSequenceNumber(static_cast<uint16_t>(k * 257));
  p.setTimestamp(k * 16777619u);
  p.setSsrc(~uint32_t{k});
  p.setPayloadType(k & 0x7F);
  p.setMarker((k & 1) != 0);
  p.forEachExtension([&](const HeaderExtension& e) {
    std::array<uint8_t, 255> value{};
    value.fill(k);
    (void)p.setExtensionValue(e.id, std::span(value).first(e.value.size()));
  });
  (void)setTransportSequenceNumber(p, 3, k);
  (void)setAbsSendTime(p, 2, k);
  ExtensionIdMap map;
  for (size_t i = 0; i < map.newId.size(); ++i) {
    map.newId[i] = data.size() > i ? data[i] : static_cast<uint8_t>(i);
  }
  (void)p.remapExtensions(map);
  (void)p.setExtensionId(static_cast<uint8_t>(k % 16), static_cast<uint8_t>(k / 16));
  (void)p.removeExtension(static_cast<uint8_t>(k >> 2));
  std::array<uint8_t, PacketCache::kMaxPacketSize> scratch{};
  const auto payload = p.payload();
  if (payload.size() <= scratch.size()) {
    std::memcpy(scratch.data(), payload.data(), payload.size());
    (void)setVp8PictureId(std::span(scratch).first(payload.size()), k * 300u);
    (void)setVp8Tl0PicIdx(std::span(scratch).first(payload.size()), k);
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  static std::array<uint8_t, 70000> buffer;
  static std::array<uint8_t, 70002> out;
  static PacketCache cache(64);
  static StreamRewriter rewriter(0x5EED, 90000, 1, 1);
  if (size > buffer.size()) return 0;
  std::memcpy(buffer.data(), data, size);
  const auto input = std::span<const uint8_t>(data, size);
  auto packet = RtpPacket::parse(std::span(buffer).first(size));
  if (!packet) return 0;
  readEverything(*packet);

  const conclave::common::TimePoint now{std::chrono::milliseconds(size)};
  if (cache.insert(*packet, now)) {
    const auto hit = cache.get(packet->sequenceNumber());
    check(hit && hit->bytes.size() == size && std::memcmp(hit->bytes.data(), data, size) == 0);
  }
  if ((size & 7) == 0) rewriter.switchSource(packet->ssrc());
  if ((size & 3) == 1) rewriter.skip(packet->sequenceNumber());
  (void)rewriter.map(packet->ssrc(), packet->sequenceNumber(), packet->timestamp(), now);
  (void)rewriter.sourceSequenceNumber(packet->sequenceNumber());

  // RTX round trip: wrap, parse, unwrap: the payload comes back.
  const size_t rtxSize = writeRtx(out, *packet, 97, 0xABCD, 7);
  if (rtxSize > 0) {
    auto rtx = RtpPacket::parse(std::span(out).first(rtxSize));
    check(rtx.has_value());
    const auto original = unwrapRtx(*rtx, packet->payloadType(), packet->ssrc());
    check(original.has_value() && original->payloadSize() == packet->payloadSize());
    check(std::memcmp(original->payload().data(), packet->payload().data(), packet->payloadSize()) == 0);
  }

  mutate(*packet, input);
  auto again = RtpPacket::parse(std::span(buffer).first(size));
  check(again.has_value() && again->headerSize() == packet->headerSize());
  readEverything(*again);
  again->removePadding();
  check(RtpPacket::parse(again->data()).has_value());
  return 0;
}
