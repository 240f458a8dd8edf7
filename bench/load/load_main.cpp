// conclave-load: many WebRTC sessions at once against a running SFU, over its real signaling and
// real media (ICE, DTLS, SRTP), to measure what the server costs per forwarded packet and what
// it adds to each packet's trip. bench/README.md has the scenarios, the commands and figures;
// bench/load/run.sh starts a server and runs one.
//
// A session is one participant: a signaling connection (signaling.h; conclave_signaling.h for
// Conclave), a publish connection if it publishes (Opus 50 packets/s of ~100 bytes, and/or a
// VP8 camera in three simulcast layers, ~150 k / 500 k / 2.5 M bit/s at 30 frames/s, keyframes
// on PLI/FIR, RTX answers to NACKs), and a subscribe connection for everything the server offers
// (transport-cc feedback every 50 ms, receiver reports every second, NACKs at once, as Chrome
// sends them, so the server's estimator sees a healthy subscriber). Payloads are random-looking
// bytes (SFrame ciphertext would be) behind the clear codec bytes the SFU reads, with a trailer
// that names the publisher and carries its send time (CLOCK_MONOTONIC): the receiver's kernel
// receive time minus that is the one-way latency through the server, on one machine.
//
// Threads: one signaling thread (all WebSockets, asynchronous), --threads media threads (epoll
// over the sessions' UDP sockets, recvmmsg/sendmmsg), and the main thread, which only waits and
// reads /proc.
#include <pthread.h>
#include <sys/resource.h>
#include <unistd.h>

#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/steady_timer.hpp>

#include <algorithm>
#include <atomic>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <functional>
#include <future>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <thread>
#include <unordered_map>
#include <vector>

#include "common/certificate.h"
#include "common/random.h"
#include "load/conclave_signaling.h"
#include "load/janus_signaling.h"
#include "load/media_thread.h"
#include "load/report.h"
#include "load/session_sdp.h"
#include "load/signaling.h"

namespace {

using namespace conclave;
using namespace conclave::bench;
using namespace conclave::bench::load;
namespace asio = boost::asio;

struct Options {
  std::string scenario = "meeting";
  std::string kind;  // conclave, janus, both; empty: what the addresses given say
  std::string host = "127.0.0.1";
  uint16_t port = 0;
  JanusOptions janus;
  bool haveJanus = false;
  bool namedConclave = false, namedJanus = false;  // on the command line (not the environment)
  pid_t serverPid = 0, conclavePid = 0, janusPid = 0;
  int publishers = -1;  // -1: the scenario's default
  int subscribers = 100;
  int participants = 5;
  double duration = 10;
  double warmup = 30;
  double readyTimeout = -1;  // -1: 30 s + 0.1 s per session
  int threads = 1;
  int decryptSample = 1;
  std::string layer;  // q, h, f; empty: the scenario's default
  std::vector<std::string> sources;
  int connecting = 16;
  bool json = false;
  bool check = false;
};

// Who does what in a scenario.
struct Plan {
  int publishers = 0;       // sessions 0..publishers-1 publish
  int subscribersOnly = 0;  // the sessions after them only receive
  bool audio = true, video = true;
  int layer = 2;
  size_t expectedFor(int index) const {  // streams session `index` receives
    const size_t perPublisher = (audio ? 1 : 0) + (video ? 1 : 0);
    const int others = index < publishers ? publishers - 1 : publishers;
    return perPublisher * size_t(std::max(others, 0));
  }
  int sessions() const { return publishers + subscribersOnly; }
};

std::optional<Plan> planOf(const Options& o, std::string& error) {
  Plan p;
  const auto layerIndex = [&](const char* fallback) {
    const std::string l = o.layer.empty() ? fallback : o.layer;
    return l == "q" ? 0 : l == "h" ? 1 : l == "f" ? 2 : -1;
  };
  if (o.scenario == "audio") {
    p.publishers = o.publishers < 0 ? 10 : o.publishers;
    p.subscribersOnly = o.subscribers;
    p.video = false;
    p.layer = 0;
  } else if (o.scenario == "meeting") {
    p.publishers = o.participants;
    p.layer = layerIndex("h");
  } else if (o.scenario == "webinar") {
    p.publishers = o.publishers < 0 ? 1 : o.publishers;
    p.subscribersOnly = o.subscribers;
    p.layer = layerIndex("f");
  } else {
    error = "unknown scenario " + o.scenario + " (audio, meeting, webinar)";
    return std::nullopt;
  }
  if (p.layer < 0) error = "--layer is q, h or f";
  if (p.publishers < 1 || p.subscribersOnly < 0) error = "a scenario needs a publisher";
  // Conclave's meetings hold at most 1,000 participants (signaling/meeting_settings.h), and a
  // subscribe connection at most 64 sections (sdp::MidAllocator).
  if (p.sessions() > 1000) error = "a meeting holds at most 1000 participants";
  if (error.empty()) return p;
  return std::nullopt;
}

// ---- one participant, on the signaling thread ---------------------------------------------------

struct Shared {
  asio::io_context& io;
  const dtls::DtlsContext& context;
  sdp::Fingerprint fingerprint;
  Progress& progress;
  Plan plan;
  std::unordered_map<std::string, int> indexOf;  // participant id -> session index
  std::atomic<int> problems{0};
  std::map<std::string, int> problemKinds;  // what went wrong, by kind (signaling thread)
};

// "error rate-limited: ..." -> "error rate-limited": the kind of a problem, without its details.
std::string kindOf(const std::string& what) { return what.substr(0, what.find(':')); }

class Participant final : public SignalingSession::Listener {
 public:
  Participant(int index, MediaThread& thread, Shared& shared)
      : mIndex(index),
        mThread(thread),
        mShared(shared),
        mSessionId(common::randomU64() >> 2),
        mPreferencesTimer(shared.io) {}

