// Where a participant's subscribe transport lives (docs/fanout.md, "Placement"). A room's Router,
// its publish transports and its decisions stay on the room's home worker; what costs most per
// forwarded packet (SRTP protect and the kernel's send) belongs to the subscriber's transport,
// which may live on another worker, fed through a ring (sfu::Fanout).
//
// The control plane counts, per media worker, the subscribed streams (consumers) whose subscribe
// transport that worker hosts, whatever room they belong to. A new subscribe transport stays on
// the room's home worker while that worker hosts at most `threshold` streams; beyond, it goes to
// the worker hosting the fewest among the home worker's partners (the workers it is linked to,
// sfu::connectWorkers: at most sfu::Fanout::kMaxPartners), the home worker when none has fewer.
// A transport never moves: its DTLS association is tied to the socket the browser reached.
// Threshold 0: always at home.
//
// Streams stand in for load: they are what the control plane knows without asking the workers.
// A remote subscriber still costs its home worker the Router's per-consumer share (choosing the
// layer, rewriting, writing the ring record), a fraction of the protect and send it moved away;
// that share is not counted.
//
// Control thread only.
#pragma once

#include <cstddef>
#include <cstdint>
#include <vector>

#include "sfu/worker.h"

namespace conclave::conference {

class Placement {
 public:
  // `workers` are linked with sfu::connectWorkers when there are two or more and `threshold` is
  // not 0 (the caller does that before they start).
  Placement(std::vector<sfu::MediaWorker*> workers, size_t threshold);

  // Whether subscribe transports may go to another worker than their room's.
  bool enabled() const { return mThreshold > 0 && mWorkers.size() > 1; }
  size_t threshold() const { return mThreshold; }
  // The worker for a new subscribe transport of a room whose home is `home`: home, or one of the
  // workers its links reach.
  sfu::MediaWorker& subscribeWorker(sfu::MediaWorker& home) const;
  // The subscribed streams of transports on `worker` changed by `delta` (never below 0).
  void addStreams(const sfu::MediaWorker& worker, int64_t delta);
  // Subscribed streams whose transport worker `index` hosts, as the control plane counts them.
  size_t streams(int index) const;

 private:
  std::vector<sfu::MediaWorker*> mWorkers;
  std::vector<size_t> mStreams;  // by worker index
  size_t mThreshold;
};

}  // namespace conclave::conference
