// SRTP cost per packet: the SFU unprotects each packet once on arrival and protects it once per
// subscriber, so protect of a 1200-byte RTP packet bounds how many packets a core can forward.
// items_per_second = packets/s; Time = ns per packet.
#include <benchmark/benchmark.h>

#include <cstring>
#include <vector>

#include "common/bytes.h"
#include "srtp/srtp_session.h"

namespace {

using namespace conclave::srtp;

SrtpKeyMaterial keysFor(SrtpProfile profile, uint8_t seed) {
  const auto params = srtpProfileParams(profile);
  std::vector<uint8_t> key(params.masterKeyLength, seed), salt(params.masterSaltLength, static_cast<uint8_t>(seed + 1));
  return *SrtpKeyMaterial::make(profile, key, salt);
}

std::vector<uint8_t> rtpPacket(size_t size, uint16_t seq) {
  std::vector<uint8_t> p(size + kSrtpMaxRtcpTrailer, 0x5a);
  conclave::common::ByteWriter w(p);
  w.u8(0x90);  // with a one-byte header extension, as browsers send
  w.u8(96);
  w.u16(seq);
  w.u32(3000u * seq);
  w.u32(0x12345678);
  w.u16(0xBEDE);
  w.u16(2);
  w.u32(0x10ff2200);  // abs-send-time-ish
  w.u32(0x30010000);  // transport-wide seq
  return p;
}

void protectRtp(benchmark::State& state, SrtpProfile profile) {
  const size_t size = static_cast<size_t>(state.range(0));
  SrtpSession session(profile, keysFor(profile, 1), keysFor(profile, 2));
  const auto plain = rtpPacket(size, 0);
  std::vector<uint8_t> buffer(plain.size());
  uint16_t seq = 0;
  for (auto _ : state) {
    std::memcpy(buffer.data(), plain.data(), size);  // the forwarding copy the SFU makes anyway
    conclave::common::storeU16(&buffer[2], ++seq);
    size_t len = size;
    if (session.protectRtp(buffer, len) != SrtpResult::Ok) state.SkipWithError("protect failed");
    benchmark::DoNotOptimize(buffer.data());
  }
  state.SetItemsProcessed(static_cast<int64_t>(state.iterations()));
  state.SetBytesProcessed(static_cast<int64_t>(state.iterations() * size));
}

void unprotectRtp(benchmark::State& state, SrtpProfile profile) {
  const size_t size = static_cast<size_t>(state.range(0));
  SrtpSession sender(profile, keysFor(profile, 1), keysFor(profile, 2));
  SrtpSession receiver(profile, keysFor(profile, 2), keysFor(profile, 1));
  // Pre-protect a window of packets and unprotect them in order (then reset the stream).
  constexpr size_t kPackets = 4096;
  std::vector<std::vector<uint8_t>> packets;
  std::vector<size_t> lengths;
  for (size_t i = 0; i < kPackets; ++i) {
    auto p = rtpPacket(size, static_cast<uint16_t>(i + 1));
    size_t len = size;
    if (sender.protectRtp(p, len) != SrtpResult::Ok) state.SkipWithError("protect failed");
    packets.push_back(std::move(p));
    lengths.push_back(len);
  }
  std::vector<uint8_t> buffer(packets[0].size());
  size_t i = 0;
  for (auto _ : state) {
    std::memcpy(buffer.data(), packets[i].data(), lengths[i]);
    size_t len = lengths[i];
    if (receiver.unprotectRtp(buffer, len) != SrtpResult::Ok) state.SkipWithError("unprotect failed");
    benchmark::DoNotOptimize(buffer.data());
    if (++i == kPackets) {
      i = 0;
      state.PauseTiming();
      receiver.removeInboundSsrc(0x12345678);  // replay state starts afresh for the next lap
      state.ResumeTiming();
    }
  }
  state.SetItemsProcessed(static_cast<int64_t>(state.iterations()));
  state.SetBytesProcessed(static_cast<int64_t>(state.iterations() * size));
}

void BM_ProtectRtp_AesCm128HmacSha1_80(benchmark::State& s) { protectRtp(s, SrtpProfile::AesCm128HmacSha1_80); }
void BM_ProtectRtp_AeadAes128Gcm(benchmark::State& s) { protectRtp(s, SrtpProfile::AeadAes128Gcm); }
void BM_UnprotectRtp_AesCm128HmacSha1_80(benchmark::State& s) { unprotectRtp(s, SrtpProfile::AesCm128HmacSha1_80); }
void BM_UnprotectRtp_AeadAes128Gcm(benchmark::State& s) { unprotectRtp(s, SrtpProfile::AeadAes128Gcm); }

}  // namespace

BENCHMARK(BM_ProtectRtp_AesCm128HmacSha1_80)->Arg(1200)->Arg(200);
BENCHMARK(BM_ProtectRtp_AeadAes128Gcm)->Arg(1200)->Arg(200);
// One session per thread, as with one media worker per core: shows whether the crypto backend
// (NSS, in Debian's libsrtp2) serializes workers. Compare items_per_second with 1 and 2 threads.
BENCHMARK(BM_ProtectRtp_AeadAes128Gcm)->Arg(1200)->Threads(1)->Threads(2)->UseRealTime();
BENCHMARK(BM_UnprotectRtp_AesCm128HmacSha1_80)->Arg(1200);
BENCHMARK(BM_UnprotectRtp_AeadAes128Gcm)->Arg(1200);

BENCHMARK_MAIN();
