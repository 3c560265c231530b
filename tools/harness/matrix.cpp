#include "matrix.hpp"

#include <algorithm>
#include <fstream>
#include <set>
#include <sstream>

#include "node_lines.hpp"

#include "p2pd/messages/errors.hpp"

namespace p2pd::harness {

namespace {

std::string no_blanks(std::string s) {
  std::replace(s.begin(), s.end(), ' ', '_');
  return s.empty() ? "-" : s;
}

// The runs of one pair and transport.
struct cell {
  std::vector<const run_row*> rows;
  size_t ok = 0;
  size_t relay = 0;
  size_t punch = 0;
  std::vector<int64_t> ms;
  std::set<std::string> won;
  std::set<std::string> failures;
};

cell cell_of(const std::vector<run_row>& rows, const std::string& pair,
             const std::string& transport) {
  cell c;
  for (auto& r : rows) {
    if (r.pair != pair || r.transport != transport)
      continue;
    c.rows.push_back(&r);
    if (r.ok()) {
      ++c.ok;
      c.relay += r.connect.strategy == "relay";
      c.punch += r.connect.strategy == "punch";
      c.ms.push_back(r.connect.ms);
      c.won.insert(r.connect.strategy + (r.connect.punch.empty() ? "" : " " + r.connect.punch));
    } else {
      c.failures.insert(r.error.empty() ? r.connect.error : r.error);
    }
  }
  std::sort(c.ms.begin(), c.ms.end());
  return c;
}

// ✓ every run connected, ✗ none, k/n some; R: all through the relay, (k R): k of them.
std::string mark(const cell& c) {
  auto n = c.rows.size();
  if (n == 0)
    return "-";
  std::string m = c.ok == n ? "✓" : c.ok == 0 ? "✗" : std::to_string(c.ok) + "/" + std::to_string(n);
  if (c.ok > 0 && c.relay == c.ok)
    return c.ok == n ? "R" : "R" + m;
  if (c.relay > 0)
    m += "(" + std::to_string(c.relay) + " R)";
  return m;
}

std::string join(const std::set<std::string>& xs, const std::string& sep) {
  std::string out;
  for (auto& x : xs)
    out += (out.empty() ? "" : sep) + x;
  return out;
}

const pair_expectation* lookup(const expectations& e, const std::string& a, const std::string& b) {
  if (auto it = e.find(a + " - " + b); it != e.end())
    return &it->second;
  if (auto it = e.find(b + " - " + a); it != e.end())
    return &it->second;
  return nullptr;
}

// What differs in one cell from `want` (connect, refuse, chance).
void check_cell(const cell& c, const std::string& name, const std::string& want, bool relay,
                std::vector<std::string>& out) {
  auto n = c.rows.size();
  auto why = c.failures.empty() ? std::string{} : " (" + join(c.failures, "; ") + ")";
  auto runs = std::to_string(c.ok) + " of " + std::to_string(n) + " runs";
  if (relay) {
    if (c.ok != n)
      out.push_back(name + ": connected " + runs + ", expected every run, by punch or relay" + why);
    if (want == "refuse" && c.relay != c.ok)
      out.push_back(name + ": " + std::to_string(c.ok - c.relay)
                    + " runs connected without the relay, expected the relay");
    if (want == "connect" && 2 * c.punch < n)
      out.push_back(name + ": the punch won " + std::to_string(c.punch) + " of "
                    + std::to_string(n) + " runs, expected at least half");
  } else if (want == "connect" && c.punch != n) {
    out.push_back(name + ": the punch connected " + std::to_string(c.punch) + " of "
                  + std::to_string(n) + " runs, expected every run" + why);
  } else if (want == "refuse" && c.ok != 0) {
    out.push_back(name + ": connected " + runs + ", expected a refusal");
  }
}

} // namespace

caf::expected<expectations> load_expectations(const std::string& path) {
  std::ifstream in{path};
  if (!in)
    return make_error(errc::io_failed, "expectations: cannot read '" + path + "'");
  expectations out;
  for (std::string line; std::getline(in, line);) {
    line = tools::trim(line);
    if (line.empty() || line[0] == '#')
      continue;
    std::vector<std::string> f;
    std::istringstream cols{line};
    for (std::string x; std::getline(cols, x, '|');)
      f.push_back(tools::trim(x));
    if (f.size() < 4)
      return make_error(errc::malformed, "expectations: '" + line + "' has fewer than 4 fields");
    out[f[0] + " - " + f[1]] = {f[2], f[3]};
  }
  return out;
}

std::string result_line(const run_row& r) {
  std::ostringstream o;
  o << "result pair=" << no_blanks(r.pair.substr(0, r.pair.find(" - "))) << '~'
    << no_blanks(r.pair.substr(r.pair.find(" - ") + 3)) << " transport=" << r.transport
    << " run=" << r.run << " from=" << r.from << " to=" << r.to << " ok=" << r.ok()
    << " strategy=" << no_blanks(r.connect.ok ? r.connect.strategy : "")
    << " punch=" << no_blanks(r.connect.punch) << " path=" << no_blanks(r.connect.path)
    << " ms=" << r.connect.ms << " attempts=" << r.connect.attempts.size()
    << " rtt_ms=" << r.rtt_ms
    << " reason=" << no_blanks(r.error.empty() ? r.connect.error : r.error);
  return o.str();
}

std::string matrix_markdown(const std::vector<run_row>& rows, const scenario& s,
                            const expectations* expected, std::vector<std::string>& differences) {
  // The labels in the agents' order, and the pairs in the rows' order.
  std::vector<std::string> labels;
  for (auto& a : s.agents)
    if (std::find(labels.begin(), labels.end(), a.label) == labels.end())
      labels.push_back(a.label);
  std::vector<std::string> pairs;
  std::map<std::string, bool> relay_of; // whether the pair's strategies have the relay
  for (auto& p : s.pairs) {
    auto name = s.agent(p.first)->label + " - " + s.agent(p.second)->label;
    if (std::find(pairs.begin(), pairs.end(), name) == pairs.end())
      pairs.push_back(name);
    relay_of[name] = p.strategies.find("relay") != std::string::npos;
  }
  std::ostringstream o;
  o << "## At a glance\n\nEach cell: p2pd UDP, p2pd TCP (✓ every run connected, ✗ none, k/n "
       "some; R: every run connected through the relay, (k R): k of them; - not run).\n\n|";
  o << " |";
  for (auto& l : labels)
    o << ' ' << l << " |";
  o << "\n|---|";
  for (size_t i = 0; i < labels.size(); ++i)
    o << "---|";
  o << '\n';
  for (auto& a : labels) {
    o << "| " << a << " |";
    for (auto& b : labels) {
      auto name = std::find(pairs.begin(), pairs.end(), a + " - " + b) != pairs.end()
                    ? a + " - " + b
                    : b + " - " + a;
      auto u = cell_of(rows, name, "udp");
      auto t = cell_of(rows, name, "tcp");
      if (u.rows.empty() && t.rows.empty())
        o << "  |";
      else
        o << ' ' << mark(u) << ' ' << mark(t) << " |";
    }
    o << '\n';
  }
  for (std::string tp : {"udp", "tcp"}) {
    bool any = std::any_of(rows.begin(), rows.end(),
                           [&](const run_row& r) { return r.transport == tp; });
    if (!any)
      continue;
    o << "\n## " << (tp == "udp" ? "UDP" : "TCP") << "\n\n"
      << "| pair | p2pd expected | p2pd runs | p2pd ms | p2pd strategy |\n"
      << "|---|---|---|---|---|\n";
    for (auto& name : pairs) {
      auto c = cell_of(rows, name, tp);
      if (c.rows.empty())
        continue;
      std::string want = "-";
      if (expected != nullptr) {
        auto sep = name.find(" - ");
        auto* e = lookup(*expected, name.substr(0, sep), name.substr(sep + 3));
        if (e == nullptr)
          differences.push_back(name + ": no expectation for this pair");
        else {
          want = tp == "udp" ? e->udp : e->tcp;
          check_cell(c, name + " " + tp, want, relay_of[name], differences);
        }
      }
      auto ms = c.ms.empty() ? std::string{"- / -"}
                             : std::to_string(c.ms[(c.ms.size() - 1) / 2]) + " / "
                                 + std::to_string(c.ms.back());
      o << "| " << name << " | " << want << " | " << c.ok << '/' << c.rows.size() << " | " << ms
        << " | " << join(c.won, ", ")
        << (c.failures.empty() ? "" : (c.won.empty() ? "failed: " : "; failed: ")
                                         + join(c.failures, "; "))
        << " |\n";
    }
  }
  if (expected != nullptr) {
    o << "\n## Differences from the expectations\n\n";
    if (differences.empty())
      o << "None.\n";
    for (auto& d : differences)
      o << "- " << d << '\n';
  }
  return o.str();
}

std::string sites_markdown(const scenario& s, const std::map<std::string, node_facts>& facts) {
  // "route if=0 fam=v4 nic=... ext=198.51.100.13 port=... nat=full_cone delta=equal/0"
  auto field = [](const std::string& line, const std::string& key) {
    auto at = line.find(" " + key + "=");
    if (at == std::string::npos)
      return std::string{"-"};
    at += key.size() + 2;
    return line.substr(at, line.find(' ', at) - at);
  };
  std::ostringstream o;
  o << "## Sites\n\nWhat each agent's node saw at its last start (its first IPv4 route).\n\n"
    << "| agent | label | NAT | delta | external | start ms |\n|---|---|---|---|---|---|\n";
  for (auto& a : s.agents) {
    std::string nat = "-", delta = "-", ext = "-", start = "-";
    if (auto it = facts.find(a.name); it != facts.end()) {
      start = std::to_string(it->second.start_ms);
      for (auto& l : it->second.lines)
        if (l.rfind("route ", 0) == 0 && l.find(" fam=v4 ") != std::string::npos) {
          nat = field(l, "nat");
          delta = field(l, "delta");
          ext = field(l, "ext");
          break;
        }
    }
    o << "| " << a.name << " | " << a.label << " | " << nat << " | " << delta << " | " << ext
      << " | " << start << " |\n";
  }
  return o.str();
}

} // namespace p2pd::harness
