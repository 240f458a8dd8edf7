// The client threads of sfu_room_bench (room_bench.cpp): they drive the publishers and
// subscribers of bench/clients/media_clients.h over their UDP sockets with ppoll.
#pragma once

#include <poll.h>

#include <atomic>
#include <thread>
#include <vector>

#include "clients/media_clients.h"

namespace conclave::bench {

// Set by the main thread: whether client threads record.
inline std::atomic<bool> gRecording{false};

// ---- client threads ------------------------------------------------------------------------------

struct ClientThread {
  std::vector<Publisher*> publishers;
  std::vector<Subscriber*> subscribers;
  int sample = 1;
  std::atomic<bool> stop{false};
  // What happened while gRecording was on. The main thread resets it before turning recording
  // on and reads it a while after turning it off (a benchmark's handoff, not a synchronised one).
  ClientStats stats;
  std::thread thread;
  clockid_t cpuClock{};
  net::ReceiveBatch receive{64};

  void loop() {
    std::vector<Browser*> browsers;
    for (auto* p : publishers) browsers.push_back(&p->browser);
    for (auto* s : subscribers) browsers.push_back(&s->browser);
    std::vector<pollfd> fds;
    fds.reserve(browsers.size());
    for (auto* b : browsers) fds.push_back({b->socket->fd(), POLLIN, 0});
    const TimePoint begin = std::chrono::steady_clock::now();
    for (auto* p : publishers) p->begin(begin, int(publishers.size()));
    ClientStats scratch;  // what happens outside windows
    while (!stop.load(std::memory_order_relaxed)) {
      // Chosen again for every batch: nothing is added to `stats` once the main thread has
      // turned recording off and the batch at hand is done.
      ClientStats* st = gRecording.load(std::memory_order_relaxed) ? &stats : &scratch;
      TimePoint now = std::chrono::steady_clock::now();
      TimePoint next = now + 100ms;
      for (auto* p : publishers) next = std::min(next, p->run(now, *st));
      for (auto* s : subscribers) next = std::min(next, s->run(now, *st));
      for (auto* b : browsers) {
        browserTimers(*b, now);
        b->send.flush();
      }
      now = std::chrono::steady_clock::now();
      const auto wait = std::max<common::Duration>(next - now, common::Duration(0));
      const timespec ts{time_t(wait.count() / 1'000'000'000), long(wait.count() % 1'000'000'000)};
      if (::ppoll(fds.data(), fds.size(), &ts, nullptr) <= 0) continue;
      for (size_t i = 0; i < fds.size(); ++i) {
        if (!(fds[i].revents & POLLIN)) continue;
        Browser& b = *browsers[i];
        Publisher* pub = i < publishers.size() ? publishers[i] : nullptr;
        Subscriber* sub = pub ? nullptr : subscribers[i - publishers.size()];
        while (size_t n = receive.receive(*b.socket)) {
          const TimePoint readAt = std::chrono::steady_clock::now();
          st = gRecording.load(std::memory_order_relaxed) ? &stats : &scratch;
          for (size_t k = 0; k < n; ++k) {
            auto d = receive.data(k);
            if (handleControl(b, d, readAt)) continue;
            if (ice::isRtcp(d)) {
              if (pub) pub->onRtcp(d, *st);
              else sub->onRtcp(d, readAt, *st);
            } else if (sub) {
              sub->onRtp(d, receive.arrival(k), sample, *st);
            }
          }
          if (n < 64) break;
        }
      }
    }
  }
};

}  // namespace conclave::bench
