// Fuzzes compound RTCP iteration and validation, every packet type parser (each packet is fed to
// all of them, not only the matching one), the dispatcher, and builder round trips: what a
// parser accepts, the matching builder must write back into something that parses the same.
#include <algorithm>
#include <array>
#include <cstdint>
#include <span>
#include <vector>

#include "rtcp/compound.h"
#include "rtcp/receiver_stats.h"

using namespace conclave::rtcp;
using conclave::common::ByteWriter;

namespace {

void check(bool condition) {
  if (!condition) __builtin_trap();
}

std::array<uint8_t, 70000> gOut;

void roundTripNack(const GenericNack& nack) {
  std::vector<uint16_t> lost;
  nack.forEachLost([&](uint16_t s) { lost.push_back(s); });
  ByteWriter w(gOut);
  if (!GenericNack::write(w, nack.senderSsrc(), nack.mediaSsrc(), lost)) return;
  const auto back = GenericNack::parse(w.written());
  check(back.has_value());
  // Unsorted or overlapping items may regroup; the set of lost numbers must stay the same.
  std::vector<uint16_t> again;
  back->forEachLost([&](uint16_t s) { again.push_back(s); });
  for (auto* v : {&lost, &again}) {
    std::sort(v->begin(), v->end());
    v->erase(std::unique(v->begin(), v->end()), v->end());
  }
  check(again == lost);
}

void roundTripTwcc(const TransportCcFeedback& fb) {
  TransportCcBuilder builder(fb.senderSsrc(), fb.mediaSsrc());
  builder.reset(fb.feedbackPacketCount(), fb.baseSequenceNumber());
  bool fits = true;
  fb.forEachPacket([&](const TransportCcPacket& p) {
    if (p.received && fits) fits = builder.addReceived(p.sequenceNumber, p.arrivalUs);
  });
  if (!fits || builder.empty()) return;
  ByteWriter w(gOut);
  check(builder.write(w));
  const auto back = TransportCcFeedback::parse(w.written());
  check(back.has_value());
  std::vector<TransportCcPacket> a;
  std::vector<TransportCcPacket> b;
  fb.forEachPacket([&](const TransportCcPacket& p) { a.push_back(p); });
  back->forEachPacket([&](const TransportCcPacket& p) { b.push_back(p); });
  // The rebuilt message ends at the last received packet.
  check(b.size() <= a.size());
  for (size_t i = 0; i < b.size(); ++i) {
    check(a[i].sequenceNumber == b[i].sequenceNumber && a[i].received == b[i].received);
    // The builder picks its own reference time, so deltas may differ; arrival times may not
    // (modulo the wrap of the 24-bit reference time).
    constexpr int64_t kWrapUs = (int64_t{1} << 24) * TransportCcFeedback::kReferenceTickUs;
    if (a[i].received) check((a[i].arrivalUs - b[i].arrivalUs) % kWrapUs == 0);
  }
}

void allParsers(const RtcpPacket& packet, ReceiverStats& stats) {
  volatile uint64_t sink = 0;
  if (const auto sr = SenderReport::parse(packet)) {
    const auto info = sr->senderInfo();
    stats.onSenderReport(info.ntpTimestamp, {});
    for (size_t i = 0; i < sr->reportCount(); ++i) sink = sink + sr->reportBlock(i).jitter;
  }
  if (const auto rr = ReceiverReport::parse(packet)) {
    std::vector<ReportBlock> blocks;
    for (size_t i = 0; i < rr->reportCount(); ++i) blocks.push_back(rr->reportBlock(i));
    ByteWriter w(gOut);
    check(ReceiverReport::write(w, rr->senderSsrc(), blocks));
    const auto back = ReceiverReport::parse(w.written());
    check(back && back->reportCount() == blocks.size());
    for (size_t i = 0; i < blocks.size(); ++i) check(back->reportBlock(i) == blocks[i]);
  }
  if (const auto sdes = Sdes::parse(packet)) {
    sdes->forEachItem([&](uint32_t ssrc, uint8_t, std::string_view v) {
      sink = sink + v.size();
      check(sdes->cname(ssrc).has_value() || true);
    });
  }
  if (const auto bye = Bye::parse(packet)) {
    for (size_t i = 0; i < bye->ssrcCount(); ++i) sink = sink + bye->ssrc(i);
    sink = sink + bye->reason().size();
  }
  if (const auto nack = GenericNack::parse(packet)) roundTripNack(*nack);
  if (const auto pli = Pli::parse(packet)) sink = sink + pli->mediaSsrc();
  if (const auto fir = Fir::parse(packet)) {
    for (size_t i = 0; i < fir->entryCount(); ++i) sink = sink + fir->entry(i).sequenceNumber;
  }
  if (const auto remb = Remb::parse(packet)) {
    for (size_t i = 0; i < remb->ssrcCount(); ++i) sink = sink + remb->ssrc(i);
    sink = sink + remb->bitrate();
  }
  if (const auto fb = TransportCcFeedback::parse(packet)) {
    size_t received = 0;
    fb->forEachPacket([&](const TransportCcPacket& p) { received += p.received ? 1 : 0; });
    check(received == fb->receivedCount());
    roundTripTwcc(*fb);
  }
  if (const auto xr = ExtendedReport::parse(packet)) {
    (void)xr->receiverReferenceTime();
    xr->forEachDlrr([&](const DlrrItem& item) { sink = sink + item.lastRr; });
  }
}

class Listener : public RtcpDispatcher::Listener {};

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::span<const uint8_t> input(data, size);
  static ReceiverStats stats(1, 90000);
  (void)isValidCompound(input, CompoundRule::Strict);
  const bool valid = isValidCompound(input, CompoundRule::AllowReducedSize);
  CompoundReader reader(input);
  size_t total = 0;
  while (const auto packet = reader.next()) {
    check(packet->bytes.size() >= RtcpHeader::kSize && packet->body.size() <= packet->bytes.size());
    total += packet->bytes.size();
    allParsers(*packet, stats);
  }
  check(!valid || (!reader.failed() && total == size));
  Listener listener;
  RtcpDispatcher dispatcher(listener);
  check(dispatcher.handle(input) == valid);
  // Feed the bytes as RTP sequence numbers to the statistics too.
  for (size_t i = 0; i + 1 < size; i += 2) {
    stats.onPacket(static_cast<uint16_t>(data[i] << 8 | data[i + 1]), data[i],
                   conclave::common::TimePoint{std::chrono::milliseconds(i)});
  }
  (void)stats.makeReportBlock({});
  return 0;
}