  void start(SignalingServer& server) {
    mSession = server.session(mIndex, *this);
    mSession->start();
  }
  void close() {
    mPreferencesTimer.cancel();
    if (mSession) mSession->close();
  }
  bool publishes() const { return mIndex < mShared.plan.publishers; }

  void onJoined(const std::string& participantId, const net::Endpoint& local) override {
    mShared.indexOf[participantId] = mIndex;
    mLocal = local;
    if (!publishes()) return;
    mPublish = std::make_unique<PeerLink>(mThread, mShared.context, mShared.fingerprint, local, PeerLink::Role::Publish,
                                          mIndex, mShared.progress);
    PublishTracks tracks;
    tracks.audio = mShared.plan.audio;
    tracks.video = mShared.plan.video;
    tracks.audioSsrc = Publisher::audioSsrcOf(mIndex);
    tracks.cname = "load" + std::to_string(mIndex);
    tracks.audioMid = "0";
    tracks.videoMid = "1";
    std::vector<PublishedTrack> sources;
    if (tracks.audio) sources.push_back({tracks.audioMid, "microphone"});
    if (tracks.video) sources.push_back({tracks.videoMid, "camera"});
    mSession->publish(buildPublishOffer(mPublish->local(), tracks, mSessionId), sources);
  }

  void onPublishAnswer(const std::string& sdp) override {
    auto remote = readPublishAnswer(sdp, mLocal.family());
    if (!remote) return onProblem("publish answer: " + remote.error(), true);
    PublisherConfig config;
    config.audio = mShared.plan.audio;
    config.video = mShared.plan.video;
    config.audioMid = "0";
    config.videoMid = "1";
    config.layers = VideoLayers{{1, 2, 10}, {625, 1040, 1040}};  // ~150 k, 500 k, 2.5 M bit/s
    config.retransmit = true;
    PeerLink* link = mPublish.get();
    mThread.loop().post(
        [link, r = remote.value(), config, n = mShared.plan.publishers] { link->startPublisher(r, config, n); });
  }

