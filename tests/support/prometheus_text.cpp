#include "support/prometheus_text.hpp"

#include <algorithm>
#include <cerrno>
#include <cmath>
#include <cstdlib>
#include <set>

namespace p2pd::test {

namespace {

bool name_start(char c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_' || c == ':';
}
bool name_char(char c) {
  return name_start(c) || (c >= '0' && c <= '9');
}
bool label_start(char c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_';
}
bool label_char(char c) {
  return label_start(c) || (c >= '0' && c <= '9');
}

// Metric names: [a-zA-Z_:][a-zA-Z0-9_:]*
bool metric_name_ok(std::string_view s) {
  return !s.empty() && name_start(s[0]) && std::all_of(s.begin(), s.end(), name_char);
}

bool ends_with(std::string_view s, std::string_view tail) {
  return s.size() >= tail.size() && s.substr(s.size() - tail.size()) == tail;
}

// A float as Go's ParseFloat takes it in the format: digits with an
// optional fraction and exponent, or Inf / NaN with an optional sign.
std::optional<double> parse_value(std::string_view s) {
  if (s == "NaN")
    return std::nan("");
  if (s == "+Inf" || s == "Inf")
    return HUGE_VAL;
  if (s == "-Inf")
    return -HUGE_VAL;
  size_t i = 0;
  if (i < s.size() && (s[i] == '+' || s[i] == '-'))
    ++i;
  size_t digits = 0;
  while (i < s.size() && s[i] >= '0' && s[i] <= '9')
    ++i, ++digits;
  if (i < s.size() && s[i] == '.') {
    ++i;
    while (i < s.size() && s[i] >= '0' && s[i] <= '9')
      ++i, ++digits;
  }
  if (digits == 0)
    return std::nullopt;
  if (i < s.size() && (s[i] == 'e' || s[i] == 'E')) {
    ++i;
    if (i < s.size() && (s[i] == '+' || s[i] == '-'))
      ++i;
    size_t exp = 0;
    while (i < s.size() && s[i] >= '0' && s[i] <= '9')
      ++i, ++exp;
    if (exp == 0)
      return std::nullopt;
  }
  if (i != s.size())
    return std::nullopt;
  std::string copy{s};
  errno = 0;
  double v = std::strtod(copy.c_str(), nullptr);
  if (errno == ERANGE && std::isinf(v))
    return std::nullopt;
  return v;
}

bool timestamp_ok(std::string_view s) {
  size_t i = (!s.empty() && s[0] == '-') ? 1 : 0;
  return i < s.size() && s.size() - i <= 19
         && std::all_of(s.begin() + static_cast<std::ptrdiff_t>(i), s.end(),
                        [](char c) { return c >= '0' && c <= '9'; });
}

// The family a sample name belongs to, given the family being read.
bool belongs(const prom_family& f, std::string_view sample) {
  if (sample == f.name)
    return f.type != "histogram";  // a histogram has no bare sample
  if (f.type == "histogram")
    return sample == f.name + "_bucket" || sample == f.name + "_sum"
           || sample == f.name + "_count";
  if (f.type == "summary")
    return sample == f.name + "_sum" || sample == f.name + "_count";
  return false;
}

struct reader {
  prom_document doc;
  std::set<std::string> closed;      ///< families whose samples have ended
  std::set<std::string> series;      ///< name + labels seen
  std::set<std::string> helped;      ///< HELP seen
  std::set<std::string> typed;       ///< TYPE seen

  prom_family* current() { return doc.families.empty() ? nullptr : &doc.families.back(); }

  prom_family* find(std::string_view name) {
    for (auto& f : doc.families)
      if (f.name == name)
        return &f;
    return nullptr;
  }

  // Makes `name` the family being read: a new one, or the current one.
  std::string open_family(std::string_view name) {
    auto* cur = current();
    if (cur != nullptr && cur->name == name)
      return {};
    if (find(name) != nullptr)
      return "family " + std::string{name} + " appears twice, apart";
    if (cur != nullptr)
      closed.insert(cur->name);
    prom_family f;
    f.name = std::string{name};
    f.type = "untyped";
    doc.families.push_back(std::move(f));
    return {};
  }

