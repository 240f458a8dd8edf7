#include "rtcp/sdes.h"

namespace conclave::rtcp {

std::optional<Sdes> Sdes::parse(const RtcpPacket& packet) {
  if (packet.header.packetType != type::kSdes) return std::nullopt;
  if (!walk(packet.body, packet.header.count, [](uint32_t, uint8_t, std::span<const uint8_t>) {})) {
    return std::nullopt;
  }
  return Sdes(packet.body, packet.header.count);
}

std::optional<Sdes> Sdes::parse(std::span<const uint8_t> data) {
  const auto packet = RtcpPacket::parse(data);
  return packet ? parse(*packet) : std::nullopt;
}

std::optional<std::string_view> Sdes::cname(uint32_t ssrc) const {
  std::optional<std::string_view> found;
  forEachItem([&](uint32_t chunkSsrc, uint8_t item, std::string_view value) {
    if (!found && chunkSsrc == ssrc && item == sdes::kCname) found = value;
  });
  return found;
}

bool Sdes::write(common::ByteWriter& w, std::span<const SdesChunk> chunks) {
  if (chunks.size() > 31) return false;
  size_t body = 0;
  for (const auto& chunk : chunks) {
    if (chunk.cname.size() > 255) return false;
    body += (4 + 2 + chunk.cname.size() + 1 + 3) / 4 * 4;  // SSRC, item, null + padding
  }
  if (!writeHeader(w, static_cast<uint8_t>(chunks.size()), type::kSdes, body)) return false;
  for (const auto& chunk : chunks) {
    const size_t used = 4 + 2 + chunk.cname.size();
    w.u32(chunk.ssrc);
    w.u8(sdes::kCname);
    w.u8(static_cast<uint8_t>(chunk.cname.size()));
    w.bytes({reinterpret_cast<const uint8_t*>(chunk.cname.data()), chunk.cname.size()});
    w.zeros((used + 1 + 3) / 4 * 4 - used);
  }
  return w.ok();
}

std::optional<Bye> Bye::parse(const RtcpPacket& packet) {
  if (packet.header.packetType != type::kBye) return std::nullopt;
  common::ByteReader r(packet.body);
  r.skip(4u * packet.header.count);
  std::string_view reason;
  if (r.ok() && r.remaining() > 0) {
    const uint8_t length = r.u8();
    const auto text = r.bytes(length);
    reason = std::string_view(reinterpret_cast<const char*>(text.data()), text.size());
  }
  if (!r.ok()) return std::nullopt;
  return Bye(packet.body, packet.header.count, reason);
}

std::optional<Bye> Bye::parse(std::span<const uint8_t> data) {
  const auto packet = RtcpPacket::parse(data);
  return packet ? parse(*packet) : std::nullopt;
}

uint32_t Bye::ssrc(size_t index) const { return index < mCount ? common::loadU32(&mBody[4 * index]) : 0; }

bool Bye::write(common::ByteWriter& w, std::span<const uint32_t> ssrcs, std::string_view reason) {
  if (ssrcs.size() > 31 || reason.size() > 255) return false;
  const size_t reasonSize = reason.empty() ? 0 : (1 + reason.size() + 3) / 4 * 4;
  if (!writeHeader(w, static_cast<uint8_t>(ssrcs.size()), type::kBye, 4 * ssrcs.size() + reasonSize)) {
    return false;
  }
  for (const uint32_t ssrc : ssrcs) w.u32(ssrc);
  if (!reason.empty()) {
    w.u8(static_cast<uint8_t>(reason.size()));
    w.bytes({reinterpret_cast<const uint8_t*>(reason.data()), reason.size()});
    w.zeros(reasonSize - 1 - reason.size());
  }
  return w.ok();
}

}  // namespace conclave::rtcp
