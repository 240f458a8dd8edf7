#include "load/media_thread.h"

#include <algorithm>
#include <cstdio>

namespace conclave::bench::load {
namespace {

// ICE: a check (with USE-CANDIDATE when we control) now, again after 50 ms, doubling up to 1.6 s (Chromium's
// pacing of a pair's retransmissions is similar); DTLS up within 30 s of the first check or the
// connection counts as failed.
constexpr common::Duration kFirstCheckInterval = 50ms;
constexpr common::Duration kMaxCheckInterval = 1600ms;
constexpr common::Duration kConnectTimeout = 30s;

TimePoint steadyNow() { return std::chrono::steady_clock::now(); }

}  // namespace

MediaThread::MediaThread(int decryptSample) : mDecryptSample(std::max(1, decryptSample)) {}

MediaThread::~MediaThread() { stop(); }

void MediaThread::start() {
  mThread = std::thread([this] {
    for (;;) {
      try {
        mLoop.run();
        return;
      } catch (const std::exception& e) {
        std::fprintf(stderr, "conclave-load: media thread: %s\n", e.what());
      }
    }
  });
  pthread_getcpuclockid(mThread.native_handle(), &mCpuClock);
}

void MediaThread::stop() {
  if (!mThread.joinable()) return;
  mLoop.stop();
  mThread.join();
}

bool MediaThread::call(const std::function<void()>& task) {
  auto done = std::make_shared<std::promise<void>>();
  auto future = done->get_future();
  mLoop.post([task, done] {
    task();
    done->set_value();
  });
  return future.wait_for(10s) == std::future_status::ready;
}

PeerLink::PeerLink(MediaThread& thread, const dtls::DtlsContext& context, const sdp::Fingerprint& fingerprint,
                   const net::Endpoint& local, Role role, int index, Progress& progress)
    : mThread(thread), mContext(context), mRole(role), mIndex(index), mProgress(progress) {
  mSocket = std::make_unique<net::UdpSocket>(ipOf(local), 0);
  mLocal.ice = ice::IceCredentials::generate();
  mLocal.fingerprint = fingerprint;
  mLocal.address = withPort(local, mSocket->localPort());
}

PeerLink::~PeerLink() {
  if (mTimer != 0) mThread.loop().cancelTimer(mTimer);
  if (mBrowser) mThread.loop().unwatch(mBrowser->socket->fd());
}

void PeerLink::begin(const RemoteEndpoint& remote) {
  // Subscribers stamp arrivals in the kernel (SO_TIMESTAMPNS): latency without our own wake-up.
  const size_t batch = mRole == Role::Publish ? 64 : 16;
  mBrowser = std::make_unique<Browser>(mContext, remote.fingerprint, remote.address, std::move(mSocket), mLocal.address,
                                       mRole == Role::Subscribe, batch, remote.localRole);
  // A frame's packets to the server in as few messages as the kernel allows (UDP GSO): the
  // server sees the same datagrams, the load tool spends less of the machine on them.
  if (mRole == Role::Publish) mBrowser->send.enableSegmentation(true);
  mBrowser->peer.setIce(mLocal.ice);
  // We offer publish connections, so we control them; a subscribe connection is the server's
  // offer, which a full ICE server (Janus) controls, an ICE-lite one (Conclave) never.
  mBrowser->peer.setControlling(mRole == Role::Publish || remote.iceLite);
  mBrowser->serverIce = remote.ice;
  mThread.add(this);
  mThread.loop().watch(mBrowser->socket->fd(), [this] { onReadable(); });
  mState = State::Checking;
  mStartedAt = steadyNow();
  mNextCheck = mStartedAt;
  mCheckInterval = kFirstCheckInterval;
  onTimer();
}

void PeerLink::startPublisher(const RemoteEndpoint& remote, const PublisherConfig& config, int publishers) {
  mPublisherConfig = config;
  mPublishers = publishers;
  begin(remote);
}

void PeerLink::startSubscriber(const RemoteEndpoint& remote, size_t expectedStreams) {
  mExpected = expectedStreams;
  begin(remote);
  // 50 ms of what a subscriber gets here is at most a few hundred packets (it grows if not).
  mSubscriber = std::make_unique<Subscriber>(mIndex, *mBrowser, 512);
}

void PeerLink::addStreams(const std::vector<InStream>& streams, uint8_t tccId) {
  if (!mSubscriber) return;
  mSubscriber->tccId = tccId;
  mSubscriber->feedback = tccId != 0;
  for (const auto& s : streams)
    if (!mSubscriber->bySsrc.count(s.ssrc)) mSubscriber->addStream(s);
}

void PeerLink::updateRemote(const RemoteEndpoint& remote) {
  if (!mBrowser || remote.ice == mBrowser->serverIce) return;
  mBrowser->serverIce = remote.ice;
  mBrowser->target = remote.address;
  mBrowser->peer.sendCheck(remote.ice, true);
  mBrowser->flushPeer();
  mBrowser->send.flush();
}

void PeerLink::onReadable() {
  if (!mBrowser) return;
  Browser& b = *mBrowser;
  net::ReceiveBatch& rx = mThread.receiveBatch();
  ClientStats& stats = mThread.stats();
  bool control = false;
  while (size_t n = rx.receive(*b.socket)) {
    for (size_t k = 0; k < n; ++k) {
      auto d = rx.data(k);
      if (ice::classifyPacket(d) != ice::PacketKind::RtpRtcp) {
        control = true;
        b.peer.receive(d, rx.arrival(k));
        continue;
      }
      if (mState != State::Connected) continue;
      if (ice::isRtcp(d)) {
        if (mPublisher) mPublisher->onRtcp(d, stats);
        else if (mSubscriber) mSubscriber->onRtcp(d, rx.arrival(k), stats);
      } else if (mSubscriber) {
        stats.receiveWait.add(nanosOf(rx.readTime()) - nanosOf(rx.arrival(k)));
        mSubscriber->onRtp(d, rx.arrival(k), mThread.decryptSample(), stats);
      }
    }
    if (n < 64) break;
  }
  if (control) advance(steadyNow());
  if (mSubscriber && mSubscriber->streams.size() > 0) {
    mSubscriber->sendNacks(stats);  // a browser NACKs a gap at once
    if (!mReceiving) checkReceiving();
  }
  b.flushPeer();
  b.send.flush();
}

// ICE answered -> DTLS; DTLS up -> media.
void PeerLink::advance(TimePoint now) {
  Browser& b = *mBrowser;
  if (mState == State::Checking) {
    for (const auto& a : b.peer.stunAnswers)
      if (a.cls == ice::StunClass::SuccessResponse && a.integrityOk) mState = State::Dtls;
    b.peer.stunAnswers.clear();
    if (mState == State::Dtls) {
      b.peer.startDtls(now);
      arm(now);
    }
  }
  if (mState == State::Dtls && b.peer.dtlsConnected()) {
    mState = State::Connected;
    b.nextConsent = now + kConsentInterval;
    if (mRole == Role::Publish) {
      mPublisher = std::make_unique<Publisher>(mIndex, b, mPublisherConfig);
      mPublisher->begin(now, mPublishers);
      ++mProgress.publishConnected;
    } else {
      mSubscriber->nextFeedback = now + kFeedbackInterval;
      mSubscriber->nextReport = now + kReportInterval;
      ++mProgress.subscribeConnected;
    }
    arm(now);
  }
  // The server's close_notify (its session ended: we left) ends the connection quietly.
  if (const auto& why = b.peer.dtlsFailed(); why && mState != State::Failed) {
    if (*why == "closed") mState = State::Failed;
    else fail("DTLS failed: " + *why);
  }
}

void PeerLink::onTimer() {
  mTimer = 0;
  if (!mBrowser || mState == State::Failed) return;
  Browser& b = *mBrowser;
  const TimePoint now = steadyNow();
  TimePoint next = now + 1s;
  if (mState != State::Connected && now - mStartedAt > kConnectTimeout)
    return fail(mState == State::Checking ? "no ICE answer" : "DTLS did not connect");
  if (mState == State::Checking) {
    if (now >= mNextCheck) {
      b.peer.sendCheck(b.serverIce, true);
      mNextCheck = now + mCheckInterval;
      mCheckInterval = std::min(mCheckInterval * 2, kMaxCheckInterval);
    }
    next = std::min(next, mNextCheck);
  }
  browserTimers(b, now);  // DTLS retransmissions, consent checks once connected
  if (mState == State::Connected) {
    next = std::min(next, b.nextConsent);
    if (mPublisher) next = std::min(next, mPublisher->run(now, mThread.stats()));
    if (mSubscriber) {
      next = std::min(next, mSubscriber->run(now, mThread.stats()));
      if (!mReceiving) checkReceiving();
    }
  }
  if (auto t = b.peer.dtls().nextTimeout()) next = std::min(next, *t);
  b.flushPeer();
  b.send.flush();
  arm(next);
}

void PeerLink::checkReceiving() {
  if (mExpected == 0 || !mSubscriber) return;
  size_t withPackets = 0;
  for (const auto& s : mSubscriber->streams) withPackets += s.received > 0 ? 1 : 0;
  if (withPackets < mExpected) return;
  mReceiving = true;
  ++mProgress.receiving;
}

void PeerLink::fail(const std::string& why) {
  ++(mState == State::Checking ? mProgress.failedIce : mProgress.failedDtls);
  mState = State::Failed;
  if (++mProgress.failed <= 20)
    std::fprintf(stderr, "session %d %s connection: %s\n", mIndex, mRole == Role::Publish ? "publish" : "subscribe",
                 why.c_str());
}

void PeerLink::arm(TimePoint when) {
  if (mTimer != 0) {
    if (mTimerAt <= when) return;  // an earlier wake-up is set; it arms the next one
    mThread.loop().cancelTimer(mTimer);
  }
  mTimerAt = when;
  mTimer = mThread.loop().setTimer(when, [this] { onTimer(); });
}

void PeerLink::markStreams() {
  mMarks.clear();
  if (mSubscriber)
    for (const auto& s : mSubscriber->streams) mMarks.push_back(s.received);
}

size_t PeerLink::videoStreamsOffLayer(int layer) const {
  if (!mSubscriber || mState == State::Failed) return 0;
  return size_t(std::count_if(mSubscriber->streams.begin(), mSubscriber->streams.end(),
                              [layer](const InStream& s) { return s.video && s.layer != layer; }));
}

void PeerLink::summarize(StreamSummary& out) const {
  if (!mSubscriber) return;
  for (size_t i = 0; i < mSubscriber->streams.size(); ++i) {
    const InStream& s = mSubscriber->streams[i];
    ++out.streams;
    if (s.received == (i < mMarks.size() ? mMarks[i] : 0)) ++out.silent;
    const double ms = s.jitter * 1000.0 / double(s.clockRate);
    out.jitterSumMs += ms;
    out.jitterMaxMs = std::max(out.jitterMaxMs, ms);
  }
}

}  // namespace conclave::bench::load
