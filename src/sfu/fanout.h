// One media worker's side of the fan-out across workers (docs/fanout.md). Each worker plays two
// parts at once:
//   - home: for the rooms it carries, subscribe transports another worker hosts are
//     ProxyTransports here; their packets go out through the link to that worker, and the
//     subscribers' RTCP and the transports' events come back;
//   - transport worker: it hosts other workers' subscribe transports (real WebRtcTransports on
//     its socket and routing table), sends what their links bring, and returns RTCP and events.
// Links are made before the workers start (connectWorkers), from each worker to a bounded number
// of partners; afterwards a worker touches another only through the rings, their doorbells and
// MediaWorker::post.
//
// Worker thread only, except ringDoorbell(), outboundLink(), inboundLink() and the links' counters.
#pragma once

#include <memory>
#include <string>
#include <vector>

#include "net/doorbell.h"
#include "sfu/fanout_link.h"
#include "sfu/proxy_transport.h"
#include "transport/webrtc_transport.h"

namespace conclave::sfu {

class MediaWorker;
class HostedTransport;

class Fanout {
 public:
  // Records each ring gives per drain: the rest waits for the next loop turn, so that the
  // worker's own socket and timers are served in between.
  static constexpr size_t kMaxRecordsPerDrain = 1024;
  // RTCP compounds a hosted transport may put into the shared ring toward its home worker: a
  // browser sends transport-cc feedback every 25-100 ms, receiver reports, NACKs and PLIs, some
  // tens per second; what is over the budget is refused and counted (rtcpRefused).
  static constexpr double kRtcpPerSecond = 200;
  static constexpr double kRtcpBurst = 100;
  // Workers a home worker links to (connectWorkers): a room then spreads over up to 4 cores, and
  // the links' memory grows with the workers, not with their square (docs/fanout.md, "Budgets").
  static constexpr int kMaxPartners = 3;

  explicit Fanout(MediaWorker& worker);
  ~Fanout();
  Fanout(const Fanout&) = delete;
  Fanout& operator=(const Fanout&) = delete;

  // ---- set-up, before the workers start (connectWorkers) ----
  void addOutbound(std::shared_ptr<FanoutLink> link, MediaWorker& transportWorker);
  void addInbound(std::shared_ptr<FanoutLink> link, MediaWorker& homeWorker);

  // Any thread: wakes this worker's loop (it then drains its rings).
  void ringDoorbell() const { mDoorbell.ring(); }
  int doorbellFd() const { return mDoorbell.fd(); }
  void clearDoorbell() const { mDoorbell.clear(); }

  // ---- the worker's loop ----
  // Reads the rings this worker reads: packets to send for hosted transports (into the worker's
  // send batch), RTCP for proxies (to the Router).
  void drain();
  // After the worker's flush: wakes each peer this worker wrote records for (at most once per
  // flush, and not while the peer is known to be on its way). Ends the batch (batchMicros).
  void wakePeers();
  // Home side: the time the records written in this batch carry, so that the transport worker
  // can drop those that waited longer than its maximum queue delay (as it sheds its socket's
  // backlog). The worker sets it where it has the batch's time already (a receive round, its
  // tick); in a batch without one (a posted task, RTCP from a ring) the first record reads the
  // clock. One clock read per batch at most, none per record.
  void setBatchTime(common::TimePoint now);
  int64_t batchMicros();
  // Hosted transports' consent and DTLS timers.
  void tick(common::TimePoint now);
  // On the worker thread when it stops: hosted transports go (proxies go with their routers).
  void clear();

  // ---- home side ----
  // A proxy for a subscribe transport that `transportWorker` hosts, or null when there is no
  // link to that worker (none, or this worker itself). The transport worker is asked to create
  // the transport; the proxy is connected once it says DTLS is up.
  std::unique_ptr<ProxyTransport> createProxy(int transportWorker, const transport::WebRtcTransport::Params& params,
                                              ProxyTransport::Listener& listener);
  // From ProxyTransport: control posted to the transport worker, and the handle given back.
  void postRemoteParameters(const ProxyTransport& proxy, const ice::IceCredentials& ice,
                            const transport::RemoteFingerprint& fingerprint);
  void postIceRestart(const ProxyTransport& proxy, const ice::IceCredentials& local, const ice::IceCredentials& remote);
  void releaseProxy(const ProxyTransport& proxy);

