#include "p2pd/sim/world/nat_matrix.hpp"

#include <algorithm>
#include <map>
#include <sstream>

#include "p2pd/sim/world/node_scenario.hpp"

namespace p2pd::sim {

namespace {

const char* type_code(net::nat_type n) {
  switch (n) {
    case net::nat_type::open_internet: return "OI";
    case net::nat_type::udp_firewall: return "UF";
    case net::nat_type::full_cone: return "FC";
    case net::nat_type::restricted: return "RC";
    case net::nat_type::port_restricted: return "PR";
    case net::nat_type::symmetric: return "SY";
    case net::nat_type::blocked: return "BL";
    default: return "??";
  }
}

const char* delta_code(net::delta_type d) {
  switch (d) {
    case net::delta_type::equal: return "eq";
    case net::delta_type::preserving: return "pr";
    case net::delta_type::independent: return "in";
    case net::delta_type::dependent: return "de";
    case net::delta_type::random: return "ra";
    default: return "??";
  }
}

char letter(const std::string& how) {
  if (how == "direct") return 'D';
  if (how == "reverse") return 'R';
  if (how == "punch") return 'P';
  if (how == "relay") return 'T';
  return '.';
}

const char* colour(const std::string& how) {
  if (how == "direct") return "#1a9850";
  if (how == "reverse") return "#91cf60";
  if (how == "punch") return "#fee08b";
  if (how == "relay") return "#fc8d59";
  return "#d73027";
}

const char* const strategies[] = {"direct", "reverse", "punch", "relay", "none"};

} // namespace

std::string matrix_preset::label() const {
  return std::string{type_code(nat)} + "-" + delta_code(delta);
}

std::vector<matrix_preset> all_presets() {
  std::vector<matrix_preset> out;
  for (auto n : {net::nat_type::open_internet, net::nat_type::udp_firewall,
                 net::nat_type::full_cone, net::nat_type::restricted,
                 net::nat_type::port_restricted, net::nat_type::symmetric,
                 net::nat_type::blocked})
    for (auto d : {net::delta_type::equal, net::delta_type::preserving,
                   net::delta_type::independent, net::delta_type::dependent,
                   net::delta_type::random})
      out.push_back({n, d});
  return out;
}

nat_matrix run_nat_matrix(const std::vector<matrix_preset>& presets, uint64_t seed,
                          std::string& why) {
  nat_matrix m;
  m.presets = presets;
  m.seed = seed;
  scenario_config cfg;
  cfg.seed = seed;
  cfg.internet = {std::chrono::milliseconds(10)};
  node_scenario w{cfg};
  const size_t n = presets.size();
  for (auto& p : presets) // the connecting nodes, then the ones connected to
    w.add_nat_node(p.nat, p.delta, p.label() + " a");
  for (auto& p : presets)
    w.add_nat_node(p.nat, p.delta, p.label() + " b");
  if (!w.wait_ready(std::chrono::minutes(2))) {
    why = w.why();
    return m;
  }
  node::connect_options tcp;
  tcp.strategies = {node::strategy::direct, node::strategy::reverse, node::strategy::punch};
  tcp.kind = node::transport::stream;
  node::connect_options udp;
  udp.strategies = {node::strategy::punch};
  udp.kind = node::transport::datagram;
  for (size_t i = 0; i < n; ++i)
    for (size_t j = 0; j < n; ++j) {
      w.connect(i, n + j, tcp);
      w.connect(i, n + j, udp);
    }
  auto rows = w.run_connects(std::chrono::seconds(30), std::chrono::minutes(5));
  m.tcp.assign(n, std::vector<matrix_cell>(n));
  m.udp.assign(n, std::vector<matrix_cell>(n));
  for (size_t i = 0; i < n; ++i)
    for (size_t j = 0; j < n; ++j)
      for (size_t t = 0; t < 2; ++t) {
        auto& r = rows[2 * (i * n + j) + t];
        auto& cell = (t == 0 ? m.tcp : m.udp)[i][j];
        cell.how = r.how;
        cell.ms = r.connected() ? r.ms : 0;
      }
  return m;
}

std::string to_markdown(const nat_matrix& m) {
  std::ostringstream os;
  os << "# The simulated NAT matrix\n\n"
     << "Written by `<build>/sim/p2pd_sim_matrix --doc docs/sim-matrix.md` (CTest "
        "`sim_matrix_doc` runs it again and fails when this file or its picture, "
        "`sim-matrix.svg`, differs): the real node on simulated "
        "hosts (`sim::node_scenario`, world seed "
     << m.seed
     << "), one node behind a NAT of each configuration, two per configuration (a pair "
        "of one configuration is two separate NATs). Rows connect to columns, one connect "
        "at a time on fresh ground (both sides close, then 5 virtual minutes pass the "
        "NATs' lifetimes). TCP: direct, then reverse, then the TCP punch; UDP: the UDP "
        "punch (sealed datagrams). No relay yet (the world has no TURN server).\n\n"
     << "Cells: **D** direct, **R** reverse, **P** punch, **T** relay, **.** none. "
        "Labels: type (OI open Internet, UF UDP firewall, FC full cone, RC restricted, "
        "PR port restricted, SY symmetric, BL UDP blocked) and allocation (eq equal, pr "
        "preserving, in independent +1, de dependent +1, ra random).\n\n"
     << "![The matrix as a heat map](sim-matrix.svg)\n";
  auto table = [&](const char* title, const std::vector<std::vector<matrix_cell>>& cells) {
    os << "\n## " << title << "\n\n| |";
    for (auto& p : m.presets)
      os << ' ' << p.label() << " |";
    os << "\n|---|";
    for (size_t j = 0; j < m.presets.size(); ++j)
      os << "---|";
    os << '\n';
    std::map<std::string, std::vector<int64_t>> times;
    for (size_t i = 0; i < m.presets.size(); ++i) {
      os << "| " << m.presets[i].label() << " |";
      for (size_t j = 0; j < m.presets.size(); ++j) {
        os << ' ' << letter(cells[i][j].how) << " |";
        times[cells[i][j].how].push_back(cells[i][j].ms);
      }
      os << '\n';
    }
    os << '\n';
    for (auto s : strategies) {
      auto& v = times[s];
      if (v.empty())
        continue;
      std::sort(v.begin(), v.end());
      os << "- " << s << ": " << v.size() << " pairs";
      if (std::string{s} != "none")
        os << ", median " << v[v.size() / 2] << " virtual ms, worst " << v.back();
      os << '\n';
    }
  };
  table("TCP", m.tcp);
  table("UDP", m.udp);
  return os.str();
}

std::string to_svg(const nat_matrix& m) {
  const int cell = 12, label = 48, gap = 40;
  const int n = static_cast<int>(m.presets.size());
  const int side = label + n * cell;
  const int width = 2 * side + gap, height = side + 40;
  std::ostringstream os;
  os << "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"" << width << "\" height=\""
     << height << "\" font-family=\"sans-serif\" font-size=\"8\">\n";
  auto panel = [&](int x0, const char* title,
                   const std::vector<std::vector<matrix_cell>>& cells) {
    os << "<text x=\"" << x0 + label << "\" y=\"10\" font-size=\"10\">" << title << "</text>\n";
    for (int i = 0; i < n; ++i) {
      auto name = m.presets[static_cast<size_t>(i)].label();
      os << "<text x=\"" << x0 << "\" y=\"" << label + i * cell + 9 << "\">" << name
         << "</text>\n";
      os << "<text transform=\"translate(" << x0 + label + i * cell + 9 << ","
         << label - 2 << ") rotate(-90)\">" << name << "</text>\n";
      for (int j = 0; j < n; ++j) {
        auto& c = cells[static_cast<size_t>(i)][static_cast<size_t>(j)];
        os << "<rect x=\"" << x0 + label + j * cell << "\" y=\"" << label + i * cell
           << "\" width=\"" << cell << "\" height=\"" << cell << "\" fill=\""
           << colour(c.how) << "\" stroke=\"#fff\"><title>" << name << " to "
           << m.presets[static_cast<size_t>(j)].label() << ": " << c.how;
        if (c.how != "none")
          os << " in " << c.ms << " ms";
        os << "</title></rect>\n";
      }
    }
  };
  panel(0, "TCP (row connects to column)", m.tcp);
  panel(side + gap, "UDP", m.udp);
  int x = 0;
  for (auto s : strategies) {
    os << "<rect x=\"" << x << "\" y=\"" << side + 16 << "\" width=\"10\" height=\"10\" fill=\""
       << colour(s) << "\"/><text x=\"" << x + 14 << "\" y=\"" << side + 25 << "\">" << s
       << "</text>\n";
    x += 70;
  }
  os << "</svg>\n";
  return os.str();
}

} // namespace p2pd::sim
