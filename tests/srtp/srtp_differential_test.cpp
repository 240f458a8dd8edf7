// Conclave's SRTP against libsrtp2, the implementation it replaced: the same bytes for every
// protected packet and the same decision for every packet, including tampered, replayed,
// reordered, far-ahead and malformed ones, across the 16-bit sequence number wrap, for both
// profiles and both directions (tests/srtp/srtp_twins.h runs each operation on both).
#include <gtest/gtest.h>

#include <algorithm>
#include <cstdint>
#include <cstdio>
#include <map>
#include <string>
#include <vector>

#include "common/bytes.h"
#include "srtp/srtp_crypto.h"
#include "srtp/srtp_twins.h"

using namespace conclave::srtp;
using conclave::test::SrtpTwins;
using Peer = SrtpTwins::Peer;
using Op = SrtpTwins::Op;

namespace {

// A small deterministic generator (splitmix64): the same packets on every run.
class Rng {
 public:
  explicit Rng(uint64_t seed) : mState(seed) {}
  uint64_t next() {
    uint64_t z = (mState += 0x9E3779B97F4A7C15ull);
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
    return z ^ (z >> 31);
  }
  uint32_t below(uint32_t n) { return static_cast<uint32_t>(next() % n); }
  bool chance(uint32_t percent) { return below(100) < percent; }
  void fill(std::span<uint8_t> out) {
    for (auto& b : out) b = static_cast<uint8_t>(next());
  }

 private:
  uint64_t mState;
};

constexpr SrtpProfile kProfiles[] = {SrtpProfile::AesCm128HmacSha1_80, SrtpProfile::AeadAes128Gcm};

SrtpKeyMaterial randomKeys(SrtpProfile profile, Rng& rng) {
  const auto params = srtpProfileParams(profile);
  std::vector<uint8_t> key(params.masterKeyLength), salt(params.masterSaltLength);
  rng.fill(key);
  rng.fill(salt);
  return *SrtpKeyMaterial::make(profile, key, salt);
}

struct Twins {
  Twins(SrtpProfile profile, Rng& rng, SrtpSession::Options options = {})
      : aKeys(randomKeys(profile, rng)), bKeys(randomKeys(profile, rng)), twins(profile, aKeys, bKeys, options) {}
  SrtpKeyMaterial aKeys, bKeys;
  SrtpTwins twins;
};

// An RTP packet with `csrcs` CSRCs, a one-byte-header extension of `extensionWords` words (or
// none when negative) and `payload` random bytes.
std::vector<uint8_t> rtpPacket(Rng& rng, uint32_t ssrc, uint16_t seq, int csrcs, int extensionWords, size_t payload) {
  std::vector<uint8_t> p(12 + 4 * static_cast<size_t>(csrcs) +
                         (extensionWords >= 0 ? 4 + 4 * static_cast<size_t>(extensionWords) : 0) + payload);
  rng.fill(p);
  p[0] = static_cast<uint8_t>(0x80 | (extensionWords >= 0 ? 0x10 : 0) | csrcs);
  p[1] = static_cast<uint8_t>(rng.below(256));
  conclave::common::storeU16(&p[2], seq);
  conclave::common::storeU32(&p[8], ssrc);
  if (extensionWords >= 0) {
    const size_t at = 12 + 4 * static_cast<size_t>(csrcs);
    conclave::common::storeU16(&p[at], 0xBEDE);
    conclave::common::storeU16(&p[at + 2], static_cast<uint16_t>(extensionWords));
  }
  return p;
}

std::vector<uint8_t> randomRtpPacket(Rng& rng, uint32_t ssrc, uint16_t seq) {
  const int csrcs = rng.chance(70) ? 0 : static_cast<int>(rng.below(16));
  const int extension = rng.chance(40) ? -1 : static_cast<int>(rng.below(rng.chance(90) ? 8 : 64));
  const size_t payload = rng.chance(10) ? rng.below(4) : rng.below(1300);
  return rtpPacket(rng, ssrc, seq, csrcs, extension, payload);
}

// An RTCP packet (the SSRC at bytes 4..7 is all SRTCP reads) of `length` bytes.
std::vector<uint8_t> rtcpPacket(Rng& rng, uint32_t ssrc, size_t length) {
  std::vector<uint8_t> p(length);
  rng.fill(p);
  p[0] = 0x81;
  p[1] = 201;
  conclave::common::storeU32(&p[4], ssrc);
  return p;
}

// The next sequence number in a schedule that steps forward mostly by one, sometimes far
// forward or back (across the window, half the sequence space, and the 16-bit wrap).
uint16_t nextSeq(Rng& rng, uint16_t seq) {
  static constexpr int kSteps[] = {2,  3,  17,  100, 1000, 1023, 1024, 1025,  30000, 32767, 32768, 32769, 40000, 65535,
                                   -1, -2, -63, -64, -65,  -127, -128, -1000, -1023, -1024, -1025, -2000, -32768};
  if (rng.chance(85)) return static_cast<uint16_t>(seq + 1);
  return static_cast<uint16_t>(seq + kSteps[rng.below(std::size(kSteps))]);
}

#define EXPECT_AGREE(outcome, context) EXPECT_TRUE((outcome).agree()) << (outcome).mismatch << " at " << (context)

}  // namespace

