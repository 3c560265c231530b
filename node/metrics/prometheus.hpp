#pragma once

#include <string>
#include <string_view>

#include "p2pd/node/metrics/node_metrics.hpp"

namespace p2pd {

/// The Content-Type of what to_prometheus writes, for a `/metrics` answer.
inline constexpr std::string_view prometheus_content_type = "text/plain; version=0.0.4; charset=utf-8";

/// `m` in the Prometheus text exposition format 0.0.4 (what a `/metrics`
/// endpoint serves with `Content-Type: text/plain; version=0.0.4`): every
/// family with `# HELP` and `# TYPE`, names prefixed `p2pd_`, counters
/// ending `_total`, the connect times as a histogram in seconds
/// (`p2pd_connect_duration_seconds`), label values escaped. A non-empty
/// `node_id` adds `p2pd_node_info{id="..."} 1`. Connect counters and
/// histograms are written for every strategy, zero where nothing happened
/// yet, so that a series exists from the first scrape.
std::string to_prometheus(const node_metrics& m, std::string_view node_id = {});

/// `v` escaped for a label value: backslash, double quote and newline.
std::string prometheus_label_escape(std::string_view v);

} // namespace p2pd
