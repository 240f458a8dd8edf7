// STUN messages (RFC 8489) as ICE uses them (RFC 8445 §7, attributes of RFC 8445 §16.1).
//
// StunMessage::parse() validates a datagram and returns a view over its bytes: no allocation, no
// copy; the caller keeps the bytes alive while the view is used. checkIntegrity() and
// checkFingerprint() validate MESSAGE-INTEGRITY(-SHA256) and FINGERPRINT against those bytes.
// StunBuilder writes a message into a caller buffer and can close it with MESSAGE-INTEGRITY and
// FINGERPRINT.
//
// What parse() checks (a failure means "not a STUN message we can read": drop it):
//  - the header: 20 bytes, top two bits 0, magic cookie, length a multiple of 4 that matches the
//    datagram exactly (one UDP datagram carries one message);
//  - every attribute: its TLV fits in the message, padding included;
//  - the value length (and family) of each attribute this file knows, e.g. PRIORITY is 4 bytes;
//  - ordering (RFC 8489 §14.5-14.7): attributes after MESSAGE-INTEGRITY are ignored except
//    MESSAGE-INTEGRITY-SHA256 and FINGERPRINT; after MESSAGE-INTEGRITY-SHA256 only FINGERPRINT
//    counts; nothing may follow FINGERPRINT.
// Only the first occurrence of an attribute counts (RFC 8489 §14). Unknown comprehension-required
// attributes (type < 0x8000) are recorded for a 420 answer, not rejected here: whether they are an
// error depends on the message class (RFC 8489 §6.3).
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <span>
#include <string_view>

#include "common/bytes.h"
#include "ice/demux.h"
#include "net/endpoint.h"

namespace conclave::ice {

inline constexpr uint32_t kStunMagicCookie = 0x2112A442;
inline constexpr uint32_t kStunFingerprintXor = 0x5354554E;
inline constexpr size_t kStunHeaderSize = 20;
inline constexpr size_t kStunTransactionIdSize = 12;
inline constexpr size_t kStunMaxUsernameSize = 508;  // "fewer than 509 bytes" (RFC 8489 §14.3)
inline constexpr size_t kStunMaxReasonSize = 763;    // ERROR-CODE reason phrase (RFC 8489 §14.8)
inline constexpr uint16_t kStunMethodBinding = 0x001;

using StunTransactionId = std::array<uint8_t, kStunTransactionIdSize>;

enum class StunClass : uint8_t { Request = 0, Indication = 1, SuccessResponse = 2, ErrorResponse = 3 };

// Attribute types (IANA "STUN Attributes" registry).
namespace stun_attr {
inline constexpr uint16_t kMappedAddress = 0x0001;
inline constexpr uint16_t kUsername = 0x0006;
inline constexpr uint16_t kMessageIntegrity = 0x0008;
inline constexpr uint16_t kErrorCode = 0x0009;
inline constexpr uint16_t kUnknownAttributes = 0x000A;
inline constexpr uint16_t kRealm = 0x0014;
inline constexpr uint16_t kNonce = 0x0015;
inline constexpr uint16_t kMessageIntegritySha256 = 0x001C;
inline constexpr uint16_t kXorMappedAddress = 0x0020;
inline constexpr uint16_t kPriority = 0x0024;
inline constexpr uint16_t kUseCandidate = 0x0025;
inline constexpr uint16_t kSoftware = 0x8022;
inline constexpr uint16_t kFingerprint = 0x8028;
inline constexpr uint16_t kIceControlled = 0x8029;
inline constexpr uint16_t kIceControlling = 0x802A;
}  // namespace stun_attr

// Error codes used by ICE (RFC 8489 §14.8, RFC 8445 §7.3.1.1).
namespace stun_error {
inline constexpr uint16_t kBadRequest = 400;
inline constexpr uint16_t kUnauthenticated = 401;
inline constexpr uint16_t kUnknownAttribute = 420;
inline constexpr uint16_t kRoleConflict = 487;
inline constexpr uint16_t kServerError = 500;
std::string_view reason(uint16_t code);  // the RFC's reason phrase, "" for codes not listed here
}  // namespace stun_error

constexpr uint16_t stunMessageType(uint16_t method, StunClass cls) {
  const auto c = static_cast<uint16_t>(cls);
  return static_cast<uint16_t>((method & 0x000F) | ((method & 0x0070) << 1) | ((method & 0x0F80) << 2) |
                               ((c & 1) << 4) | ((c & 2) << 7));
}

struct StunAttribute {
  uint16_t type = 0;
  std::span<const uint8_t> value;  // without padding
};

struct StunErrorCode {
  uint16_t code = 0;        // 300..699
  std::string_view reason;  // UTF-8, not validated
};

class StunMessage {
 public:
  static constexpr size_t kMaxUnknownRecorded = 8;