TEST(SrtpDifferential, RandomRtpPacketsProtectToTheSameBytesAndUnprotectAlike) {
  Rng rng(1);
  for (auto profile : kProfiles) {
    SCOPED_TRACE(srtpProfileParams(profile).name);
    Twins t(profile, rng);
    std::map<uint32_t, uint16_t> seqs;
    for (int i = 0; i < 600; ++i) {
      const Peer from = rng.chance(50) ? Peer::A : Peer::B;
      const Peer to = from == Peer::A ? Peer::B : Peer::A;
      const uint32_t ssrc = 0x1000u + rng.below(6) + (from == Peer::A ? 0 : 0x100);
      auto [it, fresh] = seqs.try_emplace(ssrc, static_cast<uint16_t>(rng.below(65536)));
      if (!fresh) it->second = static_cast<uint16_t>(it->second + 1);
      const auto plain = randomRtpPacket(rng, ssrc, it->second);
      const auto protectedPacket = t.twins.protectRtp(from, plain);
      ASSERT_TRUE(protectedPacket.ok()) << protectedPacket.mismatch << " " << toString(protectedPacket.ours);
      ASSERT_EQ(protectedPacket.output.size(), plain.size() + t.twins.rtpTrailer());
      const auto unprotected = t.twins.unprotectRtp(to, protectedPacket.output);
      ASSERT_TRUE(unprotected.ok()) << unprotected.mismatch << " " << toString(unprotected.ours);
      EXPECT_EQ(unprotected.output, plain);
    }
  }
}

TEST(SrtpDifferential, ReorderedReplayedAndFarAheadPacketsGetTheSameDecisions) {
  Rng rng(2);
  for (auto profile : kProfiles) {
    for (unsigned window : {64u, 100u, 1024u}) {
      SCOPED_TRACE(std::string(srtpProfileParams(profile).name) + " window " + std::to_string(window));
      Twins t(profile, rng, {.replayWindow = window});
      // The sender protects a schedule with jumps both ways; its own decisions must agree too
      // (an index older than its window is refused, a repeated one allowed).
      std::vector<std::vector<uint8_t>> sent;
      uint16_t seq = static_cast<uint16_t>(rng.below(65536));
      for (int i = 0; i < 1500; ++i) {
        seq = nextSeq(rng, seq);
        const auto outcome = t.twins.protectRtp(Peer::A, randomRtpPacket(rng, 0xCAFE, seq));
        EXPECT_AGREE(outcome, "protect " + std::to_string(i));
        if (outcome.ok()) sent.push_back(outcome.output);
      }
      // The receiver gets them reordered, with replays of earlier packets.
      for (size_t i = 0; i + 1 < sent.size(); ++i) {
        if (rng.chance(15))
          std::swap(sent[i], sent[i + 1 + rng.below(static_cast<uint32_t>(std::min<size_t>(40, sent.size() - i - 1)))]);
      }
      for (size_t i = 0; i < sent.size(); ++i) {
        EXPECT_AGREE(t.twins.unprotectRtp(Peer::B, sent[i]), "unprotect " + std::to_string(i));
        if (rng.chance(10)) {
          const size_t earlier = i - rng.below(static_cast<uint32_t>(std::min<size_t>(i + 1, 3000)));
          EXPECT_AGREE(t.twins.unprotectRtp(Peer::B, sent[earlier]), "replay of " + std::to_string(earlier));
        }
      }
    }
  }
}

