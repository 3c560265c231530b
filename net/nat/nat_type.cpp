#include "p2pd/net/nat/nat_type.hpp"

#include <algorithm>
#include <string>

#include "p2pd/net/util/parse_name.hpp"

namespace p2pd::net {

const char* to_string(nat_type x) {
  switch (x) {
    case nat_type::unknown: return "unknown";
    case nat_type::open_internet: return "open_internet";
    case nat_type::udp_firewall: return "udp_firewall";
    case nat_type::full_cone: return "full_cone";
    case nat_type::restricted: return "restricted";
    case nat_type::port_restricted: return "port_restricted";
    case nat_type::symmetric: return "symmetric";
    case nat_type::blocked: return "blocked";
  }
  return "invalid";
}

result<nat_type> parse_nat_type(std::string_view name) {
  static constexpr nat_type all[] = {
    nat_type::unknown,    nat_type::open_internet,   nat_type::udp_firewall,
    nat_type::full_cone,  nat_type::restricted,      nat_type::port_restricted,
    nat_type::symmetric,  nat_type::blocked,
  };
  return parse_name(name, all, "NAT type");
}

const char* to_string(test_reply x) {
  switch (x) {
    case test_reply::not_run: return "not_run";
    case test_reply::no_reply: return "no_reply";
    case test_reply::replied: return "replied";
  }
  return "invalid";
}

bool is_easy(nat_type x) {
  return x == nat_type::open_internet || x == nat_type::full_cone;
}

bool is_predictable(nat_type x) {
  switch (x) {
    case nat_type::open_internet:
    case nat_type::udp_firewall:
    case nat_type::full_cone:
    case nat_type::restricted:
    case nat_type::port_restricted:
      return true;
    default:
      return false;
  }
}

namespace {

// ::ffff:a.b.c.d from a dual-stack socket is the same host as a.b.c.d.
bool is_local(const endpoint& mapped, const nat_tests& t) {
  auto ip = mapped.ip.unmapped();
  bool ip_match = std::any_of(t.local_ips.begin(), t.local_ips.end(),
                              [&](const ip_address& x) { return x.unmapped() == ip; });
  return ip_match && (t.local_port == 0 || t.local_port == mapped.port);
}

} // namespace

nat_test_plan plan_nat_tests(const endpoint& primary, const std::optional<endpoint>& other) {
  nat_test_plan p;
  if (!other) {
    p.notes.push_back("the server sent no OTHER-ADDRESS: it cannot answer change requests, "
                      "tests II, III and I' not run");
    return p;
  }
  if (other->fam() != primary.fam()) {
    p.notes.push_back("the server's OTHER-ADDRESS " + other->to_string()
                      + " is of another family than " + primary.to_string()
                      + ": tests II, III and I' not run");
    return p;
  }
  bool other_ip = other->ip.unmapped() != primary.ip.unmapped();
  bool other_port = other->port != primary.port;
  const auto named = "the server's OTHER-ADDRESS " + other->to_string();
  p.test3 = other_port;
  p.test2 = other_ip && other_port;
  if (other_ip)
    p.test1_alt = endpoint{other->ip, primary.port};
  if (!other_ip) {
    p.notes.push_back(named + " shares its IP: it cannot answer from another IP, so test II "
                      "(change IP and port) cannot tell an address filter and test I' "
                      "(mapping toward another IP) has no other IP to go to; not run");
  } else if (!other_port) {
    p.notes.push_back(named + " shares its port: it cannot answer from another port, so "
                      "test II (change IP and port) and test III (change port) are not run");
  }
  return p;
}

nat_type classify_nat(const nat_tests& t) {
  switch (t.test1.reply) {
    case test_reply::not_run: return nat_type::unknown;
    case test_reply::no_reply: return nat_type::blocked;
    case test_reply::replied: break;
  }
  // Without a mapping or our own addresses, "is there a NAT" has no answer.
  if (!t.test1.mapped || t.local_ips.empty())
    return nat_type::unknown;
  const auto& mapped1 = *t.test1.mapped;

  if (is_local(mapped1, t)) {
    // No NAT: test II tells whether unsolicited packets get in.
    switch (t.test2.reply) {
      case test_reply::not_run: return nat_type::unknown;
      case test_reply::no_reply: return nat_type::udp_firewall;
      case test_reply::replied: return nat_type::open_internet;
    }
  }

  switch (t.test2.reply) {
    case test_reply::not_run: return nat_type::unknown;
    case test_reply::replied: return nat_type::full_cone;
    case test_reply::no_reply: break;
  }

  // A lost I' is not "same mapping": without it, cone and symmetric look alike.
  if (t.test1_alt.reply != test_reply::replied || !t.test1_alt.mapped)
    return nat_type::unknown;
  if (*t.test1_alt.mapped != mapped1)
    return nat_type::symmetric;

  switch (t.test3.reply) {
    case test_reply::not_run: return nat_type::unknown;
    case test_reply::replied: return nat_type::restricted;
    case test_reply::no_reply: return nat_type::port_restricted;
  }
  return nat_type::unknown;
}

} // namespace p2pd::net
