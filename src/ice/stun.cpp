#include "ice/stun.h"

#include <openssl/core_names.h>
#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/params.h>

#include <algorithm>
#include <cstring>

namespace conclave::ice {
namespace {

using common::loadU16;
using common::loadU32;
using common::loadU64;
using common::storeU16;

constexpr size_t kAttributeHeaderSize = 4;
constexpr size_t kSha1Size = 20;
constexpr size_t kSha256Size = 32;
constexpr size_t kFingerprintSize = 4;
constexpr size_t kMaxBodySize = 0xFFFF & ~size_t{3};

constexpr size_t padded(size_t n) { return (n + 3) & ~size_t{3}; }

constexpr std::array<uint32_t, 256> makeCrcTable() {
  std::array<uint32_t, 256> table{};
  for (uint32_t i = 0; i < 256; ++i) {
    uint32_t c = i;
    for (int k = 0; k < 8; ++k) c = (c & 1) ? 0xEDB88320u ^ (c >> 1) : c >> 1;
    table[i] = c;
  }
  return table;
}
constexpr auto kCrcTable = makeCrcTable();

// One HMAC context per digest and thread, keyed again for every message: EVP_MAC_init() with a
// key reuses the context, so checking a request does not allocate. A null or empty key would make
// OpenSSL reuse the previous key, so callers refuse empty keys before getting here.
class Hmac {
 public:
  explicit Hmac(const char* digest) {
    mMac = EVP_MAC_fetch(nullptr, "HMAC", nullptr);
    if (mMac != nullptr) mCtx = EVP_MAC_CTX_new(mMac);
    if (mCtx != nullptr) {
      OSSL_PARAM params[] = {OSSL_PARAM_construct_utf8_string(OSSL_MAC_PARAM_DIGEST, const_cast<char*>(digest), 0),
                             OSSL_PARAM_construct_end()};
      if (EVP_MAC_CTX_set_params(mCtx, params) != 1) {
        EVP_MAC_CTX_free(mCtx);
        mCtx = nullptr;
      }
    }
  }
  ~Hmac() {
    EVP_MAC_CTX_free(mCtx);
    EVP_MAC_free(mMac);
  }
  Hmac(const Hmac&) = delete;
  Hmac& operator=(const Hmac&) = delete;

  // HMAC(key, header || body) into out (at least 32 bytes); returns the MAC size or 0 on failure.
  size_t compute(std::span<const uint8_t> key, std::span<const uint8_t> header, std::span<const uint8_t> body,
                 uint8_t* out) {
    if (mCtx == nullptr || key.empty()) return 0;
    size_t size = 0;
    if (EVP_MAC_init(mCtx, key.data(), key.size(), nullptr) != 1 ||
        EVP_MAC_update(mCtx, header.data(), header.size()) != 1 ||
        (!body.empty() && EVP_MAC_update(mCtx, body.data(), body.size()) != 1) ||
        EVP_MAC_final(mCtx, out, &size, kSha256Size) != 1) {
      return 0;
    }
    return size;
  }

