#include "rtcp/report_block.h"

#include <algorithm>

namespace conclave::rtcp {

ReportBlock ReportBlock::read(common::ByteReader& r) {
  ReportBlock b;
  b.ssrc = r.u32();
  b.fractionLost = r.u8();
  const uint32_t lost = r.u24();
  b.cumulativeLost = (lost & 0x800000) != 0 ? static_cast<int32_t>(lost | 0xFF000000u) : static_cast<int32_t>(lost);
  b.highestSequence = r.u32();
  b.jitter = r.u32();
  b.lastSr = r.u32();
  b.delaySinceLastSr = r.u32();
  return b;
}

void ReportBlock::write(common::ByteWriter& w) const {
  w.u32(ssrc);
  w.u8(fractionLost);
  const int32_t lost = std::clamp<int32_t>(cumulativeLost, -0x800000, 0x7FFFFF);
  w.u24(static_cast<uint32_t>(lost) & 0xFFFFFF);
  w.u32(highestSequence);
  w.u32(jitter);
  w.u32(lastSr);
  w.u32(delaySinceLastSr);
}

}  // namespace conclave::rtcp
