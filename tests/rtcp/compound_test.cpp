// Compound iteration and validation, dispatch to a listener, and XR framing.
#include "rtcp/compound.h"

#include <gtest/gtest.h>

#include <array>
#include <string>
#include <vector>

#include "rtcp/captured_packets.h"

using namespace conclave::rtcp;
using namespace conclave::testdata;
using conclave::common::ByteWriter;

namespace {

class Recorder : public RtcpDispatcher::Listener {
 public:
  std::vector<std::string> events;
  void onRtcpSenderReport(const SenderReport& p) override { events.push_back("sr:" + std::to_string(p.senderSsrc())); }
  void onRtcpReceiverReport(const ReceiverReport& p) override {
    events.push_back("rr:" + std::to_string(p.reportCount()));
  }
  void onRtcpSdes(const Sdes& p) override { events.push_back("sdes:" + std::to_string(p.chunkCount())); }
  void onRtcpBye(const Bye&) override { events.push_back("bye"); }
  void onRtcpNack(const GenericNack& p) override { events.push_back("nack:" + std::to_string(p.item(0).pid)); }
  void onRtcpTransportCc(const TransportCcFeedback& p) override {
    events.push_back("twcc:" + std::to_string(p.packetStatusCount()));
  }
  void onRtcpPli(const Pli&) override { events.push_back("pli"); }
  void onRtcpFir(const Fir&) override { events.push_back("fir"); }
  void onRtcpRemb(const Remb& p) override { events.push_back("remb:" + std::to_string(p.bitrate())); }
  void onRtcpExtendedReport(const ExtendedReport&) override { events.push_back("xr"); }
  void onRtcpOther(const RtcpPacket& p) override { events.push_back("other:" + std::to_string(p.header.packetType)); }
};

std::vector<uint8_t> concat(std::initializer_list<std::span<const uint8_t>> parts) {
  std::vector<uint8_t> out;
  for (const auto part : parts) out.insert(out.end(), part.begin(), part.end());
  return out;
}

}  // namespace

TEST(CompoundReader, IteratesChromiumCompounds) {
  CompoundReader reader(kChromeRrNack);
  const auto rr = reader.next();
  ASSERT_TRUE(rr);
  EXPECT_EQ(rr->header.packetType, type::kReceiverReport);
  EXPECT_EQ(rr->header.count, 1);
  EXPECT_EQ(rr->bytes.size(), 32u);
  EXPECT_EQ(rr->body.size(), 28u);
  const auto nack = reader.next();
  ASSERT_TRUE(nack);
  EXPECT_EQ(nack->header.packetType, type::kRtpFeedback);
  EXPECT_EQ(nack->header.count, fmt::kNack);
  EXPECT_FALSE(reader.next());
  EXPECT_TRUE(reader.atEnd());
  EXPECT_FALSE(reader.failed());
}

TEST(CompoundReader, StripsPadding) {
  const auto p = RtcpPacket::parse(kChromeTwccPadded);
  ASSERT_TRUE(p);
  EXPECT_TRUE(p->header.padding);
  EXPECT_EQ(p->bytes.size(), 28u);
  EXPECT_EQ(p->body.size(), 21u);
}

TEST(CompoundValidation, Rfc3550AndReducedSize) {
  for (const auto c : {std::span<const uint8_t>(kChromeSrSdes), std::span<const uint8_t>(kChromeRrNack),
                       std::span<const uint8_t>(kChromeRrPli), std::span<const uint8_t>(kAiortcSrSdes),
                       std::span<const uint8_t>(kAiortcRr2)}) {
    EXPECT_TRUE(isValidCompound(c, CompoundRule::Strict));
    EXPECT_TRUE(isValidCompound(c, CompoundRule::AllowReducedSize));
  }
  // Chromium sends transport-cc feedback alone: valid only as reduced-size RTCP.
  EXPECT_FALSE(isValidCompound(kChromeTwccRun, CompoundRule::Strict));
  EXPECT_TRUE(isValidCompound(kChromeTwccRun, CompoundRule::AllowReducedSize));
  EXPECT_TRUE(isValidCompound(kChromeTwccPadded, CompoundRule::AllowReducedSize));
  EXPECT_FALSE(isValidCompound({}, CompoundRule::AllowReducedSize));
}

TEST(CompoundValidation, RejectsBadFraming) {
  // Padding on a packet that is not the last one.
  const auto paddedFirst = concat({kChromeTwccPadded, kAiortcBye});
  EXPECT_FALSE(isValidCompound(paddedFirst, CompoundRule::AllowReducedSize));
  EXPECT_TRUE(isValidCompound(concat({kAiortcBye, kChromeTwccPadded}), CompoundRule::AllowReducedSize));
  // Lengths must add up to the datagram exactly.
  auto trailing = concat({kChromeRrNack});
  trailing.push_back(0);
  EXPECT_FALSE(isValidCompound(trailing, CompoundRule::AllowReducedSize));
  for (size_t n = 1; n < sizeof(kChromeRrNack); ++n) {
    const bool boundary = n == 32;  // the RR alone is a valid compound
    EXPECT_EQ(isValidCompound(std::span(kChromeRrNack).first(n), CompoundRule::Strict), boundary) << n;
  }
  // Version 1 in the second packet.
  auto version = concat({kChromeRrNack});
  version[32] = 0x41;
  EXPECT_FALSE(isValidCompound(version, CompoundRule::AllowReducedSize));
  // A padding count larger than the body.
  auto padding = concat({kChromeTwccPadded});
  padding.back() = 0x40;
  EXPECT_FALSE(isValidCompound(padding, CompoundRule::AllowReducedSize));
  padding.back() = 0;
  EXPECT_FALSE(isValidCompound(padding, CompoundRule::AllowReducedSize));
}

