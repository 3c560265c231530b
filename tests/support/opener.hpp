#pragma once

// Actors that, as pipes do, belong to whoever opened them: a check that
// one ends with its opener.

#include "caf/all.hpp"

#include "support/actors.hpp"

#include "p2pd/messages/pipe.hpp"

namespace p2pd::test {

/// Opens `hdl` from a scoped actor that then ends, and waits up to 5 s for
/// `hdl` to end too: true if it did. False also when the open failed.
template <class Handle>
bool ends_with_its_opener(caf::actor_system& sys, const Handle& hdl) {
  caf::scoped_actor watcher{sys};
  watcher->monitor(hdl);
  bool opened = false;
  {
    caf::scoped_actor opener{sys};
    opener->request(hdl, 5s, caf::open_atom::value)
      .receive([&](pipe_info&) { opened = true; }, [](caf::error&) {});
  }
  bool down = false;
  watcher->receive([&](caf::down_msg&) { down = true; }, caf::after(5s) >> [] {});
  return opened && down;
}

} // namespace p2pd::test
