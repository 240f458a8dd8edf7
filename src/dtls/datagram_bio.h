// Internal to the dtls layer: an OpenSSL BIO that exchanges whole datagrams with memory, so
// that DtlsTransport does no I/O yet keeps datagram boundaries.
//
// Reading returns the one datagram being fed (once), then "retry". Writing packs DTLS records
// into datagrams of at most `mtu` bytes; OpenSSL ends a datagram with BIO_flush() and asks the
// space left with BIO_wpending(), as it does with a UDP socket BIO.
#pragma once

#include <openssl/bio.h>

#include <cstddef>
#include <cstdint>
#include <span>
#include <vector>

namespace conclave::dtls {

class DatagramBuffer {
 public:
  explicit DatagramBuffer(size_t mtu) : mMtu(mtu) {}

  // Incoming side.
  void setIncoming(std::span<const uint8_t> datagram) {
    mIncoming = datagram;
    mIncomingRead = false;
  }
  void clearIncoming() { setIncoming({}); }
  int read(uint8_t* out, size_t capacity);
  size_t incomingPending() const { return mIncomingRead ? 0 : mIncoming.size(); }

  // Outgoing side.
  void write(std::span<const uint8_t> record);
  void endDatagram();
  size_t currentDatagramSize() const { return mOut.size() - mDatagramStart; }
  size_t mtu() const { return mMtu; }
  // Calls `send(span)` for each complete datagram, then empties the buffer (keeping capacity).
  template <typename Send>
  void drain(Send&& send) {
    endDatagram();
    size_t start = 0;
    for (size_t end : mEnds) {
      send(std::span<const uint8_t>(mOut.data() + start, end - start));
      start = end;
    }
    mOut.clear();
    mEnds.clear();
    mDatagramStart = 0;
  }

 private:
  size_t mMtu;
  std::span<const uint8_t> mIncoming;
  bool mIncomingRead = false;
  std::vector<uint8_t> mOut;  // the bytes of all pending datagrams, back to back
  std::vector<size_t> mEnds;  // end offset of each complete datagram in mOut
  size_t mDatagramStart = 0;  // start of the datagram being filled
};

// A new BIO reading from and writing to `buffer`, which must outlive it.
BIO* newDatagramBio(DatagramBuffer& buffer);

}  // namespace conclave::dtls
