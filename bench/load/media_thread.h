// conclave-load's media: a few threads, each an epoll loop (net::EventLoop) over the UDP
// sockets of many connections, and PeerLink, one RTCPeerConnection of a load session on one of
// them (a BrowserPeer on its own socket driven by a bench::Publisher or bench::Subscriber).
//
// Threads: a PeerLink is made on the signaling thread (its socket, ICE credentials and address go
// into the SDP); from start() on only its media thread touches it, through tasks posted to that
// thread's loop. Each thread counts into its own ClientStats; the main thread resets and reads
// them with call(), which runs on the loop and waits for it.
#pragma once

#include <pthread.h>

#include <atomic>
#include <chrono>
#include <functional>
#include <future>
#include <memory>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "clients/media_clients.h"
#include "load/session_sdp.h"
#include "net/event_loop.h"

namespace conclave::bench::load {

// Counts of connections and sessions that got somewhere, for the main thread to wait on.
struct Progress {
  std::atomic<int> publishConnected{0};    // publish connections with DTLS up
  std::atomic<int> subscribeConnected{0};  // subscribe connections with DTLS up
  std::atomic<int> receiving{0};           // subscribers with packets on every stream expected
  std::atomic<int> failed{0};              // connections whose ICE or DTLS failed: the sum of
  std::atomic<int> failedIce{0};           //   no answer to our checks within 30 s
  std::atomic<int> failedDtls{0};          //   ICE answered, DTLS not up within 30 s (or failed)
  std::atomic<int> ended{0};               // sessions whose signaling ended (refused, closed)
};

class PeerLink;

class MediaThread {
 public:
  explicit MediaThread(int decryptSample);
  ~MediaThread();
  MediaThread(const MediaThread&) = delete;
  MediaThread& operator=(const MediaThread&) = delete;

  void start();
  void stop();

  net::EventLoop& loop() { return mLoop; }
  // Loop thread only.
  net::ReceiveBatch& receiveBatch() { return mReceive; }
  ClientStats& stats() { return mStats; }
  int decryptSample() const { return mDecryptSample; }
  void add(PeerLink* link) { mLinks.push_back(link); }
  const std::vector<PeerLink*>& links() const { return mLinks; }

  // Runs `task` on the loop thread and waits for it (false if it did not run within 10 s).
  bool call(const std::function<void()>& task);
  // The thread's CPU time so far (ns).
  int64_t cpuNanos() const { return bench::cpuNanos(mCpuClock); }

 private:
  net::EventLoop mLoop;
  net::ReceiveBatch mReceive{64};
  ClientStats mStats;
  int mDecryptSample;
  std::vector<PeerLink*> mLinks;
  std::thread mThread;
  clockid_t mCpuClock{};
};

// One connection of a session, the load tool's side.
class PeerLink {
 public:
  enum class Role { Publish, Subscribe };

  // Signaling thread: a UDP socket on `local` (its address; any port).
  PeerLink(MediaThread& thread, const dtls::DtlsContext& context, const sdp::Fingerprint& fingerprint,
           const net::Endpoint& local, Role role, int index, Progress& progress);
  ~PeerLink();
  PeerLink(const PeerLink&) = delete;
  PeerLink& operator=(const PeerLink&) = delete;

  // What the SDP says about this side (fixed from construction on).
  const LocalEndpoint& local() const { return mLocal; }
  MediaThread& thread() { return mThread; }

  // ---- loop thread (post them) ----
  // Connects to the server: ICE checks, then DTLS; a publisher starts sending when it is up.
  // `publishers`: how many publishers there are, to spread their frames over the frame interval.
  void startPublisher(const RemoteEndpoint& remote, const PublisherConfig& config, int publishers);
  // `expectedStreams`: with packets on this many streams the session counts as receiving.
  void startSubscriber(const RemoteEndpoint& remote, size_t expectedStreams);
  // Streams of a (new) subscribe offer: those not known yet are added. `tccId`: the offer's
  // transport-wide sequence number extension id (0: none, no feedback).
  void addStreams(const std::vector<InStream>& streams, uint8_t tccId);
  // The server's ICE credentials changed (an ICE restart): checks start again.
  void updateRemote(const RemoteEndpoint& remote);

  // Window bookkeeping, loop thread: marks every stream's count; then how many streams received
  // something since the mark, and the sum and maximum of their RFC 3550 jitter in ms.
  void markStreams();
  struct StreamSummary {
    size_t streams = 0, silent = 0;
    double jitterSumMs = 0, jitterMaxMs = 0;
  };
  void summarize(StreamSummary& out) const;
  // Video streams whose last decrypted packet was not of `layer`.
  size_t videoStreamsOffLayer(int layer) const;

 private:
  enum class State { Idle, Checking, Dtls, Connected, Failed };

  void begin(const RemoteEndpoint& remote);
  void onReadable();
  void onTimer();
  void advance(TimePoint now);
  void fail(const std::string& why);
  void arm(TimePoint when);
  void checkReceiving();

  MediaThread& mThread;
  const dtls::DtlsContext& mContext;
  Role mRole;
  int mIndex;
  Progress& mProgress;
  LocalEndpoint mLocal;
  std::unique_ptr<net::UdpSocket> mSocket;  // until begin() hands it to mBrowser
  std::unique_ptr<Browser> mBrowser;
  std::unique_ptr<Publisher> mPublisher;
  std::unique_ptr<Subscriber> mSubscriber;
  PublisherConfig mPublisherConfig;
  int mPublishers = 1;
  size_t mExpected = 0;
  bool mReceiving = false;
  State mState = State::Idle;
  TimePoint mStartedAt{}, mNextCheck{};
  common::Duration mCheckInterval{};
  net::EventLoop::TimerId mTimer = 0;
  TimePoint mTimerAt{};
  std::vector<uint64_t> mMarks;  // per stream: received at the window's start
};

}  // namespace conclave::bench::load
