// Published test vectors: RFC 3711 Appendix B (AES-CM keystream, key derivation) and RFC 7714
// sections 16 and 17 (AES-GCM SRTP and SRTCP, stated with session keys, so applied to an
// SrtpContext below the key derivation).
#include <gtest/gtest.h>

#include <algorithm>
#include <string_view>
#include <vector>

#include "common/test_hex.h"
#include "srtp/srtp_context.h"
#include "srtp/srtp_crypto.h"

using namespace conclave::srtp;
using conclave::test::fromHex;

namespace {

std::vector<uint8_t> derive(std::string_view keyHex, std::string_view saltHex, uint8_t label, size_t length) {
  const auto key = fromHex(keyHex);
  std::vector<uint8_t> out(length);
  deriveSessionKey(std::span<const uint8_t, kAesKeyLength>(key.data(), kAesKeyLength), fromHex(saltHex), label, out);
  return out;
}

}  // namespace

// RFC 3711 B.2: the AES-CM keystream of session key 2B7E...3C, salt F0F1...FD, SSRC 0, index 0
// (the counter's low 16 bits count blocks).
TEST(SrtpVectors, Rfc3711AesCmKeystream) {
  const auto key = fromHex("2B7E151628AED2A6ABF7158809CF4F3C");
  AesCtr ctr(std::span<const uint8_t, kAesKeyLength>(key.data(), kAesKeyLength));
  std::array<uint8_t, kAesBlockLength> iv{};
  const auto salt = fromHex("F0F1F2F3F4F5F6F7F8F9FAFBFCFD");
  std::copy(salt.begin(), salt.end(), iv.begin());
  std::vector<uint8_t> keystream(0xff02 * 16, 0);
  ASSERT_TRUE(ctr.apply(iv, keystream));
  auto block = [&](size_t n) {
    return std::vector<uint8_t>(keystream.begin() + n * 16, keystream.begin() + n * 16 + 16);
  };
  EXPECT_EQ(block(0x0000), fromHex("E03EAD0935C95E80E166B16DD92B4EB4"));
  EXPECT_EQ(block(0x0001), fromHex("D23513162B02D0F72A43A2FE4A5F97AB"));
  EXPECT_EQ(block(0x0002), fromHex("41E95B3BB0A2E8DD477901E4FCA894C0"));
  EXPECT_EQ(block(0xfeff), fromHex("EC8CDF7398607CB0F2D21675EA9EA1E4"));
  EXPECT_EQ(block(0xff00), fromHex("362B7C3C6773516318A077D7FC5073AE"));
  EXPECT_EQ(block(0xff01), fromHex("6A2CC3787889374FBEB4C81B17BA6C44"));
}

// RFC 3711 B.3: session keys of master key E1F9...39, master salt 0EC6...E6.
TEST(SrtpVectors, Rfc3711KeyDerivation) {
  constexpr std::string_view key = "E1F97A0D3E018BE0D64FA32C06DE4139";
  constexpr std::string_view salt = "0EC675AD498AFEEBB6960B3AABE6";
  EXPECT_EQ(derive(key, salt, kLabelRtpEncryption, 16), fromHex("C61E7A93744F39EE10734AFE3FF7A087"));
  EXPECT_EQ(derive(key, salt, kLabelRtpSalt, 14), fromHex("30CBBC08863D8C85D49DB34A9AE1"));
  EXPECT_EQ(derive(key, salt, kLabelRtpAuthentication, 94),
            fromHex("CEBE321F6FF7716B6FD4AB49AF256A156D38BAA48F0A0ACF3C34E2359E6CDBCE"
                    "E049646C43D9327AD175578EF72270986371C10C9A369AC2F94A8C5FBCDDDC25"
                    "6D6E919A48B610EF17C2041E474035766B68642C59BBFC2F34DB60DBDFB2"));

  const auto material = SrtpKeyMaterial::make(SrtpProfile::AesCm128HmacSha1_80, fromHex(key), fromHex(salt));
  ASSERT_TRUE(material);
  const auto keys = SrtpSessionKeys::derive(SrtpProfile::AesCm128HmacSha1_80, *material);
  EXPECT_EQ(std::vector<uint8_t>(keys.rtpKey.begin(), keys.rtpKey.end()), fromHex("C61E7A93744F39EE10734AFE3FF7A087"));
  EXPECT_EQ(std::vector<uint8_t>(keys.rtpSalt.begin(), keys.rtpSalt.end()), fromHex("30CBBC08863D8C85D49DB34A9AE1"));
  EXPECT_EQ(std::vector<uint8_t>(keys.rtpAuthKey.begin(), keys.rtpAuthKey.end()),
            fromHex("CEBE321F6FF7716B6FD4AB49AF256A156D38BAA4"));
}

