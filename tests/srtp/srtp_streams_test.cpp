// The per-SSRC table under SrtpContext and the bound it puts on what a peer can make a session
// keep: outbound SSRCs beyond the limit are refused, inbound ones push out the least recently
// used stream, and only packets that authenticated make a stream at all.
#include "srtp/srtp_streams.h"

#include <gtest/gtest.h>

#include <map>
#include <vector>

#include "common/bytes.h"
#include "common/random.h"
#include "srtp/srtp_session.h"
#include "srtp/srtp_test_keys.h"

using namespace conclave::srtp;

namespace {

using conclave::srtp::test::randomKeys;

std::vector<uint8_t> rtpPacket(uint32_t ssrc, uint16_t seq, size_t room) {
  std::vector<uint8_t> p(60 + room, 0x42);
  conclave::common::ByteWriter w(p);
  w.u8(0x80);
  w.u8(96);
  w.u16(seq);
  w.u32(0);
  w.u32(ssrc);
  return p;
}

}  // namespace

TEST(SrtpStreams, FindsAddsAndRemovesLikeAMapAcrossGrowth) {
  SrtpStreams streams(500, 1024);
  std::map<uint32_t, uint64_t> model;  // SSRC -> the index we stored in its stream
  uint64_t x = 12345;
  for (int i = 0; i < 20000; ++i) {
    x = x * 6364136223846793005ull + 1442695040888963407ull;
    const uint32_t ssrc = static_cast<uint32_t>(x >> 33) % 700;  // collisions and reuse
    const bool present = model.count(ssrc) != 0;
    const auto slot = streams.find(ssrc);
    ASSERT_EQ(slot.has_value(), present) << ssrc;
    if (present) {
      ASSERT_EQ(streams.stream(*slot).ssrc, ssrc);
      ASSERT_EQ(streams.stream(*slot).rtpHighest, model[ssrc]);
      if ((x & 3) == 0) {
        streams.remove(ssrc);
        model.erase(ssrc);
      }
    } else if (model.size() < 500) {
      const auto added = streams.add(ssrc, false);
      ASSERT_TRUE(added);
      streams.stream(*added).rtpHighest = x;
      model[ssrc] = x;
    } else {
      ASSERT_FALSE(streams.add(ssrc, false));
    }
    ASSERT_EQ(streams.size(), model.size());
  }
}

TEST(SrtpStreams, EvictsTheLeastRecentlyUsedWhenFull) {
  SrtpStreams streams(3, 64);
  const auto a = *streams.add(1, true);
  streams.add(2, true);
  streams.add(3, true);
  streams.touch(a);  // 2 is now the oldest
  streams.add(4, true);
  EXPECT_TRUE(streams.find(1));
  EXPECT_FALSE(streams.find(2));
  EXPECT_TRUE(streams.find(3));
  EXPECT_TRUE(streams.find(4));
  EXPECT_FALSE(streams.add(5, false));
  EXPECT_EQ(streams.size(), 3u);
}

TEST(SrtpStreams, OutboundSsrcsBeyondTheLimitAreRefused) {
  const auto p = SrtpProfile::AeadAes128Gcm;
  SrtpSession session(p, randomKeys(p), randomKeys(p), {.maxOutboundSsrcs = 4});
  for (uint32_t ssrc = 1; ssrc <= 5; ++ssrc) {
    auto packet = rtpPacket(ssrc, 1, session.rtpTrailer());
    size_t length = 60;
    EXPECT_EQ(session.protectRtp(packet, length), ssrc <= 4 ? SrtpResult::Ok : SrtpResult::Failed) << ssrc;
  }
  session.removeOutboundSsrc(2);
  auto packet = rtpPacket(5, 1, session.rtpTrailer());
  size_t length = 60;
  EXPECT_EQ(session.protectRtp(packet, length), SrtpResult::Ok);
}

TEST(SrtpStreams, InboundSsrcsBeyondTheLimitPushOutTheLeastRecentlyUsed) {
  for (auto p : {SrtpProfile::AesCm128HmacSha1_80, SrtpProfile::AeadAes128Gcm}) {
    SCOPED_TRACE(srtpProfileParams(p).name);
    const auto aKeys = randomKeys(p), bKeys = randomKeys(p);
    SrtpSession sender(p, aKeys, bKeys);
    SrtpSession receiver(p, bKeys, aKeys, {.maxInboundSsrcs = 3});
    std::map<uint32_t, std::vector<uint8_t>> firstPacket;
    auto receive = [&](std::vector<uint8_t> packet) {
      size_t length = packet.size();
      return receiver.unprotectRtp(packet, length);
    };
    for (uint32_t ssrc = 1; ssrc <= 4; ++ssrc) {
      auto packet = rtpPacket(ssrc, 1, sender.rtpTrailer());
      size_t length = 60;
      ASSERT_EQ(sender.protectRtp(packet, length), SrtpResult::Ok);
      packet.resize(length);
      firstPacket[ssrc] = packet;
      EXPECT_EQ(receive(packet), SrtpResult::Ok);
    }
    // SSRC 1 was pushed out by 4, so its replay passes as a new stream's first packet; 2..4 are
    // still remembered.
    EXPECT_EQ(receive(firstPacket[3]), SrtpResult::ReplayDuplicate);
    EXPECT_EQ(receive(firstPacket[4]), SrtpResult::ReplayDuplicate);
    EXPECT_EQ(receive(firstPacket[1]), SrtpResult::Ok);  // and now 2 is out
    EXPECT_EQ(receive(firstPacket[1]), SrtpResult::ReplayDuplicate);
    EXPECT_EQ(receive(firstPacket[3]), SrtpResult::ReplayDuplicate);
  }
}

TEST(SrtpStreams, PacketsThatFailAuthenticationMakeNoStream) {
  const auto p = SrtpProfile::AeadAes128Gcm;
  const auto aKeys = randomKeys(p), bKeys = randomKeys(p);
  SrtpSession sender(p, aKeys, bKeys);
  SrtpSession receiver(p, bKeys, aKeys, {.maxInboundSsrcs = 2});
  std::vector<std::vector<uint8_t>> genuine;
  for (uint32_t ssrc : {10u, 11u}) {
    auto packet = rtpPacket(ssrc, 1, sender.rtpTrailer());
    size_t length = 60;
    ASSERT_EQ(sender.protectRtp(packet, length), SrtpResult::Ok);
    packet.resize(length);
    auto copy = packet;
    ASSERT_EQ(receiver.unprotectRtp(copy, length), SrtpResult::Ok);
    genuine.push_back(packet);
  }
  // A flood of forgeries under fresh SSRCs, SRTP and SRTCP: refused, and nothing pushed out.
  for (uint32_t ssrc = 1000; ssrc < 3000; ++ssrc) {
    auto forged = rtpPacket(ssrc, 1, 16);
    size_t length = forged.size();
    ASSERT_EQ(receiver.unprotectRtp(forged, length), SrtpResult::AuthFailed);
    std::vector<uint8_t> rtcp(48, 0x81);
    conclave::common::storeU32(&rtcp[4], ssrc);
    rtcp[44] = 0x80;
    length = rtcp.size();
    ASSERT_EQ(receiver.unprotectRtcp(rtcp, length), SrtpResult::AuthFailed);
  }
  for (auto& packet : genuine) {
    size_t length = packet.size();
    EXPECT_EQ(receiver.unprotectRtp(packet, length), SrtpResult::ReplayDuplicate);
  }
}
