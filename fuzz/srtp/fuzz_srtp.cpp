// Differential fuzzing of Conclave's SRTP against libsrtp2 (tests/srtp/srtp_twins.h): the input
// is a program of operations on two peers, A and B, each an SrtpSession and a LibsrtpSession
// with the same keys. Any difference in a result, a length or a protected byte aborts.
//
// Input: one byte of configuration (profile, allowRepeatTx, replay window), then operations until
// the input runs out, each an opcode and its operands:
//   protect RTP     a fuzzer-made packet: SSRC (one of 8 per peer), sequence number (next, a jump
//                   either way, or any), CSRCs, header extension (up to 2400 bytes, past AES-GCM's
//                   2048-byte limit in libsrtp), payload; kept for later delivery when both accept
//   deliver RTP     a kept packet to the other peer: as sent, or with a flipped bit, truncated,
//                   extended, or with a new sequence number (unprotect of forgeries and replays)
//   protect RTCP    a fuzzer-made compound packet; deliver RTCP: as above, also the E flag flipped
//   raw             any operation on the input bytes as they are
//   remove          an SSRC's inbound or outbound state
//   burst           many packets of one stream in order, delivered in order (rollovers)
#include <array>
#include <cstdint>
#include <cstdio>
#include <span>
#include <vector>

#include "srtp/srtp_twins.h"

using namespace conclave::srtp;
using conclave::test::SrtpTwins;
using Peer = SrtpTwins::Peer;
using Op = SrtpTwins::Op;

namespace {

class Input {
 public:
  explicit Input(std::span<const uint8_t> data) : mData(data) {}
  bool empty() const { return mPos >= mData.size(); }
  uint8_t u8() { return mPos < mData.size() ? mData[mPos++] : 0; }
  uint16_t u16() { return static_cast<uint16_t>((u8() << 8) | u8()); }
  uint32_t u32() { return (uint32_t{u16()} << 16) | u16(); }
  // Up to n bytes; fewer when the input ends.
  std::span<const uint8_t> bytes(size_t n) {
    const size_t take = std::min(n, mData.size() - std::min(mPos, mData.size()));
    const auto out = mData.subspan(mPos, take);
    mPos += take;
    return out;
  }

 private:
  std::span<const uint8_t> mData;
  size_t mPos = 0;
};

constexpr size_t kSsrcsPerPeer = 8;
constexpr size_t kKept = 64;

SrtpKeyMaterial fixedKeys(SrtpProfile profile, uint8_t seed) {
  const auto params = srtpProfileParams(profile);
  std::array<uint8_t, 16> key{};
  std::array<uint8_t, 14> salt{};
  for (size_t i = 0; i < key.size(); ++i) key[i] = static_cast<uint8_t>(seed * 31 + i * 7);
  for (size_t i = 0; i < salt.size(); ++i) salt[i] = static_cast<uint8_t>(seed * 17 + i * 13);
  return *SrtpKeyMaterial::make(profile, std::span(key).first(params.masterKeyLength),
                                std::span(salt).first(params.masterSaltLength));
}

void check(const SrtpTwins::Outcome& outcome, const char* what) {
  if (outcome.agree()) return;
  std::fprintf(stderr, "SRTP implementations differ on %s: %s\n", what, outcome.mismatch.c_str());
  __builtin_trap();
}

struct Program {
  Program(SrtpProfile profile, const SrtpSession::Options& options)
      : profile(profile), twins(profile, fixedKeys(profile, 1), fixedKeys(profile, 2), options) {}

  SrtpProfile profile;
  SrtpTwins twins;
  std::array<uint16_t, 2 * kSsrcsPerPeer> seq{};
  std::array<std::vector<std::vector<uint8_t>>, 2> keptRtp, keptRtcp;  // by the peer that sent them

  static uint32_t ssrcOf(Peer peer, size_t n) { return (peer == Peer::A ? 0xA0000000u : 0xB0000000u) | uint32_t(n); }

