#include "net/source_key.h"

#include <algorithm>

namespace conclave::net {

SourceKey sourceKeyOf(const boost::asio::ip::address& address) {
  SourceKey key{};
  if (address.is_v6() && !address.to_v6().is_v4_mapped()) {
    auto bytes = address.to_v6().to_bytes();
    std::copy_n(bytes.begin(), 8, key.begin());  // the /64
    key[15] = 6;
    return key;
  }
  auto v4 =
      address.is_v4() ? address.to_v4() : boost::asio::ip::make_address_v4(boost::asio::ip::v4_mapped, address.to_v6());
  auto bytes = v4.to_bytes();
  std::copy(bytes.begin(), bytes.end(), key.begin());
  key[15] = 4;
  return key;
}

}  // namespace conclave::net
