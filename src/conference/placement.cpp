#include "conference/placement.h"

#include <utility>

namespace conclave::conference {

Placement::Placement(std::vector<sfu::MediaWorker*> workers, size_t threshold)
    : mWorkers(std::move(workers)), mStreams(mWorkers.size(), 0), mThreshold(threshold) {}

sfu::MediaWorker& Placement::subscribeWorker(sfu::MediaWorker& home) const {
  const auto homeIndex = static_cast<size_t>(home.index());
  if (!enabled() || homeIndex >= mStreams.size() || mStreams[homeIndex] <= mThreshold) return home;
  // Strictly fewer than the home worker: on a tie the transport stays where its room is, and
  // its packets cross no thread.
  // Among the workers the home worker is linked to (its partners, sfu::connectWorkers): a proxy
  // can reach no other.
  size_t best = homeIndex;
  for (size_t i = 0; i < mWorkers.size(); ++i)
    if (mStreams[i] < mStreams[best] && home.fanout().outboundLink(static_cast<int>(i))) best = i;
  return *mWorkers[best];
}

void Placement::addStreams(const sfu::MediaWorker& worker, int64_t delta) {
  const auto index = static_cast<size_t>(worker.index());
  if (index >= mStreams.size()) return;
  size_t& n = mStreams[index];
  if (delta < 0) {
    const auto less = static_cast<size_t>(-delta);
    n = n > less ? n - less : 0;
  } else {
    n += static_cast<size_t>(delta);
  }
}

size_t Placement::streams(int index) const {
  return index >= 0 && static_cast<size_t>(index) < mStreams.size() ? mStreams[static_cast<size_t>(index)] : 0;
}

}  // namespace conclave::conference
