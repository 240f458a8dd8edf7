#include "ice/stun.h"

#include <gtest/gtest.h>

#include <array>
#include <string>
#include <vector>

#include "ice/test_util.h"

using namespace conclave::ice;
namespace net = conclave::net;
using conclave::ice::test::fromHex;

namespace {

std::span<const uint8_t> bytesOf(std::string_view s) { return {reinterpret_cast<const uint8_t*>(s.data()), s.size()}; }

std::vector<uint8_t> attributeTypes(const StunMessage& m) {
  std::vector<uint8_t> out;
  for (StunAttribute a : m.attributes()) {
    out.push_back(static_cast<uint8_t>(a.type >> 8));
    out.push_back(static_cast<uint8_t>(a.type));
  }
  return out;
}

const StunTransactionId kTxId{1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12};

}  // namespace

// ---- RFC 5769 test vectors ------------------------------------------------------------------

TEST(StunRfc5769, SampleRequestParsesAndValidates) {
  const auto bytes = fromHex(test::kRfc5769Request);
  auto m = StunMessage::parse(bytes);
  ASSERT_TRUE(m);
  EXPECT_TRUE(m->isBindingRequest());
  EXPECT_EQ(m->messageClass(), StunClass::Request);
  EXPECT_EQ(m->method(), kStunMethodBinding);
  EXPECT_EQ(m->transactionId()[0], 0xb7);
  EXPECT_EQ(m->transactionId()[11], 0xae);
  EXPECT_EQ(m->username(), "evtj:h6vY");
  EXPECT_EQ(m->priority(), 0x6e0001ffu);
  EXPECT_EQ(m->iceControlled(), 0x932ff9b151263b36ULL);
  EXPECT_FALSE(m->iceControlling());
  EXPECT_FALSE(m->useCandidate());
  auto software = m->attribute(stun_attr::kSoftware);
  ASSERT_TRUE(software);
  EXPECT_EQ(std::string(software->value.begin(), software->value.end()), "STUN test client");
  EXPECT_TRUE(m->unknownRequired().empty());

  EXPECT_TRUE(checkIntegrity(*m, test::kRfc5769Password));
  EXPECT_TRUE(checkFingerprint(*m));
  EXPECT_FALSE(checkIntegrity(*m, "VOkJxbRl1RmTxUk/WvJxBu"));
  EXPECT_FALSE(checkIntegrity(*m, ""));
  EXPECT_FALSE(checkIntegritySha256(*m, test::kRfc5769Password));  // no such attribute
}

TEST(StunRfc5769, SampleRequestIsRebuiltByteForByte) {
  const auto expected = fromHex(test::kRfc5769Request);
  const auto parsed = StunMessage::parse(expected);
  ASSERT_TRUE(parsed);
  std::array<uint8_t, 256> out{};
  StunBuilder b(out, kStunMethodBinding, StunClass::Request, parsed->transactionId());
  b.setPaddingByte(0x20);  // the vector pads with spaces, and padding is covered by the HMAC
  b.addSoftware("STUN test client");
  b.addPriority(0x6e0001ff);
  b.addIceControlled(0x932ff9b151263b36ULL);
  b.addUsername("evtj:h6vY");
  b.addMessageIntegrity(test::kRfc5769Password);
  b.addFingerprint();
  ASSERT_TRUE(b.ok());
  EXPECT_EQ(std::vector<uint8_t>(b.bytes().begin(), b.bytes().end()), expected);
}

TEST(StunRfc5769, Ipv4ResponseParsesAndIsRebuilt) {
  const auto expected = fromHex(test::kRfc5769Ipv4Response);
  auto m = StunMessage::parse(expected);
  ASSERT_TRUE(m);
  EXPECT_EQ(m->messageClass(), StunClass::SuccessResponse);
  EXPECT_EQ(m->method(), kStunMethodBinding);
  ASSERT_TRUE(m->xorMappedAddress());
  EXPECT_EQ(m->xorMappedAddress()->toString(), "192.0.2.1:32853");
  EXPECT_TRUE(checkIntegrity(*m, test::kRfc5769Password));
  EXPECT_TRUE(checkFingerprint(*m));

  std::array<uint8_t, 256> out{};
  auto b =
      StunBuilder::responseTo(*StunMessage::parse(fromHex(test::kRfc5769Request)), StunClass::SuccessResponse, out);
  b.setPaddingByte(0x20);
  b.addSoftware("test vector");
  b.addXorMappedAddress(*net::Endpoint::parse("192.0.2.1:32853"));
  b.addMessageIntegrity(test::kRfc5769Password);
  b.addFingerprint();
  ASSERT_TRUE(b.ok());
  EXPECT_EQ(std::vector<uint8_t>(b.bytes().begin(), b.bytes().end()), expected);
}

