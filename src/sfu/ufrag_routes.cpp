#include "sfu/ufrag_routes.h"

namespace conclave::sfu {

void UfragRoutes::add(const std::string& ufrag, transport::WebRtcTransport* transport) {
  auto& ufrags = mOf[transport];
  if (ufrags[0] != ufrag) {
    // The generation before the previous one can no longer authenticate a check.
    erase(ufrags[1], transport);
    ufrags[1] = std::move(ufrags[0]);
    ufrags[0] = ufrag;
  }
  mByUfrag[ufrag] = transport;
}

void UfragRoutes::remove(transport::WebRtcTransport* transport) {
  auto it = mOf.find(transport);
  if (it == mOf.end()) return;
  for (const auto& ufrag : it->second) erase(ufrag, transport);
  mOf.erase(it);
}

transport::WebRtcTransport* UfragRoutes::find(std::string_view ufrag) const {
  auto it = mByUfrag.find(ufrag);
  return it == mByUfrag.end() ? nullptr : it->second;
}

void UfragRoutes::erase(const std::string& ufrag, transport::WebRtcTransport* transport) {
  if (ufrag.empty()) return;
  auto it = mByUfrag.find(ufrag);
  if (it != mByUfrag.end() && it->second == transport) mByUfrag.erase(it);
}

}  // namespace conclave::sfu
