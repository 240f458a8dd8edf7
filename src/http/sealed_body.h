// A Beast body for shared files sealed at rest (store/sealed_file.h): a request body is sealed
// into its file as it arrives, a response body is unsealed from it chunk by chunk. At most one
// chunk (64 KiB) is held per upload or download, whatever the client sends or how slowly it reads.
// A chunk that fails authentication ends the response with an error: the connection closes and
// not one byte of that chunk is sent.
#pragma once

#include <boost/asio/buffer.hpp>
#include <boost/beast/core/error.hpp>
#include <boost/beast/http/message.hpp>
#include <boost/optional.hpp>

#include <cstdint>
#include <memory>
#include <optional>
#include <utility>

#include "common/log.h"
#include "store/sealed_file.h"

namespace conclave::http {

struct SealedBody {
  // Beast's Body concept names these three value_type, reader and writer.
  struct value_type {                             // NOLINT(readability-identifier-naming)
    std::optional<store::SealedWriter> writer;    // requests
    std::shared_ptr<store::SealedReader> reader;  // responses
    uint64_t size = 0;
  };

  static uint64_t size(const value_type& body) { return body.size; }

  class reader {  // NOLINT(readability-identifier-naming)
   public:
    template <bool isRequest, class Fields>
    reader(boost::beast::http::header<isRequest, Fields>&, value_type& body) : mBody(body) {}

    void init(const boost::optional<uint64_t>&, boost::beast::error_code& ec) {
      if (!mBody.writer) ec = boost::beast::errc::make_error_code(boost::beast::errc::bad_file_descriptor);
    }

    template <class ConstBufferSequence>
    size_t put(const ConstBufferSequence& buffers, boost::beast::error_code& ec) {
      size_t used = 0;
      for (auto it = boost::asio::buffer_sequence_begin(buffers); it != boost::asio::buffer_sequence_end(buffers);
           ++it) {
        boost::asio::const_buffer b = *it;
        auto written = mBody.writer->write({static_cast<const uint8_t*>(b.data()), b.size()});
        if (!written) {
          ec = boost::beast::errc::make_error_code(written.error() == store::SealError::TooLong
                                                       ? boost::beast::errc::file_too_large
                                                       : boost::beast::errc::io_error);
          return used;
        }
        used += written.value();
      }
      return used;
    }

    void finish(boost::beast::error_code& ec) { ec = {}; }

   private:
    value_type& mBody;
  };

  class writer {  // NOLINT(readability-identifier-naming)
   public:
    using const_buffers_type = boost::asio::const_buffer;

    template <bool isRequest, class Fields>
    writer(const boost::beast::http::header<isRequest, Fields>&, const value_type& body) : mReader(body.reader) {}

    void init(boost::beast::error_code& ec) { ec = {}; }

    boost::optional<std::pair<const_buffers_type, bool>> get(boost::beast::error_code& ec) {
      if (!mReader || mReader->remaining() == 0) {
        ec = {};
        return boost::none;
      }
      auto chunk = mReader->next();
      if (!chunk) {
        common::logger("files")->warn("a stored file failed authentication while it was served ({}); download cut off",
                                      store::toString(chunk.error()));
        ec = boost::beast::errc::make_error_code(boost::beast::errc::bad_message);
        return boost::none;
      }
      ec = {};
      return std::make_pair(const_buffers_type(chunk.value().data(), chunk.value().size()), mReader->remaining() > 0);
    }

   private:
    std::shared_ptr<store::SealedReader> mReader;
  };
};

}  // namespace conclave::http
