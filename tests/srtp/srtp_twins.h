// SrtpTwins: Conclave's SrtpSession and libsrtp2 (LibsrtpSession) side by side, fed the same
// operations, so that tests/srtp and fuzz/srtp can require that they never differ.
//
// Two peers, A and B, each an SrtpSession and a LibsrtpSession with the same keys (A's local
// keys are B's remote keys). Every operation runs on both implementations of one peer, on copies
// of the same input in equally large buffers, and reports where they differ: the result, and on
// Ok the length and bytes. On an error both leave the buffer unspecified, so only the result is
// compared.
#pragma once

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <vector>

#include "srtp/libsrtp_oracle.h"
#include "srtp/srtp_session.h"

namespace conclave::test {

class SrtpTwins {
 public:
  enum class Peer : uint8_t { A, B };
  enum class Op : uint8_t { ProtectRtp, UnprotectRtp, ProtectRtcp, UnprotectRtcp };

  struct Outcome {
    srtp::SrtpResult ours = srtp::SrtpResult::Failed;
    srtp::SrtpResult theirs = srtp::SrtpResult::Failed;
    std::vector<uint8_t> output;  // ours, on Ok
    std::string mismatch;         // empty when both agree

    bool agree() const { return mismatch.empty(); }
    bool ok() const { return agree() && ours == srtp::SrtpResult::Ok; }
  };

  SrtpTwins(srtp::SrtpProfile profile, const srtp::SrtpKeyMaterial& aKeys, const srtp::SrtpKeyMaterial& bKeys,
            const srtp::SrtpSession::Options& options = {})
      : mOursA(profile, aKeys, bKeys, options),
        mOursB(profile, bKeys, aKeys, options),
        mTheirsA(profile, aKeys, bKeys, options),
        mTheirsB(profile, bKeys, aKeys, options) {}

  // `input` placed in buffers of input.size() + room bytes; `length` is passed as the packet's
  // length (it may claim more than the buffer holds).
  Outcome run(Peer peer, Op op, std::span<const uint8_t> input, size_t room, std::optional<size_t> length = {}) {
    std::vector<uint8_t> ours(input.size() + room, 0xEE), theirs(input.size() + room, 0xEE);
    std::copy(input.begin(), input.end(), ours.begin());
    std::copy(input.begin(), input.end(), theirs.begin());
    const size_t claimed = length.value_or(input.size());
    size_t oursLength = claimed, theirsLength = claimed;
    Outcome outcome;
    srtp::SrtpSession& mine = peer == Peer::A ? mOursA : mOursB;
    LibsrtpSession& oracle = peer == Peer::A ? mTheirsA : mTheirsB;
    if (op == Op::UnprotectRtcp && poisonsLibsrtp(input, claimed)) {
      // The one deliberate difference (srtp/srtp_session.h): libsrtp would fail this packet and
      // every later one; ours fails only this one. libsrtp is left out so that it stays usable.
      outcome.ours = mine.unprotectRtcp(ours, oursLength);
      outcome.theirs = outcome.ours;
      if (outcome.ours == srtp::SrtpResult::Ok) outcome.mismatch = "accepted an SRTCP packet libsrtp cannot check";
      return outcome;
    }
    switch (op) {
      case Op::ProtectRtp:
        outcome.ours = mine.protectRtp(ours, oursLength);
        outcome.theirs = oracle.protectRtp(theirs, theirsLength);
        break;
      case Op::UnprotectRtp:
        outcome.ours = mine.unprotectRtp(ours, oursLength);
        outcome.theirs = oracle.unprotectRtp(theirs, theirsLength);
        break;
      case Op::ProtectRtcp:
        outcome.ours = mine.protectRtcp(ours, oursLength);
        outcome.theirs = oracle.protectRtcp(theirs, theirsLength);
        break;
      case Op::UnprotectRtcp:
        outcome.ours = mine.unprotectRtcp(ours, oursLength);
        outcome.theirs = oracle.unprotectRtcp(theirs, theirsLength);
        break;
    }
    if (outcome.ours != outcome.theirs) {
      outcome.mismatch = std::string("result: ours ") + std::string(srtp::toString(outcome.ours)) + ", libsrtp " +
                         std::string(srtp::toString(outcome.theirs));
    } else if (outcome.ours != srtp::SrtpResult::Ok) {
      if (oursLength != claimed || theirsLength != claimed) outcome.mismatch = "length changed on an error";
    } else if (oursLength != theirsLength) {
      outcome.mismatch = "length: ours " + std::to_string(oursLength) + ", libsrtp " + std::to_string(theirsLength);
    } else if (!std::equal(ours.begin(), ours.begin() + static_cast<std::ptrdiff_t>(oursLength), theirs.begin())) {
      outcome.mismatch = "bytes differ";
    } else {
      outcome.output.assign(ours.begin(), ours.begin() + static_cast<std::ptrdiff_t>(oursLength));
    }
    return outcome;
  }

  // The usual calls: protect with room for the trailer, unprotect as is.
  Outcome protectRtp(Peer peer, std::span<const uint8_t> plain) {
    return run(peer, Op::ProtectRtp, plain, mOursA.rtpTrailer());
  }
  Outcome unprotectRtp(Peer peer, std::span<const uint8_t> packet) { return run(peer, Op::UnprotectRtp, packet, 0); }
  Outcome protectRtcp(Peer peer, std::span<const uint8_t> plain) {
    return run(peer, Op::ProtectRtcp, plain, mOursA.rtcpTrailer());
  }
  Outcome unprotectRtcp(Peer peer, std::span<const uint8_t> packet) { return run(peer, Op::UnprotectRtcp, packet, 0); }

  // Forgets `ssrc` as sent by `peer` (its outbound state) or as received by it.
  void removeOutbound(Peer peer, uint32_t ssrc) {
    (peer == Peer::A ? mOursA : mOursB).removeOutboundSsrc(ssrc);
    (peer == Peer::A ? mTheirsA : mTheirsB).removeOutboundSsrc(ssrc);
  }
  void removeInbound(Peer peer, uint32_t ssrc) {
    (peer == Peer::A ? mOursA : mOursB).removeInboundSsrc(ssrc);
    (peer == Peer::A ? mTheirsA : mTheirsB).removeInboundSsrc(ssrc);
  }

  // An AES-GCM SRTCP packet without the E flag whose associated data passes NSS's 2048-byte
  // limit only with the trailer: libsrtp keeps the first part in its cipher context and fails
  // every later SRTCP packet of that direction.
  bool poisonsLibsrtp(std::span<const uint8_t> input, size_t length) const {
    if (mOursA.profile() != srtp::SrtpProfile::AeadAes128Gcm || length > input.size() || length < 2065 || length > 2068)
      return false;
    return (input[length - 4] & 0x80) == 0;
  }

  size_t rtpTrailer() const { return mOursA.rtpTrailer(); }
  size_t rtcpTrailer() const { return mOursA.rtcpTrailer(); }

 private:
  srtp::SrtpSession mOursA, mOursB;
  LibsrtpSession mTheirsA, mTheirsB;
};

}  // namespace conclave::test