  static std::optional<StunMessage> parse(std::span<const uint8_t> datagram);

  std::span<const uint8_t> bytes() const { return mData; }
  uint16_t messageType() const { return common::loadU16(mData.data()); }
  uint16_t method() const;
  StunClass messageClass() const;
  bool isBindingRequest() const { return messageType() == stunMessageType(kStunMethodBinding, StunClass::Request); }
  std::span<const uint8_t, kStunTransactionIdSize> transactionId() const {
    return mData.subspan<8, kStunTransactionIdSize>();
  }

  // First occurrence of `type` among the attributes that count (see the ordering rule above).
  std::optional<StunAttribute> attribute(uint16_t type) const;

  std::optional<std::string_view> username() const;
  std::optional<uint32_t> priority() const;
  bool useCandidate() const { return has(kUseCandidateIdx); }
  std::optional<uint64_t> iceControlling() const;
  std::optional<uint64_t> iceControlled() const;
  std::optional<net::Endpoint> mappedAddress() const;
  std::optional<net::Endpoint> xorMappedAddress() const;
  std::optional<StunErrorCode> errorCode() const;
  // Types listed in an UNKNOWN-ATTRIBUTES attribute; writes up to out.size(), returns how many
  // the attribute lists.
  size_t unknownAttributes(std::span<uint16_t> out) const;

  bool hasMessageIntegrity() const { return has(kMessageIntegrityIdx); }
  bool hasMessageIntegritySha256() const { return has(kMessageIntegritySha256Idx); }
  bool hasFingerprint() const { return has(kFingerprintIdx); }

  // Comprehension-required attribute types that this parser does not know (the first
  // kMaxUnknownRecorded of them). A request with any must get a 420 (RFC 8489 §6.3.1).
  std::span<const uint16_t> unknownRequired() const { return std::span<const uint16_t>(mUnknown).first(mUnknownCount); }

  // All attributes in wire order, including ignored ones, as StunAttribute values.
  class Iterator {
   public:
    Iterator(std::span<const uint8_t> data, size_t offset) : mData(data), mOffset(offset) {}
    StunAttribute operator*() const;
    Iterator& operator++();
    bool operator==(const Iterator& other) const { return mOffset == other.mOffset; }

   private:
    std::span<const uint8_t> mData;
    size_t mOffset;
  };
  struct Range {
    Iterator b, e;
    Iterator begin() const { return b; }
    Iterator end() const { return e; }
  };
  Range attributes() const { return {Iterator(mData, kStunHeaderSize), Iterator(mData, mData.size())}; }

 private:
  friend bool checkIntegrity(const StunMessage&, std::span<const uint8_t>);
  friend bool checkIntegritySha256(const StunMessage&, std::span<const uint8_t>);
  friend bool checkFingerprint(const StunMessage&);

  enum Index : uint8_t {
    kMappedAddressIdx,
    kUsernameIdx,
    kMessageIntegrityIdx,
    kErrorCodeIdx,
    kUnknownAttributesIdx,
    kRealmIdx,
    kNonceIdx,
    kMessageIntegritySha256Idx,
    kXorMappedAddressIdx,
    kPriorityIdx,
    kUseCandidateIdx,
    kSoftwareIdx,
    kFingerprintIdx,
    kIceControlledIdx,
    kIceControllingIdx,
    kIndexCount,
  };
  static std::optional<Index> indexOf(uint16_t type);
  static bool validValue(Index index, std::span<const uint8_t> value);
  bool record(uint16_t type, size_t offset, std::span<const uint8_t> value);

  bool has(Index i) const { return mOffsets[i] != 0; }
  // Offset of the attribute's TLV header; the caller checked has(i).
  size_t offsetOf(Index i) const { return mOffsets[i]; }
  std::span<const uint8_t> valueOf(Index i) const;

  explicit StunMessage(std::span<const uint8_t> data) : mData(data) {}