namespace {

// RFC 7714 §16 and §17: session key 0001...0f and session salt "Quid pro quo".
SrtpSessionKeys rfc7714Keys() {
  SrtpSessionKeys keys;
  const auto key = fromHex("000102030405060708090a0b0c0d0e0f");
  const auto salt = fromHex("517569642070726f2071756f");
  std::copy(key.begin(), key.end(), keys.rtpKey.begin());
  std::copy(key.begin(), key.end(), keys.rtcpKey.begin());
  std::copy(salt.begin(), salt.end(), keys.rtpSalt.begin());
  std::copy(salt.begin(), salt.end(), keys.rtcpSalt.begin());
  return keys;
}

SrtpContext rfc7714Context(SrtpContext::Direction direction) {
  return SrtpContext(SrtpProfile::AeadAes128Gcm, rfc7714Keys(), direction, {});
}

constexpr std::string_view kRtp =
    "8040f17b8041f8d35501a0b2"
    "47616c6c696120657374206f6d6e69732064697669736120696e207061727465732074726573";
constexpr std::string_view kSrtp =
    "8040f17b8041f8d35501a0b2"
    "f24de3a3fb34de6cacba861c9d7e4bcabe633bd50d294e6f42a5f47a51c7d19b36de3adf8833"
    "899d7f27beb16a9152cf765ee4390cce";
constexpr std::string_view kRtcp =
    "81c8000d4d617273"
    "4e5450314e545032525450200000042a0000e9304c756e61deadbeefdeadbeefdeadbeefdeadbeefdeadbeef";
constexpr std::string_view kSrtcp =
    "81c8000d4d617273"
    "63e94885dcdab67ca727d7662f6b7e997ff5c0f76c06f32dc676a5f1730d6fda4ce09b4686303ded0bb9275bc84aa458"
    "96cf4d2fc5abf87245d9eade"
    "800005d4";
// §17.3: the E flag clear, the whole packet authenticated and nothing encrypted.
constexpr std::string_view kSrtcpTagOnly =
    "81c8000d4d617273"
    "4e5450314e545032525450200000042a0000e9304c756e61deadbeefdeadbeefdeadbeefdeadbeefdeadbeef"
    "841dd9683dd78ec92ae58790125f62b3"
    "000005d4";

}  // namespace

TEST(SrtpVectors, Rfc7714SrtpProtectAndUnprotect) {
  auto sender = rfc7714Context(SrtpContext::Direction::Outbound);
  auto packet = fromHex(kRtp);
  size_t length = packet.size();
  packet.resize(length + kGcmTagLength);
  ASSERT_EQ(sender.protectRtp(packet, length), SrtpResult::Ok);
  EXPECT_EQ(packet, fromHex(kSrtp));

  auto receiver = rfc7714Context(SrtpContext::Direction::Inbound);
  ASSERT_EQ(receiver.unprotectRtp(packet, length), SrtpResult::Ok);
  packet.resize(length);
  EXPECT_EQ(packet, fromHex(kRtp));
}

TEST(SrtpVectors, Rfc7714SrtcpUnprotectAndProtect) {
  auto receiver = rfc7714Context(SrtpContext::Direction::Inbound);
  auto packet = fromHex(kSrtcp);
  size_t length = packet.size();
  ASSERT_EQ(receiver.unprotectRtcp(packet, length), SrtpResult::Ok);
  packet.resize(length);
  EXPECT_EQ(packet, fromHex(kRtcp));

  // The sender numbers SRTCP packets from 1: wind it on to the vector's index 0x5d4.
  auto sender = rfc7714Context(SrtpContext::Direction::Outbound);
  for (uint32_t index = 1; index <= 0x5d4; ++index) {
    packet = fromHex(kRtcp);
    length = packet.size();
    packet.resize(length + 20);
    ASSERT_EQ(sender.protectRtcp(packet, length), SrtpResult::Ok);
  }
  EXPECT_EQ(packet, fromHex(kSrtcp));
}

TEST(SrtpVectors, Rfc7714SrtcpWithoutEncryptionIsAuthenticatedOnly) {
  auto receiver = rfc7714Context(SrtpContext::Direction::Inbound);
  auto packet = fromHex(kSrtcpTagOnly);
  size_t length = packet.size();
  auto tampered = packet;
  tampered[20] ^= 1;
  size_t tamperedLength = length;
  EXPECT_EQ(receiver.unprotectRtcp(tampered, tamperedLength), SrtpResult::AuthFailed);
  ASSERT_EQ(receiver.unprotectRtcp(packet, length), SrtpResult::Ok);
  packet.resize(length);
  EXPECT_EQ(packet, fromHex(kRtcp));
}
