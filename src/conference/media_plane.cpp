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
  for (int i = 0; i < settings.workers; ++i) {
    uint16_t port = settings.port == 0 ? 0 : static_cast<uint16_t>(settings.port + i);
    mWorkers.push_back(
        std::make_unique<sfu::MediaWorker>(i, settings.listen, port, mDtls, static_cast<sfu::RouterObserver*>(this)));
  }
  mRoomsPerWorker.assign(mWorkers.size(), 0);
}

MediaPlane::~MediaPlane() { stop(); }

void MediaPlane::start() {
  for (auto& w : mWorkers) {
    w->start();
    common::logger("media")->info("media worker {} on UDP port {}", w->index(), w->port());
  }
}

void MediaPlane::stop() {
  for (auto& w : mWorkers) w->stop();
}

std::unique_ptr<MediaRoom> MediaPlane::createRoom(const std::string& roomId) {
  // Rooms are spread by count; a room never moves.
  auto least = std::min_element(mRoomsPerWorker.begin(), mRoomsPerWorker.end()) - mRoomsPerWorker.begin();
  ++mRoomsPerWorker[static_cast<size_t>(least)];
  auto room = std::make_unique<MediaRoom>(roomId, *mWorkers[static_cast<size_t>(least)], mEnv);
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