TEST(StunRfc5769, Ipv6ResponseParsesAndIsRebuilt) {
  const auto expected = fromHex(test::kRfc5769Ipv6Response);
  auto m = StunMessage::parse(expected);
  ASSERT_TRUE(m);
  ASSERT_TRUE(m->xorMappedAddress());
  EXPECT_EQ(m->xorMappedAddress()->toString(), "[2001:db8:1234:5678:11:2233:4455:6677]:32853");
  EXPECT_TRUE(checkIntegrity(*m, test::kRfc5769Password));
  EXPECT_TRUE(checkFingerprint(*m));

  std::array<uint8_t, 256> out{};
  StunBuilder b(out, kStunMethodBinding, StunClass::SuccessResponse, m->transactionId());
  b.setPaddingByte(0x20);
  b.addSoftware("test vector");
  b.addXorMappedAddress(*net::Endpoint::parse("[2001:db8:1234:5678:11:2233:4455:6677]:32853"));
  b.addMessageIntegrity(test::kRfc5769Password);
  b.addFingerprint();
  ASSERT_TRUE(b.ok());
  EXPECT_EQ(std::vector<uint8_t>(b.bytes().begin(), b.bytes().end()), expected);
}

TEST(StunRfc5769, LongTermRequestValidatesAndIsRebuilt) {
  const auto expected = fromHex(test::kRfc5769LongTermRequest);
  auto m = StunMessage::parse(expected);
  ASSERT_TRUE(m);
  const std::string username = "\xe3\x83\x9e\xe3\x83\x88\xe3\x83\xaa\xe3\x83\x83\xe3\x82\xaf\xe3\x82\xb9";
  EXPECT_EQ(m->username(), username);
  const auto key = stunLongTermKey(username, "example.org", "TheMatrIX");
  EXPECT_TRUE(checkIntegrity(*m, key));
  EXPECT_FALSE(checkIntegrity(*m, stunLongTermKey(username, "example.org", "TheMatrix")));
  EXPECT_FALSE(m->hasFingerprint());
  EXPECT_FALSE(checkFingerprint(*m));

  std::array<uint8_t, 256> out{};
  StunBuilder b(out, kStunMethodBinding, StunClass::Request, m->transactionId());
  b.addUsername(username);
  b.addString(stun_attr::kNonce, "f//499k954d6OL34oL9FSTvy64sA");
  b.addString(stun_attr::kRealm, "example.org");
  b.addMessageIntegrity(key);
  ASSERT_TRUE(b.ok());
  EXPECT_EQ(std::vector<uint8_t>(b.bytes().begin(), b.bytes().end()), expected);
}

TEST(StunRfc5769, EveryAlteredByteBreaksIntegrityOrParsing) {
  const auto original = fromHex(test::kRfc5769Request);
  const size_t integrityValueEnd = original.size() - 8;  // MI value ends where FINGERPRINT starts
  for (size_t i = 0; i < integrityValueEnd; ++i) {
    auto bytes = original;
    bytes[i] ^= 0x01;
    auto m = StunMessage::parse(bytes);
    if (m) {
      EXPECT_FALSE(checkIntegrity(*m, test::kRfc5769Password)) << "byte " << i;
    }
  }
  for (size_t i = integrityValueEnd; i < original.size(); ++i) {
    auto bytes = original;
    bytes[i] ^= 0x01;
    auto m = StunMessage::parse(bytes);
    if (m) {
      EXPECT_FALSE(checkFingerprint(*m)) << "byte " << i;
    }
  }
}

TEST(StunRfc5769, AttributesIterateInWireOrder) {
  const auto bytes = fromHex(test::kRfc5769Request);
  auto m = StunMessage::parse(bytes);
  ASSERT_TRUE(m);
  EXPECT_EQ(attributeTypes(*m), fromHex("8022 0024 8029 0006 0008 8028"));
}

// ---- parser --------------------------------------------------------------------------------

