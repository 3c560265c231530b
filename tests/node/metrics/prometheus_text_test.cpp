// The test reader of the Prometheus text format (tests/support/
// prometheus_text): it takes what the format allows and refuses each fault
// a scraper would refuse or misread, so a test that runs it on /metrics
// output proves something.
#include <gtest/gtest.h>

#include "support/prometheus_text.hpp"

using namespace p2pd::test;

namespace {

const char* const valid_doc = "# HELP a_total Things, with a \\\\ and a \\n in help.\n"
                              "# TYPE a_total counter\n"
                              "a_total{k=\"v \\\"q\\\" \\\\ \\n\",z=\"\"} 3\n"
                              "a_total 1e3 1700000000000\n"
                              "\n"
                              "# a free comment\n"
                              "# TYPE h histogram\n"
                              "h_bucket{le=\"0.5\"} 1\n"
                              "h_bucket{le=\"1\"} 2\n"
                              "h_bucket{le=\"+Inf\"} 2\n"
                              "h_sum 0.75\n"
                              "h_count 2\n"
                              "g{x=\"1\",} NaN\n"
                              "# TYPE i gauge\n"
                              "i -Inf\n";

} // namespace

TEST(PrometheusText, ReadsAValidDocumentWithEscapesAndTimestamps) {
  auto r = parse_prometheus_text(valid_doc);
  ASSERT_TRUE(r.ok()) << r.error;
  ASSERT_EQ(r.doc.families.size(), 4u);
  EXPECT_EQ(r.doc.families[0].type, "counter");
  EXPECT_EQ(r.doc.families[0].help, "Things, with a \\ and a \n in help.");
  EXPECT_EQ(r.doc.value("a_total", {{"k", "v \"q\" \\ \n"}, {"z", ""}}), 3.0);
  EXPECT_EQ(r.doc.value("a_total"), 1000.0);
  EXPECT_EQ(r.doc.families[2].name, "g");
  EXPECT_EQ(r.doc.families[2].type, "untyped");
  EXPECT_EQ(r.doc.value("h_count"), 2.0);
}

struct bad_doc {
  const char* why;
  const char* text;
};

class PrometheusTextRefuses : public ::testing::TestWithParam<bad_doc> {};

TEST_P(PrometheusTextRefuses, TheFault) {
  auto r = parse_prometheus_text(GetParam().text);
  EXPECT_FALSE(r.ok()) << GetParam().why << ": accepted";
}

INSTANTIATE_TEST_SUITE_P(
  Faults, PrometheusTextRefuses,
  ::testing::Values(
    bad_doc{"no final newline", "a 1"},
    bad_doc{"name starts with a digit", "1a 1\n"},
    bad_doc{"name with a dash", "a-b 1\n"},
    bad_doc{"no value", "a\n"},
    bad_doc{"two spaces before the value", "a  1\n"},
    bad_doc{"value not a float", "a one\n"},
    bad_doc{"value with a comma", "a 1,5\n"},
    bad_doc{"timestamp not an integer", "a 1 1.5\n"},
    bad_doc{"label value unquoted", "a{k=v} 1\n"},
    bad_doc{"label value not closed", "a{k=\"v} 1\n"},
    bad_doc{"unknown escape", "a{k=\"\\t\"} 1\n"},
    bad_doc{"label name with a dash", "a{k-x=\"v\"} 1\n"},
    bad_doc{"reserved label name", "a{__name__=\"v\"} 1\n"},
    bad_doc{"label twice", "a{k=\"1\",k=\"2\"} 1\n"},
    bad_doc{"labels not separated", "a{k=\"1\" j=\"2\"} 1\n"},
    bad_doc{"a carriage return", "a 1\r\n"},
    bad_doc{"leading space", " a 1\n"},
    bad_doc{"unknown type", "# TYPE a countr\na 1\n"},
    bad_doc{"TYPE after samples", "a 1\n# TYPE a gauge\n"},
    bad_doc{"TYPE twice", "# TYPE a gauge\n# TYPE a gauge\na 1\n"},
    bad_doc{"HELP twice", "# HELP a x\n# HELP a y\na 1\n"},
    bad_doc{"bad escape in HELP", "# HELP a x\\y\na 1\n"},
    bad_doc{"duplicate series", "a{k=\"1\"} 1\na{k=\"1\"} 2\n"},
    bad_doc{"family split in two", "a 1\nb 1\na{k=\"1\"} 2\n"},
    bad_doc{"counter below zero", "# TYPE a_total counter\na_total -1\n"},
    bad_doc{"bucket without le", "# TYPE h histogram\nh_bucket 1\nh_sum 1\nh_count 1\n"},
    bad_doc{"le outside a histogram", "a{le=\"1\"} 1\n"},
    bad_doc{"bare histogram sample", "# TYPE h histogram\nh 1\n"},
    bad_doc{"buckets fall", "# TYPE h histogram\nh_bucket{le=\"1\"} 2\nh_bucket{le=\"2\"} 1\n"
                            "h_bucket{le=\"+Inf\"} 2\nh_sum 1\nh_count 2\n"},
    bad_doc{"no +Inf bucket", "# TYPE h histogram\nh_bucket{le=\"1\"} 2\nh_sum 1\nh_count 2\n"},
    bad_doc{"+Inf is not the count", "# TYPE h histogram\nh_bucket{le=\"+Inf\"} 2\n"
                                     "h_sum 1\nh_count 3\n"},
    bad_doc{"no _count", "# TYPE h histogram\nh_bucket{le=\"+Inf\"} 2\nh_sum 1\n"},
    bad_doc{"le not a float", "# TYPE h histogram\nh_bucket{le=\"x\"} 2\n"
                              "h_bucket{le=\"+Inf\"} 2\nh_sum 1\nh_count 2\n"}));
