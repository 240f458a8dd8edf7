// The Prometheus text exposition format (version 0.0.4), as served on /metrics: metric families,
// each a "# HELP" and a "# TYPE" line followed by its samples, one per line:
//   # HELP conclave_rooms Rooms open now.
//   # TYPE conclave_rooms gauge
//   conclave_rooms 3
//   conclave_worker_packets_in_total{worker="0"} 1234
// Names and label names are checked (the builder's callers write them as literals; a bad one is a
// programming error and throws std::invalid_argument); label values and help texts are escaped.
// Labels carry only what the operator may see: worker numbers, never room IDs, names or addresses.
#pragma once

#include <cstdint>
#include <initializer_list>
#include <string>
#include <string_view>
#include <utility>

namespace conclave::common {

class MetricsText {
 public:
  enum class Type { Counter, Gauge };
  using Labels = std::initializer_list<std::pair<std::string_view, std::string_view>>;

  // Starts a family: its samples follow until the next family() call. A counter's name ends in
  // "_total" by convention (not enforced).
  MetricsText& family(std::string_view name, Type type, std::string_view help);
  // A sample of the current family (throws std::logic_error before the first family()).
  MetricsText& sample(uint64_t value, Labels labels = {});
  MetricsText& sample(double value, Labels labels = {});
  // Shorthand for a family with one unlabelled sample.
  MetricsText& gauge(std::string_view name, std::string_view help, uint64_t value);
  MetricsText& counter(std::string_view name, std::string_view help, uint64_t value);

  const std::string& text() const { return mText; }

  // The Content-Type of this format.
  static constexpr std::string_view kContentType = "text/plain; version=0.0.4; charset=utf-8";

 private:
  void startSample(Labels labels);

  std::string mText;
  std::string mFamily;
};

}  // namespace conclave::common