  static void keep(std::vector<std::vector<uint8_t>>& kept, std::vector<uint8_t> packet) {
    if (kept.size() == kKept) kept.erase(kept.begin());
    kept.push_back(std::move(packet));
  }

  std::vector<uint8_t> rtpPacket(Input& in, Peer peer) {
    const size_t n = in.u8() % kSsrcsPerPeer;
    uint16_t& s = seq[(peer == Peer::A ? 0 : kSsrcsPerPeer) + n];
    const uint8_t mode = in.u8();
    switch (mode % 4) {
      case 0:
        s = static_cast<uint16_t>(s + 1);
        break;
      case 1:
        s = static_cast<uint16_t>(s + (uint16_t{mode} << 4) + 1);
        break;
      case 2:
        s = static_cast<uint16_t>(s - (uint16_t{mode} << 4));
        break;
      default:
        s = in.u16();
        break;
    }
    const uint8_t shape = in.u8();
    const size_t csrcs = (shape & 0x80) != 0 ? shape & 0x0f : 0;
    const bool extension = (shape & 0x40) != 0;
    size_t extensionWords = 0;
    if (extension) extensionWords = (shape & 0x20) != 0 ? 500 + in.u8() % 100 : in.u8() % 16;
    const size_t payload = in.u16() % 1400;
    std::vector<uint8_t> p(12 + 4 * csrcs + (extension ? 4 + 4 * extensionWords : 0) + payload, 0);
    p[0] = static_cast<uint8_t>(0x80 | (extension ? 0x10 : 0) | csrcs);
    p[1] = in.u8();
    p[2] = static_cast<uint8_t>(s >> 8);
    p[3] = static_cast<uint8_t>(s);
    const uint32_t ssrc = ssrcOf(peer, n);
    for (int i = 0; i < 4; ++i) p[8 + i] = static_cast<uint8_t>(ssrc >> (24 - 8 * i));
    if (extension) {
      const size_t at = 12 + 4 * csrcs;
      p[at] = 0xBE;
      p[at + 1] = 0xDE;
      p[at + 2] = static_cast<uint8_t>(extensionWords >> 8);
      p[at + 3] = static_cast<uint8_t>(extensionWords);
    }
    const auto fill = in.bytes(payload);
    std::copy(fill.begin(), fill.end(), p.end() - static_cast<std::ptrdiff_t>(payload));
    return p;
  }

  std::vector<uint8_t> rtcpPacket(Input& in, Peer peer) {
    const size_t n = in.u8() % kSsrcsPerPeer;
    const size_t length = 8 + (in.u16() % 2200);
    std::vector<uint8_t> p(length, 0);
    p[0] = 0x81;
    p[1] = 200 + in.u8() % 8;
    const uint32_t ssrc = ssrcOf(peer, n);
    for (int i = 0; i < 4; ++i) p[4 + i] = static_cast<uint8_t>(ssrc >> (24 - 8 * i));
    const auto fill = in.bytes(length - 8);
    std::copy(fill.begin(), fill.end(), p.begin() + 8);
    return p;
  }

  // A kept packet, as sent or altered.
  static std::vector<uint8_t> mutated(Input& in, const std::vector<uint8_t>& packet, bool rtcp, SrtpProfile profile) {
    std::vector<uint8_t> out = packet;
    const uint8_t how = in.u8();
    const uint16_t where = in.u16();
    switch (how % 8) {
      case 1:
        out[where % out.size()] ^= static_cast<uint8_t>(1u << (how >> 5));
        break;
      case 2:
        out.resize(out.size() - std::min<size_t>(out.size(), 1 + (where % 32)));
        break;
      case 3:
        out.resize(out.size() + 1 + (where % 32), static_cast<uint8_t>(where >> 8));
        break;
      case 4:
        if (!rtcp && out.size() >= 4) {
          out[2] = static_cast<uint8_t>(where >> 8);
          out[3] = static_cast<uint8_t>(where);
        } else if (rtcp) {
          const size_t trailer = profile == SrtpProfile::AeadAes128Gcm ? out.size() - 4 : out.size() - 14;
          out[trailer] ^= 0x80;  // the E flag
        }
        break;
      default:
        break;
    }
    return out;
  }

