// The Prometheus text format as /metrics serves it: families with HELP and TYPE, labelled samples,
// escaping of what could break a line, and names that are refused.
#include "common/metrics_text.h"

#include <gtest/gtest.h>

#include <limits>
#include <stdexcept>

using conclave::common::MetricsText;

TEST(MetricsText, WritesAFamilyWithItsHelpTypeAndLabelledSamples) {
  MetricsText m;
  m.gauge("conclave_rooms", "Rooms open now.", 3);
  m.family("conclave_worker_packets_in_total", MetricsText::Type::Counter, "Datagrams received.")
      .sample(uint64_t{1234}, {{"worker", "0"}})
      .sample(uint64_t{18446744073709551615u}, {{"worker", "1"}});
  EXPECT_EQ(m.text(),
            "# HELP conclave_rooms Rooms open now.\n"
            "# TYPE conclave_rooms gauge\n"
            "conclave_rooms 3\n"
            "# HELP conclave_worker_packets_in_total Datagrams received.\n"
            "# TYPE conclave_worker_packets_in_total counter\n"
            "conclave_worker_packets_in_total{worker=\"0\"} 1234\n"
            "conclave_worker_packets_in_total{worker=\"1\"} 18446744073709551615\n");
}

TEST(MetricsText, EscapesHelpAndLabelValuesSoNoLineCanBeInjected) {
  MetricsText m;
  m.family("x", MetricsText::Type::Gauge, "a \\ b\nc \"q\"").sample(uint64_t{1}, {{"l", "v\"\n\\"}, {"k", ""}});
  EXPECT_EQ(m.text(),
            "# HELP x a \\\\ b\\nc \"q\"\n"
            "# TYPE x gauge\n"
            "x{l=\"v\\\"\\n\\\\\",k=\"\"} 1\n");
}

TEST(MetricsText, WritesFloatingPointValuesIncludingTheSpecialOnes) {
  MetricsText m;
  m.family("r", MetricsText::Type::Gauge, "h")
      .sample(0.25)
      .sample(std::numeric_limits<double>::infinity())
      .sample(-std::numeric_limits<double>::infinity())
      .sample(std::numeric_limits<double>::quiet_NaN());
  EXPECT_EQ(m.text(), "# HELP r h\n# TYPE r gauge\nr 0.25\nr +Inf\nr -Inf\nr NaN\n");
}

TEST(MetricsText, RefusesBadNamesAndASampleWithoutAFamily) {
  MetricsText m;
  EXPECT_THROW(m.sample(uint64_t{1}), std::logic_error);
  EXPECT_THROW(m.family("", MetricsText::Type::Gauge, "h"), std::invalid_argument);
  EXPECT_THROW(m.family("1abc", MetricsText::Type::Gauge, "h"), std::invalid_argument);
  EXPECT_THROW(m.family("a b", MetricsText::Type::Gauge, "h"), std::invalid_argument);
  m.family("ns:ok_1", MetricsText::Type::Gauge, "h");
  EXPECT_THROW(m.sample(uint64_t{1}, {{"a:b", "v"}}), std::invalid_argument);
  EXPECT_THROW(m.sample(uint64_t{1}, {{"a}", "v"}}), std::invalid_argument);
}