TEST(StunParse, RejectsBadHeaders) {
  const auto good = fromHex(test::kRfc5769Request);
  EXPECT_TRUE(StunMessage::parse(good));
  EXPECT_FALSE(StunMessage::parse({}));
  EXPECT_FALSE(StunMessage::parse(std::span(good).first(19)));

  auto topBits = good;
  topBits[0] |= 0x40;
  EXPECT_FALSE(StunMessage::parse(topBits));
  auto cookie = good;
  cookie[4] ^= 1;
  EXPECT_FALSE(StunMessage::parse(cookie));
  auto longer = good;
  longer.push_back(0);
  EXPECT_FALSE(StunMessage::parse(longer));
  EXPECT_FALSE(StunMessage::parse(std::span(good).first(good.size() - 4)));
  auto notMultipleOf4 = good;
  notMultipleOf4[3] = 0x57;
  notMultipleOf4.pop_back();
  EXPECT_FALSE(StunMessage::parse(notMultipleOf4));
}

TEST(StunParse, HeaderOnlyMessageIsValid) {
  std::array<uint8_t, 20> out{};
  StunBuilder b(out, kStunMethodBinding, StunClass::Request, kTxId);
  ASSERT_TRUE(b.ok());
  auto m = StunMessage::parse(b.bytes());
  ASSERT_TRUE(m);
  EXPECT_TRUE(m->isBindingRequest());
  EXPECT_FALSE(m->username());
  EXPECT_FALSE(m->hasMessageIntegrity());
  EXPECT_EQ(m->attributes().begin(), m->attributes().end());
}

TEST(StunParse, RejectsAttributeOverrunsAndBadLengths) {
  // header + PRIORITY with length 5 (its padding would run past the end)
  auto overrun = fromHex("00010008 2112a442 0102030405060708090a0b0c 00240005 6e0001ff");
  EXPECT_FALSE(StunMessage::parse(overrun));
  // PRIORITY with length 2
  auto shortPriority = fromHex("00010008 2112a442 0102030405060708090a0b0c 00240002 6e000000");
  EXPECT_FALSE(StunMessage::parse(shortPriority));
  // XOR-MAPPED-ADDRESS claiming IPv6 with 8 bytes
  auto badFamily = fromHex("0101000c 2112a442 0102030405060708090a0b0c 00200008 0002a147e112a643");
  EXPECT_FALSE(StunMessage::parse(badFamily));
  // USE-CANDIDATE with a value
  auto useCandidate = fromHex("00010008 2112a442 0102030405060708090a0b0c 00250004 00000000");
  EXPECT_FALSE(StunMessage::parse(useCandidate));
  // ERROR-CODE with class 2
  auto errorClass = fromHex("01110008 2112a442 0102030405060708090a0b0c 00090004 00000200");
  EXPECT_FALSE(StunMessage::parse(errorClass));
}

TEST(StunParse, NothingMayFollowFingerprint) {
  std::array<uint8_t, 128> out{};
  StunBuilder b(out, kStunMethodBinding, StunClass::Request, kTxId);
  b.addFingerprint();
  ASSERT_TRUE(b.ok());
  std::vector<uint8_t> bytes(b.bytes().begin(), b.bytes().end());
  EXPECT_TRUE(StunMessage::parse(bytes));
  // append USE-CANDIDATE after FINGERPRINT and fix the length
  bytes.insert(bytes.end(), {0x00, 0x25, 0x00, 0x00});
  bytes[3] = static_cast<uint8_t>(bytes.size() - 20);
  EXPECT_FALSE(StunMessage::parse(bytes));
}

TEST(StunParse, AttributesAfterIntegrityAreIgnored) {
  std::array<uint8_t, 256> out{};
  StunBuilder b(out, kStunMethodBinding, StunClass::Request, kTxId);
  b.addUsername("a:b");
  b.addMessageIntegrity("password-password-pass");
  b.addUsername("evil:one");
  b.addUseCandidate();
  b.addAttribute(0x0099, {});  // unknown comprehension-required, but ignored here
  b.addFingerprint();
  ASSERT_TRUE(b.ok());
  auto m = StunMessage::parse(b.bytes());
  ASSERT_TRUE(m);
  EXPECT_EQ(m->username(), "a:b");
  EXPECT_FALSE(m->useCandidate());
  EXPECT_TRUE(m->unknownRequired().empty());
  EXPECT_TRUE(checkIntegrity(*m, "password-password-pass"));
  EXPECT_TRUE(checkFingerprint(*m));
}

