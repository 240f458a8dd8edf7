#include "sfu/fanout.h"

#include <algorithm>
#include <chrono>
#include <cstring>
#include <utility>

#include "common/log.h"
#include "common/token_bucket.h"
#include "sfu/worker.h"

namespace conclave::sfu {
namespace {

int64_t toMicros(common::TimePoint t) {
  return std::chrono::duration_cast<std::chrono::microseconds>(t.time_since_epoch()).count();
}

common::TimePoint fromMicros(int64_t micros) { return common::TimePoint(std::chrono::microseconds(micros)); }

}  // namespace

// A subscribe transport this worker hosts for another worker's room: the WebRtcTransport, and
// its events, which go to this worker's routing table or back to the home worker.
class HostedTransport final : public transport::WebRtcTransport::Listener {
 public:
  HostedTransport(Fanout& fanout, Fanout::Inbound& in, FanoutHandle handle,
                  const transport::WebRtcTransport::Params& params)
      : mFanout(fanout),
        mIn(in),
        mHandle(handle),
        mTransport(*this, fanout.mWorker.sink(), fanout.mWorker.dtlsContext(), params,
                   std::chrono::steady_clock::now()),
        mRtcpBudget(Fanout::kRtcpPerSecond, Fanout::kRtcpBurst, std::chrono::steady_clock::now()) {
    fanout.mWorker.registerTransport(params.localIce.ufrag, &mTransport);
  }
  ~HostedTransport() override {
    mFanout.mWorker.unregisterTransport(&mTransport);
    mTransport.close();
  }
  HostedTransport(const HostedTransport&) = delete;
  HostedTransport& operator=(const HostedTransport&) = delete;

  FanoutHandle handle() const { return mHandle; }
  transport::WebRtcTransport& transport() { return mTransport; }

 private:
  // Runs `task` on the home worker's Fanout with this link's transport worker and handle.
  template <typename Task>
  void postHome(Task task) {
    const int self = mIn.link->transportWorker();
    mIn.peer->post(
        [self, handle = mHandle, task = std::move(task)](MediaWorker& w) { task(w.fanout(), self, handle); });
  }

  void onTransportConnected(transport::WebRtcTransport& t) override {
    postHome([profile = std::string(t.srtpProfileName())](Fanout& f, int self, FanoutHandle h) {
      f.proxyConnected(self, h, profile);
    });
  }
  void onTransportEndpoint(transport::WebRtcTransport& t, const net::Endpoint& endpoint) override {
    mFanout.mWorker.registerEndpoint(endpoint, &t);
  }
  void onTransportEndpointRemoved(transport::WebRtcTransport& t, const net::Endpoint& endpoint) override {
    mFanout.mWorker.unregisterEndpoint(endpoint, &t);
  }
  // A subscribe transport carries no media toward us (the Router drops it too).
  void onTransportRtp(transport::WebRtcTransport&, rtp::RtpPacket&, common::TimePoint) override {}
  void onTransportRtcp(transport::WebRtcTransport&, std::span<uint8_t> compound, common::TimePoint now) override {
    FanoutLink& link = *mIn.link;
    // The RTCP ring is shared by every transport hosted for that home worker: one subscriber's
    // flood must not crowd out the others' feedback.
    if (!mRtcpBudget.take(now)) {
      FanoutLink::bump(link.transport().rtcpRefused);
      return;
    }
    auto record = link.rtcp().claim(FanoutRecord::kHeaderBytes + compound.size());
    if (record.empty()) {
      FanoutLink::bump(link.transport().rtcpRefused);
      return;
    }
    // The datagram's kernel receive time where the worker has it, as a local transport's RTCP.
    FanoutRecord::writeHeader(record, mHandle, FanoutRecordKind::Rtcp,
                              toMicros(mFanout.mWorker.datagramArrival().value_or(now)));
    std::memcpy(record.data() + FanoutRecord::kHeaderBytes, compound.data(), compound.size());
    link.rtcp().commit(FanoutRecord::kHeaderBytes + compound.size());
    FanoutLink::bump(link.transport().rtcpRecords);
    mIn.rtcpWritten = true;
  }
  void onTransportIceDisconnected(transport::WebRtcTransport&, std::string_view reason) override {
    postHome([r = std::string(reason)](Fanout& f, int self, FanoutHandle h) { f.proxyIceDisconnected(self, h, r); });
  }
  // The home worker's proxy writes nothing for it between these two (a record could only be
  // dropped here as unsendable); posted, so they keep their order with "connected" and "closed".
  void onTransportIceReconnected(transport::WebRtcTransport&) override {
    postHome([](Fanout& f, int self, FanoutHandle h) { f.proxyIceReconnected(self, h); });
  }
  void onTransportClosed(transport::WebRtcTransport& t, std::string_view reason) override {
    // No more datagrams for it; the home side destroys it (unhost) when its Router lets go.
    mFanout.mWorker.unregisterTransport(&t);
    postHome([r = std::string(reason)](Fanout& f, int self, FanoutHandle h) { f.proxyClosed(self, h, r); });
  }

