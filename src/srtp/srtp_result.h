// The outcome of protecting or unprotecting one SRTP or SRTCP packet.
#pragma once

#include <cstdint>
#include <string_view>

namespace conclave::srtp {

enum class SrtpResult : uint8_t {
  Ok,
  BufferTooSmall,   // protect: no room for the trailer after `length`
  Malformed,        // too short, or a header that does not fit the packet
  AuthFailed,       // the tag does not match (tampered, or keys differ)
  ReplayDuplicate,  // this index was already received (or, outbound, sent: see allowRepeatTx)
  ReplayOld,        // the index is older than the replay window
  Failed,           // anything else: a stream limit, a key used up, an SRTCP packet without the E flag (AES-CM)
};

std::string_view toString(SrtpResult result);

}  // namespace conclave::srtp