TEST(RtcpDispatcher, DeliversEveryTypeAndCounts) {
  Recorder recorder;
  RtcpDispatcher dispatcher(recorder);
  EXPECT_TRUE(dispatcher.handle(kChromeSrSdes));
  EXPECT_TRUE(dispatcher.handle(kChromeRrNack));
  EXPECT_TRUE(dispatcher.handle(kChromeRrPli));
  EXPECT_TRUE(dispatcher.handle(kChromeTwccLoss));
  EXPECT_TRUE(dispatcher.handle(kAiortcRemb));
  EXPECT_TRUE(dispatcher.handle(kAiortcBye));
  const std::vector<std::string> expected = {"sr:4237406397", "sdes:1", "rr:1",        "nack:46968", "rr:0",
                                             "pli",           "twcc:8", "remb:189040", "bye"};
  EXPECT_EQ(recorder.events, expected);
  EXPECT_EQ(dispatcher.counters().compounds, 6u);
  EXPECT_EQ(dispatcher.counters().packets, 9u);
  EXPECT_EQ(dispatcher.counters().malformed, 0u);
}

TEST(RtcpDispatcher, SkipsMalformedPacketsAndDropsBrokenCompounds) {
  Recorder recorder;
  RtcpDispatcher strict(recorder, CompoundRule::Strict);
  EXPECT_FALSE(strict.handle(kChromeTwccRun));
  EXPECT_EQ(strict.counters().invalidCompounds, 1u);
  EXPECT_TRUE(recorder.events.empty());

  RtcpDispatcher dispatcher(recorder);
  // A well-framed RR that claims a block it does not have, then a good PLI: the RR is counted
  // as malformed and skipped, the PLI still delivered.
  const uint8_t app[] = {0x80, 204, 0x00, 0x02, 0, 0, 0, 1, 'n', 'a', 'm', 'e'};
  const uint8_t badRr[] = {0x81, 201, 0x00, 0x01, 0, 0, 0, 1};
  const auto mixed = concat({badRr, std::span(kChromeRrPli).subspan(8), app});
  EXPECT_TRUE(dispatcher.handle(mixed));
  EXPECT_EQ(recorder.events, (std::vector<std::string>{"pli", "other:204"}));
  EXPECT_EQ(dispatcher.counters().malformed, 1u);
  EXPECT_EQ(dispatcher.counters().other, 1u);
  EXPECT_FALSE(dispatcher.handle(std::span(kChromeRrNack).first(40)));
  EXPECT_EQ(dispatcher.counters().invalidCompounds, 1u);
}

TEST(RtcpDispatcher, DeliversBuiltFirAndXr) {
  std::array<uint8_t, 128> buf{};
  ByteWriter w(buf);
  ASSERT_TRUE(ReceiverReport::write(w, 1, {}));
  const FirEntry fir[] = {{5, 1}};
  ASSERT_TRUE(Fir::write(w, 1, fir));
  // XR (RFC 3611 §4.4, §4.5): receiver reference time, then a DLRR with one sub-block.
  const uint8_t xr[] = {0x80, 207,  0x00, 0x08, 0,    0,    0, 1, 4, 0, 0x00, 0x02, 0x11, 0x22, 0x33, 0x44, 0x55, 0x66,
                        0x77, 0x88, 5,    0,    0x00, 0x03, 0, 0, 0, 9, 0xaa, 0xaa, 0xaa, 0xaa, 0,    0,    0x10, 0x00};
  w.bytes(xr);
  ASSERT_TRUE(w.ok());
  Recorder recorder;
  RtcpDispatcher dispatcher(recorder);
  ASSERT_TRUE(dispatcher.handle(w.written()));
  EXPECT_EQ(recorder.events, (std::vector<std::string>{"rr:0", "fir", "xr"}));

  const auto report = ExtendedReport::parse(std::span<const uint8_t>(xr));
  ASSERT_TRUE(report);
  EXPECT_EQ(report->senderSsrc(), 1u);
  EXPECT_EQ(report->receiverReferenceTime(), 0x1122334455667788ull);
  std::vector<DlrrItem> items;
  report->forEachDlrr([&](const DlrrItem& item) { items.push_back(item); });
  ASSERT_EQ(items.size(), 1u);
  EXPECT_EQ(items[0].ssrc, 9u);
  EXPECT_EQ(items[0].lastRr, 0xaaaaaaaau);
  EXPECT_EQ(items[0].delaySinceLastRr, 0x1000u);
  std::vector<uint8_t> bad(std::begin(xr), std::end(xr));
  bad[23] = 0x04;  // the DLRR block claims more than the packet holds
  EXPECT_FALSE(ExtendedReport::parse(bad));
}