TEST(StunParse, FirstOccurrenceCountsAndUnknownRequiredAreRecorded) {
  std::array<uint8_t, 256> out{};
  StunBuilder b(out, kStunMethodBinding, StunClass::Request, kTxId);
  b.addPriority(1);
  b.addPriority(2);
  b.addAttribute(0x0003, std::array<uint8_t, 4>{});  // CHANGE-REQUEST: comprehension-required
  b.addAttribute(0xC057, std::array<uint8_t, 4>{});  // GOOG-NETWORK-INFO: optional
  b.addAttribute(0x7FFF, {});
  ASSERT_TRUE(b.ok());
  auto m = StunMessage::parse(b.bytes());
  ASSERT_TRUE(m);
  EXPECT_EQ(m->priority(), 1u);
  ASSERT_EQ(m->unknownRequired().size(), 2u);
  EXPECT_EQ(m->unknownRequired()[0], 0x0003);
  EXPECT_EQ(m->unknownRequired()[1], 0x7FFF);
  auto optional = m->attribute(0xC057);
  ASSERT_TRUE(optional);
  EXPECT_EQ(optional->value.size(), 4u);
  EXPECT_FALSE(m->attribute(0x1234));
}

TEST(StunParse, MessageTypeEncoding) {
  EXPECT_EQ(stunMessageType(kStunMethodBinding, StunClass::Request), 0x0001);
  EXPECT_EQ(stunMessageType(kStunMethodBinding, StunClass::Indication), 0x0011);
  EXPECT_EQ(stunMessageType(kStunMethodBinding, StunClass::SuccessResponse), 0x0101);
  EXPECT_EQ(stunMessageType(kStunMethodBinding, StunClass::ErrorResponse), 0x0111);
  EXPECT_EQ(stunMessageType(0x003, StunClass::Request), 0x0003);  // TURN Allocate
  EXPECT_EQ(stunMessageType(0xFFF, StunClass::ErrorResponse), 0x3FFF);
  for (uint16_t method : {0x001, 0x00A, 0x080, 0x0F0, 0xABC, 0xFFF}) {
    for (auto cls : {StunClass::Request, StunClass::Indication, StunClass::SuccessResponse, StunClass::ErrorResponse}) {
      std::array<uint8_t, 20> out{};
      StunBuilder b(out, method, cls, kTxId);
      auto m = StunMessage::parse(b.bytes());
      ASSERT_TRUE(m);
      EXPECT_EQ(m->method(), method);
      EXPECT_EQ(m->messageClass(), cls);
    }
  }
}

// ---- builder -------------------------------------------------------------------------------

TEST(StunBuild, ErrorResponseWithUnknownAttributes) {
  std::array<uint8_t, 256> out{};
  StunBuilder b(out, kStunMethodBinding, StunClass::ErrorResponse, kTxId);
  b.addErrorCode(stun_error::kUnknownAttribute);
  const std::array<uint16_t, 3> unknown{0x0003, 0x0099, 0x7FFF};
  b.addUnknownAttributes(unknown);
  b.addMessageIntegrity("password-password-pass");
  b.addFingerprint();
  ASSERT_TRUE(b.ok());
  auto m = StunMessage::parse(b.bytes());
  ASSERT_TRUE(m);
  ASSERT_TRUE(m->errorCode());
  EXPECT_EQ(m->errorCode()->code, 420);
  EXPECT_EQ(m->errorCode()->reason, "Unknown Attribute");
  std::array<uint16_t, 8> types{};
  ASSERT_EQ(m->unknownAttributes(types), 3u);
  EXPECT_EQ(types[0], 0x0003);
  EXPECT_EQ(types[1], 0x0099);
  EXPECT_EQ(types[2], 0x7FFF);
  EXPECT_TRUE(checkIntegrity(*m, "password-password-pass"));
  EXPECT_TRUE(checkFingerprint(*m));
}

TEST(StunBuild, Sha256IntegrityRoundTripAndBothIntegrities) {
  std::array<uint8_t, 256> out{};
  StunBuilder b(out, kStunMethodBinding, StunClass::Request, kTxId);
  b.addUsername("user:name");
  b.addMessageIntegrity("password-password-pass");
  b.addMessageIntegritySha256("password-password-pass");
  b.addFingerprint();
  ASSERT_TRUE(b.ok());
  auto m = StunMessage::parse(b.bytes());
  ASSERT_TRUE(m);
  EXPECT_TRUE(m->hasMessageIntegrity());
  EXPECT_TRUE(m->hasMessageIntegritySha256());
  EXPECT_TRUE(checkIntegrity(*m, "password-password-pass"));
  EXPECT_TRUE(checkIntegritySha256(*m, "password-password-pass"));
  EXPECT_FALSE(checkIntegritySha256(*m, "password-password-pasS"));
  EXPECT_TRUE(checkFingerprint(*m));
}