  void step(Input& in) {
    const uint8_t opcode = in.u8();
    const Peer from = (opcode & 0x80) != 0 ? Peer::B : Peer::A;
    const Peer to = from == Peer::A ? Peer::B : Peer::A;
    const size_t sender = from == Peer::A ? 0 : 1;
    switch (opcode % 8) {
      case 0:
      case 1: {
        const auto outcome = twins.protectRtp(from, rtpPacket(in, from));
        check(outcome, "protect RTP");
        if (outcome.ok()) keep(keptRtp[sender], outcome.output);
        break;
      }
      case 2: {
        if (keptRtp[sender].empty()) break;
        const auto& packet = keptRtp[sender][in.u8() % keptRtp[sender].size()];
        check(twins.unprotectRtp(to, mutated(in, packet, false, profile)), "unprotect RTP");
        break;
      }
      case 3: {
        const auto outcome = twins.protectRtcp(from, rtcpPacket(in, from));
        check(outcome, "protect RTCP");
        if (outcome.ok()) keep(keptRtcp[sender], outcome.output);
        break;
      }
      case 4: {
        if (keptRtcp[sender].empty()) break;
        const auto& packet = keptRtcp[sender][in.u8() % keptRtcp[sender].size()];
        check(twins.unprotectRtcp(to, mutated(in, packet, true, profile)), "unprotect RTCP");
        break;
      }
      case 5: {
        const uint8_t how = in.u8();
        const auto op = static_cast<Op>(how % 4);
        const size_t room = (how >> 2) % 24;
        const auto bytes = in.bytes(in.u16() % 2400);
        check(twins.run(from, op, bytes, room), "raw input");
        break;
      }
      case 6: {
        const uint8_t which = in.u8();
        const uint32_t ssrc = ssrcOf((which & 0x10) != 0 ? Peer::B : Peer::A, which % kSsrcsPerPeer);
        if ((which & 0x80) != 0) {
          twins.removeInbound(from, ssrc);
        } else {
          twins.removeOutbound(from, ssrc);
        }
        break;
      }
      default: {
        // A burst of one stream, in order, with steps up to `stride`, delivered in order.
        const size_t n = in.u8() % kSsrcsPerPeer;
        const size_t count = 1 + in.u8();
        const uint16_t stride = static_cast<uint16_t>(1 + in.u16() % 4096);
        uint16_t& s = seq[(from == Peer::A ? 0 : kSsrcsPerPeer) + n];
        for (size_t i = 0; i < count; ++i) {
          s = static_cast<uint16_t>(s + 1 + (i * 7919) % stride);
          std::array<uint8_t, 24> p{0x80, 96};
          p[2] = static_cast<uint8_t>(s >> 8);
          p[3] = static_cast<uint8_t>(s);
          const uint32_t ssrc = ssrcOf(from, n);
          for (int k = 0; k < 4; ++k) p[8 + k] = static_cast<uint8_t>(ssrc >> (24 - 8 * k));
          const auto sent = twins.protectRtp(from, p);
          check(sent, "burst protect");
          if (sent.ok()) check(twins.unprotectRtp(to, sent.output), "burst unprotect");
        }
        break;
      }
    }
  }
};

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  Input in(std::span<const uint8_t>(data, size));
  const uint8_t config = in.u8();
  const auto profile = (config & 1) != 0 ? SrtpProfile::AeadAes128Gcm : SrtpProfile::AesCm128HmacSha1_80;
  static constexpr unsigned kWindows[] = {64, 100, 1024, 0};
  const SrtpSession::Options options{.replayWindow = kWindows[(config >> 2) % 4], .allowRepeatTx = (config & 2) != 0};
  Program program(profile, options);
  for (int steps = 0; steps < 512 && !in.empty(); ++steps) program.step(in);
  return 0;
}
