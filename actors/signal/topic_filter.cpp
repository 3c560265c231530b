#include "p2pd/actors/signal/topic_filter.hpp"

namespace p2pd::actors {

namespace {

constexpr size_t max_topic = 65535; // the length field of an MQTT string

// The next level of `s` from `pos`, and where the one after starts
// (npos past the last level).
std::string_view level(std::string_view s, size_t& pos) {
  auto end = s.find('/', pos);
  auto out = s.substr(pos, end == std::string_view::npos ? std::string_view::npos : end - pos);
  pos = end == std::string_view::npos ? std::string_view::npos : end + 1;
  return out;
}

bool basic_ok(std::string_view s) {
  return !s.empty() && s.size() <= max_topic && s.find('\0') == std::string_view::npos;
}

} // namespace

bool valid_topic_name(std::string_view topic) {
  return basic_ok(topic) && topic.find_first_of("+#") == std::string_view::npos;
}

bool valid_topic_filter(std::string_view filter) {
  if (!basic_ok(filter))
    return false;
  size_t pos = 0;
  while (pos != std::string_view::npos) {
    bool last = filter.find('/', pos) == std::string_view::npos;
    auto lv = level(filter, pos);
    if (lv.find_first_of("+#") == std::string_view::npos)
      continue;
    if (lv == "+" || (lv == "#" && last))
      continue;
    return false;
  }
  return true;
}

bool topic_matches(std::string_view filter, std::string_view topic) {
  if (!topic.empty() && topic.front() == '$' && !filter.empty()
      && (filter.front() == '+' || filter.front() == '#'))
    return false;
  size_t fpos = 0;
  size_t tpos = 0;
  while (fpos != std::string_view::npos) {
    auto f = level(filter, fpos);
    if (f == "#")
      return true; // also matches the parent level: "a/#" matches "a"
    if (tpos == std::string_view::npos)
      return false;
    auto t = level(topic, tpos);
    if (f != "+" && f != t)
      return false;
  }
  return tpos == std::string_view::npos;
}

} // namespace p2pd::actors
