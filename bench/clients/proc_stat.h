// A process's (or thread's) CPU time from /proc/PID/stat, for the benchmarks that watch
// processes besides their own threads (sfu_room_bench the kernel's softirq threads, conclave-load
// the server under test).
#pragma once

#include <cstdint>
#include <fstream>
#include <optional>
#include <sstream>
#include <string>

namespace conclave::bench {

// utime + stime of /proc/PID/stat, in clock ticks (sysconf(_SC_CLK_TCK) per second): fields 14
// and 15, counted after "pid (comm)", whose comm may hold blanks.
inline std::optional<uint64_t> cpuTicksOf(int pid) {
  std::ifstream in("/proc/" + std::to_string(pid) + "/stat");
  std::string line;
  if (!std::getline(in, line) || line.rfind(')') == std::string::npos) return std::nullopt;
  std::istringstream rest(line.substr(line.rfind(')') + 1));  // from field 3, the state
  std::string skip;
  for (int field = 3; field < 14; ++field) rest >> skip;
  uint64_t utime = 0, stime = 0;
  if (!(rest >> utime >> stime)) return std::nullopt;
  return utime + stime;
}

}  // namespace conclave::bench
