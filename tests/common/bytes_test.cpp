#include "common/bytes.h"

#include <gtest/gtest.h>

#include <array>

using namespace conclave::common;

TEST(ByteReader, ReadsBigEndianAndFailsOnShortInput) {
  const std::array<uint8_t, 7> data{0x01, 0x02, 0x03, 0x04, 0x05, 0x06, 0x07};
  ByteReader r(data);
  EXPECT_EQ(r.u8(), 0x01);
  EXPECT_EQ(r.u16(), 0x0203);
  EXPECT_EQ(r.u32(), 0x04050607u);
  EXPECT_TRUE(r.ok());
  EXPECT_EQ(r.remaining(), 0u);
  EXPECT_EQ(r.u8(), 0);
  EXPECT_FALSE(r.ok());
  EXPECT_EQ(r.remaining(), 0u);
}

TEST(ByteReader, FailedReadStaysFailed) {
  const std::array<uint8_t, 3> data{1, 2, 3};
  ByteReader r(data);
  EXPECT_EQ(r.u32(), 0u);
  EXPECT_FALSE(r.ok());
  EXPECT_EQ(r.u8(), 0);
  EXPECT_TRUE(r.bytes(1).empty());
}

TEST(ByteWriter, WritesAndDetectsOverflow) {
  std::array<uint8_t, 6> buf{};
  ByteWriter w(buf);
  w.u16(0xABCD);
  w.u32(0x01020304);
  EXPECT_TRUE(w.ok());
  EXPECT_EQ(w.size(), 6u);
  EXPECT_EQ(buf[0], 0xAB);
  EXPECT_EQ(buf[5], 0x04);
  w.u8(1);
  EXPECT_FALSE(w.ok());
  EXPECT_EQ(w.size(), 6u);
}
