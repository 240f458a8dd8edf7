#include "load/report.h"

#include <dirent.h>
#include <unistd.h>

#include <nlohmann/json.hpp>

#include <fstream>

#include "clients/proc_stat.h"

namespace conclave::bench::load {
namespace {

struct Derived {
  double forwardedPerSecond = 0;
  double lossPercent = 0, residualLossPercent = 0;
  double p50Ms = 0, p99Ms = 0, maxMs = 0;
  double waitP99Ms = 0, waitMaxMs = 0;  // in the load tool's sockets
  std::optional<double> serverCpuPercent, serverCpuPerMillion, rssDeltaPerStreamKib, rssDeltaPerSessionKib,
      serverWaitPercent;
  double loadCpuPercent = 0, loadWaitPercent = 0;
};

Derived derive(const Results& r) {
  Derived d;
  const ClientStats& s = r.stats;
  const double wall = std::max(r.seconds, 1e-9);
  d.forwardedPerSecond = double(s.rtpReceived) / wall;
  const double expected = double(s.rtpReceived + s.lost);
  if (expected > 0) {
    d.lossPercent = 100.0 * double(s.lost) / expected;
    d.residualLossPercent = 100.0 * double(s.lost - std::min(s.lost, s.repaired)) / expected;
  }
  if (s.latency.count > 0) {
    d.p50Ms = s.latency.percentileUs(0.5) / 1e3;
    d.p99Ms = s.latency.percentileUs(0.99) / 1e3;
    d.maxMs = double(s.latency.maxNs) / 1e6;
  }
  if (s.receiveWait.count > 0) {
    d.waitP99Ms = s.receiveWait.percentileUs(0.99) / 1e3;
    d.waitMaxMs = double(s.receiveWait.maxNs) / 1e6;
  }
  if (r.serverStart && r.serverEnd) {
    const double cpu = r.serverEnd->cpuSeconds - r.serverStart->cpuSeconds;
    d.serverCpuPercent = 100.0 * cpu / wall;
    d.serverWaitPercent = 100.0 * (r.serverEnd->runQueueSeconds - r.serverStart->runQueueSeconds) / wall;
    if (s.rtpReceived > 0) d.serverCpuPerMillion = cpu / (double(s.rtpReceived) / 1e6);
    if (r.serverBefore && r.streams > 0 && r.sessions > 0) {
      const double delta = double(r.serverEnd->rssKib - r.serverBefore->rssKib);
      d.rssDeltaPerStreamKib = delta / double(r.streams);
      d.rssDeltaPerSessionKib = delta / double(r.sessions);
    }
  }
  if (r.loadStart && r.loadEnd) {
    d.loadCpuPercent = 100.0 * (r.loadEnd->cpuSeconds - r.loadStart->cpuSeconds) / wall;
    d.loadWaitPercent = 100.0 * (r.loadEnd->runQueueSeconds - r.loadStart->runQueueSeconds) / wall;
  }
  return d;
}

unsigned long long u(uint64_t v) { return static_cast<unsigned long long>(v); }

}  // namespace

std::optional<ProcessSample> ProcessSample::read(pid_t pid) {
  ProcessSample sample;
  const auto ticks = cpuTicksOf(int(pid));
  if (!ticks) return std::nullopt;
  sample.cpuSeconds = double(*ticks) / double(sysconf(_SC_CLK_TCK));
  std::string line;
  const std::string tasks = "/proc/" + std::to_string(pid) + "/task";
  if (DIR* dir = ::opendir(tasks.c_str())) {
    while (const dirent* e = ::readdir(dir)) {
      if (e->d_name[0] == '.') continue;
      std::ifstream schedstat(tasks + "/" + e->d_name + "/schedstat");
      uint64_t runNs = 0, waitNs = 0;
      if (schedstat >> runNs >> waitNs) sample.runQueueSeconds += double(waitNs) / 1e9;
    }
    ::closedir(dir);
  }
  std::ifstream status("/proc/" + std::to_string(pid) + "/status");
  while (std::getline(status, line))
    if (line.rfind("VmRSS:", 0) == 0) sample.rssKib = std::stoll(line.substr(6));
  return sample;
}

void printTable(FILE* out, const Results& r) {
  const Derived d = derive(r);
  const ClientStats& s = r.stats;
  std::fprintf(out,
               "%s on %s: %d sessions (%d publish, %d receive; %d receiving on every stream, %d "
               "connections failed, %d signaling problems), %zu subscribed streams, layer %s\n",
               r.scenario.c_str(), r.server.c_str(), r.sessions, r.publishers, r.receivers, r.receiving, r.failed,
               r.problems, r.streams, r.layer.c_str());
  if (r.failed > 0)
    std::fprintf(out, "  failed connections  %d without an ICE answer, %d without DTLS\n", r.failedIce, r.failedDtls);
  if (!r.problemKinds.empty()) {
    std::fprintf(out, "  signaling problems ");
    for (const auto& [kind, count] : r.problemKinds) std::fprintf(out, " %s x%d;", kind.c_str(), count);
    std::fprintf(out, "\n");
  }
  std::fprintf(out, "  window              %.1f s, after %.1f s of warm-up (%s)\n", r.seconds, r.warmupSeconds,
               r.layer == "-" ? "no video"
               : r.settled    ? "every video on its layer"
                              : "not every video on its layer");
  std::fprintf(out, "  forwarded           %.0f RTP/s received by subscribers (%llu packets; %llu streams silent)\n",
               d.forwardedPerSecond, u(s.rtpReceived), u(r.silentStreams));
  std::fprintf(out, "  by layer            q %llu, h %llu, f %llu, audio %llu (decrypted packets)\n", u(s.byLayer[0]),
               u(s.byLayer[1]), u(s.byLayer[2]), u(s.byLayer[3]));
  std::fprintf(out, "  latency             p50 %.2f ms, p99 %.2f ms, max %.2f ms (%llu decrypted packets)\n", d.p50Ms,
               d.p99Ms, d.maxMs, u(s.latency.count));
  std::fprintf(out, "  load tool's queue   p99 %.2f ms, max %.2f ms (RTP waiting in its sockets; not in the latency)\n",
               d.waitP99Ms, d.waitMaxMs);
  std::fprintf(out, "  loss                %.3f %% (%llu lost), %.3f %% after repair (%llu NACKed, %llu RTX)\n",
               d.lossPercent, u(s.lost), d.residualLossPercent, u(s.nacked), u(s.rtxReceived));
  std::fprintf(out, "  jitter              mean %.2f ms, max %.2f ms (RFC 3550, per stream)\n", r.jitterMeanMs,
               r.jitterMaxMs);
  if (d.serverCpuPercent) {
    std::fprintf(out,
                 "  server CPU          %.1f %% of a core, %.2f s per million forwarded packets; its threads waited "
                 "for a CPU %.1f %% of the time (summed)\n",
                 *d.serverCpuPercent, d.serverCpuPerMillion.value_or(0), d.serverWaitPercent.value_or(0));
    std::fprintf(out, "  server RSS          %lld KiB (%+lld KiB since before the load", (long long)r.serverEnd->rssKib,
                 (long long)(r.serverEnd->rssKib - (r.serverBefore ? r.serverBefore->rssKib : 0)));
    if (d.rssDeltaPerStreamKib)
      std::fprintf(out, ", %.1f KiB per subscribed stream, %.1f KiB per session", *d.rssDeltaPerStreamKib,
                   *d.rssDeltaPerSessionKib);
    std::fprintf(out, ")\n");
  }
  std::fprintf(out,
               "  load tool CPU       %.1f %% of a core (media threads %.1f %%, signaling %.1f %%); waited for a CPU "
               "%.1f %%\n",
               d.loadCpuPercent, 100.0 * r.loadMediaCpuSeconds / std::max(r.seconds, 1e-9),
               100.0 * r.loadSignalingCpuSeconds / std::max(r.seconds, 1e-9), d.loadWaitPercent);
  if (r.loadEnd) std::fprintf(out, "  load tool RSS       %lld KiB\n", (long long)r.loadEnd->rssKib);
  std::fprintf(out, "  set-up              every session receiving after %.1f s\n", r.readySeconds);
  std::fprintf(out,
               "  publishers          sent %llu RTP, %llu RTX; got %llu PLI, %llu FIR, %llu NACK, %llu transport-cc\n",
               u(s.rtpSent), u(s.rtxSent), u(s.plis), u(s.firs), u(s.nacksToPublishers), u(s.feedbackToPublishers));
  std::fprintf(
      out,
      "  errors              srtp %llu (replays %llu, RTCP %llu), wrong stream %llu, unknown SSRC %llu, picture "
      "ID jumps %llu\n",
      u(s.srtpFailures), u(s.srtpReplays), u(s.srtpRtcp), u(s.wrongPublisher), u(s.unknownSsrc), u(s.pictureIdJumps));
}

void printJson(FILE* out, const Results& r) {
  const Derived d = derive(r);
  auto optional = [](const std::optional<double>& v) { return v ? nlohmann::json(*v) : nlohmann::json(nullptr); };
  nlohmann::json j = {
      {"scenario", r.scenario},
      {"server", r.server},
      {"sessions", r.sessions},
      {"publishers", r.publishers},
      {"receivers", r.receivers},
      {"receiving", r.receiving},
      {"failed_connections", r.failed},
      {"failed_ice", r.failedIce},
      {"failed_dtls", r.failedDtls},
      {"signaling_problems", r.problems},
      {"problem_kinds", r.problemKinds},
      {"layer", r.layer},
      {"subscribed_streams", r.streams},
      {"window_s", r.seconds},
      {"warmup_s", r.warmupSeconds},
      {"settled", r.settled},
      {"forwarded_pps", d.forwardedPerSecond},
      {"server_cpu_pct", optional(d.serverCpuPercent)},
      {"server_cpu_s_per_mpkt", optional(d.serverCpuPerMillion)},
      {"latency_p50_ms", d.p50Ms},
      {"latency_p99_ms", d.p99Ms},
      {"latency_max_ms", d.maxMs},
      {"load_receive_wait_p99_ms", d.waitP99Ms},
      {"load_receive_wait_max_ms", d.waitMaxMs},
      {"loss_pct", d.lossPercent},
      {"residual_loss_pct", d.residualLossPercent},
      {"jitter_ms", r.jitterMeanMs},
      {"server_rss_kib", r.serverEnd ? nlohmann::json(r.serverEnd->rssKib) : nlohmann::json(nullptr)},
      {"server_rss_kib_per_stream", optional(d.rssDeltaPerStreamKib)},
      {"server_rss_kib_per_session", optional(d.rssDeltaPerSessionKib)},
      {"server_cpu_wait_pct", optional(d.serverWaitPercent)},
      {"load_cpu_pct", d.loadCpuPercent},
      {"load_cpu_wait_pct", d.loadWaitPercent},
      {"load_rss_kib", r.loadEnd ? nlohmann::json(r.loadEnd->rssKib) : nlohmann::json(nullptr)},
      {"ready_s", r.readySeconds},
      {"decrypted", r.stats.decrypted},
      {"srtp_failures", r.stats.srtpFailures},
      {"wrong_stream", r.stats.wrongPublisher},
  };
  std::fprintf(out, "%s\n", j.dump().c_str());
}

void printComparison(FILE* table, FILE* json, const Results& conclave, const Results& other) {
  // Packets forwarded per second of server CPU (0: the server's CPU time is unknown or none).
  auto perCpuSecond = [](const Results& r) {
    const double cpu = r.serverStart && r.serverEnd ? r.serverEnd->cpuSeconds - r.serverStart->cpuSeconds : 0;
    return cpu > 0 ? double(r.stats.rtpReceived) / cpu : 0.0;
  };
  const double a = perCpuSecond(conclave), b = perCpuSecond(other);
  const bool known = a > 0 && b > 0;
  const Derived da = derive(conclave), db = derive(other);
  std::fprintf(table, "\n%s, %s vs %s: forwarded packets per server CPU-second %.0f vs %.0f", conclave.scenario.c_str(),
               conclave.server.c_str(), other.server.c_str(), a, b);
  if (known) std::fprintf(table, ", ratio %.2f", a / b);
  else std::fprintf(table, ", no ratio (a server's CPU time is unknown, or it forwarded nothing)");
  std::fprintf(table, "; forwarded %.0f vs %.0f RTP/s, latency p50 %.2f vs %.2f ms, p99 %.2f vs %.2f ms\n",
               da.forwardedPerSecond, db.forwardedPerSecond, da.p50Ms, db.p50Ms, da.p99Ms, db.p99Ms);
  auto orNull = [](double v) { return v > 0 ? nlohmann::json(v) : nlohmann::json(nullptr); };
  const nlohmann::json j = {
      {"comparison", conclave.scenario},
      {"servers", {conclave.server, other.server}},
      {"forwarded_per_server_cpu_s", {orNull(a), orNull(b)}},
      {"ratio", known ? nlohmann::json(a / b) : nlohmann::json(nullptr)},
  };
  std::fprintf(json, "%s\n", j.dump().c_str());
}

}  // namespace conclave::bench::load