  Fanout& mFanout;
  Fanout::Inbound& mIn;
  FanoutHandle mHandle;
  transport::WebRtcTransport mTransport;
  common::TokenBucket mRtcpBudget;
};

Fanout::Fanout(MediaWorker& worker) : mWorker(worker) {}

Fanout::~Fanout() { clear(); }

void Fanout::addOutbound(std::shared_ptr<FanoutLink> link, MediaWorker& transportWorker) {
  const auto index = static_cast<size_t>(link->transportWorker());
  if (mOutbound.size() <= index) mOutbound.resize(index + 1);
  auto out = std::make_unique<Outbound>();
  out->link = std::move(link);
  out->peer = &transportWorker;
  mOutbound[index] = std::move(out);
}

void Fanout::addInbound(std::shared_ptr<FanoutLink> link, MediaWorker& homeWorker) {
  const auto index = static_cast<size_t>(link->homeWorker());
  if (mInbound.size() <= index) mInbound.resize(index + 1);
  auto in = std::make_unique<Inbound>();
  in->link = std::move(link);
  in->peer = &homeWorker;
  mInbound[index] = std::move(in);
}

Fanout::Outbound* Fanout::outbound(int transportWorker) {
  if (transportWorker < 0 || static_cast<size_t>(transportWorker) >= mOutbound.size()) return nullptr;
  return mOutbound[static_cast<size_t>(transportWorker)].get();
}

Fanout::Inbound* Fanout::inbound(int homeWorker) {
  if (homeWorker < 0 || static_cast<size_t>(homeWorker) >= mInbound.size()) return nullptr;
  return mInbound[static_cast<size_t>(homeWorker)].get();
}

const FanoutLink* Fanout::outboundLink(int transportWorker) const {
  if (transportWorker < 0 || static_cast<size_t>(transportWorker) >= mOutbound.size()) return nullptr;
  const auto& out = mOutbound[static_cast<size_t>(transportWorker)];
  return out ? out->link.get() : nullptr;
}

const FanoutLink* Fanout::inboundLink(int homeWorker) const {
  if (homeWorker < 0 || static_cast<size_t>(homeWorker) >= mInbound.size()) return nullptr;
  const auto& in = mInbound[static_cast<size_t>(homeWorker)];
  return in ? in->link.get() : nullptr;
}

// ---- the loop ------------------------------------------------------------------------------

void Fanout::drain() {
  bool more = false;
  for (auto& in : mInbound)
    if (in) more |= drainMedia(*in);
  for (auto& out : mOutbound)
    if (out) more |= drainRtcp(*out);
  // Records left: come back after the socket and the timers had their turn.
  if (more) mDoorbell.ring();
}

bool Fanout::drainMedia(Inbound& in) {
  FanoutLink& link = *in.link;
  net::SpscRing& ring = link.media();
  ring.clearNotified();
  if (ring.front().empty()) return false;
  // Packets written before this are dropped unsent, as the worker sheds datagrams that waited in
  // its socket too long (MediaWorker::shed): one clock read per drain. Written later than the
  // read (the home worker runs on), a record is young enough.
  const int64_t oldest = toMicros(std::chrono::steady_clock::now() - mWorker.maxQueueDelay());
  for (size_t n = 0; n < kMaxRecordsPerDrain; ++n) {
    auto bytes = ring.front();
    if (bytes.empty()) return false;
    auto record = FanoutRecord::parse(bytes);
    HostedTransport* hosted = nullptr;
    if (record && record->handle.slot < in.slots.size()) {
      hosted = in.slots[record->handle.slot].get();
      if (hosted && hosted->handle() != record->handle) hosted = nullptr;
    }
    bool sent = false;
    if (hosted) {
      transport::WebRtcTransport& t = hosted->transport();
      // Forgetting an SSRC is control, not media: never too old.
      if (record->kind != FanoutRecordKind::ForgetSsrc && record->timeMicros < oldest) {
        FanoutLink::bump(link.transport().mediaExpired);
        ring.pop();
        continue;
      }
      switch (record->kind) {
        case FanoutRecordKind::Rtp:
          sent = t.sendRtp(record->bytes);
          break;
        case FanoutRecordKind::Rtcp:
          sent = t.sendRtcp(record->bytes);
          break;
        case FanoutRecordKind::ForgetSsrc:
          if (record->bytes.size() == sizeof(uint32_t)) {
            uint32_t ssrc = 0;
            std::memcpy(&ssrc, record->bytes.data(), sizeof ssrc);
            t.forgetOutboundSsrc(ssrc);
            sent = true;
          }
          break;
      }
    }
    FanoutLink::bump(sent ? link.transport().mediaSent : link.transport().mediaStale);
    ring.pop();
  }
  return !ring.front().empty();
}

bool Fanout::drainRtcp(Outbound& out) {
  FanoutLink& link = *out.link;
  net::SpscRing& ring = link.rtcp();
  ring.clearNotified();
  if (ring.front().empty()) return false;
  // As the media records' bound on the other side: RTCP that arrived (at the transport worker's
  // socket) longer ago than this worker lets its own datagrams wait is dropped, as this worker
  // sheds its socket's backlog. One clock read per drain.
  const int64_t oldest = toMicros(std::chrono::steady_clock::now() - mWorker.maxQueueDelay());
  for (size_t n = 0; n < kMaxRecordsPerDrain; ++n) {
    auto bytes = ring.front();
    if (bytes.empty()) return false;
    auto record = FanoutRecord::parse(bytes);
    ProxyTransport* p = record ? proxy(link.transportWorker(), record->handle) : nullptr;
    if (!p || record->kind != FanoutRecordKind::Rtcp) {
      FanoutLink::bump(link.home().rtcpStale);
    } else if (record->timeMicros < oldest) {
      FanoutLink::bump(link.home().rtcpExpired);
    } else {
      p->onRtcp(record->bytes, fromMicros(record->timeMicros));
    }
    ring.pop();
  }
  return !ring.front().empty();
}

void Fanout::setBatchTime(common::TimePoint now) { mBatchMicros = toMicros(now); }

int64_t Fanout::batchMicros() {
  if (mBatchMicros == 0) mBatchMicros = toMicros(std::chrono::steady_clock::now());
  return mBatchMicros;
}

void Fanout::wakePeers() {
  mBatchMicros = 0;  // the batch is over: the next records get the next batch's time
  for (auto& out : mOutbound) {
    if (!out || !out->mediaWritten) continue;
    out->mediaWritten = false;
    if (out->link->media().wakeNeeded()) out->peer->fanout().ringDoorbell();
  }
  for (auto& in : mInbound) {
    if (!in || !in->rtcpWritten) continue;
    in->rtcpWritten = false;
    if (in->link->rtcp().wakeNeeded()) in->peer->fanout().ringDoorbell();
  }
}

void Fanout::tick(common::TimePoint now) {
  for (auto& in : mInbound) {
    if (!in) continue;
    for (auto& hosted : in->slots)
      if (hosted) hosted->transport().tick(now);
  }
}

void Fanout::clear() {
  for (auto& in : mInbound)
    if (in) in->slots.clear();
}

// ---- home side -----------------------------------------------------------------------------

std::unique_ptr<ProxyTransport> Fanout::createProxy(int transportWorker,
                                                    const transport::WebRtcTransport::Params& params,
                                                    ProxyTransport::Listener& listener) {
  Outbound* out = outbound(transportWorker);
  if (!out) return nullptr;
  uint32_t slot = 0;
  if (!out->freeSlots.empty()) {
    slot = out->freeSlots.back();
    out->freeSlots.pop_back();
  } else {
    slot = static_cast<uint32_t>(out->slots.size());
    out->slots.emplace_back();
  }
  auto& entry = out->slots[slot];
  const FanoutHandle handle{slot, ++entry.generation};
  auto proxy = std::make_unique<ProxyTransport>(*this, *out->link, out->mediaWritten, handle, params.id,
                                                params.localIce, listener);
  entry.proxy = proxy.get();
  const int home = mWorker.index();
  out->peer->post([home, handle, params](MediaWorker& w) { w.fanout().host(home, handle, params); });
  return proxy;
}

void Fanout::postRemoteParameters(const ProxyTransport& proxy, const ice::IceCredentials& ice,
                                  const transport::RemoteFingerprint& fingerprint) {
  Outbound* out = outbound(proxy.transportWorker());
  if (!out) return;
  out->peer->post([home = mWorker.index(), handle = proxy.handle(), ice, fingerprint](MediaWorker& w) {
    w.fanout().setRemoteParameters(home, handle, ice, fingerprint);
  });
}

void Fanout::postIceRestart(const ProxyTransport& proxy, const ice::IceCredentials& local,
                            const ice::IceCredentials& remote) {
  Outbound* out = outbound(proxy.transportWorker());
  if (!out) return;
  out->peer->post([home = mWorker.index(), handle = proxy.handle(), local, remote](MediaWorker& w) {
    w.fanout().restartIce(home, handle, local, remote);
  });
}

void Fanout::releaseProxy(const ProxyTransport& proxy) {
  Outbound* out = outbound(proxy.transportWorker());
  const FanoutHandle handle = proxy.handle();
  if (!out || handle.slot >= out->slots.size() || out->slots[handle.slot].proxy != &proxy) return;
  // The slot's next user gets the next generation; records of this one still in a ring no longer
  // match anything on either side. The destroy is posted before any create that reuses the slot.
  out->slots[handle.slot].proxy = nullptr;
  out->freeSlots.push_back(handle.slot);
  out->peer->post([home = mWorker.index(), handle](MediaWorker& w) { w.fanout().unhost(home, handle); });
}

ProxyTransport* Fanout::proxy(int transportWorker, FanoutHandle handle) {
  Outbound* out = outbound(transportWorker);
  if (!out || handle.slot >= out->slots.size()) return nullptr;
  const auto& entry = out->slots[handle.slot];
  return entry.generation == handle.generation ? entry.proxy : nullptr;
}

void Fanout::proxyConnected(int transportWorker, FanoutHandle handle, std::string srtpProfile) {
  if (ProxyTransport* p = proxy(transportWorker, handle)) p->onConnected(std::move(srtpProfile));
}

void Fanout::proxyIceDisconnected(int transportWorker, FanoutHandle handle, const std::string& reason) {
  if (ProxyTransport* p = proxy(transportWorker, handle)) p->onIceDisconnected(reason);
}

void Fanout::proxyIceReconnected(int transportWorker, FanoutHandle handle) {
  if (ProxyTransport* p = proxy(transportWorker, handle)) p->onIceReconnected();
}

void Fanout::proxyClosed(int transportWorker, FanoutHandle handle, const std::string& reason) {
  if (ProxyTransport* p = proxy(transportWorker, handle)) p->onClosed(reason);
}

// ---- transport side ------------------------------------------------------------------------

void Fanout::host(int homeWorker, FanoutHandle handle, const transport::WebRtcTransport::Params& params) {
  Inbound* in = inbound(homeWorker);
  if (!in) return;
  if (in->slots.size() <= handle.slot) in->slots.resize(handle.slot + 1);
  auto& slot = in->slots[handle.slot];
  slot.reset();  // the destroy of an earlier user of the slot came first; this only makes sure
  slot = std::make_unique<HostedTransport>(*this, *in, handle, params);
  common::logger("sfu")->debug("worker {}: hosting transport {} of worker {}", mWorker.index(), params.id, homeWorker);
}

HostedTransport* Fanout::hostedEntry(int homeWorker, FanoutHandle handle) const {
  if (homeWorker < 0 || static_cast<size_t>(homeWorker) >= mInbound.size()) return nullptr;
  const auto& in = mInbound[static_cast<size_t>(homeWorker)];
  if (!in || handle.slot >= in->slots.size()) return nullptr;
  HostedTransport* hosted = in->slots[handle.slot].get();
  return hosted && hosted->handle() == handle ? hosted : nullptr;
}

void Fanout::unhost(int homeWorker, FanoutHandle handle) {
  if (!hostedEntry(homeWorker, handle)) return;
  inbound(homeWorker)->slots[handle.slot].reset();
}

void Fanout::setRemoteParameters(int homeWorker, FanoutHandle handle, const ice::IceCredentials& ice,
                                 const transport::RemoteFingerprint& fingerprint) {
  if (HostedTransport* hosted = hostedEntry(homeWorker, handle))
    hosted->transport().setRemoteParameters(ice, fingerprint);
}

void Fanout::restartIce(int homeWorker, FanoutHandle handle, const ice::IceCredentials& local,
                        const ice::IceCredentials& remote) {
  HostedTransport* hosted = hostedEntry(homeWorker, handle);
  if (!hosted) return;
  hosted->transport().restartIce(local, remote);
  mWorker.registerTransport(local.ufrag, &hosted->transport());
}

const transport::WebRtcTransport* Fanout::hosted(int homeWorker, FanoutHandle handle) const {
  HostedTransport* hosted = hostedEntry(homeWorker, handle);
  return hosted ? &hosted->transport() : nullptr;
}

size_t Fanout::hostedCount() const {
  size_t n = 0;
  for (const auto& in : mInbound)
    if (in)
      for (const auto& hosted : in->slots) n += hosted ? 1 : 0;
  return n;
}

// ---- set-up ----------------------------------------------------------------------------------

std::vector<int> fanoutPartners(int home, int workers, int maxPartners) {
  std::vector<int> partners;
  const int n = std::min(std::max(maxPartners, 0), std::max(workers - 1, 0));
  for (int i = 1; i <= n; ++i) partners.push_back((home + i) % workers);
  return partners;
}

void connectWorkers(const std::vector<MediaWorker*>& workers, const FanoutLink::Config& config, int maxPartners) {
  const auto count = static_cast<int>(workers.size());
  for (int h = 0; h < count; ++h) {
    MediaWorker* home = workers[static_cast<size_t>(h)];
    for (int t : fanoutPartners(h, count, maxPartners)) {
      MediaWorker* transport = workers[static_cast<size_t>(t)];
      auto link = std::make_shared<FanoutLink>(home->index(), transport->index(), config);
      home->fanout().addOutbound(link, *transport);
      transport->fanout().addInbound(link, *home);
    }
  }
}

}  // namespace conclave::sfu
