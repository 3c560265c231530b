// What a TCP punch counts, and how it says why it failed.
#include <algorithm>
#include <chrono>

#include "p2pd/actors/punch/detail/tcp_punch_core.hpp"
#include "p2pd/messages/errors.hpp"

namespace p2pd {

namespace {

/// Failure texts kept for the reason: enough to show the kinds that
/// happened, bounded however many attempts failed.
constexpr size_t max_reasons = 3;

} // namespace

std::string tcp_punch_stats::to_string() const {
  auto n = [](uint32_t x) { return std::to_string(x); };
  return n(rounds) + " rounds, " + n(attempts) + " connects (" + n(refused) + " refused, "
         + n(timed_out) + " timed out, " + n(failed) + " failed), " + n(accepted)
         + " accepted, " + n(connected) + " connected, " + n(wrong_node) + " wrong node, "
         + n(tls_failed) + " TLS failures, " + n(lost) + " lost, " + n(closed) + " closed";
}

tls_role tcp_punch_role(const net::node_id& me, const net::node_id& peer) {
  return peer < me ? tls_role::server : tls_role::client;
}

bool tcp_punch::core::owns(const caf::actor_addr& a) const {
  if (listener_ && listener_.address() == a)
    return true;
  if (std::any_of(clients_.begin(), clients_.end(),
                  [&](const attempt& x) { return x.pipe.address() == a; }))
    return true;
  return retired(a);
}

std::vector<tcp_punch::core::attempt>::iterator
tcp_punch::core::find_client(const caf::actor_addr& a) {
  return std::find_if(clients_.begin(), clients_.end(),
                      [&](const attempt& x) { return x.pipe.address() == a; });
}

bool tcp_punch::core::any_up() const {
  return !accepted_.empty()
         || std::any_of(clients_.begin(), clients_.end(), [](const attempt& x) { return x.up; });
}

void tcp_punch::core::retire(const caf::actor_addr& a) {
  // Bounded: one per connect (max_attempts) and one per listener opened.
  if (a && !retired(a))
    retired_.push_back(a);
}

bool tcp_punch::core::retired(const caf::actor_addr& a) const {
  return std::find(retired_.begin(), retired_.end(), a) != retired_.end();
}

void tcp_punch::core::count(const caf::error& err) {
  switch (code_of(err)) {
    case errc::connect_refused:
    case errc::connection_reset:
      ++stats.refused; // RST: a closed port or a NAT without the mapping
      break;
    case errc::connect_timeout:
      ++stats.timed_out; // dropped, as a NAT drops an unsolicited SYN
      break;
    case errc::tls_verify_failed:
      ++stats.wrong_node;
      break;
    case errc::tls_failed:
      ++stats.tls_failed;
      break;
    default:
      ++stats.failed;
  }
  note(err);
}

void tcp_punch::core::note(const caf::error& err) {
  if (!err || reasons_.size() >= max_reasons)
    return;
  auto text = render(err);
  if (std::find(reasons_.begin(), reasons_.end(), text) == reasons_.end())
    reasons_.push_back(std::move(text));
}

caf::error tcp_punch::core::failure() const {
  auto& s = stats;
  bool others = s.failed > 0 || s.tls_failed > 0;
  auto code = s.wrong_node > 0                                      ? errc::tls_verify_failed
              : s.timed_out > 0 && s.refused == 0 && !others        ? errc::connect_timeout
              : s.refused > 0 && s.timed_out == 0 && !others        ? errc::connect_refused
                                                                    : errc::connect_failed;
  auto ms = std::chrono::duration_cast<std::chrono::milliseconds>(spec.window).count();
  std::string to = spec.remotes.front().to_string();
  if (spec.remotes.size() > 1)
    to += " (and " + std::to_string(spec.remotes.size() - 1) + " more)";
  std::string why = "TCP punch from " + local.to_string() + " to " + to
                    + " connected nothing within " + std::to_string(ms) + " ms: "
                    + s.to_string();
  if (s.attempts >= spec.max_attempts)
    why += " (max_attempts reached)";
  if (!reasons_.empty()) {
    why += "; errors:";
    for (auto& r : reasons_)
      why += " [" + r + "]";
  }
  return make_error(code, why);
}

} // namespace p2pd
