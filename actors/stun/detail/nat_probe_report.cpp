#include "p2pd/actors/stun/detail/nat_probe_report.hpp"

#include <optional>
#include <utility>

#include "p2pd/messages/errors.hpp"

namespace p2pd::detail {

caf::error check_nat_probe_spec(const nat_probe_spec& spec) {
  if (spec.server.port == 0)
    return make_error(errc::invalid_argument, "nat probe: the server needs a port");
  if (spec.sample_port_min == 0 || spec.sample_port_min > spec.sample_port_max)
    return make_error(errc::invalid_argument, "nat probe: bad sample port range");
  if (spec.local && spec.local->fam() != spec.server.fam())
    return make_error(errc::invalid_argument, "nat probe: local address "
                                                + spec.local->to_string() + " and server "
                                                + spec.server.to_string()
                                                + " differ in family");
  return {};
}

net::stun_test nat_test_outcome(const caf::expected<stun_binding>& r, const char* name,
                                std::vector<std::string>& notes) {
  if (r)
    return net::stun_test::replied(r->mapped);
  if (code_of(r.error()) == errc::recv_timeout)
    return net::stun_test::no_reply();
  notes.push_back(std::string{name} + ": " + render(r.error()));
  return net::stun_test::not_run();
}

std::vector<net::ip_address> local_ips_of(const net_stack& stack, const endpoint& local,
                                          std::vector<std::string>& notes) {
  std::vector<net::ip_address> out;
  if (!local.ip.is_any()) {
    out.push_back(local.ip);
    return out;
  }
  auto table = stack.interfaces();
  if (!table) {
    notes.push_back("local addresses: " + net::to_string(table.error()));
    return out;
  }
  for (const auto& itf : table->interfaces)
    for (const auto& a : itf.addresses(local.fam()))
      out.push_back(a.ip);
  return out;
}

caf::expected<nat_report> choose_nat_report(const std::vector<endpoint>& servers,
                                            std::vector<caf::expected<nat_report>> tried) {
  if (tried.empty())
    return make_error(errc::invalid_argument, "nat probe: no servers given");
  std::optional<size_t> chosen; // the first with a type, else the first report
  for (size_t i = 0; i < tried.size(); ++i)
    if (tried[i] && (!chosen || (tried[*chosen]->nat == net::nat_type::unknown
                                 && tried[i]->nat != net::nat_type::unknown)))
      chosen = i;
  // What each server said, in order; the chosen report's own notes unprefixed.
  std::vector<std::string> notes;
  std::string failures;
  std::optional<caf::error> other_error; // the first that is not "unreachable"
  for (size_t i = 0; i < tried.size(); ++i) {
    const auto prefix = servers[i].to_string() + ": ";
    if (!tried[i]) {
      const auto& err = tried[i].error();
      notes.push_back(prefix + render(err));
      failures += (failures.empty() ? "" : "; ") + render(err);
      if (!other_error && code_of(err) != errc::recv_timeout)
        other_error = err;
      continue;
    }
    for (const auto& n : tried[i]->notes)
      notes.push_back(chosen == i ? n : prefix + n);
  }
  if (chosen) {
    auto rep = std::move(*tried[*chosen]);
    rep.notes = std::move(notes);
    return rep;
  }
  if (tried.size() == 1)
    return std::move(tried[0].error());
  if (other_error)
    return make_error(code_of(*other_error), "nat probe: no server could be used: " + failures);
  return make_error(errc::recv_timeout, "server unreachable: none of the "
                                          + std::to_string(servers.size())
                                          + " servers answered: " + failures);
}

} // namespace p2pd::detail
