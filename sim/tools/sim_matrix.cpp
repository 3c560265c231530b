// p2pd_sim_matrix: the simulated NAT matrix (sim/world/nat_matrix.hpp).
//   p2pd_sim_matrix [--seed N] [--doc FILE.md]        write FILE.md and FILE.svg
//   p2pd_sim_matrix [--seed N] --check FILE.md         compare with FILE.md and FILE.svg
// Without --doc or --check the Markdown goes to stdout.
#include <cstdlib>
#include <fstream>
#include <iostream>
#include <sstream>
#include <string>

#include "p2pd/sim/world/nat_matrix.hpp"

namespace {

std::string svg_path(const std::string& md) {
  auto dot = md.rfind(".md");
  return (dot == std::string::npos ? md : md.substr(0, dot)) + ".svg";
}

std::string read_all(const std::string& path) {
  std::ifstream in{path};
  std::ostringstream os;
  os << in.rdbuf();
  return os.str();
}

int usage() {
  std::cerr << "usage: p2pd_sim_matrix [--seed N] [--doc FILE.md | --check FILE.md]\n";
  return 2;
}

} // namespace

int main(int argc, char** argv) {
  uint64_t seed = 1;
  std::string doc, check;
  for (int i = 1; i < argc; ++i) {
    std::string a = argv[i];
    if (i + 1 >= argc)
      return usage();
    if (a == "--seed")
      seed = std::strtoull(argv[++i], nullptr, 10);
    else if (a == "--doc")
      doc = argv[++i];
    else if (a == "--check")
      check = argv[++i];
    else
      return usage();
  }
  std::string why;
  auto m = p2pd::sim::run_nat_matrix(p2pd::sim::all_presets(), seed, why);
  if (!why.empty()) {
    std::cerr << "p2pd_sim_matrix: " << why << "\n";
    return 1;
  }
  auto md = p2pd::sim::to_markdown(m);
  auto svg = p2pd::sim::to_svg(m);
  // No wall time here: nothing in sim/ reads a clock (tests/layout).
  std::cerr << "p2pd_sim_matrix: " << m.presets.size() * m.presets.size() * 2 << " connects\n";
  if (!check.empty()) {
    bool ok = read_all(check) == md && read_all(svg_path(check)) == svg;
    if (!ok) {
      std::cerr << "p2pd_sim_matrix: " << check << " or " << svg_path(check)
                << " differs from the matrix the simulation gives now; update them: "
                   "p2pd_sim_matrix --doc "
                << check << "\n";
      return 1;
    }
    std::cout << check << " and " << svg_path(check) << " match the simulation\n";
    return 0;
  }
  if (doc.empty()) {
    std::cout << md;
    return 0;
  }
  std::ofstream{doc} << md;
  std::ofstream{svg_path(doc)} << svg;
  std::cout << "wrote " << doc << " and " << svg_path(doc) << "\n";
  return 0;
}