TEST(SrtpDifferential, ManyRolloversInOrder) {
  Rng rng(3);
  for (auto profile : kProfiles) {
    SCOPED_TRACE(srtpProfileParams(profile).name);
    Twins t(profile, rng);
    uint16_t seq = 65000;
    uint32_t rollovers = 0;
    for (int i = 0; rollovers < 20; ++i) {
      // Forward steps up to 2000 (well under half the sequence space) wrap every ~130 packets.
      const uint16_t next = static_cast<uint16_t>(seq + (rng.chance(50) ? 1 : 1 + rng.below(2000)));
      if (next < seq) ++rollovers;
      seq = next;
      const auto sent = t.twins.protectRtp(Peer::A, rtpPacket(rng, 0x77, seq, 0, -1, rng.below(100)));
      ASSERT_TRUE(sent.ok()) << sent.mismatch << " at " << i;
      const auto received = t.twins.unprotectRtp(Peer::B, sent.output);
      ASSERT_TRUE(received.ok()) << received.mismatch << " at " << i;
      // The previous ROC's packet with the same number is long gone from the window.
      if (rng.chance(5)) {
        const auto old =
            t.twins.protectRtp(Peer::A, rtpPacket(rng, 0x77, static_cast<uint16_t>(seq - 1500), 0, -1, 10));
        EXPECT_AGREE(old, "old " + std::to_string(i));
      }
    }
  }
}

TEST(SrtpDifferential, TamperedAndTruncatedPacketsAreRefusedAlike) {
  Rng rng(4);
  for (auto profile : kProfiles) {
    SCOPED_TRACE(srtpProfileParams(profile).name);
    Twins t(profile, rng);
    uint16_t seq = 1;
    for (int i = 0; i < 400; ++i) {
      const auto sent = t.twins.protectRtp(Peer::B, randomRtpPacket(rng, 0xB0B, ++seq));
      ASSERT_TRUE(sent.ok()) << sent.mismatch;
      auto bad = sent.output;
      switch (rng.below(4)) {
        case 0:  // a flipped bit anywhere: header (CC, X, length fields), payload or tag
          bad[rng.below(static_cast<uint32_t>(bad.size()))] ^= static_cast<uint8_t>(1u << rng.below(8));
          break;
        case 1:  // a truncated tag or payload
          bad.resize(bad.size() - std::min<size_t>(bad.size(), 1 + rng.below(20)));
          break;
        case 2:  // bytes after the tag
          bad.resize(bad.size() + 1 + rng.below(8), 0);
          break;
        default:  // a tag from another packet
          bad[bad.size() - 1] ^= 0x80;
          break;
      }
      EXPECT_AGREE(t.twins.unprotectRtp(Peer::A, bad), "tampered " + std::to_string(i));
      EXPECT_AGREE(t.twins.unprotectRtp(Peer::A, sent.output), "genuine " + std::to_string(i));
    }
  }
}