  std::span<const uint8_t> mData;
  std::array<uint32_t, kIndexCount> mOffsets{};  // 0: absent (no attribute starts in the header)
  std::array<uint16_t, kMaxUnknownRecorded> mUnknown{};
  uint8_t mUnknownCount = 0;
};

// MESSAGE-INTEGRITY (HMAC-SHA1) with `key`: for short-term credentials (ICE) the key is the
// password itself (RFC 8489 §9.1.1; ICE passwords are ice-chars, which OpaqueString leaves alone);
// for long-term credentials use longTermKey(). False when the attribute is absent or the key empty.
bool checkIntegrity(const StunMessage& message, std::span<const uint8_t> key);
bool checkIntegrity(const StunMessage& message, std::string_view password);
// MESSAGE-INTEGRITY-SHA256 (HMAC-SHA256, possibly truncated to 16..32 bytes).
bool checkIntegritySha256(const StunMessage& message, std::span<const uint8_t> key);
bool checkIntegritySha256(const StunMessage& message, std::string_view password);
// FINGERPRINT: CRC-32 of the message up to the attribute, XOR 0x5354554E. False when absent.
bool checkFingerprint(const StunMessage& message);

// Long-term credential key (RFC 8489 §9.2.2, MD5 algorithm): MD5(username ":" realm ":" password).
// The caller applies SASLprep/OpaqueString to realm and password when they are not plain ASCII.
std::array<uint8_t, 16> stunLongTermKey(std::string_view username, std::string_view realm, std::string_view password);

// CRC-32 (ISO-HDLC, as in zlib), table driven; `crc` chains calls (start with 0).
uint32_t crc32(std::span<const uint8_t> data, uint32_t crc = 0);

// Builds one message into a caller buffer. Attributes are appended in call order; every add...()
// keeps the header length current. On overflow (or misuse, such as adding after FINGERPRINT) the
// builder turns !ok() and bytes() is empty. Never allocates.
class StunBuilder {
 public:
  StunBuilder(std::span<uint8_t> out, uint16_t method, StunClass cls,
              std::span<const uint8_t, kStunTransactionIdSize> transactionId);
  // A response (success or error) to `request`: same method and transaction id.
  static StunBuilder responseTo(const StunMessage& request, StunClass cls, std::span<uint8_t> out);

  // Byte used to pad attribute values to 4 bytes (0 by default; RFC 8489 lets senders use any).
  void setPaddingByte(uint8_t value) { mPadding = value; }

  void addAttribute(uint16_t type, std::span<const uint8_t> value);
  void addString(uint16_t type, std::string_view value);
  void addUsername(std::string_view username) { addString(stun_attr::kUsername, username); }
  void addSoftware(std::string_view software) { addString(stun_attr::kSoftware, software); }
  void addPriority(uint32_t priority);
  void addUseCandidate();
  void addIceControlling(uint64_t tieBreaker);
  void addIceControlled(uint64_t tieBreaker);
  void addMappedAddress(const net::Endpoint& address);
  void addXorMappedAddress(const net::Endpoint& address);
  void addErrorCode(uint16_t code, std::string_view reason);
  void addErrorCode(uint16_t code) { addErrorCode(code, stun_error::reason(code)); }
  void addUnknownAttributes(std::span<const uint16_t> types);
  // HMAC over the message so far, with the length field counting this attribute.
  void addMessageIntegrity(std::span<const uint8_t> key);
  void addMessageIntegrity(std::string_view password);
  void addMessageIntegritySha256(std::span<const uint8_t> key);
  void addMessageIntegritySha256(std::string_view password);
  // CRC-32 over the message so far; must be the last attribute.
  void addFingerprint();

  bool ok() const { return mWriter.ok() && !mFailed; }
  size_t size() const { return ok() ? mWriter.size() : 0; }
  std::span<const uint8_t> bytes() const;

 private:
  bool beginAttribute(uint16_t type, size_t valueSize);
  void endAttribute(size_t valueSize);
  void addAddress(uint16_t type, const net::Endpoint& address, bool xored);
  void addIntegrity(uint16_t type, std::span<const uint8_t> key, bool sha256);
  void setLength(size_t bodySize);

  common::ByteWriter mWriter;
  StunTransactionId mTransactionId{};
  uint8_t mPadding = 0;
  bool mFailed = false;
  bool mSealed = false;  // FINGERPRINT written
};

}  // namespace conclave::ice
