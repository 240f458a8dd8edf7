// The media plane as the control plane sees it: the media workers (threads with a UDP port
// each), the DTLS certificate of this server start, and where each room's media lives.
#pragma once

#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "common/certificate.h"
#include "common/metrics_text.h"
#include "conference/media_room.h"
#include "conference/placement.h"
#include "dtls/dtls_context.h"
#include "sfu/worker.h"

namespace conclave::conference {

struct MediaSettings {
  std::string listen = "::";  // one dual-stack socket per worker (see net::UdpSocket)
  std::vector<std::string> announcedAddresses{"127.0.0.1"};
  uint16_t port = 40000;  // worker i listens on port + i; 0: any free port
  int workers = 1;
  size_t maxRoomTracks = 200;  // published tracks per room (config: max_room_tracks)
  // Subscribed streams a worker hosts before new subscribers of its rooms get their transports on
  // the worker hosting the fewest (config: fanout_threshold; 0: never, docs/fanout.md).
  size_t fanoutThreshold = kDefaultFanoutThreshold;
  // What the participants' budgets (ICE restarts) count time with; null: the steady clock. Tests
  // pass a common::ManualClock, which must outlive the plane.
  const common::Clock* clock = nullptr;

  // One core forwards ~200,000 packets/s of the measured mix (4-5 us each, bench/README.md); a
  // subscribed stream is 50 packets/s (Opus) to ~250 (VP8 at 2.5 Mbit/s), so a core carries
  // ~800 full-size video streams or ~4,000 audio ones. 500 hands subscribers on well before the
  // worst case fills a core (~0.6 of one), while a 10-person meeting (180 streams) stays whole.
  static constexpr size_t kDefaultFanoutThreshold = 500;
};

class MediaPlane final : private sfu::RouterObserver {
 public:
  // `postToControl` runs a task on the control thread; `schedule` after a delay.
  MediaPlane(const MediaSettings& settings, std::function<void(std::function<void()>)> postToControl,
             std::function<void(common::Duration, std::function<void()>)> schedule);
  ~MediaPlane() override;

  void start();
  void stop();

  // The media side of a new room, on the least loaded worker.
  std::unique_ptr<MediaRoom> createRoom(const std::string& roomId);
  void roomClosed(int workerIndex);
  // Called on the control thread when a participant's transport lost ICE.
  std::function<void(const std::string& participantId, sfu::TransportRole role)> transportFailedHandler;
  // Called on the control thread when a participant's transport finished DTLS (its SRTP profile).
  std::function<void(const std::string& participantId, sfu::TransportRole role, const std::string& srtpProfile)>
      transportSecuredHandler;

  const std::vector<std::unique_ptr<sfu::MediaWorker>>& workers() const { return mWorkers; }
  // Appends the workers' counters (one sample per worker, labelled worker="<index>") to /metrics,
  // and, when workers are linked for fan-out, their links' counters (labelled worker and
  // direction) and the subscribed streams each hosts. Control thread: the workers' counters are
  // relaxed atomics they publish without locks, the streams are the Placement's.
  void writeMetrics(common::MetricsText& out) const;
  const MediaEnvironment& environment() const { return mEnv; }
  // Where subscribe transports go, and the subscribed streams each worker hosts (control thread).
  const Placement& placement() const { return *mPlacement; }
  // How long a media address that stops answering ICE consent checks is still used.
  static common::Duration consentTimeout() { return ice::IceServer::Config{}.consentTimeout; }

 private:
  void writeFanoutMetrics(common::MetricsText& out) const;
  void onTransportFailed(const std::string& participantId, sfu::TransportRole role, std::string_view reason) override;
  void onTransportSecured(const std::string& participantId, sfu::TransportRole role,
                          std::string_view srtpProfile) override;

  common::Certificate mCertificate;
  dtls::DtlsContext mDtls;
  MediaEnvironment mEnv;
  std::function<void(std::function<void()>)> mPostToControl;
  std::vector<std::unique_ptr<sfu::MediaWorker>> mWorkers;
  std::vector<size_t> mRoomsPerWorker;
  std::unique_ptr<Placement> mPlacement;
};

}  // namespace conclave::conference
