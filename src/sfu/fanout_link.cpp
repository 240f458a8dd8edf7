#include "sfu/fanout_link.h"

#include <cstring>

namespace conclave::sfu {

// Header layout: slot (4 bytes), generation (4), kind (1), zero (7), time µs (8); host order,
// since both ends are this process.
void FanoutRecord::writeHeader(std::span<uint8_t> record, FanoutHandle handle, FanoutRecordKind kind,
                               int64_t timeMicros) {
  uint8_t* p = record.data();
  std::memcpy(p, &handle.slot, 4);
  std::memcpy(p + 4, &handle.generation, 4);
  std::memset(p + 8, 0, 8);
  p[8] = static_cast<uint8_t>(kind);
  std::memcpy(p + 16, &timeMicros, 8);
}

std::optional<FanoutRecord> FanoutRecord::parse(std::span<uint8_t> record) {
  if (record.size() < kHeaderBytes) return std::nullopt;
  FanoutRecord r;
  const uint8_t* p = record.data();
  std::memcpy(&r.handle.slot, p, 4);
  std::memcpy(&r.handle.generation, p + 4, 4);
  if (p[8] < static_cast<uint8_t>(FanoutRecordKind::Rtp) || p[8] > static_cast<uint8_t>(FanoutRecordKind::ForgetSsrc))
    return std::nullopt;
  r.kind = static_cast<FanoutRecordKind>(p[8]);
  std::memcpy(&r.timeMicros, p + 16, 8);
  r.bytes = record.subspan(kHeaderBytes);
  return r;
}

FanoutLink::FanoutLink(int homeWorker, int transportWorker, const Config& config)
    : mHomeWorker(homeWorker),
      mTransportWorker(transportWorker),
      mMedia(config.mediaRingBytes),
      mRtcp(config.rtcpRingBytes) {}

}  // namespace conclave::sfu
