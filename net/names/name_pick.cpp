#include "p2pd/net/names/name_pick.hpp"

#include <tuple>

#include "p2pd/net/names/name_rules.hpp"

namespace p2pd::net::names {

pick_result pick_newest(const std::string& name, const std::vector<name_record>& candidates,
                        int64_t now, const std::optional<owner_key>& owner) {
  pick_result out;
  for (const auto& r : candidates) {
    if (r.name != name || !is_live(r, now) || (owner && r.owner != *owner)) {
      ++out.foreign;
      continue;
    }
    if (!verify_record(r)) {
      ++out.forged;
      continue;
    }
    if (!out.record) {
      out.record = r;
      continue;
    }
    const auto& best = *out.record;
    // Newer wins; the signature breaks a tie deterministically.
    if (std::make_tuple(r.version, r.time, best.sig) > std::make_tuple(best.version, best.time, r.sig))
      out.record = r;
  }
  return out;
}

} // namespace p2pd::net::names
