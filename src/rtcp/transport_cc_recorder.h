// The receiving side of transport-wide congestion control: remembers when each packet of a
// transport arrived (by its transport-wide sequence number) and turns that into feedback messages
// (RTPFB FMT 15) for the sender's bandwidth estimator.
//
// onPacket() records an arrival; flush() writes one or more feedback messages covering every
// sequence number from the first not yet reported to the newest received (those that did not
// arrive are reported lost), then starts after it. A packet that arrives after its number was
// reported (as lost: it was only reordered) moves the start back to it, as libwebrtc's
// RemoteEstimatorProxy does: the next feedback names it received, and the packets after it
// again (a sender ignores what it has seen acknowledged). Only up to kMaxLateReport numbers
// back; an older straggler stays lost. Arrival times are kept relative to the first packet, so
// the 24-bit reference time never wraps in practice.
//
// Fixed size: kWindow arrival slots allocated with the object; a jump ahead of more than kWindow
// numbers reports only the last kWindow. flush() allocates nothing; messages stay below
// kMaxMessageBytes.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <limits>
#include <span>

#include "common/bytes.h"
#include "rtcp/transport_cc.h"
#include "rtp/seq_num.h"

namespace conclave::rtcp {

class TransportCcRecorder {
 public:
  static constexpr size_t kWindow = 2048;  // power of two
  static constexpr size_t kMaxStatusesPerMessage = 400;
  static constexpr size_t kMaxMessageBytes = 1200;
  static constexpr int64_t kMaxLateReport = 512;

  explicit TransportCcRecorder(uint32_t senderSsrc, uint32_t mediaSsrc = 0) : mBuilder(senderSsrc, mediaSsrc) {}

  // `arrivalUs`: when the packet reached this host (any monotonic microsecond clock), ideally
  // the kernel's receive time: the sender's delay-based estimator reads the differences.
  void onPacket(uint16_t transportSeq, int64_t arrivalUs);
  // The SSRC the feedback names as its media source (TransportCcBuilder::setMediaSsrc).
  void setMediaSsrc(uint32_t ssrc) { mBuilder.setMediaSsrc(ssrc); }
  // Something arrived that has not been reported.
  bool hasNew() const { return mHave && mHighest >= mNextToReport; }

  // send(std::span<const uint8_t> message) for each message; returns how many were written.
  template <typename F>
  size_t flush(F&& send);

  uint64_t received() const { return mReceived; }

 private:
  struct Slot {
    int64_t seq = std::numeric_limits<int64_t>::min();  // unwrapped; min: empty
    int64_t arrivalUs = 0;
  };

  // Writes the builder's message through `send`, then starts the next one at `nextBase`.
  template <typename F>
  bool emit(F& send, uint16_t nextBase);

  std::array<Slot, kWindow> mSlots{};
  rtp::SeqUnwrapper mUnwrapper;
  TransportCcBuilder mBuilder;
  bool mHave = false;
  int64_t mEpochUs = 0;
  int64_t mHighest = 0;
  int64_t mNextToReport = 0;
  uint8_t mFeedbackCount = 0;
  uint64_t mReceived = 0;
};

template <typename F>
bool TransportCcRecorder::emit(F& send, uint16_t nextBase) {
  std::array<uint8_t, kMaxMessageBytes> buf{};
  common::ByteWriter w(buf);
  const bool ok = !mBuilder.empty() && mBuilder.write(w) && w.ok();
  if (ok) send(std::span<const uint8_t>(w.written()));
  mBuilder.reset(mFeedbackCount++, nextBase);
  return ok;
}

template <typename F>
size_t TransportCcRecorder::flush(F&& send) {
  if (!hasNew()) return 0;
  if (mHighest - mNextToReport >= static_cast<int64_t>(kWindow))
    mNextToReport = mHighest - static_cast<int64_t>(kWindow) + 1;
  size_t messages = 0;
  auto base = static_cast<uint16_t>(mNextToReport);
  mBuilder.reset(mFeedbackCount++, base);
  for (int64_t seq = mNextToReport; seq <= mHighest; ++seq) {
    const Slot& s = mSlots[static_cast<size_t>(seq) & (kWindow - 1)];
    if (s.seq != seq) continue;
    const auto wire = static_cast<uint16_t>(seq);
    if (mBuilder.statusCount() >= kMaxStatusesPerMessage || !mBuilder.addReceived(wire, s.arrivalUs)) {
      // The next message starts right after this one's last status: losses in between are kept.
      base = static_cast<uint16_t>(base + mBuilder.statusCount());
      messages += emit(send, base) ? 1 : 0;
      mBuilder.addReceived(wire, s.arrivalUs);
    }
  }
  messages += emit(send, 0) ? 1 : 0;
  // The count of the message that was started last and never sent is taken back.
  --mFeedbackCount;
  mNextToReport = mHighest + 1;
  return messages;
}

}  // namespace conclave::rtcp
