// What conclave-load measures over its window, and how it prints it: a table for people and one
// JSON line for scripts (bench/load/run.sh, comparisons with other SFUs).
#pragma once

#include <sys/types.h>

#include <cstdint>
#include <cstdio>
#include <map>
#include <optional>
#include <string>

#include "clients/media_clients.h"

namespace conclave::bench::load {

// A process's CPU time (user + system, all threads) and resident memory, from /proc/PID/stat and
// /proc/PID/status, and how long its threads were runnable but waited for a CPU (the second field
// of /proc/PID/task/*/schedstat, summed): on a machine shared with other work, a server that
// waits for the CPU is late by that much and its latency is not its own.
struct ProcessSample {
  double cpuSeconds = 0;
  double runQueueSeconds = 0;
  int64_t rssKib = 0;
  static std::optional<ProcessSample> read(pid_t pid);
};

struct Results {
  std::string scenario;
  std::string server;
  int sessions = 0;    // participants (signaling connections)
  int publishers = 0;  // participants that publish
  int receivers = 0;   // participants that receive something
  int receiving = 0;   // ... that had packets on every stream expected before the window
  int failed = 0;      // connections whose ICE or DTLS failed
  int failedIce = 0, failedDtls = 0;
  int problems = 0;  // signaling errors and closed sessions
  std::map<std::string, int> problemKinds;
  std::string layer;   // the layer subscribers asked for
  size_t streams = 0;  // subscribed streams (all receivers' together)
  size_t silentStreams = 0;
  double warmupSeconds = 0;
  bool settled = false;  // every video on the layer asked for when the window began
  double seconds = 0;
  ClientStats stats;  // over the window, every media thread's
  double jitterMeanMs = 0, jitterMaxMs = 0;
  std::optional<ProcessSample> serverBefore, serverStart, serverEnd;  // before the load, window edges
  std::optional<ProcessSample> loadStart, loadEnd;                    // this process, window edges
  double loadMediaCpuSeconds = 0, loadSignalingCpuSeconds = 0;        // its threads, over the window
  double readySeconds = 0;  // from the first session's start until every session received everything
};

void printTable(FILE* out, const Results& r);
void printJson(FILE* out, const Results& r);
// Two runs of one scenario (Conclave's, then another SFU's): the forwarded packets per server
// CPU-second of each and their ratio, as a line for people on `table` and a JSON line on `json`.
void printComparison(FILE* table, FILE* json, const Results& conclave, const Results& other);

}  // namespace conclave::bench::load
