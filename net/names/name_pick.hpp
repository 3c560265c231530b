#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "p2pd/net/names/name_record.hpp"

// A client asks several name servers and trusts none: what it keeps is
// decided here, from the records they sent.

namespace p2pd::net::names {

/// What pick_newest() kept and refused.
struct pick_result {
  std::optional<name_record> record;
  /// No live record is kept and the name's owner deleted it: the newest
  /// valid tombstone (the signed deletion) among those sent.
  std::optional<name_record> deleted;
  size_t forged = 0;     ///< records whose signature did not check (a lying server)
  size_t foreign = 0;    ///< records of another name or owner, and expired ones
  /// Live records left out because a tombstone of the same owner with a
  /// version at least theirs came too: a server that missed the deletion.
  size_t overridden = 0;
};

/// The newest (highest version; then latest time) record of `name` whose
/// signature checks and which is live at `now` (Unix seconds). Ties of
/// version and time between different records (an owner who signed two)
/// go to the smaller signature bytes, so that every client picks the same.
/// With `owner` (a key the caller knows the name's holder by), records of
/// any other key are left out: a server that never saw the holder's record
/// cannot pass another key's off as the name's.
///
/// Tombstones (records with `deleted`) whose signature checks override
/// every live record of their owner whose version is not above theirs: one
/// server that holds the deletion outweighs any number that missed it. A
/// tombstone counts whatever its age, since it only hides what its owner
/// deleted; a record its owner signed after it has a higher version and
/// wins. Another key's record is not hidden by it (the name was free for
/// anyone once deleted). When no live record is left and a tombstone came,
/// `deleted` is the newest one.
pick_result pick_newest(const std::string& name, const std::vector<name_record>& candidates,
                        int64_t now, const std::optional<owner_key>& owner = std::nullopt);

} // namespace p2pd::net::names
