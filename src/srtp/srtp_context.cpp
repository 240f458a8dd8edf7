#include "srtp/srtp_context.h"

#include <openssl/crypto.h>

#include <algorithm>
#include <climits>
#include <stdexcept>

namespace conclave::srtp {
namespace {

constexpr size_t kRtpHeaderLength = 12;
constexpr size_t kRtcpHeaderLength = 8;
constexpr size_t kSrtcpTrailerLength = 4;  // E flag and 31-bit SRTCP index
constexpr size_t kHmacTagLength = 10;      // HMAC-SHA1-80
constexpr uint32_t kSrtcpEFlag = 0x80000000u;
// Debian's libsrtp2 does AES-GCM through NSS, whose glue keeps at most 2048 bytes of associated
// data: it fails an RTP packet with a longer header, and an SRTCP packet without encryption
// longer than that. We refuse the same packets, with the same result.
constexpr size_t kMaxAad = 2048;
// libsrtp's key usage limit (RFC 3711 §9.2: at most 2^48 SRTP packets under one master key).
constexpr uint64_t kKeyUses = 0xffffffffffffULL;

uint16_t load16(const uint8_t* p) { return static_cast<uint16_t>((p[0] << 8) | p[1]); }
uint32_t load32(const uint8_t* p) {
  return (uint32_t{p[0]} << 24) | (uint32_t{p[1]} << 16) | (uint32_t{p[2]} << 8) | uint32_t{p[3]};
}
void store32(uint8_t* p, uint32_t v) {
  p[0] = static_cast<uint8_t>(v >> 24);
  p[1] = static_cast<uint8_t>(v >> 16);
  p[2] = static_cast<uint8_t>(v >> 8);
  p[3] = static_cast<uint8_t>(v);
}

// The RTP header's length with its CSRCs and extension, or nullopt when it does not fit in
// `length` bytes (libsrtp's srtp_validate_rtp_header; the version is not checked).
std::optional<size_t> rtpHeaderLength(const uint8_t* p, size_t length) {
  const bool extension = (p[0] & 0x10) != 0;
  size_t header = kRtpHeaderLength + 4 * size_t{static_cast<uint8_t>(p[0] & 0x0f)};
  if (extension) header += 4;
  if (length < header) return std::nullopt;
  if (extension) {
    header += 4 * size_t{load16(p + header - 2)};
    if (length < header) return std::nullopt;
  }
  return header;
}

// Checks shared by all four operations (as SrtpSession has always made them).
SrtpResult checkBuffer(std::span<uint8_t> buffer, size_t length, size_t minimum, size_t room) {
  if (length > buffer.size() || length < minimum) return SrtpResult::Malformed;
  if (buffer.size() - length < room) return SrtpResult::BufferTooSmall;
  if (length + room > static_cast<size_t>(INT_MAX)) return SrtpResult::Malformed;
  return SrtpResult::Ok;
}

// RFC 3711 §4.1.1: (salt || 0x0000) XOR (SSRC << 64) XOR (index << 16), index 48 bits.
std::array<uint8_t, kAesBlockLength> ctrIv(const std::array<uint8_t, SrtpSessionKeys::kSaltLength>& salt, uint32_t ssrc,
                                           uint64_t index) {
  std::array<uint8_t, kAesBlockLength> iv{};
  std::copy(salt.begin(), salt.end(), iv.begin());
  for (int i = 0; i < 4; ++i) iv[4 + i] ^= static_cast<uint8_t>(ssrc >> (24 - 8 * i));
  for (int i = 0; i < 6; ++i) iv[8 + i] ^= static_cast<uint8_t>(index >> (40 - 8 * i));
  return iv;
}

// RFC 7714 §8.1 (SRTP: 0x0000 || SSRC || ROC || SEQ) and §9.1 (SRTCP: 0x0000 || SSRC || 0x0000
// || 0 || index), XOR the 12-byte salt; both are `ssrc` at byte 2 and `tail` in bytes 6..11.
std::array<uint8_t, kGcmIvLength> gcmIv(const std::array<uint8_t, SrtpSessionKeys::kSaltLength>& salt, uint32_t ssrc,
                                        uint64_t tail) {
  std::array<uint8_t, kGcmIvLength> iv{};
  std::copy_n(salt.begin(), kGcmIvLength, iv.begin());
  for (int i = 0; i < 4; ++i) iv[2 + i] ^= static_cast<uint8_t>(ssrc >> (24 - 8 * i));
  for (int i = 0; i < 6; ++i) iv[6 + i] ^= static_cast<uint8_t>(tail >> (40 - 8 * i));
  return iv;
}

std::array<uint8_t, 4> rocBytes(uint64_t index) {
  const auto roc = static_cast<uint32_t>(index >> 16);
  std::array<uint8_t, 4> out;
  store32(out.data(), roc);
  return out;
}

uint32_t windowBits(unsigned replayWindow) {
  if (replayWindow == 0) return 128;
  if (replayWindow < 64 || replayWindow >= 0x8000)
    throw std::runtime_error("SRTP replay window must be 64..32767 packets");
  return (replayWindow + 31) & ~31u;
}

}  // namespace

std::string_view toString(SrtpResult result) {
  switch (result) {
    case SrtpResult::Ok:
      return "ok";
    case SrtpResult::BufferTooSmall:
      return "buffer too small";
    case SrtpResult::Malformed:
      return "malformed";
    case SrtpResult::AuthFailed:
      return "authentication failed";
    case SrtpResult::ReplayDuplicate:
      return "replayed";
    case SrtpResult::ReplayOld:
      return "older than the replay window";
    case SrtpResult::Failed:
      break;
  }
  return "failed";
}

SrtpContext::SrtpContext(SrtpProfile profile, const SrtpSessionKeys& keys, Direction direction, const Options& options)
    : mProfile(profile),
      mDirection(direction),
      mAllowRepeatTx(options.allowRepeatTx),
      mKeyUsesLeft(kKeyUses),
      mRtpSalt(keys.rtpSalt),
      mRtcpSalt(keys.rtcpSalt),
      mStreams(options.maxStreams, windowBits(options.replayWindow)) {
  if (profile == SrtpProfile::AeadAes128Gcm) {
    mRtpGcm.emplace(keys.rtpKey);
    mRtcpGcm.emplace(keys.rtcpKey);
  } else {
    mRtpCtr.emplace(keys.rtpKey);
    mRtcpCtr.emplace(keys.rtcpKey);
    mRtpMac.emplace(keys.rtpAuthKey);
    mRtcpMac.emplace(keys.rtcpAuthKey);
  }
}

SrtpContext::~SrtpContext() {
  OPENSSL_cleanse(mRtpSalt.data(), mRtpSalt.size());
  OPENSSL_cleanse(mRtcpSalt.data(), mRtcpSalt.size());
}

bool SrtpContext::useKey() {
  if (mKeyUsesLeft == 0) return false;
  return --mKeyUsesLeft != 0;
}

SrtpResult SrtpContext::protectRtp(std::span<uint8_t> buffer, size_t& length) {
  if (mDirection != Direction::Outbound) return SrtpResult::Failed;
  const SrtpResult bufferCheck = checkBuffer(buffer, length, kRtpHeaderLength, rtpTrailer());
  if (bufferCheck != SrtpResult::Ok) return bufferCheck;
  uint8_t* p = buffer.data();
  const auto header = rtpHeaderLength(p, length);
  if (!header) return SrtpResult::Malformed;

  const uint32_t ssrc = load32(p + 8);
  auto slot = mStreams.find(ssrc);
  if (!slot) slot = mStreams.add(ssrc, false);
  if (!slot) return SrtpResult::Failed;
  if (!useKey()) return SrtpResult::Failed;

  // The sender keeps a replay window too: an index is sent once, or again (allowRepeatTx) only
  // while it is inside the window.
  auto window = mStreams.rtpWindow(*slot);
  const auto estimate = estimateRtpIndex(mStreams.stream(*slot).rtpHighest, load16(p + 2));
  const ReplayCheck replay = window.check(estimate.delta);
  if (replay == ReplayCheck::Old) return SrtpResult::ReplayOld;
  if (replay == ReplayCheck::Duplicate && !mAllowRepeatTx) return SrtpResult::ReplayDuplicate;
  window.add(estimate.delta);
  mStreams.touch(*slot);

  const auto packet = buffer.first(length + rtpTrailer());
  const auto aad = packet.first(*header);
  const auto payload = packet.subspan(*header, length - *header);
  if (mRtpGcm) {
    if (*header > kMaxAad) return SrtpResult::Failed;
    const auto iv = gcmIv(mRtpSalt, ssrc, estimate.index);
    if (!mRtpGcm->seal(iv, aad, {}, payload, packet.subspan(length).first<kGcmTagLength>())) return SrtpResult::Failed;
  } else {
    if (!mRtpCtr->apply(ctrIv(mRtpSalt, ssrc, estimate.index), payload)) return SrtpResult::Failed;
    std::array<uint8_t, kHmacSha1Length> mac;
    mRtpMac->compute(packet.first(length), rocBytes(estimate.index), mac);
    std::copy_n(mac.begin(), kHmacTagLength, packet.begin() + static_cast<std::ptrdiff_t>(length));
  }
  length = packet.size();
  return SrtpResult::Ok;
}

SrtpResult SrtpContext::unprotectRtp(std::span<uint8_t> buffer, size_t& length) {
  if (mDirection != Direction::Inbound) return SrtpResult::Failed;
  const SrtpResult bufferCheck = checkBuffer(buffer, length, kRtpHeaderLength + rtpTrailer(), 0);
  if (bufferCheck != SrtpResult::Ok) return bufferCheck;
  const auto packet = buffer.first(length);
  uint8_t* p = packet.data();
  const auto header = rtpHeaderLength(p, length);
  if (!header) return SrtpResult::Malformed;

  const uint32_t ssrc = load32(p + 8);
  const uint16_t seq = load16(p + 2);
  const auto slot = mStreams.find(ssrc);
  // A stream not seen yet is judged as libsrtp's template: ROC 0, nothing received.
  RtpIndexEstimate estimate{seq, seq};
  if (slot) {
    estimate = estimateRtpIndex(mStreams.stream(*slot).rtpHighest, seq);
    const ReplayCheck replay = mStreams.rtpWindow(*slot).check(estimate.delta);
    if (replay == ReplayCheck::Old) return SrtpResult::ReplayOld;
    if (replay == ReplayCheck::Duplicate) return SrtpResult::ReplayDuplicate;
  }

  const size_t tagLength = rtpTrailer();
  if (*header > length - tagLength) return SrtpResult::Malformed;
  const auto aad = packet.first(*header);
  const auto payload = packet.subspan(*header, length - tagLength - *header);
  const auto tag = packet.last(tagLength);
  if (mRtpGcm) {
    if (!useKey() || *header > kMaxAad) return SrtpResult::Failed;
    const auto iv = gcmIv(mRtpSalt, ssrc, estimate.index);
    if (!mRtpGcm->open(iv, aad, {}, payload, tag.first<kGcmTagLength>())) return SrtpResult::AuthFailed;
  } else {
    std::array<uint8_t, kHmacSha1Length> mac;
    mRtpMac->compute(packet.first(length - tagLength), rocBytes(estimate.index), mac);
    if (CRYPTO_memcmp(mac.data(), tag.data(), kHmacTagLength) != 0) return SrtpResult::AuthFailed;
    if (!useKey()) return SrtpResult::Failed;
    if (!mRtpCtr->apply(ctrIv(mRtpSalt, ssrc, estimate.index), payload)) return SrtpResult::Failed;
  }

  const size_t stream = inboundStream(ssrc, slot);
  mStreams.rtpWindow(stream).add(estimate.delta);
  mStreams.touch(stream);
  length -= tagLength;
  return SrtpResult::Ok;
}

SrtpResult SrtpContext::protectRtcp(std::span<uint8_t> buffer, size_t& length) {
  if (mDirection != Direction::Outbound) return SrtpResult::Failed;
  const SrtpResult bufferCheck = checkBuffer(buffer, length, kRtcpHeaderLength, rtcpTrailer());
  if (bufferCheck != SrtpResult::Ok) return bufferCheck;
  const auto packet = buffer.first(length + rtcpTrailer());
  const uint32_t ssrc = load32(packet.data() + 4);
  auto slot = mStreams.find(ssrc);
  if (!slot) slot = mStreams.add(ssrc, false);
  if (!slot) return SrtpResult::Failed;
  SrtpStream& stream = mStreams.stream(*slot);
  if (stream.rtcpSent >= RtcpReplayWindow::kMaxIndex) return SrtpResult::Failed;  // the index space is used up
  const uint32_t index = ++stream.rtcpSent;
  mStreams.touch(*slot);

  const auto header = packet.first(kRtcpHeaderLength);
  const auto payload = packet.subspan(kRtcpHeaderLength, length - kRtcpHeaderLength);
  if (mRtcpGcm) {
    // Payload, tag, then E flag and index (RFC 7714 §9.1); the trailer is associated data.
    const auto trailer = packet.subspan(length + kGcmTagLength, kSrtcpTrailerLength);
    store32(trailer.data(), kSrtcpEFlag | index);
    if (!mRtcpGcm->seal(gcmIv(mRtcpSalt, ssrc, index), header, trailer, payload,
                        packet.subspan(length).first<kGcmTagLength>()))
      return SrtpResult::Failed;
  } else {
    // Payload, E flag and index, then the tag over all of it (RFC 3711 §3.4).
    store32(packet.data() + length, kSrtcpEFlag | index);
    if (!mRtcpCtr->apply(ctrIv(mRtcpSalt, ssrc, index), payload)) return SrtpResult::Failed;
    std::array<uint8_t, kHmacSha1Length> mac;
    mRtcpMac->compute(packet.first(length + kSrtcpTrailerLength), {}, mac);
    std::copy_n(mac.begin(), kHmacTagLength,
                packet.begin() + static_cast<std::ptrdiff_t>(length + kSrtcpTrailerLength));
  }
  length = packet.size();
  return SrtpResult::Ok;
}

SrtpResult SrtpContext::unprotectRtcp(std::span<uint8_t> buffer, size_t& length) {
  if (mDirection != Direction::Inbound) return SrtpResult::Failed;
  const SrtpResult bufferCheck = checkBuffer(buffer, length, kRtcpHeaderLength + rtcpTrailer(), 0);
  if (bufferCheck != SrtpResult::Ok) return bufferCheck;
  const auto packet = buffer.first(length);
  const uint32_t ssrc = load32(packet.data() + 4);
  const auto slot = mStreams.find(ssrc);

  // The trailer's place and what the tag covers differ between the profiles.
  const size_t trailerAt = mRtcpGcm ? length - kSrtcpTrailerLength : length - kHmacTagLength - kSrtcpTrailerLength;
  const uint32_t trailer = load32(packet.data() + trailerAt);
  const bool encrypted = (trailer & kSrtcpEFlag) != 0;
  // libsrtp's AES-CM profile insists on encryption; its AES-GCM one accepts packets that are
  // only authenticated (RFC 7714 §9.3).
  if (!mRtcpGcm && !encrypted) return SrtpResult::Failed;
  const uint32_t index = trailer & RtcpReplayWindow::kMaxIndex;
  if (slot) {
    const ReplayCheck replay = mStreams.stream(*slot).rtcpWindow.check(index);
    if (replay == ReplayCheck::Old) return SrtpResult::ReplayOld;
    if (replay == ReplayCheck::Duplicate) return SrtpResult::ReplayDuplicate;
  }

  if (mRtcpGcm) {
    const size_t tagAt = length - kSrtcpTrailerLength - kGcmTagLength;
    const auto trailerBytes = packet.subspan(trailerAt, kSrtcpTrailerLength);
    const auto tag = packet.subspan(tagAt).first<kGcmTagLength>();
    const auto iv = gcmIv(mRtcpSalt, ssrc, index);
    bool authentic = false;
    if (encrypted) {
      authentic = mRtcpGcm->open(iv, packet.first(kRtcpHeaderLength), trailerBytes,
                                 packet.subspan(kRtcpHeaderLength, tagAt - kRtcpHeaderLength), tag);
    } else {
      if (tagAt + kSrtcpTrailerLength > kMaxAad) return SrtpResult::Failed;
      authentic = mRtcpGcm->open(iv, packet.first(tagAt), trailerBytes, {}, tag);
    }
    if (!authentic) return SrtpResult::AuthFailed;
    length -= kGcmTagLength + kSrtcpTrailerLength;
  } else {
    const size_t tagAt = length - kHmacTagLength;
    std::array<uint8_t, kHmacSha1Length> mac;
    mRtcpMac->compute(packet.first(tagAt), {}, mac);
    if (CRYPTO_memcmp(mac.data(), packet.data() + tagAt, kHmacTagLength) != 0) return SrtpResult::AuthFailed;
    if (!mRtcpCtr->apply(ctrIv(mRtcpSalt, ssrc, index),
                         packet.subspan(kRtcpHeaderLength, trailerAt - kRtcpHeaderLength)))
      return SrtpResult::Failed;
    length -= kHmacTagLength + kSrtcpTrailerLength;
  }

  const size_t stream = inboundStream(ssrc, slot);
  mStreams.stream(stream).rtcpWindow.add(index);
  mStreams.touch(stream);
  return SrtpResult::Ok;
}

size_t SrtpContext::inboundStream(uint32_t ssrc, std::optional<size_t> slot) {
  if (slot) return *slot;
  return *mStreams.add(ssrc, true);  // evicts rather than fails
}

}  // namespace conclave::srtp