  // ---- transport side: tasks the home worker posts ----
  void host(int homeWorker, FanoutHandle handle, const transport::WebRtcTransport::Params& params);
  void unhost(int homeWorker, FanoutHandle handle);
  void setRemoteParameters(int homeWorker, FanoutHandle handle, const ice::IceCredentials& ice,
                           const transport::RemoteFingerprint& fingerprint);
  void restartIce(int homeWorker, FanoutHandle handle, const ice::IceCredentials& local,
                  const ice::IceCredentials& remote);
  // The transport hosted for `homeWorker` under `handle` (tests ask it for its state), or null.
  const transport::WebRtcTransport* hosted(int homeWorker, FanoutHandle handle) const;
  size_t hostedCount() const;

  // ---- home side: events the transport worker posts ----
  void proxyConnected(int transportWorker, FanoutHandle handle, std::string srtpProfile);
  void proxyIceDisconnected(int transportWorker, FanoutHandle handle, const std::string& reason);
  void proxyIceReconnected(int transportWorker, FanoutHandle handle);
  void proxyClosed(int transportWorker, FanoutHandle handle, const std::string& reason);

  // The links this worker writes media into (one per partner; null for other workers), for
  // Placement, /metrics and tests. The links never change once the workers run, so any thread
  // may ask (their counters are relaxed atomics).
  const FanoutLink* outboundLink(int transportWorker) const;
  const FanoutLink* inboundLink(int homeWorker) const;

 private:
  friend class HostedTransport;

  // The home side of one link: the proxies that send through it, by slot.
  struct Outbound {
    std::shared_ptr<FanoutLink> link;
    MediaWorker* peer = nullptr;  // the transport worker
    struct Slot {
      ProxyTransport* proxy = nullptr;
      uint32_t generation = 0;
    };
    std::vector<Slot> slots;
    std::vector<uint32_t> freeSlots;
    bool mediaWritten = false;  // since the last wakePeers()
  };
  // The transport side of one link: the transports hosted for that home worker, by slot.
  struct Inbound {
    std::shared_ptr<FanoutLink> link;
    MediaWorker* peer = nullptr;  // the home worker
    std::vector<std::unique_ptr<HostedTransport>> slots;
    bool rtcpWritten = false;  // since the last wakePeers()
  };

  Outbound* outbound(int transportWorker);
  Inbound* inbound(int homeWorker);
  ProxyTransport* proxy(int transportWorker, FanoutHandle handle);
  HostedTransport* hostedEntry(int homeWorker, FanoutHandle handle) const;
  // Returns whether records were left in the ring (the drain stopped at kMaxRecordsPerDrain).
  bool drainMedia(Inbound& in);
  bool drainRtcp(Outbound& out);

  MediaWorker& mWorker;
  net::Doorbell mDoorbell;
  std::vector<std::unique_ptr<Outbound>> mOutbound;  // by transport worker index
  std::vector<std::unique_ptr<Inbound>> mInbound;    // by home worker index
  int64_t mBatchMicros = 0;                          // 0: not read in this batch yet
};

// The workers a home worker at position `home` of `workers` workers links to: the next
// min(maxPartners, workers - 1) after it, round the ring (worker 5 of 6 with 3: 0, 1, 2). Each
// worker is then the transport worker of as many homes as it has partners.
std::vector<int> fanoutPartners(int home, int workers, int maxPartners = Fanout::kMaxPartners);

// Links each of `workers` (as home) to its partners (as transport workers, fanoutPartners):
// workers x min(maxPartners, workers - 1) links, each with the rings of `config`. Before any of
// them starts; the links live as long as both workers. With 2 or 3 workers every pair is linked
// both ways.
void connectWorkers(const std::vector<MediaWorker*>& workers, const FanoutLink::Config& config = {},
                    int maxPartners = Fanout::kMaxPartners);

}  // namespace conclave::sfu