  std::string comment(std::string_view line) {
    // "# HELP name text", "# TYPE name type"; any other comment is free.
    std::string_view rest = line.substr(1);
    if (rest.empty() || rest[0] != ' ')
      return {};
    rest.remove_prefix(1);
    bool help = rest.substr(0, 5) == "HELP ";
    bool type = rest.substr(0, 5) == "TYPE ";
    if (!help && !type)
      return {};
    rest.remove_prefix(5);
    auto sp = rest.find(' ');
    auto name = rest.substr(0, sp);
    if (!metric_name_ok(name))
      return "bad metric name '" + std::string{name} + "'";
    std::string_view arg = sp == std::string_view::npos ? std::string_view{} : rest.substr(sp + 1);
    if (help) {
      if (!helped.insert(std::string{name}).second)
        return "a second HELP for " + std::string{name};
      std::string text;
      for (size_t i = 0; i < arg.size(); ++i) {
        if (arg[i] != '\\') {
          text += arg[i];
          continue;
        }
        if (++i == arg.size())
          return "HELP of " + std::string{name} + " ends in a lone backslash";
        if (arg[i] == '\\')
          text += '\\';
        else if (arg[i] == 'n')
          text += '\n';
        else
          return "HELP of " + std::string{name} + " has an unknown escape \\" + arg[i];
      }
      if (auto err = open_family(name); !err.empty())
        return err;
      current()->help = std::move(text);
      return {};
    }
    static const std::set<std::string_view> types = {"counter", "gauge", "histogram", "summary",
                                                     "untyped"};
    if (types.count(arg) == 0)
      return "unknown TYPE '" + std::string{arg} + "' for " + std::string{name};
    if (auto err = open_family(name); !err.empty())
      return err;
    auto* f = current();
    if (!f->samples.empty())
      return "TYPE of " + f->name + " after its samples";
    if (!typed.insert(f->name).second)
      return "a second TYPE for " + f->name;
    f->type = std::string{arg};
    return {};
  }

