// The server's side (ICE credentials, DTLS fingerprint, host candidates) of the SDP tests'
// negotiations. No GoogleTest here: sdp_tool uses it too.
#pragma once

#include <cstdint>
#include <string>
#include <utility>
#include <vector>

#include "sdp/transport.h"

namespace conclave::sdp::test {

// A sha-256 fingerprint of bytes first, first + step, first + 2 * step, ... (32 of them).
inline LocalTransport makeServerTransport(std::string ufrag, std::string pwd, uint8_t first, uint8_t step,
                                          std::vector<HostCandidate> candidates) {
  LocalTransport t;
  t.iceUfrag = std::move(ufrag);
  t.icePwd = std::move(pwd);
  t.fingerprint.algorithm = "sha-256";
  for (int i = 0; i < 32; ++i) {
    t.fingerprint.bytes.push_back(static_cast<uint8_t>(first + i * step));
  }
  t.candidates = std::move(candidates);
  return t;
}

// The transport of the subscribe tests and of sdp_tool (whose offers and answers Chromium checks):
// one host candidate on 127.0.0.1:40000, over UDP and ICE-TCP as the media workers offer it.
inline LocalTransport loopbackServerTransport() {
  auto t = makeServerTransport("cnclvSfu", "conclaveServerPassword0123", 3, 7, {{"127.0.0.1", 40000, 65535}});
  t.tcpPassive = true;
  return t;
}

}  // namespace conclave::sdp::test
