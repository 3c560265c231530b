#pragma once

// The REST API's JSON bodies (nlohmann::json): one function per shape, so
// that the README's table and the code agree in one place.

#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "p2pd/node/address/peer_address.hpp"
#include "p2pd/node/node_messages.hpp"
#include "p2pd/rest/detail/rest_state.hpp"
#include "p2pd/rest/rest_server.hpp"

namespace p2pd::rest {

using json = nlohmann::json;

/// Text for JSON: bytes that are not UTF-8 become U+FFFD, so that a
/// binary message never makes the answer fail.
std::string dump(const json& j);

json to_json(const connect_report& r);
json to_json(const node_stats& s);
json to_json(const rest_stats& s);
json to_json(const node::peer_route& r);

/// The node's interfaces: each interface number of its signed address with
/// its routes, named after its interface actor ("interface lo" is number 0
/// when it is the first such child).
json interfaces_json(const node::peer_address& a, const std::vector<node_child>& children);

/// NAT per interface and family: {interface, name, family, nat, delta, external}.
json nat_json(const node::peer_address& a, const std::vector<node_child>& children);

namespace detail {

/// answer() with `j` as the JSON body.
void reply(server_actor* self, uint64_t id, int status, const json& j);

} // namespace detail

} // namespace p2pd::rest
