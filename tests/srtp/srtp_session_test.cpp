#include "srtp/srtp_session.h"

#include <gtest/gtest.h>

#include <stdexcept>
#include <string_view>
#include <vector>

#include "common/bytes.h"
#include "common/random.h"
#include "common/test_hex.h"
#include "srtp/srtp_test_keys.h"

using namespace conclave::srtp;

namespace {

using conclave::test::fromHex;

SrtpKeyMaterial keys(SrtpProfile profile, std::string_view keyHex, std::string_view saltHex) {
  auto k = SrtpKeyMaterial::make(profile, fromHex(keyHex), fromHex(saltHex));
  EXPECT_TRUE(k.has_value());
  return *k;
}

using conclave::srtp::test::randomKeys;

// Sender and receiver sessions of one association: a's local keys are b's remote keys.
struct Pair {
  explicit Pair(SrtpProfile profile, SrtpSession::Options options = {})
      : aKeys(randomKeys(profile)),
        bKeys(randomKeys(profile)),
        a(profile, aKeys, bKeys, options),
        b(profile, bKeys, aKeys, options) {}
  SrtpKeyMaterial aKeys, bKeys;
  SrtpSession a, b;
};

// An RTP packet (no extension) of `total` bytes followed by `room` spare bytes.
std::vector<uint8_t> rtpPacket(uint32_t ssrc, uint16_t seq, size_t total, size_t room) {
  std::vector<uint8_t> p(total + room, 0);
  conclave::common::ByteWriter w(p);
  w.u8(0x80);
  w.u8(96);
  w.u16(seq);
  w.u32(90000u * seq);
  w.u32(ssrc);
  for (size_t i = 12; i < total; ++i) p[i] = static_cast<uint8_t>(i * 7 + seq);
  return p;
}

// A receiver report with one report block.
std::vector<uint8_t> rtcpPacket(uint32_t ssrc, size_t room) {
  std::vector<uint8_t> p(32 + room, 0);
  conclave::common::ByteWriter w(p);
  w.u8(0x81);
  w.u8(201);
  w.u16(7);
  w.u32(ssrc);
  w.u32(0x11223344);
  for (int i = 0; i < 5; ++i) w.u32(0x01020304u * static_cast<uint32_t>(i + 1));
  return p;
}

constexpr SrtpProfile kProfiles[] = {SrtpProfile::AesCm128HmacSha1_80, SrtpProfile::AeadAes128Gcm};

}  // namespace

// Reference packets from libsrtp's own validation (test/srtp_driver.c srtp_validate): from master
// keys through key derivation to the protected bytes, SRTP and SRTCP.
TEST(SrtpSession, AesCmKnownAnswer) {
  const auto p = SrtpProfile::AesCm128HmacSha1_80;
  const auto testKeys = keys(p, "e1f97a0d3e018be0d64fa32c06de4139", "0ec675ad498afeebb6960b3aabe6");
  SrtpSession sender(p, testKeys, randomKeys(p));
  SrtpSession receiver(p, randomKeys(p), testKeys);

  auto rtp = fromHex("800f1234decafbadcafebabe abababababababababababababababab");
  const auto rtpPlain = rtp;
  rtp.resize(rtp.size() + sender.rtpTrailer());
  size_t len = 28;
  ASSERT_EQ(sender.protectRtp(rtp, len), SrtpResult::Ok);
  EXPECT_EQ(std::vector<uint8_t>(rtp.begin(), rtp.begin() + static_cast<long>(len)),
            fromHex("800f1234decafbadcafebabe 4e55dc4ce79978d88ca4d215949d2402 b78d6acc99ea179b8dbb"));
  ASSERT_EQ(receiver.unprotectRtp(rtp, len), SrtpResult::Ok);
  EXPECT_EQ(std::vector<uint8_t>(rtp.begin(), rtp.begin() + static_cast<long>(len)), rtpPlain);

  auto rtcp = fromHex("81c8000bcafebabe abababababababababababababababab");
  rtcp.resize(rtcp.size() + sender.rtcpTrailer());
  len = 24;
  ASSERT_EQ(sender.protectRtcp(rtcp, len), SrtpResult::Ok);
  EXPECT_EQ(std::vector<uint8_t>(rtcp.begin(), rtcp.begin() + static_cast<long>(len)),
            fromHex("81c8000bcafebabe 7128035be487b9bdbef89041f977a5a8 80000001 993e08cd54d6c1230798"));
  ASSERT_EQ(receiver.unprotectRtcp(rtcp, len), SrtpResult::Ok);
  EXPECT_EQ(len, 24u);
}