TEST(StunBuild, FailsCleanlyOnOverflowAndMisuse) {
  std::array<uint8_t, 30> small{};
  StunBuilder b(small, kStunMethodBinding, StunClass::Request, kTxId);
  b.addUsername("this-username-does-not-fit");
  EXPECT_FALSE(b.ok());
  EXPECT_TRUE(b.bytes().empty());
  EXPECT_EQ(b.size(), 0u);

  std::array<uint8_t, 10> tiny{};
  StunBuilder header(tiny, kStunMethodBinding, StunClass::Request, kTxId);
  EXPECT_FALSE(header.ok());

  std::array<uint8_t, 256> out{};
  StunBuilder sealed(out, kStunMethodBinding, StunClass::Request, kTxId);
  sealed.addFingerprint();
  EXPECT_TRUE(sealed.ok());
  sealed.addPriority(1);
  EXPECT_FALSE(sealed.ok());

  StunBuilder emptyKey(out, kStunMethodBinding, StunClass::Request, kTxId);
  emptyKey.addMessageIntegrity("");
  EXPECT_FALSE(emptyKey.ok());

  StunBuilder badCode(out, kStunMethodBinding, StunClass::ErrorResponse, kTxId);
  badCode.addErrorCode(200, "OK");
  EXPECT_FALSE(badCode.ok());

  StunBuilder noAddress(out, kStunMethodBinding, StunClass::SuccessResponse, kTxId);
  noAddress.addXorMappedAddress(net::Endpoint());
  EXPECT_FALSE(noAddress.ok());
}

TEST(StunBuild, MappedAddressIsNotXored) {
  std::array<uint8_t, 64> out{};
  StunBuilder b(out, kStunMethodBinding, StunClass::SuccessResponse, kTxId);
  b.addMappedAddress(*net::Endpoint::parse("192.0.2.1:32853"));
  ASSERT_TRUE(b.ok());
  EXPECT_EQ(std::vector<uint8_t>(b.bytes().begin() + 20, b.bytes().end()), fromHex("00010008 0001 8055 c0000201"));
  auto m = StunMessage::parse(b.bytes());
  ASSERT_TRUE(m && m->mappedAddress());
  EXPECT_EQ(m->mappedAddress()->toString(), "192.0.2.1:32853");
}

// ---- CRC-32 and demux ----------------------------------------------------------------------

TEST(StunCrc32, CheckValueAndChaining) {
  EXPECT_EQ(crc32(bytesOf("123456789")), 0xCBF43926u);  // the CRC-32/ISO-HDLC check value
  EXPECT_EQ(crc32({}), 0u);
  EXPECT_EQ(crc32(bytesOf("6789"), crc32(bytesOf("12345"))), 0xCBF43926u);
}

TEST(Demux, ClassifiesByFirstByte) {
  auto kind = [](uint8_t first) {
    const std::array<uint8_t, 2> d{first, 0};
    return classifyPacket(d);
  };
  for (int b = 0; b < 256; ++b) {
    const auto k = kind(static_cast<uint8_t>(b));
    if (b <= 3) {
      EXPECT_EQ(k, PacketKind::Stun) << b;
    } else if (b >= 20 && b <= 63) {
      EXPECT_EQ(k, PacketKind::Dtls) << b;
    } else if (b >= 128 && b <= 191) {
      EXPECT_EQ(k, PacketKind::RtpRtcp) << b;
    } else {
      EXPECT_EQ(k, PacketKind::Other) << b;
    }
  }
  EXPECT_EQ(classifyPacket({}), PacketKind::Other);
  EXPECT_TRUE(isStun(fromHex(test::kRfc5769Request)));
  EXPECT_FALSE(isStun(fromHex("16fefd")));     // DTLS handshake record
  EXPECT_TRUE(isRtcp(fromHex("80c8 0006")));   // SR
  EXPECT_TRUE(isRtcp(fromHex("81cd 0004")));   // RTPFB
  EXPECT_FALSE(isRtcp(fromHex("806f 0001")));  // RTP, payload type 111
  EXPECT_FALSE(isRtcp(fromHex("80")));
}