  void onSubscribeOffer(const std::string& sdp, const std::vector<OfferedTrack>& tracks) override {
    if (!mSubscribe)
      mSubscribe = std::make_unique<PeerLink>(mThread, mShared.context, mShared.fingerprint, mLocal,
                                              PeerLink::Role::Subscribe, mIndex, mShared.progress);
    auto offer = answerSubscribeOffer(sdp, mSubscribe->local(), mLocal.family(), mSessionId, ++mAnswers);
    if (!offer) return onProblem("subscribe offer: " + offer.error(), true);
    std::vector<InStream> streams;
    std::vector<std::string> videoMids;
    for (const auto& t : offer->tracks) {
      if (!t.active) continue;
      auto named = std::find_if(tracks.begin(), tracks.end(), [&](const OfferedTrack& o) { return o.mid == t.mid; });
      auto who = named == tracks.end() ? mShared.indexOf.end() : mShared.indexOf.find(named->participantId);
      InStream s;
      s.publisher = who == mShared.indexOf.end() ? -1 : who->second;
      s.video = t.video;
      s.ssrc = t.ssrc;
      s.rtxSsrc = t.rtxSsrc;
      s.clockRate = t.clockRate;
      streams.push_back(s);
      if (t.video) videoMids.push_back(t.mid);
    }
    PeerLink* link = mSubscribe.get();
    const bool first = !mSubscribeStarted;
    mSubscribeStarted = true;
    mThread.loop().post([link, first, r = offer->remote, streams, tcc = offer->transportCcId,
                         expected = mShared.plan.expectedFor(mIndex)] {
      if (first) link->startSubscriber(r, expected);
      else link->updateRemote(r);
      link->addStreams(streams, tcc);
    });
    mSession->answerSubscribe(offer->answer);
    mVideoMids = std::move(videoMids);
    if (!mVideoMids.empty()) sendPreferences();
  }

  // The sizes of all videos after each answer, as the web client sends them, and like it at most
  // one message per 250 ms (the server allows 5 a second).
  void sendPreferences() {
    const auto now = std::chrono::steady_clock::now();
    if (mPreferencesPending) return;
    if (now - mPreferencesSent < 250ms) {
      mPreferencesPending = true;
      mPreferencesTimer.expires_at(mPreferencesSent + 250ms);
      mPreferencesTimer.async_wait([this](const boost::system::error_code& ec) {
        mPreferencesPending = false;
        if (!ec) sendPreferences();
      });
      return;
    }
    mPreferencesSent = now;
    const size_t layer = size_t(mShared.plan.layer);
    mSession->showVideos(mVideoMids, kWidths[layer], kHeights[layer]);
  }

  void onProblem(const std::string& what, bool fatal) override {
    if (fatal && !mEnded) {
      mEnded = true;
      ++mShared.progress.ended;
    }
    ++mShared.problemKinds[kindOf(what)];
    if (mShared.problems.fetch_add(1) < 20)
      std::fprintf(stderr, "session %d%s: %s\n", mIndex, fatal ? " (ended)" : "", what.c_str());
  }