TEST(SrtpSession, AesGcmKnownAnswer) {
  const auto p = SrtpProfile::AeadAes128Gcm;
  const auto testKeys = keys(p, "000102030405060708090a0b0c0d0e0f", "a0a1a2a3a4a5a6a7a8a9aaab");
  SrtpSession sender(p, testKeys, randomKeys(p));
  SrtpSession receiver(p, randomKeys(p), testKeys);

  auto rtp = fromHex("800f1234decafbadcafebabe abababababababababababababababab");
  rtp.resize(rtp.size() + sender.rtpTrailer());
  size_t len = 28;
  ASSERT_EQ(sender.protectRtp(rtp, len), SrtpResult::Ok);
  EXPECT_EQ(rtp, fromHex("800f1234decafbadcafebabe c5002ede04cfdd2eb91159e0880aa06e"
                         "d2976826f796b201df3131a127e8a392"));
  ASSERT_EQ(receiver.unprotectRtp(rtp, len), SrtpResult::Ok);
  EXPECT_EQ(len, 28u);

  auto rtcp = fromHex("81c8000bcafebabe abababababababababababababababab");
  rtcp.resize(rtcp.size() + sender.rtcpTrailer());
  len = 24;
  ASSERT_EQ(sender.protectRtcp(rtcp, len), SrtpResult::Ok);
  EXPECT_EQ(rtcp, fromHex("81c8000bcafebabe c98b8b5df0392a55852b6c21ac8e7025"
                          "c52c6fbea2b3b446ea31123ba88ce61e 80000001"));
  ASSERT_EQ(receiver.unprotectRtcp(rtcp, len), SrtpResult::Ok);
  EXPECT_EQ(len, 24u);
}

TEST(SrtpSession, RtpRoundTripBothProfiles) {
  for (auto profile : kProfiles) {
    SCOPED_TRACE(srtpProfileParams(profile).name);
    Pair pair(profile);
    for (uint16_t seq = 65530; seq != 10; ++seq) {  // crosses the sequence number wrap
      // Exact-size buffer: ASan builds catch any write past the advertised trailer.
      auto packet = rtpPacket(0x1234, seq, 1200, pair.a.rtpTrailer());
      const std::vector<uint8_t> plain(packet.begin(), packet.begin() + 1200);
      size_t len = 1200;
      ASSERT_EQ(pair.a.protectRtp(packet, len), SrtpResult::Ok);
      ASSERT_EQ(len, 1200 + pair.a.rtpTrailer());
      EXPECT_TRUE(std::equal(plain.begin(), plain.begin() + 12, packet.begin()));  // header in clear
      EXPECT_FALSE(std::equal(plain.begin() + 12, plain.end(), packet.begin() + 12));
      ASSERT_EQ(pair.b.unprotectRtp(packet, len), SrtpResult::Ok);
      ASSERT_EQ(len, 1200u);
      EXPECT_TRUE(std::equal(plain.begin(), plain.end(), packet.begin()));
    }
  }
}

TEST(SrtpSession, RtcpRoundTripBothProfilesAndDirections) {
  for (auto profile : kProfiles) {
    SCOPED_TRACE(srtpProfileParams(profile).name);
    Pair pair(profile);
    for (int i = 0; i < 3; ++i) {
      auto packet = rtcpPacket(0xABCD, pair.b.rtcpTrailer());
      const std::vector<uint8_t> plain(packet.begin(), packet.begin() + 32);
      size_t len = 32;
      ASSERT_EQ(pair.b.protectRtcp(packet, len), SrtpResult::Ok);
      ASSERT_EQ(len, 32 + pair.b.rtcpTrailer());
      ASSERT_EQ(pair.a.unprotectRtcp(packet, len), SrtpResult::Ok);
      ASSERT_EQ(len, 32u);
      EXPECT_TRUE(std::equal(plain.begin(), plain.end(), packet.begin()));
    }
  }
}

