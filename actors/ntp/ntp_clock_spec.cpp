#include "p2pd/actors/ntp/ntp_clock_spec.hpp"

#include <set>

#include "p2pd/messages/errors.hpp"

namespace p2pd {

caf::error ntp_clock_spec::check() const {
  if (samples == 0)
    return make_error(errc::invalid_argument, "ntp_clock_spec: samples must be at least 1");
  if (reply_timeout <= caf::timespan{0})
    return make_error(errc::invalid_argument, "ntp_clock_spec: reply_timeout must be positive");
  if (refresh_interval > caf::timespan{0}
      && refresh_interval <= measurement_time() + reply_timeout)
    return make_error(errc::invalid_argument,
                      "ntp_clock_spec: refresh_interval must be longer than a measurement and "
                      "one reply_timeout ("
                        + std::to_string(std::chrono::duration_cast<std::chrono::milliseconds>(
                                           measurement_time() + reply_timeout)
                                           .count())
                        + " ms), or the clock would never be idle");
  std::set<net::family> fams;
  for (const auto& l : local)
    if (!fams.insert(l.fam()).second)
      return make_error(errc::invalid_argument,
                        "ntp_clock_spec: two local addresses of " + std::string{net::to_string(l.fam())});
  return {};
}

caf::timespan ntp_clock_spec::measurement_time() const {
  auto sends = samples + retries;
  return (servers.empty() ? caf::timespan{0} : dns_timeout) + reply_timeout * sends
         + spacing * (sends > 0 ? sends - 1 : 0);
}

void add_ntp_servers(ntp_clock_spec& spec, const std::vector<net::server_entry>& list) {
  for (const auto& e : list)
    if (e.kind == net::server_kind::ntp)
      spec.servers.push_back(e);
}

} // namespace p2pd
