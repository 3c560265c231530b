#include "p2pd/sim/matrix/matrix_doc.hpp"

#include <array>
#include <sstream>

namespace p2pd::sim {

namespace {

struct outcome_info {
  matrix_outcome how;
  const char* name;
  const char* letter; // the Markdown cell's
  const char* colour; // the SVG cell's (colour-blind safe, Dark2)
  const char* label;  // the legends'
};

constexpr std::array<outcome_info, 6> outcomes{{
  {matrix_outcome::direct, "direct", "D", "#1b9e77", "direct"},
  {matrix_outcome::reverse, "reverse", "R", "#66a61e", "reverse connect"},
  {matrix_outcome::tcp_punch, "tcp_punch", "T", "#7570b3", "TCP punch"},
  {matrix_outcome::udp_punch, "udp_punch", "U", "#e7298a", "UDP punch"},
  {matrix_outcome::relay, "relay", "L", "#e6ab02", "relay (TURN)"},
  {matrix_outcome::none, "none", "-", "#d9d9d9", "none connected"},
}};

const outcome_info& info(matrix_outcome x) {
  for (auto& o : outcomes)
    if (o.how == x)
      return o;
  return outcomes.back();
}

net::error bad(std::string what) {
  return net::error{net::errc::invalid_argument, "nat matrix: " + std::move(what)};
}

std::string xml_escape(const std::string& s) {
  std::string out;
  for (char c : s) {
    switch (c) {
      case '&': out += "&amp;"; break;
      case '<': out += "&lt;"; break;
      case '>': out += "&gt;"; break;
      case '"': out += "&quot;"; break;
      default: out += c;
    }
  }
  return out;
}

std::string cell_text(const matrix_cell& c) {
  if (c.how == matrix_outcome::none)
    return "-";
  return std::string{info(c.how).letter} + " " + std::to_string(c.virtual_ms);
}

// The cells of one Markdown table row, trimmed: "| a | b |" -> {a, b}.
std::vector<std::string> split_row(const std::string& line) {
  std::vector<std::string> out;
  size_t i = line.find('|');
  while (i != std::string::npos) {
    size_t j = line.find('|', i + 1);
    if (j == std::string::npos)
      break;
    auto s = line.substr(i + 1, j - i - 1);
    auto b = s.find_first_not_of(' ');
    auto e = s.find_last_not_of(' ');
    out.push_back(b == std::string::npos ? std::string{} : s.substr(b, e - b + 1));
    i = j;
  }
  return out;
}

net::result<matrix_cell> parse_cell(const std::string& s) {
  if (s == "-")
    return matrix_cell{};
  auto sp = s.find(' ');
  if (sp == std::string::npos)
    return bad("cell '" + s + "' is neither '-' nor a letter and ms");
  auto letter = s.substr(0, sp);
  auto ms = s.substr(sp + 1);
  for (auto& o : outcomes) {
    if (letter != o.letter || o.how == matrix_outcome::none)
      continue;
    if (ms.empty() || ms.size() > 9 || ms.find_first_not_of("0123456789") != std::string::npos)
      return bad("cell '" + s + "' has no time in ms");
    return matrix_cell{o.how, static_cast<uint32_t>(std::stoul(ms))};
  }
  return bad("cell '" + s + "' has an unknown outcome letter");
}

void write_table(std::ostringstream& out, const nat_matrix& m,
                 const std::vector<matrix_cell>& cells) {
  out << "| |";
  for (size_t j = 0; j < m.size(); ++j)
    out << ' ' << j + 1 << " |";
  out << "\n|---|";
  for (size_t j = 0; j < m.size(); ++j)
    out << "---|";
  out << '\n';
  for (size_t i = 0; i < m.size(); ++i) {
    out << "| " << i + 1 << " |";
    for (size_t j = 0; j < m.size(); ++j)
      out << ' ' << cell_text(m.at(cells, i, j)) << " |";
    out << '\n';
  }
}

size_t count(const std::vector<matrix_cell>& cells, matrix_outcome how) {
  size_t n = 0;
  for (auto& c : cells)
    n += c.how == how ? 1 : 0;
  return n;
}

} // namespace

const char* to_string(matrix_outcome x) {
  return info(x).name;
}

net::result<matrix_outcome> parse_matrix_outcome(const std::string& name) {
  for (auto& o : outcomes)
    if (name == o.name)
      return o.how;
  return bad("no outcome '" + name
             + "' (direct, reverse, tcp_punch, udp_punch, relay, none)");
}

nat_matrix make_matrix(std::vector<std::string> configs) {
  nat_matrix m;
  m.configs = std::move(configs);
  m.tcp.assign(m.size() * m.size(), matrix_cell{});
  m.udp = m.tcp;
  return m;
}

net::error check(const nat_matrix& m) {
  auto n = m.size() * m.size();
  if (m.tcp.size() != n || m.udp.size() != n)
    return bad(std::to_string(m.size()) + " configurations need " + std::to_string(n)
               + " cells per transport, not " + std::to_string(m.tcp.size()) + " (tcp) and "
               + std::to_string(m.udp.size()) + " (udp)");
  for (auto& c : m.configs)
    if (c.empty() || c.find_first_of("|\n") != std::string::npos)
      return bad("configuration label '" + c + "' is empty or has '|' or a line break");
  return {};
}

std::string to_markdown(const nat_matrix& m) {
  std::ostringstream out;
  out << "# The NAT matrix of the simulated network\n\n";
  if (!m.provenance.empty())
    out << m.provenance << "\n\n";
  out << "Row: the connecting node's NAT; column: the serving node's (by number, "
         "from the list below). A cell is the strategy that connected and the "
         "connect's virtual time in ms: ";
  for (size_t k = 0; k < outcomes.size(); ++k)
    out << (k ? ", " : "") << outcomes[k].letter << " " << outcomes[k].label;
  out << ".\n\n## Counts\n\n| outcome | tcp | udp |\n|---|---:|---:|\n";
  for (auto& o : outcomes)
    out << "| " << o.name << " | " << count(m.tcp, o.how) << " | " << count(m.udp, o.how)
        << " |\n";
  out << "\n## Configurations\n\n| # | configuration |\n|---:|---|\n";
  for (size_t i = 0; i < m.size(); ++i)
    out << "| " << i + 1 << " | " << m.configs[i] << " |\n";
  out << "\n## TCP\n\n";
  write_table(out, m, m.tcp);
  out << "\n## UDP\n\n";
  write_table(out, m, m.udp);
  return out.str();
}

std::string to_svg(const nat_matrix& m) {
  constexpr int cell = 12, label_w = 190, top = 60, gap = 40, legend_h = 40;
  const int n = static_cast<int>(m.size());
  const int panel = label_w + n * cell;
  const int width = 2 * panel + gap + 10;
  const int height = top + n * cell + legend_h + 20;
  std::ostringstream out;
  out << "<svg xmlns=\"http://www.w3.org/2000/svg\" version=\"1.1\" width=\"" << width
      << "\" height=\"" << height << "\" viewBox=\"0 0 " << width << ' ' << height
      << "\" font-family=\"sans-serif\" font-size=\"9\">\n"
      << "<title>The NAT matrix of the simulated network</title>\n"
      << "<rect width=\"100%\" height=\"100%\" fill=\"#ffffff\"/>\n";
  auto draw = [&](int x0, const char* name, const std::vector<matrix_cell>& cells) {
    out << "<text x=\"" << x0 + label_w << "\" y=\"20\" font-size=\"13\" font-weight=\"bold\">"
        << name << " (row connects to column)</text>\n";
    for (int j = 0; j < n; ++j)
      out << "<text x=\"" << x0 + label_w + j * cell + cell / 2 << "\" y=\"" << top - 6
          << "\" text-anchor=\"middle\" font-size=\"7\">" << j + 1 << "</text>\n";
    for (int i = 0; i < n; ++i) {
      const auto& row = m.configs[static_cast<size_t>(i)];
      out << "<text x=\"" << x0 + label_w - 4 << "\" y=\"" << top + i * cell + cell - 3
          << "\" text-anchor=\"end\">" << i + 1 << ' ' << xml_escape(row) << "</text>\n";
      for (int j = 0; j < n; ++j) {
        auto& c = m.at(cells, static_cast<size_t>(i), static_cast<size_t>(j));
        out << "<rect x=\"" << x0 + label_w + j * cell << "\" y=\"" << top + i * cell
            << "\" width=\"" << cell << "\" height=\"" << cell << "\" fill=\""
            << info(c.how).colour << "\" stroke=\"#ffffff\" stroke-width=\"0.5\"><title>"
            << name << ' ' << xml_escape(row) << " -&gt; "
            << xml_escape(m.configs[static_cast<size_t>(j)]) << ": " << info(c.how).label;
        if (c.how != matrix_outcome::none)
          out << ", " << c.virtual_ms << " ms";
        out << "</title></rect>\n";
      }
    }
  };
  draw(0, "TCP", m.tcp);
  draw(panel + gap, "UDP", m.udp);
  int y = top + n * cell + 20, x = label_w;
  for (auto& o : outcomes) {
    out << "<rect x=\"" << x << "\" y=\"" << y << "\" width=\"" << cell << "\" height=\"" << cell
        << "\" fill=\"" << o.colour << "\"/><text x=\"" << x + cell + 4 << "\" y=\"" << y + cell - 2
        << "\">" << o.label << " (" << count(m.tcp, o.how) << " tcp, " << count(m.udp, o.how)
        << " udp)</text>\n";
    x += 170;
  }
  out << "</svg>\n";
  return out.str();
}

net::result<nat_matrix> parse_markdown(const std::string& doc) {
  std::istringstream in{doc};
  std::string line, section;
  std::vector<std::string> configs;
  std::vector<std::vector<matrix_cell>> rows_tcp, rows_udp;
  size_t lineno = 0;
  while (std::getline(in, line)) {
    ++lineno;
    auto where = [&] { return "line " + std::to_string(lineno) + ": "; };
    if (line.rfind("## ", 0) == 0) {
      section = line.substr(3);
      continue;
    }
    if (line.empty() || line[0] != '|' || line.rfind("|---", 0) == 0 || line.rfind("| |", 0) == 0
        || line.rfind("| # |", 0) == 0)
      continue;
    auto cols = split_row(line);
    if (section == "Configurations") {
      if (cols.size() != 2 || cols[0] != std::to_string(configs.size() + 1))
        return bad(where() + "configuration " + std::to_string(configs.size() + 1)
                   + " expected, not '" + line + "'");
      configs.push_back(cols[1]);
    } else if (section == "TCP" || section == "UDP") {
      auto& rows = section == "TCP" ? rows_tcp : rows_udp;
      if (cols.size() != configs.size() + 1 || cols[0] != std::to_string(rows.size() + 1))
        return bad(where() + "row " + std::to_string(rows.size() + 1) + " of "
                   + std::to_string(configs.size()) + " cells expected");
      std::vector<matrix_cell> row;
      for (size_t j = 1; j < cols.size(); ++j) {
        auto c = parse_cell(cols[j]);
        if (!c)
          return bad(where() + c.error().what);
        row.push_back(*c);
      }
      rows.push_back(std::move(row));
    }
  }
  if (configs.empty())
    return bad("no configurations");
  if (rows_tcp.size() != configs.size() || rows_udp.size() != configs.size())
    return bad(std::to_string(configs.size()) + " rows per transport expected, found "
               + std::to_string(rows_tcp.size()) + " (TCP) and "
               + std::to_string(rows_udp.size()) + " (UDP)");
  auto m = make_matrix(std::move(configs));
  for (size_t i = 0; i < m.size(); ++i)
    for (size_t j = 0; j < m.size(); ++j) {
      m.at(m.tcp, i, j) = rows_tcp[i][j];
      m.at(m.udp, i, j) = rows_udp[i][j];
    }
  return m;
}

std::vector<std::string> diff(const nat_matrix& was, const nat_matrix& now) {
  std::vector<std::string> out;
  if (was.configs != now.configs) {
    out.push_back("configurations differ: " + std::to_string(was.size()) + " then "
                  + std::to_string(now.size()));
    return out;
  }
  auto one = [&](const char* proto, const std::vector<matrix_cell>& a,
                 const std::vector<matrix_cell>& b) {
    for (size_t i = 0; i < now.size(); ++i)
      for (size_t j = 0; j < now.size(); ++j) {
        auto& x = was.at(a, i, j);
        auto& y = now.at(b, i, j);
        if (x.how == y.how && x.virtual_ms == y.virtual_ms)
          continue;
        out.push_back(std::string{proto} + ' ' + now.configs[i] + " -> " + now.configs[j] + ": "
                      + to_string(y.how) + ' ' + std::to_string(y.virtual_ms) + " ms, was "
                      + to_string(x.how) + ' ' + std::to_string(x.virtual_ms) + " ms");
      }
  };
  one("tcp", was.tcp, now.tcp);
  one("udp", was.udp, now.udp);
  return out;
}

} // namespace p2pd::sim