 private:
  int mIndex;
  MediaThread& mThread;
  Shared& mShared;
  uint64_t mSessionId;
  uint64_t mAnswers = 1;
  net::Endpoint mLocal;
  std::unique_ptr<SignalingSession> mSession;
  std::unique_ptr<PeerLink> mPublish, mSubscribe;
  bool mSubscribeStarted = false;
  bool mEnded = false;
  std::vector<std::string> mVideoMids;
  asio::steady_timer mPreferencesTimer;
  std::chrono::steady_clock::time_point mPreferencesSent{};
  bool mPreferencesPending = false;
};

// ---- the run ------------------------------------------------------------------------------------

// Waits until `done()` (asked every `every`) or `seconds` passed; true if done.
template <typename Done>
bool waitFor(Done done, double seconds, common::Duration every = 20ms) {
  const auto end = std::chrono::steady_clock::now() + std::chrono::duration<double>(seconds);
  while (!done()) {
    if (std::chrono::steady_clock::now() > end) return false;
    std::this_thread::sleep_for(every);
  }
  return true;
}

void raiseFileLimit() {
  rlimit limit{};
  if (getrlimit(RLIMIT_NOFILE, &limit) == 0 && limit.rlim_cur < limit.rlim_max) {
    limit.rlim_cur = limit.rlim_max;
    setrlimit(RLIMIT_NOFILE, &limit);
  }
}

bool parseServer(const std::string& text, Options& o) {
  const size_t colon = text.rfind(':');
  if (colon == std::string::npos) return false;
  o.host = text.substr(0, colon);
  if (o.host.size() > 2 && o.host.front() == '[') o.host = o.host.substr(1, o.host.size() - 2);
  o.port = uint16_t(std::stoi(text.substr(colon + 1)));
  return o.port != 0;
}

std::vector<std::string> splitList(const std::string& text) {
  std::vector<std::string> out;
  for (size_t pos = 0; pos <= text.size();) {
    const size_t comma = std::min(text.find(',', pos), text.size());
    if (comma > pos) out.push_back(text.substr(pos, comma - pos));
    pos = comma + 1;
  }
  return out;
}

// Throws std::invalid_argument / std::out_of_range (std::stoi) for a malformed number.
bool parse(int argc, char** argv, Options& o) {
  using Set = std::function<bool(const std::string&)>;
  const std::vector<std::pair<std::string, Set>> options = {
      {"--scenario", [&](const std::string& v) { return o.scenario = v, true; }},
      {"--server", [&](const std::string& v) { return o.namedConclave = parseServer(v, o); }},
      {"--conclave", [&](const std::string& v) { return o.namedConclave = parseServer(v, o); }},
      {"--janus", [&](const std::string& v) { return o.haveJanus = o.namedJanus = parseJanusUrl(v, o.janus); }},
      {"--server-kind", [&](const std::string& v) { return o.kind = v, true; }},
      {"--server-pid", [&](const std::string& v) { return o.serverPid = pid_t(std::stoi(v)), true; }},
      {"--conclave-pid", [&](const std::string& v) { return o.conclavePid = pid_t(std::stoi(v)), true; }},
      {"--janus-pid", [&](const std::string& v) { return o.janusPid = pid_t(std::stoi(v)), true; }},
      {"--publishers", [&](const std::string& v) { return o.publishers = std::stoi(v), true; }},
      {"--subscribers", [&](const std::string& v) { return o.subscribers = std::stoi(v), true; }},
      {"--participants", [&](const std::string& v) { return o.participants = std::stoi(v), true; }},
      {"--duration", [&](const std::string& v) { return o.duration = std::stod(v), true; }},
      {"--warmup", [&](const std::string& v) { return o.warmup = std::stod(v), true; }},
      {"--ready-timeout", [&](const std::string& v) { return o.readyTimeout = std::stod(v), true; }},
      {"--threads", [&](const std::string& v) { return o.threads = std::max(1, std::stoi(v)), true; }},
      {"--decrypt-sample", [&](const std::string& v) { return o.decryptSample = std::max(1, std::stoi(v)), true; }},
      {"--layer", [&](const std::string& v) { return o.layer = v, true; }},
      {"--sources", [&](const std::string& v) { return o.sources = splitList(v), true; }},
      {"--connecting", [&](const std::string& v) { return o.connecting = std::max(1, std::stoi(v)), true; }},
  };
  for (int i = 1; i < argc; ++i) {
    const std::string arg = argv[i];
    if (arg == "--json" || arg == "--check") {
      (arg == "--json" ? o.json : o.check) = true;
      continue;
    }
    auto option = std::find_if(options.begin(), options.end(), [&](const auto& e) { return e.first == arg; });
    if (option == options.end() || i + 1 >= argc || !option->second(argv[++i])) return false;
  }
  if (o.kind.empty()) o.kind = o.namedJanus ? (o.namedConclave ? "both" : "janus") : "conclave";
  const bool conclave = o.kind == "conclave" || o.kind == "both", janus = o.kind == "janus" || o.kind == "both";
  if (!conclave && !janus) return false;
  return (!conclave || o.port != 0) && (!janus || o.haveJanus) && o.duration > 0;
}

constexpr const char* kUsage =
    "usage: conclave-load [--server-kind conclave|janus|both] [--server|--conclave HOST:PORT] [--janus "
    "ws://HOST:PORT]\n"
    "         [--scenario audio|meeting|webinar] [--participants N]\n"
    "         [--publishers N] [--subscribers N] [--layer q|h|f] [--duration S] [--warmup S]\n"
    "         [--server-pid PID] [--threads N] [--decrypt-sample K] [--sources ADDR,ADDR...]\n"
    "         [--connecting N] [--ready-timeout S] [--json] [--check]\n"
    "  audio    --publishers (10) audio-only publishers, --subscribers (100) receiving all of them\n"
    "  meeting  --participants (5) each publishing audio + simulcast video and receiving all others\n"
    "  webinar  --publishers (1) audio + video, --subscribers (100) receiving it\n"
    "  --layer: the simulcast layer subscribers ask for (meeting: h, webinar: f)\n"
    "  --warmup: at most this long (default 30 s) for every video to reach that layer\n"
    "  --server-kind: the SFU measured (default: conclave with --server, janus with --janus, both\n"
    "                with both: the same scenario against Conclave, then against Janus, and their ratio)\n"
    "  --server-pid: read the server's CPU time and RSS from /proc over the window\n"
    "  --conclave-pid, --janus-pid: the same for each server of --server-kind both\n"
    "  (defaults: $CONCLAVE_SERVER, $CONCLAVE_PID, $JANUS_WS and $JANUS_PID, as bench/load/lab.sh sets them)\n"
    "  --json: only the JSON line on stdout (the table goes to stderr)\n"
    "  --check: exit 1 unless every session received decrypted media with under 5 % loss\n";

// bench/load/lab.sh names the servers in the environment of the command it runs in its load
// namespace: CONCLAVE_SERVER (host:port), CONCLAVE_PID, JANUS_WS (ws://host:port) and JANUS_PID,
// the defaults of --conclave, --conclave-pid, --janus and --janus-pid. They do not choose the
// server: that is --server-kind, or the addresses given on the command line.
void defaultsFromEnvironment(Options& o) {
  if (const char* server = std::getenv("CONCLAVE_SERVER")) parseServer(server, o);
  if (const char* pid = std::getenv("CONCLAVE_PID")) o.conclavePid = pid_t(std::strtol(pid, nullptr, 10));
  if (const char* url = std::getenv("JANUS_WS")) o.haveJanus = parseJanusUrl(url, o.janus);
  if (const char* pid = std::getenv("JANUS_PID")) o.janusPid = pid_t(std::strtol(pid, nullptr, 10));
}

// One run of the scenario against the server of `kind` (conclave, janus), whose process is `pid`
// (0: unknown); its results in `out` once measured.
int run(const Options& o, const std::string& kind, pid_t pid, std::optional<Results>& out) {
  std::string error;
  auto plan = planOf(o, error);
  if (!plan) {
    std::fprintf(stderr, "conclave-load: %s\n", error.c_str());
    return 2;
  }
  raiseFileLimit();
  const double readyTimeout = o.readyTimeout > 0 ? o.readyTimeout : 30 + 0.1 * plan->sessions();

  Results results;
  results.scenario = o.scenario;
  results.sessions = plan->sessions();
  results.publishers = plan->publishers;
  results.layer = plan->video ? kRids[size_t(plan->layer)] : "-";
  for (int i = 0; i < plan->sessions(); ++i) results.receivers += plan->expectedFor(i) > 0 ? 1 : 0;
  if (pid > 0) results.serverBefore = ProcessSample::read(pid);

  const common::Certificate certificate = common::Certificate::generateSelfSigned("conclave-load");
  const dtls::DtlsContext context(certificate);
  const auto digest = certificate.sha256Fingerprint();
  Progress progress;
  asio::io_context io;
  Shared shared{io, context, {"sha-256", {digest.begin(), digest.end()}}, progress, *plan, {}, {}};

  std::vector<std::unique_ptr<MediaThread>> threads;
  threads.reserve(size_t(o.threads));
  for (int i = 0; i < o.threads; ++i) threads.push_back(std::make_unique<MediaThread>(o.decryptSample));
  for (auto& t : threads) t->start();
  auto work = asio::make_work_guard(io);
  std::thread signaling([&io] {
    // A handler that throws (a socket that cannot be made) ends its session, not the run.
    for (;;) {
      try {
        io.run();
        return;
      } catch (const std::exception& e) {
        std::fprintf(stderr, "conclave-load: signaling thread: %s\n", e.what());
      }
    }
  });
  clockid_t signalingClock{};
  pthread_getcpuclockid(signaling.native_handle(), &signalingClock);

  std::unique_ptr<SignalingServer> server;
  if (kind == "janus") {
    JanusOptions janusOptions = o.janus;
    janusOptions.maxPublishers = plan->sessions();
    server = makeJanusServer(io, janusOptions);
  } else {
    ConclaveOptions conclaveOptions;
    conclaveOptions.host = o.host;
    conclaveOptions.port = o.port;
    conclaveOptions.sources = o.sources;
    conclaveOptions.maxConnecting = size_t(o.connecting);
    server = makeConclaveServer(io, conclaveOptions);
  }
  results.server = server->name();
  std::vector<std::unique_ptr<Participant>> participants;
  participants.reserve(size_t(plan->sessions()));
  for (int i = 0; i < plan->sessions(); ++i)
    participants.push_back(std::make_unique<Participant>(i, *threads[size_t(i) % threads.size()], shared));

  auto onSignaling = [&io](auto task) {
    std::promise<void> done;
    asio::post(io, [&] {
      task();
      done.set_value();
    });
    done.get_future().wait();
  };
  onSignaling([&] { server->createMeeting([&error](const std::string& e) { error = e; }); });
  int status = 0;
  if (!error.empty()) {
    std::fprintf(stderr, "conclave-load: %s\n", error.c_str());
    status = 1;
  } else {
    // Publishers first, so that each subscriber gets one offer with every track.
    const auto setupStart = std::chrono::steady_clock::now();
    onSignaling([&] {
      for (int i = 0; i < plan->publishers; ++i) participants[size_t(i)]->start(*server);
    });
    if (!waitFor([&] { return progress.publishConnected + progress.failed + progress.ended >= plan->publishers; },
                 readyTimeout))
      std::fprintf(stderr, "conclave-load: %d of %d publishers connected in time\n", progress.publishConnected.load(),
                   plan->publishers);
    onSignaling([&] {
      for (int i = plan->publishers; i < plan->sessions(); ++i) participants[size_t(i)]->start(*server);
    });
    if (!waitFor([&] { return progress.receiving + progress.failed + progress.ended >= results.receivers; },
                 readyTimeout))
      std::fprintf(stderr, "conclave-load: %d of %d sessions receiving every stream after %.0f s\n",
                   progress.receiving.load(), results.receivers, readyTimeout);
    results.readySeconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - setupStart).count();
    // Warm-up: the server's estimates of the subscribers' downlinks ramp up and its allocation
    // moves each video to the layer asked for. At least a second, at most --warmup.
    const auto warmStart = std::chrono::steady_clock::now();
    auto offLayer = [&] {
      size_t off = 0;
      for (auto& t : threads)
        t->call([&] {
          for (PeerLink* link : t->links()) off += link->videoStreamsOffLayer(plan->layer);
        });
      return off;
    };
    results.settled =
        waitFor([&] { return std::chrono::steady_clock::now() - warmStart >= 1s && (!plan->video || offLayer() == 0); },
                std::max(o.warmup, 1.0), 250ms);
    results.warmupSeconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - warmStart).count();

