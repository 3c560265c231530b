// Calibration against the kernel lab: UDP connectivity checks as ICE makes
// them (libnice in docs/punch-matrix.md: each side sends to the other's
// STUN-mapped endpoint, and answers the source it hears from; no port
// prediction, no search) through two NAT tables, for every pair of the lab's
// modes but masquerade (a race there). The expected outcomes are the lab's
// libnice column ("Why each pair is expected so"), all of which it measured.

#include <optional>
#include <string>
#include <tuple>
#include <vector>

#include "nat_fixture.hpp"

namespace p2pd::sim::test {
namespace {

// The lab's modes (tests/lab/README.md) as presets.
enum class lab_mode { open, udp_firewall, full_cone, restricted, port_restricted, symmetric,
                      symmetric_sequential, udp_blocked };

const char* lab_name(lab_mode m) {
  switch (m) {
    case lab_mode::open: return "open";
    case lab_mode::udp_firewall: return "udp_firewall";
    case lab_mode::full_cone: return "full_cone";
    case lab_mode::restricted: return "restricted";
    case lab_mode::port_restricted: return "port_restricted";
    case lab_mode::symmetric: return "symmetric";
    case lab_mode::symmetric_sequential: return "symmetric_sequential";
    case lab_mode::udp_blocked: return "udp_blocked";
  }
  return "?";
}

nat_profile lab_profile(lab_mode m) {
  using net::delta_type;
  using net::nat_type;
  switch (m) {
    case lab_mode::open: return preset(nat_type::open_internet, delta_type::equal);
    case lab_mode::udp_firewall: return preset(nat_type::udp_firewall, delta_type::equal);
    // Plain SNAT keeps the source port when it is free: equal.
    case lab_mode::full_cone: return preset(nat_type::full_cone, delta_type::equal);
    case lab_mode::restricted: return preset(nat_type::restricted, delta_type::equal);
    case lab_mode::port_restricted: return preset(nat_type::port_restricted, delta_type::equal);
    case lab_mode::symmetric: return preset(nat_type::symmetric, delta_type::random);
    case lab_mode::symmetric_sequential:
      return preset(nat_type::symmetric, delta_type::independent);
    case lab_mode::udp_blocked: return preset(nat_type::blocked, delta_type::equal);
  }
  return {};
}

bool public_host(lab_mode m) {
  return m == lab_mode::open || m == lab_mode::udp_firewall;
}

// One side: its site's table, its host socket, and where it sends.
struct ice_side {
  nat_table table;
  net::endpoint host;
  std::optional<net::endpoint> target; // the peer's mapped endpoint, then what it heard
  bool heard = false;
};

ice_side make_side(lab_mode m, int site) {
  const auto nat = net::ip_address::v4(0xCB007101u + static_cast<uint32_t>(site)); // 203.0.113.1+
  const auto host = public_host(m)
                      ? net::endpoint{net::ip_address::v4(0xCB007164u + static_cast<uint32_t>(site)),
                                      5000}
                      : net::endpoint{net::ip_address::v4(0x0A00000Au + (site << 8)), 5000};
  return {nat_table{lab_profile(m), nat, static_cast<uint64_t>(site + 1)}, host, std::nullopt,
          false};
}

// The side's STUN mapping (a binding to a server); none when UDP is dropped.
std::optional<net::endpoint> stun_mapping(ice_side& s) {
  auto v = s.table.outbound(packet::udp(s.host, server(100)), ms(0));
  if (v.action != nat_action::to_internet)
    return std::nullopt;
  return v.pkt.src;
}

// `from` sends a check to its target; `to` hears it, and learns its source.
void send_check(ice_side& from, ice_side& to, sim_time now) {
  if (!from.target)
    return;
  auto out = from.table.outbound(packet::udp(from.host, *from.target), now);
  if (out.action != nat_action::to_internet)
    return;
  auto in = to.table.inbound(out.pkt, now);
  if (in.action != nat_action::to_lan || in.pkt.dst != to.host)
    return;
  to.heard = true;
  to.target = in.pkt.src; // a peer-reflexive candidate: answer where it came from
}

// Whether both sides hear each other within 5 rounds of checks.
bool ice_connects(lab_mode a, lab_mode b, bool a_first) {
  auto x = make_side(a, 0);
  auto y = make_side(b, 1);
  auto xm = stun_mapping(x);
  auto ym = stun_mapping(y);
  x.target = ym;
  y.target = xm;
  for (int round = 0; round < 5 && !(x.heard && y.heard); ++round) {
    auto now = ms(100 + 200 * round);
    if (a_first) {
      send_check(x, y, now);
      send_check(y, x, now + ms(1));
    } else {
      send_check(y, x, now);
      send_check(x, y, now + ms(1));
    }
  }
  return x.heard && y.heard;
}

using lab_pair = std::tuple<lab_mode, lab_mode, bool>;

// docs/punch-matrix.md, libnice column: connect (true) or fail (false).
std::vector<lab_pair> lab_libnice() {
  using m = lab_mode;
  return {
    {m::open, m::open, true},
    {m::open, m::udp_firewall, true},
    {m::open, m::full_cone, true},
    {m::open, m::restricted, true},
    {m::open, m::port_restricted, true},
    {m::open, m::symmetric, true},
    {m::open, m::symmetric_sequential, true},
    {m::open, m::udp_blocked, false},
    {m::udp_firewall, m::udp_firewall, true},
    {m::udp_firewall, m::full_cone, true},
    {m::udp_firewall, m::restricted, true},
    {m::udp_firewall, m::port_restricted, true},
    {m::udp_firewall, m::symmetric, false},
    {m::udp_firewall, m::symmetric_sequential, false},
    {m::udp_firewall, m::udp_blocked, false},
    {m::full_cone, m::full_cone, true},
    {m::full_cone, m::restricted, true},
    {m::full_cone, m::port_restricted, true},
    {m::full_cone, m::symmetric, true},
    {m::full_cone, m::symmetric_sequential, true},
    {m::full_cone, m::udp_blocked, false},
    {m::restricted, m::restricted, true},
    {m::restricted, m::port_restricted, true},
    {m::restricted, m::symmetric, true},
    {m::restricted, m::symmetric_sequential, true},
    {m::restricted, m::udp_blocked, false},
    {m::port_restricted, m::port_restricted, true},
    {m::port_restricted, m::symmetric, false},
    {m::port_restricted, m::symmetric_sequential, false},
    {m::port_restricted, m::udp_blocked, false},
    {m::symmetric, m::symmetric, false},
    {m::symmetric, m::symmetric_sequential, false},
    {m::symmetric, m::udp_blocked, false},
    {m::symmetric_sequential, m::symmetric_sequential, false},
    {m::symmetric_sequential, m::udp_blocked, false},
    {m::udp_blocked, m::udp_blocked, false},
  };
}

class LabIce : public ::testing::TestWithParam<lab_pair> {};

TEST_P(LabIce, connects_as_libnice_did_in_the_lab_whoever_starts) {
  auto [a, b, expected] = GetParam();
  EXPECT_EQ(ice_connects(a, b, true), expected);
  EXPECT_EQ(ice_connects(a, b, false), expected);
}

std::string lab_pair_name(const ::testing::TestParamInfo<lab_pair>& info) {
  return std::string{lab_name(std::get<0>(info.param))} + "_"
         + lab_name(std::get<1>(info.param));
}

INSTANTIATE_TEST_SUITE_P(NatCalibration, LabIce, ::testing::ValuesIn(lab_libnice()),
                         lab_pair_name);

} // namespace
} // namespace p2pd::sim::test
