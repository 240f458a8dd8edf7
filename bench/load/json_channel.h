// The write queue and the read loop of a signaling WebSocket, shared by the Conclave and the Janus
// adapters: JSON text messages written one at a time in their order, every message read handed on
// parsed (a message that does not parse as JSON arrives as a discarded value). All on the
// signaling thread; the owner outlives the operations it starts.
#pragma once

#include <boost/asio/buffer.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/websocket.hpp>
#include <nlohmann/json.hpp>

#include <deque>
#include <functional>
#include <string>
#include <utility>

namespace conclave::bench::load {

template <class WebSocket>
class JsonChannel {
 public:
  // `onError` gets what went wrong (a failed write, a closed connection); `done` is the owner's
  // flag that the session is over: nothing is written or read once it is set.
  JsonChannel(std::function<void(const nlohmann::json&)> onMessage, std::function<void(const std::string&)> onError,
              const bool& done)
      : mOnMessage(std::move(onMessage)), mOnError(std::move(onError)), mDone(done) {}

  // The WebSocket is open: writes what waits and starts reading.
  void open(WebSocket& ws) {
    mWs = &ws;
    readNext();
    if (!mWriting) writeNext();
  }

  // Queued until the WebSocket is open.
  void send(std::string text) {
    if (mDone) return;
    mOutbox.push_back(std::move(text));
    if (mWs != nullptr && !mWriting) writeNext();
  }

 private:
  void writeNext() {
    if (mOutbox.empty() || mDone) {
      mWriting = false;
      return;
    }
    mWriting = true;
    mWs->async_write(boost::asio::buffer(mOutbox.front()), [this](const boost::beast::error_code& ec, size_t) {
      if (ec) return mOnError("write: " + ec.message());
      mOutbox.pop_front();
      writeNext();
    });
  }

  void readNext() {
    mWs->async_read(mBuffer, [this](const boost::beast::error_code& ec, size_t) {
      if (ec) {
        const auto reason = mWs->reason();
        return mOnError("connection closed: " + ec.message() +
                        (reason.code != 0
                             ? " (" + std::to_string(reason.code) + " " + std::string(reason.reason.c_str()) + ")"
                             : std::string()));
      }
      auto message = nlohmann::json::parse(boost::beast::buffers_to_string(mBuffer.data()), nullptr, false);
      mBuffer.consume(mBuffer.size());
      mOnMessage(message);
      if (!mDone) readNext();
    });
  }

  std::function<void(const nlohmann::json&)> mOnMessage;
  std::function<void(const std::string&)> mOnError;
  const bool& mDone;
  WebSocket* mWs = nullptr;
  boost::beast::flat_buffer mBuffer;
  std::deque<std::string> mOutbox;
  bool mWriting = false;
};

}  // namespace conclave::bench::load
