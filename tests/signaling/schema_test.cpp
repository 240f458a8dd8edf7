#include "signaling/schema.h"

#include <gtest/gtest.h>

#include "signaling/protocol.h"

using namespace conclave::signaling;
using nlohmann::json;

namespace {
std::optional<std::string> check(const json& msg) {
  const auto* schema = findClientSchema(msg.at("type").get<std::string>());
  EXPECT_NE(schema, nullptr);
  return validate(msg, *schema);
}
const std::string kRoom(32, 'A');
}  // namespace

TEST(Schema, AcceptsValidMessages) {
  EXPECT_FALSE(check({{"type", "hello"}, {"version", 1}}));
  EXPECT_FALSE(check({{"type", "hello"}, {"version", 1}, {"client", "web"}, {"id", 7}}));
  EXPECT_FALSE(check({{"type", "join"}, {"roomId", kRoom}, {"profile", "opaque"}, {"id", "req-1"}}));
  EXPECT_FALSE(check({{"type", "leave"}}));
  EXPECT_FALSE(check({{"type", "ping"}, {"id", 9007199254740991LL}}));
}

TEST(Schema, RefusesMissingWrongAndExtraFields) {
  EXPECT_EQ(*check({{"type", "hello"}}), "field 'version' is required");
  EXPECT_EQ(*check({{"type", "hello"}, {"version", "1"}}), "field 'version' must be an integer");
  EXPECT_TRUE(check({{"type", "hello"}, {"version", 1}, {"admin", true}}));
  EXPECT_TRUE(check({{"type", "join"}, {"roomId", "short"}, {"profile", ""}}));
  EXPECT_TRUE(check({{"type", "join"}, {"roomId", std::string(32, '+')}, {"profile", ""}}));
  EXPECT_TRUE(check({{"type", "join"}, {"roomId", kRoom}, {"profile", std::string(kMaxProfileBytes + 1, 'x')}}));
  EXPECT_TRUE(check({{"type", "join"}, {"roomId", kRoom}, {"profile", json::object()}}));
  EXPECT_TRUE(check({{"type", "ping"}, {"id", -1}}));
  EXPECT_TRUE(check({{"type", "ping"}, {"id", 1.5}}));
  EXPECT_TRUE(check({{"type", "ping"}, {"id", std::string(65, 'x')}}));
  EXPECT_TRUE(check({{"type", "ping"}, {"id", json::array()}}));
  EXPECT_TRUE(check({{"type", "hello"}, {"version", 100000}}));
}

TEST(Schema, UnknownTypesHaveNoSchema) {
  EXPECT_EQ(findClientSchema("become-admin"), nullptr);
  EXPECT_EQ(findClientSchema(""), nullptr);
}
