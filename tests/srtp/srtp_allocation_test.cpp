// The packet path allocates nothing once a stream is known: protect and unprotect of SRTP and
// SRTCP, accepted or refused, for both profiles. Allocations are counted with the sanitizers'
// malloc hook in sanitizer builds and with bench/sfu/allocation_hooks.cpp (which replaces malloc
// and operator new) otherwise; both see OpenSSL's allocations as well as ours.
#include <gtest/gtest.h>

#include <cstddef>
#include <vector>

#include "common/allocation_counter.h"
#include "common/random.h"
#include "srtp/srtp_session.h"
#include "srtp/srtp_test_keys.h"

using namespace conclave::srtp;

namespace {

using conclave::srtp::test::randomKeys;
using conclave::testing::allocationsIn;

}  // namespace

TEST(SrtpAllocations, NoneOnThePacketPathOnceAStreamIsKnown) {
  for (auto profile : {SrtpProfile::AesCm128HmacSha1_80, SrtpProfile::AeadAes128Gcm}) {
    SCOPED_TRACE(srtpProfileParams(profile).name);
    const auto aKeys = randomKeys(profile), bKeys = randomKeys(profile);
    SrtpSession sender(profile, aKeys, bKeys);
    SrtpSession receiver(profile, bKeys, aKeys);
    constexpr size_t kSizes[] = {100, 1200};
    constexpr uint32_t kSsrcs[] = {0x1111, 0x2222, 0x3333};
    std::vector<uint8_t> buffer(1200 + 64), genuine(1200 + 64);
    uint16_t seq = 65000;

    auto exchange = [&](uint32_t ssrc, size_t size) {
      std::fill(buffer.begin(), buffer.end(), uint8_t{0});
      buffer[0] = 0x90;  // with a header extension, as browsers send
      buffer[1] = 96;
      buffer[2] = static_cast<uint8_t>(seq >> 8);
      buffer[3] = static_cast<uint8_t>(seq);
      for (int i = 0; i < 4; ++i) buffer[8 + i] = static_cast<uint8_t>(ssrc >> (24 - 8 * i));
      buffer[12] = 0xBE, buffer[13] = 0xDE, buffer[15] = 1;
      ++seq;
      size_t length = size;
      ASSERT_EQ(sender.protectRtp(buffer, length), SrtpResult::Ok);
      std::copy(buffer.begin(), buffer.end(), genuine.begin());
      const size_t protectedLength = length;
      ASSERT_EQ(receiver.unprotectRtp(buffer, length), SrtpResult::Ok);
      // Refused ones: a replay and a forgery.
      std::copy(genuine.begin(), genuine.end(), buffer.begin());
      length = protectedLength;
      ASSERT_EQ(receiver.unprotectRtp(buffer, length), SrtpResult::ReplayDuplicate);
      std::copy(genuine.begin(), genuine.end(), buffer.begin());
      buffer[3] ^= 0x40;
      ASSERT_EQ(receiver.unprotectRtp(buffer, length), SrtpResult::AuthFailed);
      // SRTCP both ways.
      std::fill(buffer.begin(), buffer.end(), uint8_t{0});
      buffer[0] = 0x81, buffer[1] = 201;
      for (int i = 0; i < 4; ++i) buffer[4 + i] = static_cast<uint8_t>(ssrc >> (24 - 8 * i));
      length = 32;
      ASSERT_EQ(sender.protectRtcp(buffer, length), SrtpResult::Ok);
      ASSERT_EQ(receiver.unprotectRtcp(buffer, length), SrtpResult::Ok);
    };

    for (uint32_t ssrc : kSsrcs) exchange(ssrc, 100);  // the streams' first packets may allocate
    const size_t allocations = allocationsIn([&] {
      for (int round = 0; round < 2000; ++round) {
        for (uint32_t ssrc : kSsrcs) exchange(ssrc, kSizes[round % 2]);
      }
    });
    EXPECT_EQ(allocations, 0u);
  }
}
