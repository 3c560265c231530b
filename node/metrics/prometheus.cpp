#include "p2pd/node/metrics/prometheus.hpp"

#include <initializer_list>
#include <utility>
#include <vector>

#include "p2pd/node/connect/plan.hpp"

namespace p2pd {

namespace {

using prom_label = std::pair<std::string_view, std::string_view>;

/// Writes families one at a time: a family's header, then its samples.
class prom_writer {
public:
  void family(std::string_view name, std::string_view type, std::string_view help) {
    out_ += "# HELP ";
    out_ += name;
    out_ += ' ';
    for (char c : help) {
      if (c == '\\')
        out_ += "\\\\";
      else if (c == '\n')
        out_ += "\\n";
      else
        out_ += c;
    }
    out_ += "\n# TYPE ";
    out_ += name;
    out_ += ' ';
    out_ += type;
    out_ += '\n';
  }

  void sample(std::string_view name, std::initializer_list<prom_label> labels,
              std::string_view value) {
    out_ += name;
    if (labels.size() > 0) {
      out_ += '{';
      bool first = true;
      for (auto& [k, v] : labels) {
        if (!first)
          out_ += ',';
        first = false;
        out_ += k;
        out_ += "=\"";
        out_ += prometheus_label_escape(v);
        out_ += '"';
      }
      out_ += '}';
    }
    out_ += ' ';
    out_ += value;
    out_ += '\n';
  }

  void sample(std::string_view name, std::initializer_list<prom_label> labels, uint64_t value) {
    sample(name, labels, std::string_view{std::to_string(value)});
  }