TEST(SrtpDifferential, MalformedAndShortInputsAreRefusedAlike) {
  Rng rng(5);
  for (auto profile : kProfiles) {
    SCOPED_TRACE(srtpProfileParams(profile).name);
    Twins t(profile, rng);
    for (int i = 0; i < 3000; ++i) {
      std::vector<uint8_t> bytes(rng.below(rng.chance(80) ? 64 : 3000));
      rng.fill(bytes);
      if (!bytes.empty() && rng.chance(50)) bytes[0] = static_cast<uint8_t>(0x80 | (bytes[0] & 0x1f));
      const auto op = static_cast<Op>(rng.below(4));
      const Peer peer = rng.chance(50) ? Peer::A : Peer::B;
      const size_t room = rng.chance(80) ? 20 : rng.below(20);
      std::optional<size_t> length;
      if (rng.chance(5)) length = bytes.size() + room + 1 + rng.below(4);  // claims more than the buffer
      EXPECT_AGREE(t.twins.run(peer, op, bytes, room, length), "input " + std::to_string(i));
    }
    // Headers that claim more CSRCs or extension words than the packet holds, or exactly fill it.
    for (int csrcs = 0; csrcs < 16; ++csrcs) {
      for (int words : {-1, 0, 1, 5}) {
        const auto full = rtpPacket(rng, 0x51, static_cast<uint16_t>(csrcs * 10 + words + 2), csrcs, words, 0);
        for (size_t cut = 0; cut <= 8 && cut <= full.size(); ++cut) {
          const std::vector<uint8_t> packet(full.begin(), full.end() - static_cast<std::ptrdiff_t>(cut));
          EXPECT_AGREE(t.twins.protectRtp(Peer::A, packet), "protect cc " + std::to_string(csrcs));
          std::vector<uint8_t> withTag = packet;
          withTag.resize(packet.size() + t.twins.rtpTrailer() - std::min<size_t>(cut, t.twins.rtpTrailer()));
          EXPECT_AGREE(t.twins.unprotectRtp(Peer::B, withTag), "unprotect cc " + std::to_string(csrcs));
        }
      }
    }
  }
}

TEST(SrtpDifferential, SenderDecisionsOnRepeatedAndOldSequenceNumbers) {
  Rng rng(6);
  for (auto profile : kProfiles) {
    for (bool allowRepeatTx : {true, false}) {
      SCOPED_TRACE(std::string(srtpProfileParams(profile).name) + (allowRepeatTx ? " repeat" : " strict"));
      Twins t(profile, rng, {.replayWindow = 128, .allowRepeatTx = allowRepeatTx});
      uint16_t seq = 40000;
      for (int i = 0; i < 2000; ++i) {
        const int choice = static_cast<int>(rng.below(10));
        uint16_t s = choice < 5 ? ++seq : static_cast<uint16_t>(seq - rng.below(choice < 8 ? 140 : 40000));
        if (choice == 9) s = static_cast<uint16_t>(seq + rng.below(65536));
        EXPECT_AGREE(t.twins.protectRtp(Peer::A, randomRtpPacket(rng, 0xAB, s)), "protect " + std::to_string(i));
      }
    }
  }
}

TEST(SrtpDifferential, SrtcpDecisionsMatch) {
  Rng rng(7);
  for (auto profile : kProfiles) {
    SCOPED_TRACE(srtpProfileParams(profile).name);
    Twins t(profile, rng);
    std::vector<std::vector<uint8_t>> sent;
    for (int i = 0; i < 500; ++i) {
      const uint32_t ssrc = 0x5000u + rng.below(3);
      const auto outcome =
          t.twins.protectRtcp(Peer::A, rtcpPacket(rng, ssrc, 8 + 4 * rng.below(rng.chance(95) ? 60 : 600)));
      ASSERT_TRUE(outcome.ok()) << outcome.mismatch;
      sent.push_back(outcome.output);
    }
    // Reordered (some by more than the 128-index window), replayed, tampered, truncated, the E
    // flag cleared.
    for (size_t i = 0; i + 1 < sent.size(); ++i) {
      if (rng.chance(10))
        std::swap(sent[i], sent[i + 1 + rng.below(static_cast<uint32_t>(std::min<size_t>(400, sent.size() - i - 1)))]);
    }
    for (size_t i = 0; i < sent.size(); ++i) {
      auto packet = sent[i];
      if (rng.chance(20)) {
        auto bad = packet;
        switch (rng.below(4)) {
          case 0:
            bad[rng.below(static_cast<uint32_t>(bad.size()))] ^= static_cast<uint8_t>(1u << rng.below(8));
            break;
          case 1:
            bad.resize(bad.size() - std::min<size_t>(bad.size(), 1 + rng.below(24)));
            break;
          case 2:  // the E flag, wherever the profile keeps the trailer
            bad[profile == SrtpProfile::AeadAes128Gcm ? bad.size() - 4 : bad.size() - 14] ^= 0x80;
            break;
          default:  // the index
            bad[profile == SrtpProfile::AeadAes128Gcm ? bad.size() - 1 : bad.size() - 11] ^= 0x01;
            break;
        }
        EXPECT_AGREE(t.twins.unprotectRtcp(Peer::B, bad), "tampered " + std::to_string(i));
      }
      EXPECT_AGREE(t.twins.unprotectRtcp(Peer::B, packet), "packet " + std::to_string(i));
      if (rng.chance(10)) {
        EXPECT_AGREE(t.twins.unprotectRtcp(Peer::B, sent[rng.below(static_cast<uint32_t>(i + 1))]), "replay");
      }
    }
  }
}