 private:
  EVP_MAC* mMac = nullptr;
  EVP_MAC_CTX* mCtx = nullptr;
};

Hmac& hmacFor(bool sha256) {
  thread_local Hmac sha1Ctx("SHA1");
  thread_local Hmac sha256Ctx("SHA256");
  return sha256 ? sha256Ctx : sha1Ctx;
}

// The header of `message` with its length field set as if the message ended at `end`.
std::array<uint8_t, kStunHeaderSize> headerEndingAt(std::span<const uint8_t> message, size_t end) {
  std::array<uint8_t, kStunHeaderSize> header;
  std::memcpy(header.data(), message.data(), header.size());
  storeU16(&header[2], static_cast<uint16_t>(end - kStunHeaderSize));
  return header;
}

// MAC of message[0, attrOffset) with the length field covering the attribute at attrOffset.
size_t macBefore(std::span<const uint8_t> message, size_t attrOffset, size_t attrValueSize,
                 std::span<const uint8_t> key, bool sha256, uint8_t* out) {
  auto header = headerEndingAt(message, attrOffset + kAttributeHeaderSize + attrValueSize);
  auto body = message.subspan(kStunHeaderSize, attrOffset - kStunHeaderSize);
  return hmacFor(sha256).compute(key, header, body, out);
}

uint32_t fingerprintBefore(std::span<const uint8_t> message, size_t attrOffset) {
  auto header = headerEndingAt(message, attrOffset + kAttributeHeaderSize + kFingerprintSize);
  uint32_t crc = crc32(header);
  crc = crc32(message.subspan(kStunHeaderSize, attrOffset - kStunHeaderSize), crc);
  return crc ^ kStunFingerprintXor;
}

std::span<const uint8_t> asBytes(std::string_view s) { return {reinterpret_cast<const uint8_t*>(s.data()), s.size()}; }

// XOR-MAPPED-ADDRESS mask: the magic cookie, then the transaction id (RFC 8489 §14.2).
std::array<uint8_t, 16> xorMask(std::span<const uint8_t, kStunTransactionIdSize> transactionId) {
  std::array<uint8_t, 16> mask;
  common::storeU32(mask.data(), kStunMagicCookie);
  std::memcpy(mask.data() + 4, transactionId.data(), transactionId.size());
  return mask;
}

std::optional<net::Endpoint> decodeAddress(std::span<const uint8_t> value, const uint8_t* mask) {
  // Lengths and family were checked by parse().
  uint16_t port = loadU16(&value[2]);
  if (mask != nullptr) port ^= static_cast<uint16_t>(kStunMagicCookie >> 16);
  if (value[1] == 0x01) {
    std::array<uint8_t, 4> a;
    for (size_t i = 0; i < a.size(); ++i) a[i] = value[4 + i] ^ (mask ? mask[i] : 0);
    return net::Endpoint::v4(a, port);
  }
  std::array<uint8_t, 16> a;
  for (size_t i = 0; i < a.size(); ++i) a[i] = value[4 + i] ^ (mask ? mask[i] : 0);
  return net::Endpoint::v6(a, port);
}

}  // namespace

std::string_view stun_error::reason(uint16_t code) {
  switch (code) {
    case 300:
      return "Try Alternate";
    case kBadRequest:
      return "Bad Request";
    case kUnauthenticated:
      return "Unauthenticated";
    case 403:
      return "Forbidden";
    case kUnknownAttribute:
      return "Unknown Attribute";
    case 438:
      return "Stale Nonce";
    case kRoleConflict:
      return "Role Conflict";
    case kServerError:
      return "Server Error";
    default:
      return {};
  }
}

uint32_t crc32(std::span<const uint8_t> data, uint32_t crc) {
  crc = ~crc;
  for (uint8_t b : data) crc = kCrcTable[(crc ^ b) & 0xFF] ^ (crc >> 8);
  return ~crc;
}

// ---- StunMessage ---------------------------------------------------------------------------

std::optional<StunMessage::Index> StunMessage::indexOf(uint16_t type) {
  switch (type) {
    case stun_attr::kMappedAddress:
      return kMappedAddressIdx;
    case stun_attr::kUsername:
      return kUsernameIdx;
    case stun_attr::kMessageIntegrity:
      return kMessageIntegrityIdx;
    case stun_attr::kErrorCode:
      return kErrorCodeIdx;
    case stun_attr::kUnknownAttributes:
      return kUnknownAttributesIdx;
    case stun_attr::kRealm:
      return kRealmIdx;
    case stun_attr::kNonce:
      return kNonceIdx;
    case stun_attr::kMessageIntegritySha256:
      return kMessageIntegritySha256Idx;
    case stun_attr::kXorMappedAddress:
      return kXorMappedAddressIdx;
    case stun_attr::kPriority:
      return kPriorityIdx;
    case stun_attr::kUseCandidate:
      return kUseCandidateIdx;
    case stun_attr::kSoftware:
      return kSoftwareIdx;
    case stun_attr::kFingerprint:
      return kFingerprintIdx;
    case stun_attr::kIceControlled:
      return kIceControlledIdx;
    case stun_attr::kIceControlling:
      return kIceControllingIdx;
    default:
      return std::nullopt;
  }
}

bool StunMessage::validValue(Index index, std::span<const uint8_t> value) {
  const size_t n = value.size();
  switch (index) {
    case kMappedAddressIdx:
    case kXorMappedAddressIdx:
      return (n == 8 && value[1] == 0x01) || (n == 20 && value[1] == 0x02);
    case kUsernameIdx:
      return n <= kStunMaxUsernameSize;
    case kMessageIntegrityIdx:
      return n == kSha1Size;
    case kErrorCodeIdx: {
      if (n < 4 || n > 4 + kStunMaxReasonSize) return false;
      const unsigned cls = value[2] & 0x07;
      return cls >= 3 && cls <= 6 && value[3] < 100;
    }
    case kUnknownAttributesIdx:
      return n % 2 == 0;
    case kRealmIdx:  // RFC 8489 §14.9 and §14.10: at most 763 bytes each
    case kNonceIdx:
      return n <= 763;
    case kMessageIntegritySha256Idx:
      return n >= 16 && n <= kSha256Size && n % 4 == 0;
    case kPriorityIdx:
      return n == 4;
    case kUseCandidateIdx:
      return n == 0;
    case kSoftwareIdx:
      return n <= 763;
    case kFingerprintIdx:
      return n == kFingerprintSize;
    case kIceControlledIdx:
    case kIceControllingIdx:
      return n == 8;
    case kIndexCount:
      break;
  }
  return false;
}

// Records one attribute that counts; false if the message is malformed.
bool StunMessage::record(uint16_t type, size_t offset, std::span<const uint8_t> value) {
  auto index = indexOf(type);
  if (!index) {
    if (type < 0x8000 && mUnknownCount < kMaxUnknownRecorded) mUnknown[mUnknownCount++] = type;
    return true;
  }
  if (has(*index)) return true;  // only the first occurrence counts
  if (!validValue(*index, value)) return false;
  mOffsets[*index] = static_cast<uint32_t>(offset);
  return true;
}

std::optional<StunMessage> StunMessage::parse(std::span<const uint8_t> datagram) {
  common::ByteReader r(datagram);
  const uint16_t type = r.u16();
  const uint16_t length = r.u16();
  const uint32_t cookie = r.u32();
  r.skip(kStunTransactionIdSize);
  if (!r.ok() || (type & 0xC000) != 0 || cookie != kStunMagicCookie || length % 4 != 0 ||
      size_t{length} != datagram.size() - kStunHeaderSize) {
    return std::nullopt;
  }
  StunMessage message(datagram);
  enum class Stage { Open, AfterIntegrity, AfterIntegritySha256, Closed } stage = Stage::Open;
  while (r.remaining() > 0) {
    if (stage == Stage::Closed) return std::nullopt;  // something after FINGERPRINT
    const size_t offset = r.offset();
    const uint16_t attrType = r.u16();
    const uint16_t attrLength = r.u16();
    auto value = r.bytes(attrLength);
    r.skip(padded(attrLength) - attrLength);
    if (!r.ok()) return std::nullopt;

    bool counts = false;
    if (attrType == stun_attr::kFingerprint) {
      counts = true;
      stage = Stage::Closed;
    } else if (attrType == stun_attr::kMessageIntegritySha256) {
      counts = stage != Stage::AfterIntegritySha256;
      stage = Stage::AfterIntegritySha256;
    } else if (attrType == stun_attr::kMessageIntegrity) {
      counts = stage == Stage::Open;
      if (counts) stage = Stage::AfterIntegrity;
    } else {
      counts = stage == Stage::Open;
    }
    if (counts && !message.record(attrType, offset, value)) return std::nullopt;
  }
  return message;
}

uint16_t StunMessage::method() const {
  const uint16_t t = messageType();
  return static_cast<uint16_t>((t & 0x000F) | ((t & 0x00E0) >> 1) | ((t & 0x3E00) >> 2));
}

StunClass StunMessage::messageClass() const {
  const uint16_t t = messageType();
  return static_cast<StunClass>(((t >> 4) & 1) | ((t >> 7) & 2));
}

std::span<const uint8_t> StunMessage::valueOf(Index i) const {
  const size_t offset = offsetOf(i);
  return mData.subspan(offset + kAttributeHeaderSize, loadU16(&mData[offset + 2]));
}

std::optional<StunAttribute> StunMessage::attribute(uint16_t type) const {
  if (auto index = indexOf(type)) {
    if (!has(*index)) return std::nullopt;
    return StunAttribute{type, valueOf(*index)};
  }
  // Not a tracked type: walk the attributes that count (those before MESSAGE-INTEGRITY).
  for (StunAttribute a : attributes()) {
    if (a.type == stun_attr::kMessageIntegrity || a.type == stun_attr::kMessageIntegritySha256 ||
        a.type == stun_attr::kFingerprint) {
      break;
    }
    if (a.type == type) return a;
  }
  return std::nullopt;
}

std::optional<std::string_view> StunMessage::username() const {
  if (!has(kUsernameIdx)) return std::nullopt;
  auto v = valueOf(kUsernameIdx);
  return std::string_view(reinterpret_cast<const char*>(v.data()), v.size());
}

std::optional<uint32_t> StunMessage::priority() const {
  if (!has(kPriorityIdx)) return std::nullopt;
  return loadU32(valueOf(kPriorityIdx).data());
}

std::optional<uint64_t> StunMessage::iceControlling() const {
  if (!has(kIceControllingIdx)) return std::nullopt;
  return loadU64(valueOf(kIceControllingIdx).data());
}

std::optional<uint64_t> StunMessage::iceControlled() const {
  if (!has(kIceControlledIdx)) return std::nullopt;
  return loadU64(valueOf(kIceControlledIdx).data());
}

std::optional<net::Endpoint> StunMessage::mappedAddress() const {
  if (!has(kMappedAddressIdx)) return std::nullopt;
  return decodeAddress(valueOf(kMappedAddressIdx), nullptr);
}

std::optional<net::Endpoint> StunMessage::xorMappedAddress() const {
  if (!has(kXorMappedAddressIdx)) return std::nullopt;
  auto mask = xorMask(transactionId());
  return decodeAddress(valueOf(kXorMappedAddressIdx), mask.data());
}

std::optional<StunErrorCode> StunMessage::errorCode() const {
  if (!has(kErrorCodeIdx)) return std::nullopt;
  auto v = valueOf(kErrorCodeIdx);
  StunErrorCode out;
  out.code = static_cast<uint16_t>((v[2] & 0x07) * 100 + v[3]);
  out.reason = std::string_view(reinterpret_cast<const char*>(v.data() + 4), v.size() - 4);
  return out;
}

size_t StunMessage::unknownAttributes(std::span<uint16_t> out) const {
  if (!has(kUnknownAttributesIdx)) return 0;
  auto v = valueOf(kUnknownAttributesIdx);
  const size_t count = v.size() / 2;
  for (size_t i = 0; i < count && i < out.size(); ++i) out[i] = loadU16(&v[2 * i]);
  return count;
}

StunAttribute StunMessage::Iterator::operator*() const {
  const uint16_t length = loadU16(&mData[mOffset + 2]);
  return {loadU16(&mData[mOffset]), mData.subspan(mOffset + kAttributeHeaderSize, length)};
}

StunMessage::Iterator& StunMessage::Iterator::operator++() {
  mOffset += kAttributeHeaderSize + padded(loadU16(&mData[mOffset + 2]));
  return *this;
}

// ---- checks --------------------------------------------------------------------------------

bool checkIntegrity(const StunMessage& message, std::span<const uint8_t> key) {
  if (!message.hasMessageIntegrity() || key.empty()) return false;
  const size_t offset = message.offsetOf(StunMessage::kMessageIntegrityIdx);
  uint8_t mac[kSha256Size];
  if (macBefore(message.bytes(), offset, kSha1Size, key, false, mac) != kSha1Size) return false;
  auto expected = message.valueOf(StunMessage::kMessageIntegrityIdx);
  return CRYPTO_memcmp(mac, expected.data(), kSha1Size) == 0;
}

bool checkIntegrity(const StunMessage& message, std::string_view password) {
  return checkIntegrity(message, asBytes(password));
}

bool checkIntegritySha256(const StunMessage& message, std::span<const uint8_t> key) {
  if (!message.hasMessageIntegritySha256() || key.empty()) return false;
  const size_t offset = message.offsetOf(StunMessage::kMessageIntegritySha256Idx);
  auto expected = message.valueOf(StunMessage::kMessageIntegritySha256Idx);
  uint8_t mac[kSha256Size];
  if (macBefore(message.bytes(), offset, expected.size(), key, true, mac) != kSha256Size) {
    return false;
  }
  return CRYPTO_memcmp(mac, expected.data(), expected.size()) == 0;
}

bool checkIntegritySha256(const StunMessage& message, std::string_view password) {
  return checkIntegritySha256(message, asBytes(password));
}

bool checkFingerprint(const StunMessage& message) {
  if (!message.hasFingerprint()) return false;
  const size_t offset = message.offsetOf(StunMessage::kFingerprintIdx);
  return fingerprintBefore(message.bytes(), offset) == loadU32(message.valueOf(StunMessage::kFingerprintIdx).data());
}

std::array<uint8_t, 16> stunLongTermKey(std::string_view username, std::string_view realm, std::string_view password) {
  std::array<uint8_t, 16> key{};
  EVP_MD_CTX* ctx = EVP_MD_CTX_new();
  unsigned size = 0;
  const bool ok = ctx != nullptr && EVP_DigestInit_ex(ctx, EVP_md5(), nullptr) == 1 &&
                  EVP_DigestUpdate(ctx, username.data(), username.size()) == 1 && EVP_DigestUpdate(ctx, ":", 1) == 1 &&
                  EVP_DigestUpdate(ctx, realm.data(), realm.size()) == 1 && EVP_DigestUpdate(ctx, ":", 1) == 1 &&
                  EVP_DigestUpdate(ctx, password.data(), password.size()) == 1 &&
                  EVP_DigestFinal_ex(ctx, key.data(), &size) == 1 && size == key.size();
  EVP_MD_CTX_free(ctx);
  if (!ok) key.fill(0);
  return key;
}

// ---- StunBuilder ---------------------------------------------------------------------------

StunBuilder::StunBuilder(std::span<uint8_t> out, uint16_t method, StunClass cls,
                         std::span<const uint8_t, kStunTransactionIdSize> transactionId)
    : mWriter(out) {
  std::copy(transactionId.begin(), transactionId.end(), mTransactionId.begin());
  if (method > 0x0FFF) mFailed = true;
  mWriter.u16(stunMessageType(method, cls));
  mWriter.u16(0);
  mWriter.u32(kStunMagicCookie);
  mWriter.bytes(mTransactionId);
}

StunBuilder StunBuilder::responseTo(const StunMessage& request, StunClass cls, std::span<uint8_t> out) {
  return StunBuilder(out, request.method(), cls, request.transactionId());
}

std::span<const uint8_t> StunBuilder::bytes() const {
  if (!ok()) return {};
  return mWriter.written();
}

void StunBuilder::setLength(size_t bodySize) { storeU16(mWriter.at(2), static_cast<uint16_t>(bodySize)); }

bool StunBuilder::beginAttribute(uint16_t type, size_t valueSize) {
  if (!ok() || mSealed || valueSize > 0xFFFF ||
      mWriter.size() - kStunHeaderSize + kAttributeHeaderSize + padded(valueSize) > kMaxBodySize) {
    mFailed = true;
    return false;
  }
  mWriter.u16(type);
  mWriter.u16(static_cast<uint16_t>(valueSize));
  return mWriter.ok();
}

void StunBuilder::endAttribute(size_t valueSize) {
  for (size_t i = valueSize; i < padded(valueSize); ++i) mWriter.u8(mPadding);
  if (mWriter.ok()) setLength(mWriter.size() - kStunHeaderSize);
}

void StunBuilder::addAttribute(uint16_t type, std::span<const uint8_t> value) {
  if (!beginAttribute(type, value.size())) return;
  mWriter.bytes(value);
  endAttribute(value.size());
}

void StunBuilder::addString(uint16_t type, std::string_view value) { addAttribute(type, asBytes(value)); }

void StunBuilder::addPriority(uint32_t priority) {
  if (!beginAttribute(stun_attr::kPriority, 4)) return;
  mWriter.u32(priority);
  endAttribute(4);
}

void StunBuilder::addUseCandidate() { addAttribute(stun_attr::kUseCandidate, {}); }

void StunBuilder::addIceControlling(uint64_t tieBreaker) {
  if (!beginAttribute(stun_attr::kIceControlling, 8)) return;
  mWriter.u64(tieBreaker);
  endAttribute(8);
}

void StunBuilder::addIceControlled(uint64_t tieBreaker) {
  if (!beginAttribute(stun_attr::kIceControlled, 8)) return;
  mWriter.u64(tieBreaker);
  endAttribute(8);
}

void StunBuilder::addAddress(uint16_t type, const net::Endpoint& address, bool xored) {
  if (address.empty()) {
    mFailed = true;
    return;
  }
  auto bytes = address.addressBytes();
  const size_t valueSize = 4 + bytes.size();
  if (!beginAttribute(type, valueSize)) return;
  const auto mask = xorMask(mTransactionId);
  mWriter.u8(0);
  mWriter.u8(address.isV4() ? 0x01 : 0x02);
  mWriter.u16(xored ? static_cast<uint16_t>(address.port() ^ (kStunMagicCookie >> 16)) : address.port());
  for (size_t i = 0; i < bytes.size(); ++i) mWriter.u8(bytes[i] ^ (xored ? mask[i] : 0));
  endAttribute(valueSize);
}

void StunBuilder::addMappedAddress(const net::Endpoint& address) {
  addAddress(stun_attr::kMappedAddress, address, false);
}

void StunBuilder::addXorMappedAddress(const net::Endpoint& address) {
  addAddress(stun_attr::kXorMappedAddress, address, true);
}

void StunBuilder::addErrorCode(uint16_t code, std::string_view reason) {
  if (code < 300 || code > 699 || reason.size() > kStunMaxReasonSize) {
    mFailed = true;
    return;
  }
  const size_t valueSize = 4 + reason.size();
  if (!beginAttribute(stun_attr::kErrorCode, valueSize)) return;
  mWriter.u16(0);
  mWriter.u8(static_cast<uint8_t>(code / 100));
  mWriter.u8(static_cast<uint8_t>(code % 100));
  mWriter.bytes(asBytes(reason));
  endAttribute(valueSize);
}

void StunBuilder::addUnknownAttributes(std::span<const uint16_t> types) {
  const size_t valueSize = 2 * types.size();
  if (!beginAttribute(stun_attr::kUnknownAttributes, valueSize)) return;
  for (uint16_t t : types) mWriter.u16(t);
  endAttribute(valueSize);
}

void StunBuilder::addIntegrity(uint16_t type, std::span<const uint8_t> key, bool sha256) {
  const size_t macSize = sha256 ? kSha256Size : kSha1Size;
  if (key.empty()) {
    mFailed = true;
    return;
  }
  const size_t offset = mWriter.size();
  if (!beginAttribute(type, macSize)) return;
  mWriter.zeros(macSize);
  if (!mWriter.ok()) return;
  // macBefore() hashes a copy of the header whose length field already counts this attribute.
  uint8_t mac[kSha256Size];
  if (macBefore(mWriter.written(), offset, macSize, key, sha256, mac) != macSize) {
    mFailed = true;
    return;
  }
  std::memcpy(mWriter.at(offset + kAttributeHeaderSize), mac, macSize);
  endAttribute(macSize);
}

void StunBuilder::addMessageIntegrity(std::span<const uint8_t> key) {
  addIntegrity(stun_attr::kMessageIntegrity, key, false);
}

void StunBuilder::addMessageIntegrity(std::string_view password) { addMessageIntegrity(asBytes(password)); }

void StunBuilder::addMessageIntegritySha256(std::span<const uint8_t> key) {
  addIntegrity(stun_attr::kMessageIntegritySha256, key, true);
}

void StunBuilder::addMessageIntegritySha256(std::string_view password) { addMessageIntegritySha256(asBytes(password)); }

void StunBuilder::addFingerprint() {
  const size_t offset = mWriter.size();
  if (!beginAttribute(stun_attr::kFingerprint, kFingerprintSize)) return;
  mWriter.u32(0);
  if (!mWriter.ok()) return;
  common::storeU32(mWriter.at(offset + kAttributeHeaderSize), fingerprintBefore(mWriter.written(), offset));
  endAttribute(kFingerprintSize);
  mSealed = true;
}

}  // namespace conclave::ice
