#include "rtcp/transport_cc_recorder.h"

#include <algorithm>

namespace conclave::rtcp {

void TransportCcRecorder::onPacket(uint16_t transportSeq, int64_t arrivalUs) {
  const int64_t seq = mUnwrapper.unwrap(transportSeq);
  if (!mHave) {
    mHave = true;
    mEpochUs = arrivalUs;
    mNextToReport = seq;
    mHighest = seq;
  }
  if (seq < mNextToReport) return;  // reported already (as lost)
  mHighest = std::max(mHighest, seq);
  mSlots[static_cast<size_t>(seq) & (kWindow - 1)] = Slot{seq, arrivalUs - mEpochUs};
  ++mReceived;
}

}  // namespace conclave::rtcp