TEST(SrtpSession, TamperingFailsAuthentication) {
  for (auto profile : kProfiles) {
    SCOPED_TRACE(srtpProfileParams(profile).name);
    Pair pair(profile);
    const size_t positions[] = {3, 40, 1200 + 2};  // header (authenticated), payload, tag
    uint16_t seq = 100;
    for (size_t pos : positions) {
      auto packet = rtpPacket(0x55, seq++, 1200, pair.a.rtpTrailer());
      size_t len = 1200;
      ASSERT_EQ(pair.a.protectRtp(packet, len), SrtpResult::Ok);
      packet[pos] ^= 0x01;
      const size_t before = len;
      EXPECT_EQ(pair.b.unprotectRtp(packet, len), SrtpResult::AuthFailed) << "byte " << pos;
      EXPECT_EQ(len, before);
    }
    auto rtcp = rtcpPacket(0x55, pair.a.rtcpTrailer());
    size_t len = 32;
    ASSERT_EQ(pair.a.protectRtcp(rtcp, len), SrtpResult::Ok);
    rtcp[20] ^= 0x80;
    EXPECT_EQ(pair.b.unprotectRtcp(rtcp, len), SrtpResult::AuthFailed);
  }
}

TEST(SrtpSession, WrongKeysFailAuthentication) {
  for (auto profile : kProfiles) {
    Pair pair(profile);
    SrtpSession stranger(profile, randomKeys(profile), randomKeys(profile));
    auto packet = rtpPacket(1, 1, 200, pair.a.rtpTrailer());
    size_t len = 200;
    ASSERT_EQ(pair.a.protectRtp(packet, len), SrtpResult::Ok);
    EXPECT_EQ(stranger.unprotectRtp(packet, len), SrtpResult::AuthFailed);
  }
}

TEST(SrtpSession, ReplayedAndTooOldPacketsAreRefused) {
  for (auto profile : kProfiles) {
    SCOPED_TRACE(srtpProfileParams(profile).name);
    Pair pair(profile);  // replay window 1024
    auto protect = [&](uint16_t seq) {
      auto p = rtpPacket(7, seq, 100, pair.a.rtpTrailer());
      size_t len = 100;
      EXPECT_EQ(pair.a.protectRtp(p, len), SrtpResult::Ok);
      p.resize(len);
      return p;
    };
    auto unprotect = [&](std::vector<uint8_t> p) {
      size_t len = p.size();
      return pair.b.unprotectRtp(p, len);
    };
    const auto old = protect(1000);
    const auto late = protect(2000);
    const auto current = protect(3000);
    EXPECT_EQ(unprotect(current), SrtpResult::Ok);
    EXPECT_EQ(unprotect(current), SrtpResult::ReplayDuplicate);
    EXPECT_EQ(unprotect(late), SrtpResult::Ok);  // 1000 behind: inside the 1024 window
    EXPECT_EQ(unprotect(late), SrtpResult::ReplayDuplicate);
    EXPECT_EQ(unprotect(old), SrtpResult::ReplayOld);  // 2000 behind
  }
}

TEST(SrtpSession, RepeatedTransmissionNeedsAllowRepeatTx) {
  for (auto profile : kProfiles) {
    SCOPED_TRACE(srtpProfileParams(profile).name);
    Pair allowing(profile);
    const auto plain = rtpPacket(9, 42, 300, allowing.a.rtpTrailer());
    auto first = plain, again = plain;
    size_t len1 = 300, len2 = 300;
    ASSERT_EQ(allowing.a.protectRtp(first, len1), SrtpResult::Ok);
    ASSERT_EQ(allowing.a.protectRtp(again, len2), SrtpResult::Ok);  // a NACK answered
    EXPECT_EQ(first, again);

    Pair strict(profile, SrtpSession::Options{.replayWindow = 128, .allowRepeatTx = false});
    first = plain;
    again = plain;
    len1 = len2 = 300;
    ASSERT_EQ(strict.a.protectRtp(first, len1), SrtpResult::Ok);
    EXPECT_EQ(strict.a.protectRtp(again, len2), SrtpResult::ReplayDuplicate);
  }
}

