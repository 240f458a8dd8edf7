#include "signaling/source_table.h"

#include <algorithm>

namespace conclave::signaling {

SourceKey sourceKeyOf(const boost::asio::ip::address& address) {
  SourceKey key{};
  if (address.is_v6() && !address.to_v6().is_v4_mapped()) {
    auto bytes = address.to_v6().to_bytes();
    std::copy_n(bytes.begin(), 8, key.begin());  // the /64
    key[15] = 6;
    return key;
  }
  auto v4 = address.is_v4() ? address.to_v4() : boost::asio::ip::make_address_v4(boost::asio::ip::v4_mapped, address.to_v6());
  auto bytes = v4.to_bytes();
  std::copy(bytes.begin(), bytes.end(), key.begin());
  key[15] = 4;
  return key;
}

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

}  // namespace conclave::signaling
