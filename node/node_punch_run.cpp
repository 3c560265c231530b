// The punch mechanisms (TCP simultaneous open, UDP probes) are being built
// in actors/punch/; until they land, a punch that got through its exchange
// ends here with an error that says so.
#include "p2pd/node/node_state.hpp"

#include "p2pd/messages/errors.hpp"

namespace p2pd::node {

std::array<uint8_t, 32> make_punch_key(punch_session&) {
  return {};
}

void run_punch(node_actor_ptr self, std::shared_ptr<punch_session> s) {
  punch_done(self, s, std::nullopt,
             make_error(errc::connect_failed, "this build has no punch mechanism yet"));
}

bool punch_kept(node_actor_ptr, const std::string&, uint64_t, const pipe_actor&, const endpoint&) {
  return false;
}

bool punch_pipe_event(node_actor_ptr, const pipe_up&) {
  return false;
}
bool punch_pipe_event(node_actor_ptr, pipe_msg&) {
  return false;
}
bool punch_pipe_event(node_actor_ptr, const pipe_end&) {
  return false;
}

} // namespace p2pd::node