// AES-GCM SRTCP with the E flag clear (RFC 7714 §9.3): authenticated only. libsrtp accepts these
// with a valid tag; the associated data is then the whole packet, which it (on NSS) limits to
// 2048 bytes.
TEST(SrtpDifferential, UnencryptedGcmSrtcpIsAcceptedAlikeUpToTheAssociatedDataLimit) {
  Rng rng(8);
  const auto profile = SrtpProfile::AeadAes128Gcm;
  Twins t(profile, rng);
  const auto keys = SrtpSessionKeys::derive(profile, t.aKeys);  // what A sends with
  AesGcm gcm(keys.rtcpKey);
  uint32_t index = 1;
  for (size_t length : {8u, 28u, 500u, 2040u, 2044u, 2048u, 2052u, 3000u}) {
    SCOPED_TRACE(length);
    auto packet = rtcpPacket(rng, 0x600D, length);
    std::array<uint8_t, 4> trailer{};
    conclave::common::storeU32(trailer.data(), index);
    std::array<uint8_t, kGcmIvLength> iv{};
    std::copy_n(keys.rtcpSalt.begin(), kGcmIvLength, iv.begin());
    for (int i = 0; i < 4; ++i) iv[2 + i] ^= packet[4 + i];
    for (int i = 0; i < 4; ++i) iv[8 + i] ^= trailer[i];
    std::array<uint8_t, kGcmTagLength> tag{};
    ASSERT_TRUE(gcm.seal(iv, packet, trailer, {}, tag));
    const auto plain = packet;
    packet.insert(packet.end(), tag.begin(), tag.end());
    packet.insert(packet.end(), trailer.begin(), trailer.end());
    const auto outcome = t.twins.unprotectRtcp(Peer::B, packet);
    EXPECT_AGREE(outcome, length);
    EXPECT_EQ(outcome.ours, length + 4 <= 2048 ? SrtpResult::Ok : SrtpResult::Failed);
    if (outcome.ok()) {
      EXPECT_EQ(outcome.output, plain);
    }
    ++index;
  }
}

TEST(SrtpDifferential, GcmRefusesHeadersPastTheAssociatedDataLimitAlike) {
  Rng rng(9);
  Twins t(SrtpProfile::AeadAes128Gcm, rng);
  uint16_t seq = 7;
  for (int words : {500, 508, 509, 510, 600}) {  // headers of 2016, 2048, 2052, 2056 and 2416 bytes
    SCOPED_TRACE(words);
    const auto plain = rtpPacket(rng, 0xA11, ++seq, 0, words, 50);
    const auto outcome = t.twins.protectRtp(Peer::A, plain);
    EXPECT_AGREE(outcome, "protect");
    EXPECT_EQ(outcome.ours, 16 + 4 * words <= 2048 ? SrtpResult::Ok : SrtpResult::Failed);
    // The failed protect still advanced the sender's index: the same number again is a repeat.
    EXPECT_AGREE(t.twins.protectRtp(Peer::A, rtpPacket(rng, 0xA11, seq, 0, 1, 50)), "again");
    auto forged = plain;
    forged.resize(plain.size() + 16);
    EXPECT_AGREE(t.twins.unprotectRtp(Peer::B, forged), "unprotect");
  }
}