  std::string take() { return std::move(out_); }

private:
  std::string out_;
};

// Milliseconds as seconds, exactly: "1.250", "0.005", "12".
std::string ms_as_seconds(int64_t ms) {
  std::string sign = ms < 0 ? "-" : "";
  uint64_t v = ms < 0 ? static_cast<uint64_t>(-(ms + 1)) + 1 : static_cast<uint64_t>(ms);
  auto whole = std::to_string(v / 1000);
  auto frac = v % 1000;
  if (frac == 0)
    return sign + whole;
  auto f = std::to_string(frac);
  f = std::string(3 - f.size(), '0') + f;
  while (f.back() == '0')
    f.pop_back();
  return sign + whole + "." + f;
}

constexpr node::strategy all_strategies[] = {node::strategy::direct, node::strategy::reverse,
                                             node::strategy::punch, node::strategy::relay};

void write_connects(prom_writer& w, const node_metrics& m) {
  w.family("p2pd_connects_total", "counter",
           "Connects this node made, by the strategy that won (ok) or was tried last (failed; "
           "none: no attempt was possible).");
  auto count_of = [&](std::string_view how, std::string_view outcome) -> uint64_t {
    for (auto& t : m.connects)
      if (t.strategy == how && t.outcome == outcome)
        return t.count;
    return 0;
  };
  for (auto how : all_strategies)
    for (std::string_view outcome : {"ok", "failed"})
      w.sample("p2pd_connects_total", {{"strategy", node::to_string(how)}, {"outcome", outcome}},
               count_of(node::to_string(how), outcome));
  // Labels outside the known strategies ("none") as they come.
  for (auto& t : m.connects) {
    bool known = false;
    for (auto how : all_strategies)
      known = known || t.strategy == node::to_string(how);
    if (!known)
      w.sample("p2pd_connects_total", {{"strategy", t.strategy}, {"outcome", t.outcome}},
               t.count);
  }

  w.family("p2pd_connect_duration_seconds", "histogram",
           "Time from a connect's start to its connection, by the strategy that won.");
  for (auto how : all_strategies) {
    ms_histogram h;
    for (auto& t : m.connect_times)
      if (t.strategy == node::to_string(how))
        h = t.ms;
    uint64_t cumulative = 0;
    for (size_t i = 0; i < connect_ms_bounds.size(); ++i) {
      cumulative += i < h.buckets.size() ? h.buckets[i] : 0;
      auto le = ms_as_seconds(connect_ms_bounds[i]);
      w.sample("p2pd_connect_duration_seconds_bucket",
               {{"strategy", node::to_string(how)}, {"le", le}}, cumulative);
    }
    w.sample("p2pd_connect_duration_seconds_bucket",
             {{"strategy", node::to_string(how)}, {"le", "+Inf"}}, h.count);
    w.sample("p2pd_connect_duration_seconds_sum", {{"strategy", node::to_string(how)}},
             ms_as_seconds(h.sum_ms));
    w.sample("p2pd_connect_duration_seconds_count", {{"strategy", node::to_string(how)}},
             h.count);
  }
}

void write_node(prom_writer& w, const node_metrics& m) {
  auto& s = m.stats;
  w.family("p2pd_connections", "gauge", "Peer connections open now.");
  w.sample("p2pd_connections", {}, s.connections);
  w.family("p2pd_inbound_connections_total", "counter",
           "Peer connections accepted (certificate and hello checked).");
  w.sample("p2pd_inbound_connections_total", {}, s.inbound);
  w.family("p2pd_messages_total", "counter", "Application messages on peer connections.");
  w.sample("p2pd_messages_total", {{"direction", "in"}}, s.messages_in);
  w.sample("p2pd_messages_total", {{"direction", "out"}}, s.messages_out);
  w.family("p2pd_bytes_total", "counter", "Application bytes of those messages.");
  w.sample("p2pd_bytes_total", {{"direction", "in"}}, s.bytes_in);
  w.sample("p2pd_bytes_total", {{"direction", "out"}}, s.bytes_out);
  w.family("p2pd_refused_total", "counter",
           "What the node refused: peers that failed authentication (auth), bad or unasked "
           "hellos, reverse hellos nobody asked for, signalling requests, peer addresses, "
           "punch messages.");
  w.sample("p2pd_refused_total", {{"what", "auth"}}, s.refused_auth);
  w.sample("p2pd_refused_total", {{"what", "hello"}}, s.refused_hello);
  w.sample("p2pd_refused_total", {{"what", "reverse"}}, s.refused_reverse);
  w.sample("p2pd_refused_total", {{"what", "request"}}, s.refused_requests);
  w.sample("p2pd_refused_total", {{"what", "address"}}, s.refused_addresses);
  w.sample("p2pd_refused_total", {{"what", "punch"}}, s.refused_punch);
  w.family("p2pd_idle_closed_total", "counter", "Connections closed for idleness.");
  w.sample("p2pd_idle_closed_total", {}, s.idle_closed);
  w.family("p2pd_punches_total", "counter", "Hole punches that ended, either side.");
  w.sample("p2pd_punches_total", {{"outcome", "ok"}}, s.punches);
  w.sample("p2pd_punches_total", {{"outcome", "failed"}}, s.punches_failed);
  w.family("p2pd_child_restarts_total", "counter",
           "Restarts of the node's supervised children (interface actors, signal node, daemon, "
           "clock).");
  for (auto& c : m.children)
    w.sample("p2pd_child_restarts_total", {{"child", c.child}}, uint64_t{c.restarts});
  w.family("p2pd_nat_type", "gauge",
           "The NAT type each interface's probe found, per family (1 for the current type).");
  for (auto& n : m.nats)
    w.sample("p2pd_nat_type", {{"interface", n.interface}, {"family", n.family}, {"type", n.nat}},
             uint64_t{1});
}

void write_pipes(prom_writer& w, const node_metrics& m) {
  w.family("p2pd_pipes_unanswered", "gauge",
           "Pipes (or the daemon) that did not answer within the gathering bound: their "
           "counters are missing from this scrape.");
  w.sample("p2pd_pipes_unanswered", {}, uint64_t{m.pipes_unanswered});
  w.family("p2pd_pipe_messages_total", "counter",
           "Messages on the node's listeners and outbound link pipes.");
  for (auto& p : m.pipes) {
    w.sample("p2pd_pipe_messages_total", {{"role", p.role}, {"pipe", p.name}, {"direction", "in"}},
             p.stats.rx_msgs);
    w.sample("p2pd_pipe_messages_total",
             {{"role", p.role}, {"pipe", p.name}, {"direction", "out"}}, p.stats.tx_msgs);
  }
  w.family("p2pd_pipe_bytes_total", "counter", "Bytes on those pipes.");
  for (auto& p : m.pipes) {
    w.sample("p2pd_pipe_bytes_total", {{"role", p.role}, {"pipe", p.name}, {"direction", "in"}},
             p.stats.rx_bytes);
    w.sample("p2pd_pipe_bytes_total", {{"role", p.role}, {"pipe", p.name}, {"direction", "out"}},
             p.stats.tx_bytes);
  }
  w.family("p2pd_pipe_dropped_total", "counter",
           "Messages a pipe dropped, by reason (pipe_stats' dropped_* counters).");
  for (auto& p : m.pipes) {
    auto& s = p.stats;
    std::pair<std::string_view, uint64_t> reasons[] = {
      {"unclaimed", s.dropped_unclaimed}, {"queue_full", s.dropped_queue_full},
      {"duplicate", s.dropped_duplicate}, {"oversized", s.dropped_oversized},
      {"send", s.dropped_send},           {"forged", s.dropped_forged},
      {"replayed", s.dropped_replayed},   {"foreign", s.dropped_foreign},
      {"malformed", s.dropped_malformed}};
    for (auto& [why, n] : reasons)
      w.sample("p2pd_pipe_dropped_total", {{"role", p.role}, {"pipe", p.name}, {"reason", why}},
               n);
  }
  w.family("p2pd_pipe_clients_total", "counter",
           "Clients of a listener: accepted, shed (room or descriptors), timed out, reset for "
           "malformed framing.");
  for (auto& p : m.pipes) {
    auto& s = p.stats;
    std::pair<std::string_view, uint64_t> events[] = {{"accepted", s.clients_accepted},
                                                      {"shed", s.clients_shed},
                                                      {"timed_out", s.clients_timed_out},
                                                      {"malformed", s.clients_malformed}};
    for (auto& [what, n] : events)
      w.sample("p2pd_pipe_clients_total", {{"role", p.role}, {"pipe", p.name}, {"event", what}},
               n);
  }
  w.family("p2pd_pipe_rx_errors_total", "counter", "Transient socket errors of a pipe.");
  for (auto& p : m.pipes)
    w.sample("p2pd_pipe_rx_errors_total", {{"role", p.role}, {"pipe", p.name}}, p.stats.rx_errors);
  w.family("p2pd_pipe_dead_subscribers_total", "counter",
           "Subscribers a pipe removed because they ended.");
  for (auto& p : m.pipes)
    w.sample("p2pd_pipe_dead_subscribers_total", {{"role", p.role}, {"pipe", p.name}},
             p.stats.dead_subscribers);
  w.family("p2pd_listener_restarts_total", "counter", "Restarts of a listener by the daemon.");
  for (auto& p : m.pipes)
    if (p.role == "listener")
      w.sample("p2pd_listener_restarts_total", {{"pipe", p.name}}, p.restarts);
}

void write_signal(prom_writer& w, const node_metrics& m) {
  w.family("p2pd_signal_up", "gauge",
           "1 when the signal node answered this scrape, 0 when it was restarting or late.");
  w.sample("p2pd_signal_up", {}, uint64_t{m.has_signal ? 1u : 0u});
  if (!m.has_signal)
    return;
  auto& s = m.signal;
  w.family("p2pd_signal_messages_total", "counter",
           "Signalling messages: sent, sends that failed, delivered to subscribers, "
           "authenticated but unclaimed, duplicate copies.");
  std::pair<std::string_view, uint64_t> events[] = {{"sent", s.sent},
                                                    {"send_failed", s.send_failed},
                                                    {"delivered", s.delivered},
                                                    {"unclaimed", s.unclaimed},
                                                    {"duplicate", s.duplicates}};
  for (auto& [what, n] : events)
    w.sample("p2pd_signal_messages_total", {{"event", what}}, n);
  w.family("p2pd_signal_refused_total", "counter", "Signalling messages refused, by reason.");
  std::pair<std::string_view, uint64_t> reasons[] = {
    {"malformed", s.malformed},
    {"too_large", s.too_large},
    {"unsupported_version", s.unsupported_version},
    {"not_for_us", s.not_for_us},
    {"wrong_sender_key", s.wrong_sender_key},
    {"bad_signature", s.bad_signature},
    {"undecryptable", s.undecryptable},
    {"replayed", s.replayed},
    {"expired", s.expired},
    {"too_old", s.too_old},
    {"from_future", s.from_future}};
  for (auto& [why, n] : reasons)
    w.sample("p2pd_signal_refused_total", {{"reason", why}}, n);
  w.family("p2pd_signal_channel_failures_total", "counter",
           "Publishes a signalling channel refused or failed.");
  w.sample("p2pd_signal_channel_failures_total", {}, s.channel_failures);
  w.family("p2pd_signal_replay_evicted_total", "counter",
           "What the replay guard forgot for room: message ids, senders.");
  w.sample("p2pd_signal_replay_evicted_total", {{"what", "ids"}}, s.replay_evicted);
  w.sample("p2pd_signal_replay_evicted_total", {{"what", "senders"}}, s.replay_senders_evicted);
  w.family("p2pd_signal_channels", "gauge",
           "Signalling channels: configured, and listening (subscription confirmed).");
  w.sample("p2pd_signal_channels", {{"state", "configured"}}, uint64_t{s.channels});
  w.sample("p2pd_signal_channels", {{"state", "listening"}}, uint64_t{s.channels_listening});
  w.family("p2pd_signal_pending_sends", "gauge", "Signalling sends waiting for a channel.");
  w.sample("p2pd_signal_pending_sends", {}, s.pending_sends);
}

} // namespace

std::string prometheus_label_escape(std::string_view v) {
  std::string out;
  out.reserve(v.size());
  for (char c : v) {
    if (c == '\\')
      out += "\\\\";
    else if (c == '"')
      out += "\\\"";
    else if (c == '\n')
      out += "\\n";
    else
      out += c;
  }
  return out;
}

std::string to_prometheus(const node_metrics& m, std::string_view node_id) {
  prom_writer w;
  if (!node_id.empty()) {
    w.family("p2pd_node_info", "gauge", "The node's id (always 1).");
    w.sample("p2pd_node_info", {{"id", node_id}}, uint64_t{1});
  }
  write_connects(w, m);
  write_node(w, m);
  write_pipes(w, m);
  write_signal(w, m);
  return w.take();
}

} // namespace p2pd
