#include "scenario.hpp"

#include <sstream>

#include "args.hpp"
#include "node_lines.hpp"
#include "connect_options.hpp"

#include "p2pd/messages/errors.hpp"

namespace p2pd::harness {

const agent_entry* scenario::agent(const std::string& name) const {
  for (auto& a : agents)
    if (a.name == name)
      return &a;
  return nullptr;
}

namespace {

caf::error bad_line(size_t line, const std::string& why) {
  return make_error(errc::invalid_argument, "scenario line " + std::to_string(line) + ": " + why);
}

} // namespace

caf::expected<scenario> parse_scenario(const std::string& text) {
  scenario s;
  std::istringstream in{text};
  size_t n = 0;
  for (std::string line; std::getline(in, line);) {
    ++n;
    if (auto hash = line.find('#'); hash != std::string::npos)
      line.resize(hash);
    std::istringstream words{line};
    std::vector<std::string> w;
    for (std::string x; words >> x;)
      w.push_back(x);
    if (w.empty())
      continue;
    // The key-value options after the fixed words.
    auto options = [&](size_t from, auto&& take) -> caf::error {
      if ((w.size() - from) % 2 != 0)
        return bad_line(n, "'" + w.back() + "' has no value");
      for (size_t i = from; i < w.size(); i += 2)
        if (auto why = take(w[i], w[i + 1]); !why.empty())
          return bad_line(n, why);
      return {};
    };
    if (w[0] == "agent") {
      if (w.size() < 3)
        return bad_line(n, "agent needs a name and host:port");
      std::string why;
      auto where = parse_host_port(w[2], false, why);
      if (!where)
        return bad_line(n, why);
      agent_entry a{w[1], *where, w[1]};
      auto err = options(3, [&](const std::string& k, const std::string& v) -> std::string {
        if (k != "label")
          return "agent: unknown option '" + k + "'";
        a.label = v;
        return {};
      });
      if (err)
        return err;
      if (s.agent(a.name) != nullptr)
        return bad_line(n, "agent '" + a.name + "' twice");
      s.agents.push_back(std::move(a));
    } else if (w[0] == "node") {
      auto err = options(1, [&](const std::string& k, const std::string& v) -> std::string {
        if (k == "servers")
          s.node.servers = v;
        else if (k == "interfaces")
          s.node.interfaces = tools::split(v, ',');
        else if (k == "timeout") {
          auto t = examples::parse_count(v, 1, 600);
          if (!t)
            return "node: timeout '" + v + "' is not a number of seconds in 1..600";
          s.node.timeout_s = static_cast<uint32_t>(*t);
        } else
          return "node: unknown option '" + k + "'";
        return {};
      });
      if (err)
        return err;
    } else if (w[0] == "pair") {
      if (w.size() < 3)
        return bad_line(n, "pair needs two agents");
      pair_entry p;
      p.first = w[1];
      p.second = w[2];
      auto err = options(3, [&](const std::string& k, const std::string& v) -> std::string {
        if (k == "transports")
          p.transports = tools::split(v, ',');
        else if (k == "strategies")
          p.strategies = v;
        else if (k == "families")
          p.families = v;
        else if (k == "runs") {
          auto r = examples::parse_count(v, 1, 9);
          if (!r)
            return "pair: runs '" + v + "' is not a number in 1..9";
          p.runs = static_cast<uint32_t>(*r);
        } else
          return "pair: unknown option '" + k + "'";
        return {};
      });
      if (err)
        return err;
      s.pairs.push_back(std::move(p));
    } else {
      return bad_line(n, "unknown statement '" + w[0] + "' (agent, node, pair)");
    }
  }
  if (auto err = check_scenario(s))
    return err;
  return s;
}

caf::error check_scenario(const scenario& s) {
  auto bad = [](const std::string& why) { return make_error(errc::invalid_argument, why); };
  if (s.agents.empty())
    return bad("scenario: no agents");
  if (s.pairs.empty())
    return bad("scenario: no pairs");
  for (auto& p : s.pairs) {
    auto name = "pair " + p.first + " " + p.second + ": ";
    if (s.agent(p.first) == nullptr || s.agent(p.second) == nullptr)
      return bad(name + "an agent not declared");
    if (p.first == p.second)
      return bad(name + "an agent with itself");
    if (p.transports.empty())
      return bad(name + "no transports");
    for (auto& t : p.transports)
      if (auto opts = tools::parse_connect_words(tools::word_if_any(p.strategies),
                                                 tools::word_if_any(p.families),
                                                 tools::word_if_any(t));
          !opts)
        return bad(name + what_of(opts.error()));
  }
  return {};
}

} // namespace p2pd::harness
