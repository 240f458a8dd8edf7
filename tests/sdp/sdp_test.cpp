// Generic SDP parser and writer (src/sdp/sdp.h) on captured Chromium and aiortc descriptions
// and on malformed input.
#include "sdp/sdp.h"

#include <gtest/gtest.h>

#include "sdp_test_util.h"

namespace conclave::sdp {
namespace {

using test::lineOf;
using test::readData;
using test::replaceOnce;

constexpr std::string_view kMinimal = "v=0\r\no=- 1 1 IN IP4 127.0.0.1\r\ns=-\r\nt=0 0\r\n";

void expectError(std::string_view text, std::string_view code, size_t line, const Limits& limits = {}) {
  auto result = parse(text, limits);
  ASSERT_FALSE(result.ok()) << "parsed although it should fail with " << code;
  EXPECT_EQ(result.error().code, code) << result.error().message;
  EXPECT_EQ(result.error().line, line) << result.error().message;
}

TEST(SdpParse, ChromiumSimulcastOffer) {
  std::string text = readData("chromium-offer-simulcast.sdp");
  auto result = parse(text);
  ASSERT_TRUE(result.ok()) << result.error().code << " line " << result.error().line;
  const Description& d = result.value();
  EXPECT_EQ(d.origin.username, "-");
  EXPECT_EQ(d.origin.sessionVersion, "2");
  EXPECT_EQ(d.origin.address, "127.0.0.1");
  EXPECT_EQ(d.sessionName, "-");
  ASSERT_EQ(d.timings.size(), 1u);
  EXPECT_EQ(d.timings[0].start, 0u);
  ASSERT_EQ(d.media.size(), 2u);
  EXPECT_EQ(d.media[0].media, "audio");
  EXPECT_EQ(d.media[0].port, 9);
  EXPECT_EQ(d.media[0].protocol, "UDP/TLS/RTP/SAVPF");
  EXPECT_EQ(d.media[0].formats.front(), "111");
  EXPECT_EQ(d.media[1].formats.size(), 23u);
  ASSERT_EQ(d.media[1].connections.size(), 1u);
  EXPECT_EQ(d.media[1].connections[0].address, "0.0.0.0");
  // Attributes keep their order, names and values (including the odd leading space).
  ASSERT_NE(d.find("msid-semantic"), nullptr);
  EXPECT_EQ(d.find("msid-semantic")->value, " WMS");
  EXPECT_FALSE(d.find("extmap-allow-mixed")->hasValue);
  EXPECT_EQ(d.attributes.front().name, "group");
  EXPECT_EQ(d.attributes.front().line, 5u);
  EXPECT_EQ(d.media[1].line, lineOf(text, "m=video"));
  auto rids = findAttributes(d.media[1].attributes, "rid");
  ASSERT_EQ(rids.size(), 3u);
  EXPECT_EQ(rids[1]->value, "m send");
  EXPECT_EQ(d.media[1].attributes.back().value, "send h;m;l");
}

// Browsers write fields in RFC order with CRLF, so parse + serialize gives the same bytes.
TEST(SdpParse, RoundTripsCapturedDescriptionsByteForByte) {
  for (const char* name : {"chromium-offer-simulcast.sdp", "chromium-offer-publish.sdp", "aiortc-offer.sdp",
                           "chromium-answer-subscribe.sdp", "conclave-offer-subscribe.sdp"}) {
    std::string text = readData(name);
    auto result = parse(text);
    ASSERT_TRUE(result.ok()) << name << ": " << result.error().code;
    EXPECT_EQ(serialize(result.value()), text) << name;
  }
}

TEST(SdpParse, AiortcOffer) {
  auto result = parse(readData("aiortc-offer.sdp"));
  ASSERT_TRUE(result.ok()) << result.error().code;
  const Description& d = result.value();
  EXPECT_EQ(d.origin.address, "0.0.0.0");
  ASSERT_EQ(d.media.size(), 2u);
  EXPECT_NE(d.media[0].port, 9);  // aiortc puts its default candidate in the m= line
  EXPECT_EQ(d.media[0].connections[0].address, "192.0.2.2");
  EXPECT_EQ(d.media[1].formats, (std::vector<std::string>{"97", "98", "99", "100", "101", "102"}));
  EXPECT_EQ(findAttributes(d.media[0].attributes, "candidate").size(), 2u);
}

TEST(SdpParse, AcceptsLfLineEndingsAndMissingFinalNewline) {
  std::string lf = test::replaceAll(readData("chromium-offer-publish.sdp"), "\r\n", "\n");
  auto result = parse(lf);
  ASSERT_TRUE(result.ok()) << result.error().code;
  EXPECT_EQ(result->media.size(), 3u);
  std::string noFinal(kMinimal.substr(0, kMinimal.size() - 2));
  EXPECT_TRUE(parse(noFinal).ok());
}

TEST(SdpParse, OptionalSessionFields) {
  std::string text =
      "v=0\r\no=jdoe 3724394400 3724394405 IN IP4 198.51.100.1\r\ns=Call to John Smith\r\n"
      "i=A Seminar\r\nu=http://www.example.com/seminars/sdp.pdf\r\ne=j.doe@example.com (Jane Doe)\r\n"
      "p=+1 617 555-6011\r\nc=IN IP4 198.51.100.1\r\nb=AS:128\r\nt=0 0\r\nr=7d 1h 0 25h\r\n"
      "t=3 4\r\nz=2882844526 -1h\r\nk=prompt\r\na=recvonly\r\nm=audio 49170/2 RTP/AVP 0\r\n"
      "i=voice\r\nc=IN IP6 2001:db8::1\r\nc=IN IP6 2001:db8::2\r\nb=TIAS:64000\r\nk=prompt\r\n"
      "a=rtpmap:0 PCMU/8000\r\n";
  auto result = parse(text);
  ASSERT_TRUE(result.ok()) << result.error().code << " line " << result.error().line;
  const Description& d = result.value();
  EXPECT_EQ(d.origin.sessionId, "3724394400");
  EXPECT_EQ(*d.information, "A Seminar");
  EXPECT_EQ(d.emails.size(), 1u);
  EXPECT_EQ(d.bandwidths[0].value, 128u);
  ASSERT_EQ(d.timings.size(), 2u);
  EXPECT_EQ(d.timings[0].repeats.size(), 1u);
  EXPECT_EQ(d.media[0].portCount.value_or(0), 2u);
  EXPECT_EQ(d.media[0].connections.size(), 2u);
  EXPECT_EQ(d.media[0].bandwidths[0].type, "TIAS");
  EXPECT_EQ(serialize(d), text);
}

TEST(SdpParseErrors, StructureAndGrammar) {
  expectError("", "missing-version", 1);
  expectError("o=- 1 1 IN IP4 127.0.0.1\r\n", "missing-version", 1);
  expectError("v=1\r\n", "bad-version", 1);
  expectError("v=0\r\ns=-\r\nt=0 0\r\n", "missing-origin", 3);
  expectError("v=0\r\no=- 1 1 IN IP4 127.0.0.1\r\nt=0 0\r\nm=audio 9 RTP/AVP 0\r\n", "missing-session-name", 4);
  expectError("v=0\r\no=- 1 1 IN IP4 127.0.0.1\r\ns=-\r\n", "missing-timing", 3);
  expectError("v=0\r\ns=-\r\no=- 1 1 IN IP4 127.0.0.1\r\n", "bad-order", 3);
  expectError("v=0\r\no=- 1 1 IN IP4 127.0.0.1\r\ns=-\r\ns=again\r\nt=0 0\r\n", "duplicate-line", 4);
  expectError("v=0\r\no=- 1 1 IN IP4 127.0.0.1\r\ns=-\r\nr=1 2 3\r\n", "bad-order", 4);
  expectError("v=0\r\no=- x 1 IN IP4 127.0.0.1\r\n", "bad-origin", 2);
  expectError("v=0\r\no=- 1 1 IN IP4\r\n", "bad-origin", 2);
  expectError("v=0\r\no=- 1 1 IN IP4 127.0.0.1\r\ns=\r\n", "bad-session-name", 3);
  expectError("v=0\r\no=- 1 1 IN IP4 127.0.0.1\r\ns=-\r\nt=0\r\n", "bad-timing", 4);
  expectError(std::string(kMinimal) + "garbage\r\n", "bad-line", 5);
  expectError(std::string(kMinimal) + "\r\n", "bad-line", 5);
  expectError(std::string(kMinimal) + "A=x\r\n", "bad-line", 5);
  expectError(std::string(kMinimal) + "y=unknown\r\n", "unknown-line-type", 5);
  expectError(std::string(kMinimal) + "a=:value\r\n", "bad-attribute", 5);
  expectError(std::string(kMinimal) + "a=with space\r\n", "bad-attribute", 5);
  expectError(std::string(kMinimal) + "m=audio 9 RTP/AVP 0\r\nb=AS\r\n", "bad-bandwidth", 6);
  expectError(std::string(kMinimal) + "b=AS:1\r\n", "bad-order", 5);
  expectError(std::string(kMinimal) + "m=audio 70000 RTP/AVP 0\r\n", "bad-media", 5);
  expectError(std::string(kMinimal) + "m=audio 9 RTP/AVP\r\n", "bad-media", 5);
  expectError(std::string(kMinimal) + "m=audio 9 RTP//AVP 0\r\n", "bad-media", 5);
  expectError(std::string(kMinimal) + "m=audio 9 RTP/AVP 0\r\nc=IN IP4\r\n", "bad-connection", 6);
  expectError(std::string(kMinimal) + "m=audio 9 RTP/AVP 0\r\nt=0 0\r\n", "bad-order", 6);
  expectError(std::string(kMinimal) + "m=audio 9 RTP/AVP 0\r\na=x\r\nc=IN IP4 0.0.0.0\r\n", "bad-order", 7);
  expectError(std::string(kMinimal) + "m=audio 9 RTP/AVP 0\r\ni=a\r\ni=b\r\n", "duplicate-line", 7);
}

TEST(SdpParseErrors, Characters) {
  expectError(std::string(kMinimal) + std::string("a=x:a\0b\r\n", 9), "bad-character", 5);
  expectError(std::string(kMinimal) + "a=x:lone\rcr\r\n", "bad-character", 5);
  expectError(std::string(kMinimal) + "a=x:del\x7f\r\n", "bad-character", 5);
  EXPECT_TRUE(parse(std::string(kMinimal) + "a=x:tab\there, caf\xc3\xa9\r\n").ok());
}

TEST(SdpParseErrors, Limits) {
  std::string chromium = readData("chromium-offer-simulcast.sdp");
  Limits small;
  small.maxBytes = chromium.size() - 1;
  expectError(chromium, "too-large", 0, small);
  small = Limits{};
  small.maxBytes = chromium.size();
  EXPECT_TRUE(parse(chromium, small).ok());

  // The default limit is 64 KiB.
  std::string big(kMinimal);
  while (big.size() <= 64 * 1024) big += "a=filler:0123456789012345678901234567890123456789\r\n";
  expectError(big, "too-large", 0);

  Limits lines;
  lines.maxLines = 10;
  expectError(chromium, "too-many-lines", 11, lines);

  expectError(std::string(kMinimal) + "a=x:" + std::string(5000, 'y') + "\r\n", "line-too-long", 5);

  std::string many(kMinimal);
  for (int i = 0; i < 65; ++i) many += "m=audio 9 RTP/AVP 0\r\n";
  expectError(many, "too-many-media", 4 + 65);
  Limits media;
  media.maxMediaSections = 2;
  std::string publish = readData("chromium-offer-publish.sdp");
  expectError(publish, "too-many-media", lineOf(publish, "m=application"), media);
}

TEST(SdpParseErrors, LineNumbersPointAtTheOffendingLine) {
  std::string text = replaceOnce(readData("chromium-offer-publish.sdp"), "a=rtcp-rsize", "a=rtcp rsize");
  auto result = parse(text);
  ASSERT_FALSE(result.ok());
  EXPECT_EQ(result.error().code, "bad-attribute");
  EXPECT_EQ(result.error().line, lineOf(text, "a=rtcp rsize"));
}

TEST(SdpWrite, BuildsMinimalDescription) {
  Description d;
  d.origin.sessionId = "42";
  d.origin.sessionVersion = "7";
  d.add("ice-lite");
  MediaSection& m = d.media.emplace_back();
  m.media = "audio";
  m.port = 9;
  m.protocol = "UDP/TLS/RTP/SAVPF";
  m.formats = {"111"};
  m.add("mid", "0");
  m.add("rtcp-mux");
  std::string text = serialize(d);
  EXPECT_EQ(text,
            "v=0\r\no=- 42 7 IN IP4 127.0.0.1\r\ns=-\r\nt=0 0\r\na=ice-lite\r\n"
            "m=audio 9 UDP/TLS/RTP/SAVPF 111\r\na=mid:0\r\na=rtcp-mux\r\n");
  auto back = parse(text);
  ASSERT_TRUE(back.ok());
  EXPECT_EQ(back->media[0].attributes, m.attributes);
}

}  // namespace
}  // namespace conclave::sdp
