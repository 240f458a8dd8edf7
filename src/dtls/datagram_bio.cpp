#include "dtls/datagram_bio.h"

#include <algorithm>
#include <cstring>
#include <stdexcept>

namespace conclave::dtls {

int DatagramBuffer::read(uint8_t* out, size_t capacity) {
  if (mIncomingRead || mIncoming.empty()) return -1;
  // Datagram semantics: a read shorter than the datagram loses the rest. OpenSSL reads DTLS
  // into a buffer larger than any record, so this does not happen in practice.
  const size_t n = std::min(capacity, mIncoming.size());
  std::memcpy(out, mIncoming.data(), n);
  mIncomingRead = true;
  return static_cast<int>(n);
}

void DatagramBuffer::write(std::span<const uint8_t> record) {
  if (currentDatagramSize() > 0 && currentDatagramSize() + record.size() > mMtu) endDatagram();
  mOut.insert(mOut.end(), record.begin(), record.end());
}

void DatagramBuffer::endDatagram() {
  if (currentDatagramSize() == 0) return;
  mEnds.push_back(mOut.size());
  mDatagramStart = mOut.size();
}

namespace {

DatagramBuffer* bufferOf(BIO* bio) { return static_cast<DatagramBuffer*>(BIO_get_data(bio)); }

int bioWrite(BIO* bio, const char* data, int len) {
  BIO_clear_retry_flags(bio);
  DatagramBuffer* buffer = bufferOf(bio);
  if (!buffer || len < 0) return -1;
  buffer->write(std::span(reinterpret_cast<const uint8_t*>(data), static_cast<size_t>(len)));
  return len;
}

int bioRead(BIO* bio, char* out, int capacity) {
  BIO_clear_retry_flags(bio);
  DatagramBuffer* buffer = bufferOf(bio);
  if (!buffer || capacity <= 0) return -1;
  const int n = buffer->read(reinterpret_cast<uint8_t*>(out), static_cast<size_t>(capacity));
  if (n < 0) BIO_set_retry_read(bio);
  return n;
}

long bioCtrl(BIO* bio, int cmd, long /*num*/, void* /*ptr*/) {
  DatagramBuffer* buffer = bufferOf(bio);
  if (!buffer) return 0;
  switch (cmd) {
    case BIO_CTRL_FLUSH:
      buffer->endDatagram();
      return 1;
    case BIO_CTRL_WPENDING:
      return static_cast<long>(buffer->currentDatagramSize());
    case BIO_CTRL_PENDING:
      return static_cast<long>(buffer->incomingPending());
    case BIO_CTRL_DGRAM_SET_NEXT_TIMEOUT:
      return 1;
    case BIO_CTRL_DGRAM_GET_MTU_OVERHEAD:
    case BIO_CTRL_DGRAM_QUERY_MTU:
    case BIO_CTRL_DGRAM_MTU_EXCEEDED:
    default:
      return 0;
  }
}

int bioCreate(BIO* bio) {
  BIO_set_init(bio, 1);
  return 1;
}

int bioDestroy(BIO* bio) {
  BIO_set_data(bio, nullptr);
  return 1;
}

const BIO_METHOD* datagramMethod() {
  // Created once and never freed: it is shared by every BIO for the life of the process.
  static const BIO_METHOD* method = [] {
    BIO_METHOD* m = BIO_meth_new(BIO_get_new_index() | BIO_TYPE_SOURCE_SINK, "conclave datagram");
    if (!m || !BIO_meth_set_write(m, bioWrite) || !BIO_meth_set_read(m, bioRead) || !BIO_meth_set_ctrl(m, bioCtrl) ||
        !BIO_meth_set_create(m, bioCreate) || !BIO_meth_set_destroy(m, bioDestroy))
      throw std::runtime_error("cannot create the DTLS datagram BIO method");
    return m;
  }();
  return method;
}

}  // namespace

BIO* newDatagramBio(DatagramBuffer& buffer) {
  BIO* bio = BIO_new(datagramMethod());
  if (!bio) throw std::runtime_error("BIO_new failed");
  BIO_set_data(bio, &buffer);
  return bio;
}

}  // namespace conclave::dtls