  std::string sample(std::string_view line) {
    size_t i = 0;
    while (i < line.size() && name_char(line[i]))
      ++i;
    auto name = line.substr(0, i);
    if (!metric_name_ok(name))
      return "bad metric name at the start of the sample";
    prom_sample s;
    s.name = std::string{name};
    std::string key = s.name + "{";
    if (i < line.size() && line[i] == '{') {
      ++i;
      for (;;) {
        if (i < line.size() && line[i] == '}') {
          ++i;
          break;
        }
        size_t start = i;
        while (i < line.size() && label_char(line[i]))
          ++i;
        auto lname = line.substr(start, i - start);
        if (lname.empty() || !label_start(lname[0]))
          return "bad label name in " + s.name;
        if (lname.substr(0, 2) == "__")
          return "label name " + std::string{lname} + " is reserved (starts with __)";
        if (i + 1 >= line.size() || line[i] != '=' || line[i + 1] != '"')
          return "label " + std::string{lname} + " of " + s.name + " is not name=\"value\"";
        i += 2;
        std::string value;
        bool closed_quote = false;
        while (i < line.size()) {
          char c = line[i++];
          if (c == '"') {
            closed_quote = true;
            break;
          }
          if (c != '\\') {
            value += c;
            continue;
          }
          if (i == line.size())
            break;
          char e = line[i++];
          if (e == '\\')
            value += '\\';
          else if (e == '"')
            value += '"';
          else if (e == 'n')
            value += '\n';
          else
            return "label " + std::string{lname} + " of " + s.name + " has an unknown escape \\"
                   + e;
        }
        if (!closed_quote)
          return "label " + std::string{lname} + " of " + s.name + " has no closing quote";
        if (!s.labels.emplace(std::string{lname}, value).second)
          return "label " + std::string{lname} + " twice in " + s.name;
        if (i < line.size() && line[i] == ',') {
          ++i;
          continue;
        }
        if (i < line.size() && line[i] == '}') {
          ++i;
          break;
        }
        return "labels of " + s.name + " are not separated by commas or closed by }";
      }
    }
    for (auto& [k, v] : s.labels)
      key += k + "=\"" + v + "\"\x1f";
    if (i >= line.size() || line[i] != ' ')
      return "no space before the value of " + s.name;
    ++i;
    auto rest = line.substr(i);
    auto sp = rest.find(' ');
    auto value_text = rest.substr(0, sp);
    auto value = parse_value(value_text);
    if (!value)
      return "value '" + std::string{value_text} + "' of " + s.name + " is not a float";
    s.value = *value;
    if (sp != std::string_view::npos && !timestamp_ok(rest.substr(sp + 1)))
      return "timestamp '" + std::string{rest.substr(sp + 1)} + "' of " + s.name
             + " is not an integer of milliseconds";
    // Its family: the current one if it belongs there, else a new untyped one.
    auto* cur = current();
    if (cur == nullptr || !belongs(*cur, s.name)) {
      if (closed.count(s.name) > 0 || find(s.name) != nullptr)
        return "samples of " + s.name + " appear apart from their family";
      for (auto& f : doc.families)
        if (belongs(f, s.name))
          return "samples of " + s.name + " appear apart from their family " + f.name;
      if (auto err = open_family(s.name); !err.empty())
        return err;
      cur = current();
    }
    if (!series.insert(key + "}").second)
      return "series " + s.name + " with these labels appears twice";
    bool bucket = cur->type == "histogram" && ends_with(s.name, "_bucket");
    if (bucket != (s.labels.count("le") > 0))
      return bucket ? "bucket of " + cur->name + " without an le label"
                    : "le label outside a histogram's buckets in " + s.name;
    if (cur->type == "counter" && !(s.value >= 0))
      return "counter " + s.name + " is negative or NaN";
    cur->samples.push_back(std::move(s));
    return {};
  }
};

// Buckets rise with le, +Inf is there and equals _count; _sum and _count
// are there (per label set without le).
std::string check_histogram(const prom_family& f) {
  struct series_of {
    std::vector<std::pair<double, double>> buckets;
    std::optional<double> count, sum;
  };
  std::map<std::map<std::string, std::string>, series_of> by;
  for (auto& s : f.samples) {
    auto labels = s.labels;
    auto le = labels.find("le");
    if (le != labels.end()) {
      auto bound = parse_value(le->second);
      if (!bound || std::isnan(*bound))
        return "le '" + le->second + "' of " + f.name + " is not a float";
      labels.erase(le);
      by[labels].buckets.emplace_back(*bound, s.value);
    } else if (ends_with(s.name, "_count")) {
      by[labels].count = s.value;
    } else {
      by[labels].sum = s.value;
    }
  }
  for (auto& [labels, h] : by) {
    if (!h.count || !h.sum)
      return "histogram " + f.name + " lacks _sum or _count for a label set";
    std::sort(h.buckets.begin(), h.buckets.end());
    if (h.buckets.empty() || !std::isinf(h.buckets.back().first))
      return "histogram " + f.name + " has no +Inf bucket";
    for (size_t i = 1; i < h.buckets.size(); ++i)
      if (h.buckets[i].second < h.buckets[i - 1].second)
        return "buckets of " + f.name + " fall from le=" + std::to_string(h.buckets[i - 1].first)
               + " to le=" + std::to_string(h.buckets[i].first);
    if (h.buckets.back().second != *h.count)
      return "the +Inf bucket of " + f.name + " is not its _count";
  }
  return {};
}

} // namespace

const prom_family* prom_document::family(std::string_view name) const {
  for (auto& f : families)
    if (f.name == name)
      return &f;
  return nullptr;
}

std::optional<double> prom_document::value(std::string_view name,
                                           const std::map<std::string, std::string>& labels) const {
  for (auto& f : families)
    for (auto& s : f.samples)
      if (s.name == name && s.labels == labels)
        return s.value;
  return std::nullopt;
}

prom_parse_result parse_prometheus_text(std::string_view text) {
  prom_parse_result out;
  if (!text.empty() && text.back() != '\n') {
    out.error = "the last line has no newline";
    return out;
  }
  reader r;
  size_t number = 0;
  while (!text.empty()) {
    auto nl = text.find('\n');
    auto line = text.substr(0, nl);
    text.remove_prefix(nl + 1);
    ++number;
    std::string err;
    if (line.empty())
      continue;
    if (line.find('\r') != std::string_view::npos)
      err = "a carriage return (lines end in \\n alone)";
    else if (line[0] == '#')
      err = r.comment(line);
    else if (line[0] == ' ' || line[0] == '\t')
      err = "leading whitespace";
    else
      err = r.sample(line);
    if (!err.empty()) {
      out.error = "line " + std::to_string(number) + ": " + err;
      return out;
    }
  }
  for (auto& f : r.doc.families)
    if (f.type == "histogram")
      if (auto err = check_histogram(f); !err.empty()) {
        out.error = err;
        return out;
      }
  out.doc = std::move(r.doc);
  return out;
}

} // namespace p2pd::test
