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
  Slot& slot = mSlots[static_cast<size_t>(seq) & (kWindow - 1)];
  if (slot.seq == seq) return;  // a duplicate: the first arrival counts
  if (seq < mNextToReport) {
    // Reported already, as lost: report again from here, unless it is too late for that.
    if (mNextToReport - seq > kMaxLateReport) return;
    mNextToReport = seq;
  }
  mHighest = std::max(mHighest, seq);
  slot = Slot{seq, arrivalUs - mEpochUs};
  ++mReceived;
}

}  // namespace conclave::rtcp
