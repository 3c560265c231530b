#pragma once

#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

// A strict reader of the Prometheus text exposition format 0.0.4, for tests
// of what /metrics serves: every line is checked against the format's
// grammar, and a document is refused for what a scraper would refuse or
// misread (a family split in two, a series twice, a histogram whose buckets
// fall or whose +Inf bucket is not its count).

namespace p2pd::test {

struct prom_sample {
  std::string name;                          ///< as written: "x_bucket" in family "x"
  std::map<std::string, std::string> labels; ///< unescaped values
  double value = 0;
};

struct prom_family {
  std::string name;
  std::string type;  ///< counter, gauge, histogram, summary or untyped
  std::string help;  ///< unescaped
  std::vector<prom_sample> samples;
};

struct prom_document {
  std::vector<prom_family> families;

  const prom_family* family(std::string_view name) const;
  /// The value of the series `name{labels}` (exactly those labels), if any.
  std::optional<double> value(std::string_view name,
                              const std::map<std::string, std::string>& labels = {}) const;
};

/// The document, or, in `error`, "line N: what is wrong" for the first fault.
struct prom_parse_result {
  prom_document doc;
  std::string error;
  bool ok() const { return error.empty(); }
};

prom_parse_result parse_prometheus_text(std::string_view text);

} // namespace p2pd::test
