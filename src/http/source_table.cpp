#include "http/source_table.h"

#include <algorithm>

namespace conclave::http {

bool SourceTable::tryOpen(const SourceKey& source) {
  auto& counts = mSources[source];
  if (counts.connections >= mLimits.maxConnections) return false;
  ++counts.connections;
  return true;
}

void SourceTable::close(const SourceKey& source) {
  auto it = mSources.find(source);
  if (it == mSources.end()) return;
  if (it->second.connections > 0) --it->second.connections;
  forgetIfIdle(it);
}

bool SourceTable::tryStartHandshake(const SourceKey& source) {
  auto it = mSources.find(source);
  if (it == mSources.end() || it->second.handshakes >= mLimits.maxHandshakes) return false;
  ++it->second.handshakes;
  return true;
}

void SourceTable::endHandshake(const SourceKey& source) {
  auto it = mSources.find(source);
  if (it != mSources.end() && it->second.handshakes > 0) --it->second.handshakes;
}

size_t SourceTable::connections(const SourceKey& source) const {
  auto it = mSources.find(source);
  return it == mSources.end() ? 0 : it->second.connections;
}

void SourceTable::forgetIfIdle(std::map<SourceKey, Counts>::iterator it) {
  if (it != mSources.end() && it->second.connections == 0 && it->second.handshakes == 0) mSources.erase(it);
}

SourceSlot& SourceSlot::operator=(SourceSlot&& other) noexcept {
  if (this != &other) {
    release();
    mTable = other.mTable;
    mKey = other.mKey;
    mHandshake = other.mHandshake;
    other.mTable = nullptr;
    other.mHandshake = false;
  }
  return *this;
}

bool SourceSlot::startHandshake() {
  if (!mTable || mHandshake) return false;
  mHandshake = mTable->tryStartHandshake(mKey);
  return mHandshake;
}

void SourceSlot::endHandshake() {
  if (mTable && mHandshake) mTable->endHandshake(mKey);
  mHandshake = false;
}

void SourceSlot::release() {
  endHandshake();
  if (mTable) mTable->close(mKey);
  mTable = nullptr;
}

}  // namespace conclave::http