TEST(SrtpDifferential, RemovedStreamsStartAfreshAlike) {
  Rng rng(10);
  for (auto profile : kProfiles) {
    SCOPED_TRACE(srtpProfileParams(profile).name);
    Twins t(profile, rng, {.replayWindow = 0});  // libsrtp's default window (128)
    std::vector<std::vector<uint8_t>> sent;
    uint16_t seq = 65500;
    for (int i = 0; i < 400; ++i) {
      const uint32_t ssrc = 0x900u + rng.below(3);
      if (rng.chance(3)) t.twins.removeOutbound(Peer::A, ssrc);
      if (rng.chance(3)) t.twins.removeInbound(Peer::B, ssrc);
      const bool rtcp = rng.chance(30);
      seq = static_cast<uint16_t>(seq + 1 + rng.below(3));
      const auto outcome = rtcp ? t.twins.protectRtcp(Peer::A, rtcpPacket(rng, ssrc, 40))
                                : t.twins.protectRtp(Peer::A, randomRtpPacket(rng, ssrc, seq));
      EXPECT_AGREE(outcome, "protect " + std::to_string(i));
      if (outcome.ok()) sent.push_back(outcome.output);
      if (!sent.empty()) {
        const auto& packet = sent[sent.size() - 1 - rng.below(static_cast<uint32_t>(std::min<size_t>(sent.size(), 5)))];
        const bool isRtcp = packet[1] == 201;
        EXPECT_AGREE(isRtcp ? t.twins.unprotectRtcp(Peer::B, packet) : t.twins.unprotectRtp(Peer::B, packet),
                     "unprotect " + std::to_string(i));
      }
    }
  }
}

// The one decision we do not copy (srtp/srtp_session.h): an unencrypted AES-GCM SRTCP packet
// whose associated data passes NSS's 2048-byte limit only with its trailer leaves libsrtp's
// cipher context holding half of it, and every later SRTCP packet of that direction fails. Such
// a packet needs no key: anyone who can send to the port could stop a peer's SRTCP. Ours fails
// that packet only.
TEST(SrtpDifferential, AnSrtcpPacketPastTheAssociatedDataLimitBreaksNothingElse) {
  Rng rng(11);
  const auto profile = SrtpProfile::AeadAes128Gcm;
  const auto aKeys = randomKeys(profile, rng), bKeys = randomKeys(profile, rng);
  SrtpSession sender(profile, aKeys, bKeys), receiver(profile, bKeys, aKeys);
  conclave::test::LibsrtpSession oracle(profile, bKeys, aKeys);
  for (size_t length : {2065u, 2066u, 2068u}) {
    auto forged = rtcpPacket(rng, 0xBAD, length);
    forged[length - 4] = 0x00;  // E flag clear
    auto copy = forged;
    size_t forgedLength = length, copyLength = length;
    EXPECT_EQ(receiver.unprotectRtcp(forged, forgedLength), SrtpResult::Failed);
    EXPECT_EQ(oracle.unprotectRtcp(copy, copyLength), SrtpResult::Failed);

    auto genuine = rtcpPacket(rng, 0x600D, 64);
    genuine.resize(64 + sender.rtcpTrailer());
    size_t genuineLength = 64;
    ASSERT_EQ(sender.protectRtcp(genuine, genuineLength), SrtpResult::Ok);
    auto genuineCopy = genuine;
    size_t ourLength = genuineLength, theirLength = genuineLength;
    EXPECT_EQ(receiver.unprotectRtcp(genuine, ourLength), SrtpResult::Ok);
    const SrtpResult theirs = oracle.unprotectRtcp(genuineCopy, theirLength);
    std::printf("after a %zu-byte unencrypted SRTCP packet, libsrtp2 says of a genuine one: %s\n", length,
                std::string(toString(theirs)).c_str());
  }
}
