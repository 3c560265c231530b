#include "p2pd/node/punch/punch_offer.hpp"

#include <algorithm>

#include "p2pd/proto/envelope_codec.hpp"

namespace p2pd::node {

namespace {

using net::errc;

net::error bad(const std::string& field, const std::string& why) {
  return net::error{errc::invalid_argument, "punch message: " + field + " " + why};
}

wire::ip_endpoint to_wire(const net::endpoint& ep) {
  wire::ip_endpoint out;
  out.set_ip(reinterpret_cast<const char*>(ep.ip.bytes().data()), ep.ip.size());
  out.set_port(ep.port);
  return out;
}

// A prediction: an address of the punch's family and a port a NAT maps to.
net::result<net::endpoint> from_wire(const wire::ip_endpoint& w, net::family fam, size_t i) {
  auto field = "prediction " + std::to_string(i);
  const auto& ip = w.ip();
  size_t want = fam == net::family::v4 ? 4 : 16;
  if (ip.size() != want)
    return bad(field, "has " + std::to_string(ip.size()) + " address bytes, the punch's family ("
                        + net::to_string(fam) + ") needs " + std::to_string(want));
  if (w.port() < min_punch_port || w.port() > 65535)
    return bad(field, "port " + std::to_string(w.port()) + " is outside "
                        + std::to_string(min_punch_port) + "-65535");
  auto* b = reinterpret_cast<const uint8_t*>(ip.data());
  net::ip_address addr;
  if (fam == net::family::v4) {
    addr = net::ip_address::v4_bytes(b);
  } else {
    net::ip_address::bytes_type v6{};
    std::copy(b, b + 16, v6.begin());
    addr = net::ip_address::v6(v6);
  }
  if (addr.is_any())
    return bad(field, addr.to_string() + " is not an address a NAT maps to");
  return net::endpoint{addr, static_cast<uint16_t>(w.port())};
}

// The relay part of an offer or answer: a server of the punch's family, a
// relayed address a NAT-free relay gives (any port of 1024 and up), and
// credentials within bounds (an offer must carry a username).
net::result<punch_relay_info> relay_from_wire(const wire::relay_offer& w, const punch_message& m) {
  punch_relay_info r;
  wire::ip_endpoint server = w.turn_server();
  if (server.port() == 0 || server.port() > 65535)
    return bad("relay.turn_server", "port " + std::to_string(server.port()) + " is outside 1-65535");
  auto port = server.port();
  server.set_port(min_punch_port); // checked as an address; its port is its own
  auto srv = from_wire(server, m.fam, 0);
  if (!srv)
    return bad("relay.turn_server", srv.error().what);
  r.server = net::endpoint{srv->ip, static_cast<uint16_t>(port)};
  if (w.turn_protocol() == wire::TRANSPORT_TCP)
    r.transport = net::protocol::tcp;
  else if (w.turn_protocol() == wire::TRANSPORT_UDP)
    r.transport = net::protocol::udp;
  else
    return bad("relay.turn_protocol", std::to_string(w.turn_protocol()) + " is neither TCP nor UDP");
  auto relayed = from_wire(w.relayed(), m.fam, 0);
  if (!relayed)
    return bad("relay.relayed", relayed.error().what);
  r.relayed = *relayed;
  if (w.username().size() > max_relay_credential || w.password().size() > max_relay_credential)
    return bad("relay", "credentials are longer than " + std::to_string(max_relay_credential)
                          + " bytes");
  if (m.phase == punch_phase::offer && w.username().empty())
    return bad("relay.username", "is missing from an offer");
  r.username = w.username();
  r.password = w.password();
  return r;
}

} // namespace

const char* to_string(punch_phase p) {
  switch (p) {
    case punch_phase::offer:
      return "offer";
    case punch_phase::answer:
      return "answer";
    case punch_phase::sync:
      return "sync";
    case punch_phase::refuse:
      return "refuse";
  }
  return "?";
}

std::vector<uint8_t> encode_punch(const punch_message& m) {
  wire::hole_punch_request w;
  w.set_request_id(m.request_id);
  w.set_phase(static_cast<wire::punch_phase>(m.phase));
  w.set_protocol(m.proto == net::protocol::tcp ? wire::TRANSPORT_TCP : wire::TRANSPORT_UDP);
  w.set_family(m.fam == net::family::v4 ? wire::IP_FAMILY_V4 : wire::IP_FAMILY_V6);
  w.set_route_index(m.route);
  w.set_nat(static_cast<wire::nat_type>(m.nat));
  w.set_delta(static_cast<wire::delta_type>(m.delta.type));
  w.set_delta_value(m.delta.value);
  for (auto& p : m.predictions)
    *w.add_predictions() = to_wire(p);
  if (m.external_ip)
    w.set_external_ip(reinterpret_cast<const char*>(m.external_ip->bytes().data()),
                      m.external_ip->size());
  for (auto p : m.local_ports)
    w.add_local_ports(p);
  w.set_spray_probes(m.spray_probes);
  if (m.ephemeral_key)
    w.set_ephemeral_key(reinterpret_cast<const char*>(m.ephemeral_key->data()),
                        m.ephemeral_key->size());
  w.set_start_time_ms(m.start_time_ms);
  w.set_clock_synced(m.clock_synced);
  w.set_interval_ms(m.interval_ms);
  w.set_window_ms(m.window_ms);
  w.set_reason(m.reason);
  if (m.relay) {
    auto* r = w.mutable_relay();
    r->set_request_id(m.request_id);
    *r->mutable_turn_server() = to_wire(m.relay->server);
    r->set_turn_protocol(m.relay->transport == net::protocol::tcp ? wire::TRANSPORT_TCP
                                                                  : wire::TRANSPORT_UDP);
    *r->mutable_relayed() = to_wire(m.relay->relayed);
    r->set_username(m.relay->username);
    r->set_password(m.relay->password);
  }
  w.set_mapped(m.mapped);
  return wire::encode_payload(w);
}

net::result<punch_message> decode_punch(const uint8_t* data, size_t size) {
  auto w = wire::decode_payload<wire::hole_punch_request>(data, size);
  if (!w)
    return w.error();
  punch_message m;
  m.request_id = w->request_id();
  switch (w->phase()) {
    case wire::PUNCH_PHASE_OFFER:
    case wire::PUNCH_PHASE_ANSWER:
    case wire::PUNCH_PHASE_SYNC:
    case wire::PUNCH_PHASE_REFUSE:
      m.phase = static_cast<punch_phase>(w->phase());
      break;
    default:
      return bad("phase", std::to_string(w->phase()) + " is not a punch phase");
  }
  if (m.request_id == 0)
    return bad("request_id", "is 0");
  if (w->reason().size() > max_punch_reason)
    return bad("reason", "is longer than " + std::to_string(max_punch_reason) + " bytes");
  m.reason = w->reason();
  if (m.phase == punch_phase::refuse)
    return m; // nothing else is read from a refusal
  if (w->protocol() == wire::TRANSPORT_TCP)
    m.proto = net::protocol::tcp;
  else if (w->protocol() == wire::TRANSPORT_UDP)
    m.proto = net::protocol::udp;
  else
    return bad("protocol", std::to_string(w->protocol()) + " is neither TCP nor UDP");
  if (w->family() == wire::IP_FAMILY_V4)
    m.fam = net::family::v4;
  else if (w->family() == wire::IP_FAMILY_V6)
    m.fam = net::family::v6;
  else
    return bad("family", std::to_string(w->family()) + " is neither 4 nor 6");
  if (w->interval_ms() < min_punch_interval_ms || w->interval_ms() > max_punch_interval_ms)
    return bad("interval_ms", std::to_string(w->interval_ms()) + " is outside "
                                + std::to_string(min_punch_interval_ms) + "-"
                                + std::to_string(max_punch_interval_ms));
  if (w->window_ms() < w->interval_ms() || w->window_ms() > max_punch_window_ms)
    return bad("window_ms", std::to_string(w->window_ms()) + " is outside the interval to "
                              + std::to_string(max_punch_window_ms));
  m.interval_ms = w->interval_ms();
  m.window_ms = w->window_ms();
  if (m.phase == punch_phase::sync) {
    if (w->start_time_ms() <= 0)
      return bad("start_time_ms", "is missing");
    m.start_time_ms = w->start_time_ms();
    m.clock_synced = w->clock_synced();
    return m;
  }
  // offer and answer
  if (w->route_index() > 255)
    return bad("route_index", std::to_string(w->route_index()) + " is above 255");
  m.route = static_cast<uint8_t>(w->route_index());
  if (w->nat() < wire::NAT_TYPE_UNKNOWN || w->nat() > wire::NAT_TYPE_BLOCKED)
    return bad("nat", std::to_string(w->nat()) + " is not a NAT type");
  m.nat = static_cast<net::nat_type>(w->nat());
  if (w->delta() < wire::DELTA_TYPE_UNKNOWN || w->delta() > wire::DELTA_TYPE_RANDOM)
    return bad("delta", std::to_string(w->delta()) + " is not a port allocation");
  if (w->delta_value() < -65535 || w->delta_value() > 65535)
    return bad("delta_value", std::to_string(w->delta_value()) + " is outside +-65535");
  m.delta = net::delta_result{static_cast<net::delta_type>(w->delta()), w->delta_value()};
  if (static_cast<size_t>(w->predictions_size()) > max_punch_predictions)
    return bad("predictions", "has " + std::to_string(w->predictions_size()) + " entries, at most "
                                + std::to_string(max_punch_predictions));
  for (int i = 0; i < w->predictions_size(); ++i) {
    auto ep = from_wire(w->predictions(i), m.fam, static_cast<size_t>(i));
    if (!ep)
      return ep.error();
    m.predictions.push_back(*ep);
  }
  if (!w->external_ip().empty()) {
    // Checked as a prediction is, with a port of its own.
    wire::ip_endpoint e;
    e.set_ip(w->external_ip());
    e.set_port(min_punch_port);
    auto ep = from_wire(e, m.fam, 0);
    if (!ep)
      return bad("external_ip", ep.error().what);
    m.external_ip = ep->ip;
  }
  if (static_cast<size_t>(w->local_ports_size()) > max_punch_local_ports)
    return bad("local_ports", "has " + std::to_string(w->local_ports_size())
                                + " entries, at most " + std::to_string(max_punch_local_ports));
  for (auto p : w->local_ports()) {
    // 0: a socket the kernel gave a port (a spray's many mappings).
    if (p != 0 && (p < min_punch_port || p > 65535))
      return bad("local_ports", "port " + std::to_string(p) + " is outside "
                                  + std::to_string(min_punch_port) + "-65535 (or 0)");
    m.local_ports.push_back(static_cast<uint16_t>(p));
  }
  if (w->spray_probes() > max_punch_spray_probes)
    return bad("spray_probes", std::to_string(w->spray_probes()) + " is above "
                                 + std::to_string(max_punch_spray_probes));
  m.spray_probes = w->spray_probes();
  const auto& key = w->ephemeral_key();
  if (key.size() != 32)
    return bad("ephemeral_key", "has " + std::to_string(key.size()) + " bytes, not 32");
  std::array<uint8_t, 32> k{};
  std::copy(key.begin(), key.end(), k.begin());
  m.ephemeral_key = k;
  if (w->has_relay()) {
    auto r = relay_from_wire(w->relay(), m);
    if (!r)
      return r.error();
    m.relay = std::move(*r);
  }
  if (w->mapped()) {
    // The mapping forwards the answerer's node port; a stream's is reached
    // by a direct connect, and a relay has its own addresses.
    if (m.proto != net::protocol::udp)
      return bad("mapped", "is for UDP punches only");
    if (m.relay)
      return bad("mapped", "and relay exclude each other");
    m.mapped = true;
  }
  return m;
}

} // namespace p2pd::node
