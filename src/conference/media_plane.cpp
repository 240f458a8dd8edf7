#include "conference/media_plane.h"

#include <algorithm>
#include <array>
#include <string>

#include "common/log.h"

namespace conclave::conference {
namespace {

struct WorkerMetric {
  std::string_view name;
  common::MetricsText::Type type;
  std::string_view help;
  const std::atomic<uint64_t> sfu::MediaWorker::Counters::*field;
};

using Counters = sfu::MediaWorker::Counters;
constexpr auto kCounter = common::MetricsText::Type::Counter;
constexpr auto kGauge = common::MetricsText::Type::Gauge;

// The worker's own counters on /metrics (the Router statistics come from sfu::kRouterStatMetrics).
constexpr std::array kWorkerMetrics{
    WorkerMetric{"conclave_worker_rooms", kGauge, "Rooms whose media this worker carries.", &Counters::rooms},
    WorkerMetric{"conclave_worker_packets_in_total", kCounter, "UDP datagrams received.", &Counters::datagramsReceived},
    WorkerMetric{"conclave_worker_bytes_in_total", kCounter, "UDP bytes received.", &Counters::bytesReceived},
    WorkerMetric{"conclave_worker_packets_out_total", kCounter, "UDP datagrams sent.", &Counters::datagramsSent},
    WorkerMetric{"conclave_worker_send_messages_total", kCounter,
                 "Send messages given to the kernel (UDP GSO sends a burst to one subscriber as one).",
                 &Counters::messagesSent},
    WorkerMetric{"conclave_worker_bytes_out_total", kCounter, "UDP bytes handed to the socket.", &Counters::bytesSent},
    WorkerMetric{"conclave_worker_packets_unrouted_total", kCounter,
                 "UDP datagrams that belonged to no transport (dropped).", &Counters::datagramsUnrouted},
    WorkerMetric{"conclave_worker_packets_shed_total", kCounter,
                 "RTP/RTCP datagrams dropped unread because they had waited in the socket too long (overload).",
                 &Counters::datagramsShed},
    WorkerMetric{"conclave_worker_tcp_connections", kGauge, "ICE-TCP connections open.", &Counters::tcpConnections},
};

// One of a fan-out link's counters, summed over the links a worker has with the others: those it
// writes as a room's home worker (outbound) or as the worker hosting the transports (inbound).
struct FanoutMetric {
  std::string_view direction;  // of the ring: "to_transport" (media) or "to_home" (RTCP)
  bool outbound;               // the worker's links as home worker, else as transport worker
  const std::atomic<uint64_t>* (*field)(const sfu::FanoutLink&);
};

// The sum of `metric` over worker `w`'s links with the other workers.
uint64_t fanoutSum(sfu::MediaWorker& w, size_t workers, const FanoutMetric& metric) {
  uint64_t sum = 0;
  for (size_t peer = 0; peer < workers; ++peer) {
    const auto index = static_cast<int>(peer);
    const sfu::FanoutLink* link = metric.outbound ? w.fanout().outboundLink(index) : w.fanout().inboundLink(index);
    if (link) sum += metric.field(*link)->load(std::memory_order_relaxed);
  }
  return sum;
}

}  // namespace

MediaPlane::MediaPlane(const MediaSettings& settings, std::function<void(std::function<void()>)> postToControl,
                       std::function<void(common::Duration, std::function<void()>)> schedule)
    : mCertificate(common::Certificate::generateSelfSigned("conclave-dtls", std::chrono::hours(24 * 30))),
      mDtls(mCertificate),
      mPostToControl(std::move(postToControl)) {
  mEnv.fingerprint = sdp::Fingerprint{"sha-256", {}};
  auto digest = mCertificate.sha256Fingerprint();
  mEnv.fingerprint.bytes.assign(digest.begin(), digest.end());
  mEnv.announcedAddresses = settings.announcedAddresses;
  mEnv.schedule = std::move(schedule);
  mEnv.maxRoomTracks = settings.maxRoomTracks;
  mEnv.clock = settings.clock;
  for (int i = 0; i < settings.workers; ++i) {
    uint16_t port = settings.port == 0 ? 0 : static_cast<uint16_t>(settings.port + i);
    mWorkers.push_back(
        std::make_unique<sfu::MediaWorker>(i, settings.listen, port, mDtls, static_cast<sfu::RouterObserver*>(this)));
  }
  mRoomsPerWorker.assign(mWorkers.size(), 0);
  std::vector<sfu::MediaWorker*> workers;
  for (auto& w : mWorkers) workers.push_back(w.get());
  mPlacement = std::make_unique<Placement>(workers, settings.fanoutThreshold);
  // The links of one room's fan-out across workers, made before any worker thread starts.
  if (mPlacement->enabled()) sfu::connectWorkers(workers);
}

MediaPlane::~MediaPlane() { stop(); }

void MediaPlane::start() {
  for (auto& w : mWorkers) {
    w->start();
    common::logger("media")->info("media worker {} on UDP port {}", w->index(), w->port());
  }
  if (mPlacement->enabled())
    common::logger("media")->info("a worker hosting over {} subscribed streams hands new subscribers to another",
                                  mPlacement->threshold());
}

void MediaPlane::stop() {
  for (auto& w : mWorkers) w->stop();
}

std::unique_ptr<MediaRoom> MediaPlane::createRoom(const std::string& roomId) {
  // Rooms are spread by count; a room never moves.
  auto least = std::min_element(mRoomsPerWorker.begin(), mRoomsPerWorker.end()) - mRoomsPerWorker.begin();
  ++mRoomsPerWorker[static_cast<size_t>(least)];
  auto room = std::make_unique<MediaRoom>(roomId, *mWorkers[static_cast<size_t>(least)], mEnv, mPlacement.get());
  return room;
}

void MediaPlane::roomClosed(int workerIndex) {
  auto& n = mRoomsPerWorker.at(static_cast<size_t>(workerIndex));
  if (n > 0) --n;
}

void MediaPlane::writeMetrics(common::MetricsText& out) const {
  out.gauge("conclave_media_workers", "Media workers (threads with a UDP port each).", mWorkers.size());
  for (const auto& metric : kWorkerMetrics) {
    out.family(metric.name, metric.type, metric.help);
    for (const auto& w : mWorkers) {
      auto index = std::to_string(w->index());
      out.sample((w->counters().*metric.field).load(std::memory_order_relaxed), {{"worker", index}});
    }
  }
  for (size_t i = 0; i < sfu::kRouterStatMetrics.size(); ++i) {
    out.family(sfu::kRouterStatMetrics[i].name, kCounter, sfu::kRouterStatMetrics[i].help);
    for (const auto& w : mWorkers) {
      auto index = std::to_string(w->index());
      out.sample(w->counters().routerStats[i].load(std::memory_order_relaxed), {{"worker", index}});
    }
  }
  writeFanoutMetrics(out);
}

void MediaPlane::writeFanoutMetrics(common::MetricsText& out) const {
  if (!mPlacement->enabled()) return;  // no links between workers
  // The links are made before the workers start and never change, so any thread may list them;
  // their counters are relaxed atomics, each written by one worker.
  using Link = sfu::FanoutLink;
  struct Family {
    std::string_view name;
    std::string_view help;
    std::vector<FanoutMetric> metrics;
  };
  const std::array families{
      Family{"conclave_worker_fanout_records_total",
             "Records a worker wrote into its links with other workers: to_transport, packets of its rooms for "
             "subscribers another worker hosts; to_home, RTCP of subscribers it hosts for their rooms' worker.",
             {{"to_transport", true, [](const Link& l) { return &l.home().mediaRecords; }},
              {"to_home", false, [](const Link& l) { return &l.transport().rtcpRecords; }}}},
      Family{"conclave_worker_fanout_refused_total",
             "Records a worker did not write into a link (dropped): the ring was full, or (to_home) the "
             "subscriber's RTCP was over its budget.",
             {{"to_transport", true, [](const Link& l) { return &l.home().mediaRefused; }},
              {"to_home", false, [](const Link& l) { return &l.transport().rtcpRefused; }}}},
      Family{"conclave_worker_fanout_sent_total",
             "Records from other workers' rooms a worker sent on to the subscribers it hosts.",
             {{"to_transport", false, [](const Link& l) { return &l.transport().mediaSent; }}}},
      Family{"conclave_worker_fanout_stale_total",
             "Records a worker read from a link and dropped: for a transport already gone, or (to_transport) one "
             "that could not send (no ICE pair, SRTP refused).",
             {{"to_transport", false, [](const Link& l) { return &l.transport().mediaStale; }},
              {"to_home", true, [](const Link& l) { return &l.home().rtcpStale; }}}},
      Family{"conclave_worker_fanout_expired_total",
             "Records a worker read from a link and dropped because they had waited longer than its maximum "
             "queue delay (it had fallen behind): to_transport, packets it did not send; to_home, subscribers' "
             "RTCP it did not hand to the room.",
             {{"to_transport", false, [](const Link& l) { return &l.transport().mediaExpired; }},
              {"to_home", true, [](const Link& l) { return &l.home().rtcpExpired; }}}},
  };
  for (const auto& family : families) {
    out.family(family.name, kCounter, family.help);
    for (const auto& metric : family.metrics) {
      for (const auto& w : mWorkers) {
        auto index = std::to_string(w->index());
        out.sample(fanoutSum(*w, mWorkers.size(), metric), {{"worker", index}, {"direction", metric.direction}});
      }
    }
  }
  out.family("conclave_worker_subscribed_streams", kGauge,
             "Subscribed streams whose subscribe transport the worker hosts, as the control plane counts them for "
             "placement (fanout_threshold).");
  for (const auto& w : mWorkers)
    out.sample(uint64_t{mPlacement->streams(w->index())}, {{"worker", std::to_string(w->index())}});
}

void MediaPlane::onTransportFailed(const std::string& participantId, sfu::TransportRole role, std::string_view) {
  // Worker thread: hand over to the control thread.
  mPostToControl([this, participantId, role] {
    if (transportFailedHandler) transportFailedHandler(participantId, role);
  });
}

void MediaPlane::onTransportSecured(const std::string& participantId, sfu::TransportRole role,
                                    std::string_view srtpProfile) {
  // Worker thread: hand over to the control thread.
  mPostToControl([this, participantId, role, profile = std::string(srtpProfile)] {
    if (transportSecuredHandler) transportSecuredHandler(participantId, role, profile);
  });
}

}  // namespace conclave::conference
