#include "p2pd/actors/signal/detail/subscriber_table.hpp"

#include <algorithm>

#include "caf/actor_cast.hpp"

#include "p2pd/actors/signal/topic_filter.hpp"

namespace p2pd::actors {

bool subscriber_table::add(const std::string& filter, const caf::actor_addr& target) {
  auto& v = by_filter_[filter];
  bool first = v.empty();
  if (std::find(v.begin(), v.end(), target) == v.end())
    v.push_back(target);
  return first;
}

bool subscriber_table::remove(const std::string& filter, const caf::actor_addr& target) {
  auto i = by_filter_.find(filter);
  if (i == by_filter_.end())
    return false;
  auto& v = i->second;
  v.erase(std::remove(v.begin(), v.end(), target), v.end());
  if (!v.empty())
    return false;
  by_filter_.erase(i);
  return true;
}

std::vector<std::string> subscriber_table::remove_all(const caf::actor_addr& target) {
  std::vector<std::string> emptied;
  for (auto i = by_filter_.begin(); i != by_filter_.end();) {
    auto& v = i->second;
    v.erase(std::remove(v.begin(), v.end(), target), v.end());
    if (v.empty()) {
      emptied.push_back(i->first);
      i = by_filter_.erase(i);
    } else {
      ++i;
    }
  }
  return emptied;
}

std::vector<caf::actor> subscriber_table::match(const std::string& topic) const {
  std::vector<caf::actor> out;
  for (auto& [filter, targets] : by_filter_) {
    if (!topic_matches(filter, topic))
      continue;
    for (auto& addr : targets) {
      auto hdl = caf::actor_cast<caf::actor>(addr);
      if (hdl && std::find(out.begin(), out.end(), hdl) == out.end())
        out.push_back(std::move(hdl));
    }
  }
  return out;
}

std::vector<std::string> subscriber_table::filters() const {
  std::vector<std::string> out;
  out.reserve(by_filter_.size());
  for (auto& kvp : by_filter_)
    out.push_back(kvp.first);
  return out;
}

} // namespace p2pd::actors
