#pragma once

#include <map>
#include <string>
#include <vector>

#include "caf/actor.hpp"
#include "caf/actor_addr.hpp"

namespace p2pd::actors {

/// Who gets a channel's messages: targets per topic filter. Targets are held
/// weakly: a subscription never keeps an actor alive, and the channel and
/// its subscribers (who hold the channel) form no reference cycle.
class subscriber_table {
public:
  /// Adds `target` for `filter`; true if the filter had no target before.
  bool add(const std::string& filter, const caf::actor_addr& target);

  /// Removes `target` from `filter`; true if the filter has no target left.
  bool remove(const std::string& filter, const caf::actor_addr& target);

  /// Removes `target` from every filter (it terminated); returns the filters
  /// left without a target.
  std::vector<std::string> remove_all(const caf::actor_addr& target);

  /// The live targets of every filter that matches `topic`, each once.
  std::vector<caf::actor> match(const std::string& topic) const;

  bool has(const std::string& filter) const { return by_filter_.count(filter) > 0; }

  /// The filters that have a target.
  std::vector<std::string> filters() const;

private:
  std::map<std::string, std::vector<caf::actor_addr>> by_filter_;
};

} // namespace p2pd::actors