    // The window.
    for (auto& t : threads)
      t->call([&t] {
        t->stats().reset();
        for (PeerLink* link : t->links()) link->markStreams();
      });
    results.serverStart = pid > 0 ? ProcessSample::read(pid) : std::nullopt;
    results.loadStart = ProcessSample::read(::getpid());
    auto threadCpu = [&] {
      int64_t media = 0;
      for (auto& t : threads) media += t->cpuNanos();
      return std::make_pair(media, cpuNanos(signalingClock));
    };
    const auto cpu0 = threadCpu();
    const auto t0 = std::chrono::steady_clock::now();
    std::this_thread::sleep_for(std::chrono::duration<double>(o.duration));
    results.serverEnd = pid > 0 ? ProcessSample::read(pid) : std::nullopt;
    results.loadEnd = ProcessSample::read(::getpid());
    const auto cpu1 = threadCpu();
    results.loadMediaCpuSeconds = double(cpu1.first - cpu0.first) / 1e9;
    results.loadSignalingCpuSeconds = double(cpu1.second - cpu0.second) / 1e9;
    results.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
    PeerLink::StreamSummary summary;
    for (auto& t : threads)
      t->call([&] {
        results.stats.merge(t->stats());
        for (PeerLink* link : t->links()) link->summarize(summary);
      });
    results.receiving = progress.receiving;
    results.failed = progress.failed;
    results.problems = shared.problems;
    results.failedIce = progress.failedIce;
    results.failedDtls = progress.failedDtls;
    onSignaling([&] { results.problemKinds = shared.problemKinds; });
    results.streams = summary.streams;
    results.silentStreams = summary.silent;
    results.jitterMeanMs = summary.streams > 0 ? summary.jitterSumMs / double(summary.streams) : 0;
    results.jitterMaxMs = summary.jitterMaxMs;
    printTable(o.json ? stderr : stdout, results);
    printJson(stdout, results);
    out = results;
    if (o.check) {
      const ClientStats& s = results.stats;
      const double loss = double(s.lost - std::min(s.lost, s.repaired)) / double(std::max<uint64_t>(s.rtpReceived, 1));
      std::string why;
      if (results.receiving < results.receivers) why = "not every session received every stream";
      else if (results.failed > 0) why = "connections failed";
      else if (s.decrypted == 0) why = "nothing was decrypted";
      else if (s.srtpFailures > 0 || s.wrongPublisher > 0) why = "packets failed their checks";
      else if (loss > 0.05) why = "more than 5 % lost";
      else if (results.silentStreams > 0) why = "streams went silent";
      if (!why.empty()) {
        std::fprintf(stderr, "conclave-load --check: %s\n", why.c_str());
        status = 1;
      }
    }
  }

  // Leave: the WebSockets close, then media stops and the threads end.
  onSignaling([&] {
    for (auto& p : participants) p->close();
  });
  for (auto& t : threads) t->stop();
  work.reset();
  io.stop();
  signaling.join();
  participants.clear();
  return status;
}

}  // namespace

int main(int argc, char** argv) {
  Options o;
  try {
    defaultsFromEnvironment(o);
    if (!parse(argc, argv, o)) {
      std::fputs(kUsage, stderr);
      return 2;
    }
  } catch (const std::exception&) {
    std::fputs(kUsage, stderr);
    return 2;
  }
  try {
    if (o.kind != "both") {
      std::optional<Results> results;
      // --server-pid names the one server measured; otherwise its own pid option or variable.
      const pid_t own = o.kind == "janus" ? o.janusPid : o.conclavePid;
      return run(o, o.kind, o.serverPid > 0 ? o.serverPid : own, results);
    }
    // The same scenario against Conclave, then against Janus (each server idle while the other
    // is measured), then what one costs per forwarded packet against the other.
    std::optional<Results> conclave, janus;
    const int first = run(o, "conclave", o.conclavePid, conclave);
    if (!o.json) std::printf("\n");
    const int second = run(o, "janus", o.janusPid, janus);
    if (conclave && janus) printComparison(o.json ? stderr : stdout, stdout, *conclave, *janus);
    return std::max(first, second);
  } catch (const std::exception& e) {
    std::fprintf(stderr, "conclave-load: %s\n", e.what());
    return 1;
  }
}
