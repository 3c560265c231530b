#include "p2pd/net/names/name_pick.hpp"

#include <map>
#include <tuple>

#include "p2pd/net/names/name_rules.hpp"

namespace p2pd::net::names {

namespace {

// Newer wins; the signature breaks a tie deterministically.
bool newer_than(const name_record& r, const name_record& best) {
  return std::make_tuple(r.version, r.time, best.sig) > std::make_tuple(best.version, best.time, r.sig);
}

void keep_newer(std::optional<name_record>& best, const name_record& r) {
  if (!best || newer_than(r, *best))
    best = r;
}

} // namespace

pick_result pick_newest(const std::string& name, const std::vector<name_record>& candidates,
                        int64_t now, const std::optional<owner_key>& owner) {
  pick_result out;
  std::vector<const name_record*> live;
  std::map<owner_key, const name_record*> tombstones; // the newest of each owner
  for (const auto& r : candidates) {
    if (r.name != name || (owner && r.owner != *owner) || (!r.deleted && !is_live(r, now))) {
      ++out.foreign;
      continue;
    }
    if (!verify_record(r)) {
      ++out.forged;
      continue;
    }
    if (r.deleted) {
      auto& t = tombstones[r.owner];
      if (!t || newer_than(r, *t))
        t = &r;
      continue;
    }
    live.push_back(&r);
  }
  for (const auto* r : live) {
    auto t = tombstones.find(r->owner);
    if (t != tombstones.end() && t->second->version >= r->version) {
      ++out.overridden;
      continue;
    }
    keep_newer(out.record, *r);
  }
  if (!out.record)
    for (const auto& kvp : tombstones)
      keep_newer(out.deleted, *kvp.second);
  return out;
}

} // namespace p2pd::net::names
