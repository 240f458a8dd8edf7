// Test helpers: fingerprints in their SDP text form, a recording DtlsTransport::Listener and an
// in-memory link between two transports.
#pragma once

#include <algorithm>
#include <functional>
#include <optional>
#include <string>
#include <thread>
#include <utility>
#include <vector>

#include "common/certificate.h"
#include "dtls/dtls_context.h"
#include "dtls/dtls_transport.h"
#include "sdp/session_description.h"

namespace conclave::dtls::test {

// The product takes fingerprints as bytes (the SDP layer parses a=fingerprint); peers in these
// tests (OpenSSL, aiortc, Chromium) print theirs in the SDP text form "AB:CD:...".
inline std::string fingerprintText(const DtlsContext& context) {
  return common::fingerprintText(context.localFingerprint());
}

// False for whatever sdp::parseFingerprint or DtlsTransport::setRemoteFingerprint refuses.
inline bool setRemoteFingerprintText(DtlsTransport& transport, std::string_view algorithm, std::string_view hex) {
  const auto fingerprint = sdp::parseFingerprint(std::string(algorithm) + " " + std::string(hex));
  return fingerprint && transport.setRemoteFingerprint(algorithm, std::span<const uint8_t>(fingerprint->bytes));
}

struct Recorder final : DtlsTransport::Listener {
  struct Connected {
    srtp::SrtpProfile profile;
    srtp::SrtpKeyMaterial local;
    srtp::SrtpKeyMaterial remote;
  };

  void onDtlsSend(std::span<const uint8_t> datagram) override {
    outbox.emplace_back(datagram.begin(), datagram.end());
    sent.emplace_back(datagram.begin(), datagram.end());
  }
  void onDtlsConnected(srtp::SrtpProfile profile, const srtp::SrtpKeyMaterial& local,
                       const srtp::SrtpKeyMaterial& remote) override {
    connected = Connected{profile, local, remote};
    ++events;
  }
  void onDtlsClosed() override {
    closed = true;
    ++events;
  }
  void onDtlsFailed(std::string_view reason) override {
    failed = std::string(reason);
    ++events;
  }
  void onDtlsApplicationData(std::span<const uint8_t> data) override {
    received.emplace_back(data.begin(), data.end());
  }

  std::vector<std::vector<uint8_t>> takeOutbox() { return std::exchange(outbox, {}); }

  std::vector<std::vector<uint8_t>> outbox;  // not yet delivered
  std::vector<std::vector<uint8_t>> sent;    // everything ever sent
  std::optional<Connected> connected;
  bool closed = false;
  std::optional<std::string> failed;
  std::vector<std::vector<uint8_t>> received;
  int events = 0;
};

// Two transports joined by a lossless (or filtered) in-memory link.
struct Link {
  // Return false to drop: (sender is a, index of that sender's datagram, bytes).
  using Filter = std::function<bool(bool fromA, size_t index, const std::vector<uint8_t>&)>;

  DtlsTransport& a;
  Recorder& ra;
  DtlsTransport& b;
  Recorder& rb;
  Filter filter = [](bool, size_t, const std::vector<uint8_t>&) { return true; };
  size_t sentByA = 0;
  size_t sentByB = 0;

  // Delivers until both outboxes are empty; returns the number of datagrams delivered.
  size_t pump(TimePoint now) {
    size_t delivered = 0;
    for (int round = 0; round < 100; ++round) {
      auto fromA = ra.takeOutbox();
      auto fromB = rb.takeOutbox();
      if (fromA.empty() && fromB.empty()) break;
      for (auto& d : fromA)
        if (filter(true, sentByA++, d)) b.feed(d, now), ++delivered;
      for (auto& d : fromB)
        if (filter(false, sentByB++, d)) a.feed(d, now), ++delivered;
    }
    return delivered;
  }

  // Real time: pumps and fires timers until `done` or `limit` passes.
  bool runUntil(const std::function<bool()>& done, std::chrono::milliseconds limit) {
    const auto end = std::chrono::steady_clock::now() + limit;
    while (std::chrono::steady_clock::now() < end) {
      const TimePoint now = std::chrono::steady_clock::now();
      a.handleTimeout(now);
      b.handleTimeout(now);
      pump(now);
      if (done()) return true;
      std::optional<TimePoint> next;
      for (auto t : {a.nextTimeout(), b.nextTimeout()})
        if (t && (!next || *t < *next)) next = t;
      const TimePoint cap = now + std::chrono::milliseconds(5);
      std::this_thread::sleep_until(next ? std::min(*next, cap) : cap);
    }
    return done();
  }
};

}  // namespace conclave::dtls::test
