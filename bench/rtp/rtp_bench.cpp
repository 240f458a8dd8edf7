// The per-packet work of forwarding: parse a 1200-byte video packet and rewrite it for a
// subscriber, and copy it into the NACK cache. Also transport-cc feedback parse and build.
#include <benchmark/benchmark.h>

#include <array>
#include <chrono>
#include <vector>

#include "rtcp/transport_cc.h"
#include "rtp/header_extensions.h"
#include "rtp/packet.h"
#include "rtp/packet_cache.h"
#include "rtp/packet_writer.h"
#include "rtp/stream_rewriter.h"
#include "rtp/vp8.h"

using namespace conclave;

namespace {

// A 1200-byte VP8 packet with the extensions Chromium sends (abs-send-time 2, transport-cc 3,
// mid 4) and a VP8 descriptor with picture id, TL0PICIDX and TID.
std::vector<uint8_t> videoPacket() {
  const uint8_t ast[] = {0x1b, 0x9f, 0x40};
  const uint8_t twcc[] = {0x00, 0x06};
  const uint8_t mid[] = {'1'};
  const rtp::ExtensionValue exts[] = {{2, ast}, {3, twcc}, {4, mid}};
  std::vector<uint8_t> payload(1200 - 28, 0x42);
  const uint8_t descriptor[] = {0x90, 0xe0, 0xb5, 0x01, 0x5a, 0x20, 0xd1};
  std::copy(std::begin(descriptor), std::end(descriptor), payload.begin());
  std::vector<uint8_t> out(1500);
  const rtp::RtpHeader h{true, 96, 8674, 1207888924, 0xfc91b0bd, {}};
  out.resize(rtp::writeRtpPacket(out, h, exts, payload));
  return out;
}

void BM_ParseAndRewriteSeqTsSsrc(benchmark::State& state) {
  auto buf = videoPacket();
  uint16_t seq = 0;
  for (auto _ : state) {
    auto p = rtp::RtpPacket::parse(buf);
    p->setSequenceNumber(seq++);
    p->setTimestamp(p->timestamp() + 3000);
    p->setSsrc(0x12345678);
    benchmark::DoNotOptimize(buf.data());
  }
  state.SetBytesProcessed(static_cast<int64_t>(state.iterations() * buf.size()));
}
BENCHMARK(BM_ParseAndRewriteSeqTsSsrc);

// What a subscriber's forwarding path does per packet: parse, VP8 descriptor, rewrite through
// the StreamRewriter, stamp the transport-wide sequence number, remap extension ids.
void BM_ForwardToSubscriber(benchmark::State& state) {
  auto buf = videoPacket();
  rtp::StreamRewriter rewriter(0xABCDEF01, 90000, 1000, 5000);
  rtp::ExtensionIdMap map;
  map.set(2, 2);
  map.set(3, 3);
  map.set(4, 4);
  uint16_t seq = 0;
  uint16_t twcc = 0;
  const common::TimePoint now{};
  for (auto _ : state) {
    auto p = rtp::RtpPacket::parse(buf);
    p->setSequenceNumber(seq++);
    p->setSsrc(0xfc91b0bd);
    benchmark::DoNotOptimize(rtp::Vp8Descriptor::parse(p->payload()));
    benchmark::DoNotOptimize(rewriter.rewrite(*p, now));
    rtp::setTransportSequenceNumber(*p, 3, twcc++);
    p->remapExtensions(map);
    benchmark::DoNotOptimize(buf.data());
  }
}
BENCHMARK(BM_ForwardToSubscriber);

void BM_CacheInsert(benchmark::State& state) {
  const auto buf = videoPacket();
  rtp::PacketCache cache(512);
  uint16_t seq = 0;
  const common::TimePoint now{};
  for (auto _ : state) {
    benchmark::DoNotOptimize(cache.insert(buf, seq++, now));
  }
  state.SetBytesProcessed(static_cast<int64_t>(state.iterations() * buf.size()));
}
BENCHMARK(BM_CacheInsert);

void BM_CacheGet(benchmark::State& state) {
  const auto buf = videoPacket();
  rtp::PacketCache cache(512);
  for (uint16_t s = 0; s < 512; ++s) cache.insert(buf, s, {});
  uint16_t seq = 0;
  for (auto _ : state) {
    benchmark::DoNotOptimize(cache.get(seq++ & 511));
  }
}
BENCHMARK(BM_CacheGet);

std::vector<uint8_t> twccFeedback(size_t packets) {
  rtcp::TransportCcBuilder builder(1, 2);
  builder.reset(0);
  int64_t t = 1'000'000;
  for (size_t s = 0; s < packets; ++s) {
    t += (s % 5 == 0) ? 20'000 : 700;
    if (s % 13 != 7) builder.addReceived(static_cast<uint16_t>(s), t);
  }
  std::vector<uint8_t> out(builder.size());
  common::ByteWriter w(out);
  builder.write(w);
  return out;
}

void BM_TransportCcParse100(benchmark::State& state) {
  const auto bytes = twccFeedback(100);
  for (auto _ : state) {
    const auto fb = rtcp::TransportCcFeedback::parse(std::span<const uint8_t>(bytes));
    int64_t sum = 0;
    fb->forEachPacket([&](const rtcp::TransportCcPacket& p) { sum += p.arrivalUs; });
    benchmark::DoNotOptimize(sum);
  }
}
BENCHMARK(BM_TransportCcParse100);

void BM_TransportCcBuild100(benchmark::State& state) {
  std::array<uint8_t, 1500> out{};
  rtcp::TransportCcBuilder builder(1, 2);
  for (auto _ : state) {
    builder.reset(0);
    int64_t t = 1'000'000;
    for (uint16_t s = 0; s < 100; ++s) {
      t += (s % 5 == 0) ? 20'000 : 700;
      if (s % 13 != 7) builder.addReceived(s, t);
    }
    common::ByteWriter w(out);
    benchmark::DoNotOptimize(builder.write(w));
  }
}
BENCHMARK(BM_TransportCcBuild100);

}  // namespace

BENCHMARK_MAIN();
