// Helpers shared by the ice tests.
#pragma once

#include <string_view>

#include "common/test_hex.h"

namespace conclave::ice::test {

using conclave::test::fromHex;

// RFC 5769 test vectors (checked independently with aioice's STUN parser, which verified the
// MESSAGE-INTEGRITY and FINGERPRINT of each; the same bytes are the fuzz seed corpus).
// §2.1 sample request: USERNAME "evtj:h6vY", password "VOkJxbRl1RmTxUk/WvJxBt", padding 0x20.
inline constexpr std::string_view kRfc5769Request =
    "000100582112a442b7e7a701bc34d686fa87dfae802200105354554e207465737420636c69656e74"
    "002400046e0001ff80290008932ff9b151263b36000600096576746a3a68367659202020000800149aeaa70c"
    "bfd8cb56781ef2b5b2d3f249c1b571a280280004e57a3bcf";
// §2.2 sample IPv4 response: XOR-MAPPED-ADDRESS 192.0.2.1:32853.
inline constexpr std::string_view kRfc5769Ipv4Response =
    "0101003c2112a442b7e7a701bc34d686fa87dfae8022000b7465737420766563746f722000200008"
    "0001a147e112a643000800142b91f599fd9e90c38c7489f92af9ba53f06be7d780280004c07d4c96";
// §2.3 sample IPv6 response: XOR-MAPPED-ADDRESS [2001:db8:1234:5678:11:2233:4455:6677]:32853.
inline constexpr std::string_view kRfc5769Ipv6Response =
    "010100482112a442b7e7a701bc34d686fa87dfae8022000b7465737420766563746f722000200014"
    "0002a1470113a9faa5d3f179bc25f4b5bed2b9d900080014a382954e4be67bf11784c97c8292c275bfe3ed41"
    "80280004c8fb0b4c";
// §2.4 request with long-term authentication: USERNAME "マトリックス", REALM "example.org",
// NONCE "f//499k954d6OL34oL9FSTvy64sA", password "TheMatrIX" after SASLprep. No FINGERPRINT.
inline constexpr std::string_view kRfc5769LongTermRequest =
    "000100602112a44278ad3433c6ad72c029da412e00060012e3839ee38388e383aae38383e382afe382b9"
    "00000015001c662f2f3439396b39353464364f4c33346f4c394653547679363473410014000b6578616d"
    "706c652e6f72670000080014f67024656dd64a3e02b8e0712e85c9a28ca89666";
inline constexpr std::string_view kRfc5769Password = "VOkJxbRl1RmTxUk/WvJxBt";

}  // namespace conclave::ice::test
