#include "conference/media_plane.h"

#include <algorithm>

#include "common/log.h"

namespace conclave::conference {

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

void MediaPlane::onTransportFailed(const std::string& participantId, sfu::TransportRole role, std::string_view) {
  // Worker thread: hand over to the control thread.
  mPostToControl([this, participantId, role] {
    if (transportFailedHandler) transportFailedHandler(participantId, role);
  });
}

}  // namespace conclave::conference
