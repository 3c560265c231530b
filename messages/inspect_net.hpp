#pragma once

// inspect() overloads that let net/ value types travel in CAF messages. They
// live here, not in net/, because net/ does not include CAF; ADL finds them
// in namespace p2pd::net all the same.

#include <string>

#include "caf/error.hpp"
#include "caf/meta/load_callback.hpp"
#include "caf/meta/save_callback.hpp"
#include "caf/meta/type_name.hpp"
#include "caf/sec.hpp"

#include "p2pd/net/addr/address.hpp"
#include "p2pd/net/addr/ip_range.hpp"
#include "p2pd/net/sock/listen_plan.hpp"
#include "p2pd/net/iface/route.hpp"
#include "p2pd/net/sock/socket.hpp"

namespace p2pd::net {

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, ip_address& x) {
  std::string text;
  auto save = caf::meta::save_callback([&]() -> caf::error {
    text = x.to_string();
    return caf::none;
  });
  auto load = caf::meta::load_callback([&]() -> caf::error {
    auto ip = ip_address::parse(text);
    if (!ip)
      return caf::make_error(caf::sec::invalid_argument, ip.error().what);
    x = *ip;
    return caf::none;
  });
  return f(caf::meta::type_name("p2pd::ip_address"), save, text, load);
}

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, endpoint& x) {
  return f(caf::meta::type_name("p2pd::endpoint"), x.ip, x.port);
}

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, listen_addr& x) {
  return f(caf::meta::type_name("p2pd::listen_addr"), x.proto, x.local);
}

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, ip_range& x) {
  std::string text;
  auto save = caf::meta::save_callback([&]() -> caf::error {
    text = x.to_string();
    return caf::none;
  });
  auto load = caf::meta::load_callback([&]() -> caf::error {
    auto r = ip_range::parse(text);
    if (!r)
      return caf::make_error(caf::sec::invalid_argument, r.error().what);
    x = *r;
    return caf::none;
  });
  return f(caf::meta::type_name("p2pd::ip_range"), save, text, load);
}

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, route& x) {
  return f(caf::meta::type_name("p2pd::route"), x.interface, x.if_index, x.fam, x.nic_ips,
           x.ext_ips, x.link_locals);
}

// family, protocol, nat_type and delta_type are enums, which CAF serializes by itself.

} // namespace p2pd::net