TEST(SrtpSession, AnySsrcInBothDirectionsAndRemoval) {
  Pair pair(SrtpProfile::AeadAes128Gcm);
  for (uint32_t ssrc : {0x1u, 0xdeadbeefu, 0x7fffffffu}) {
    auto p = rtpPacket(ssrc, 5, 64, pair.a.rtpTrailer());
    size_t len = 64;
    ASSERT_EQ(pair.a.protectRtp(p, len), SrtpResult::Ok);
    auto copy = p;
    size_t copyLen = len;
    ASSERT_EQ(pair.b.unprotectRtp(p, len), SrtpResult::Ok) << ssrc;
    EXPECT_EQ(pair.b.unprotectRtp(copy, copyLen), SrtpResult::ReplayDuplicate);
    // After removal the stream starts afresh: the same packet is accepted again.
    pair.b.removeInboundSsrc(ssrc);
    copyLen = 64 + pair.a.rtpTrailer();
    EXPECT_EQ(pair.b.unprotectRtp(copy, copyLen), SrtpResult::Ok);
  }
}

TEST(SrtpSession, RefusesBadBuffersWithoutTouchingLength) {
  Pair pair(SrtpProfile::AesCm128HmacSha1_80);
  auto packet = rtpPacket(1, 1, 100, 0);  // no room for the tag
  size_t len = 100;
  EXPECT_EQ(pair.a.protectRtp(packet, len), SrtpResult::BufferTooSmall);
  EXPECT_EQ(len, 100u);
  len = 101;  // longer than the buffer
  EXPECT_EQ(pair.a.protectRtp(packet, len), SrtpResult::Malformed);
  std::vector<uint8_t> tiny(8 + 32, 0x80);
  len = 8;
  EXPECT_EQ(pair.a.protectRtp(tiny, len), SrtpResult::Malformed);
  len = 12;  // a header and a tag's worth is still too short to unprotect
  EXPECT_EQ(pair.b.unprotectRtp(tiny, len), SrtpResult::Malformed);
  len = 4;
  EXPECT_EQ(pair.a.protectRtcp(tiny, len), SrtpResult::Malformed);
  // A header claiming 15 CSRCs that are not there.
  auto lying = rtpPacket(1, 2, 20, 40);
  lying[0] = 0x8f;
  len = 20;
  EXPECT_NE(pair.a.protectRtp(lying, len), SrtpResult::Ok);
}

TEST(SrtpSession, KeyMaterialMustFitTheProfile) {
  const auto gcmKeys = randomKeys(SrtpProfile::AeadAes128Gcm);  // 12-byte salt
  const auto cmKeys = randomKeys(SrtpProfile::AesCm128HmacSha1_80);
  EXPECT_THROW(SrtpSession(SrtpProfile::AesCm128HmacSha1_80, gcmKeys, cmKeys), std::invalid_argument);
  EXPECT_THROW(SrtpSession(SrtpProfile::AeadAes128Gcm, gcmKeys, cmKeys), std::invalid_argument);
  EXPECT_FALSE(SrtpKeyMaterial::make(SrtpProfile::AeadAes128Gcm, std::vector<uint8_t>(16), std::vector<uint8_t>(14)));
  EXPECT_THROW(SrtpSession(SrtpProfile::AeadAes128Gcm, gcmKeys, gcmKeys, {.replayWindow = 10}), std::runtime_error);
}

TEST(SrtpSession, MovedSessionKeepsWorking) {
  Pair pair(SrtpProfile::AesCm128HmacSha1_80);
  SrtpSession moved = std::move(pair.a);
  auto packet = rtpPacket(3, 3, 50, moved.rtpTrailer());
  size_t len = 50;
  EXPECT_EQ(pair.a.protectRtp(packet, len), SrtpResult::Failed);  // moved-from
  ASSERT_EQ(moved.protectRtp(packet, len), SrtpResult::Ok);
  EXPECT_EQ(pair.b.unprotectRtp(packet, len), SrtpResult::Ok);
}

TEST(SrtpProfile, IdsAndLengths) {
  EXPECT_EQ(srtpProfileFromId(0x0001), SrtpProfile::AesCm128HmacSha1_80);
  EXPECT_EQ(srtpProfileFromId(0x0007), SrtpProfile::AeadAes128Gcm);
  EXPECT_FALSE(srtpProfileFromId(0x0002));  // SHA1_32: not offered
  EXPECT_EQ(srtpProfileParams(SrtpProfile::AeadAes128Gcm).masterSaltLength, 12u);
  EXPECT_EQ(srtpProfileParams(SrtpProfile::AesCm128HmacSha1_80).masterSaltLength, 14u);
  EXPECT_EQ(toString(SrtpResult::ReplayOld), "older than the replay window");
}
