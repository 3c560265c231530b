#pragma once

// The signalling node as its internals see it (signal_node.cpp, node_send.cpp,
// node_inbound.cpp).

#include <cstdint>
#include <map>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "caf/stateful_actor.hpp"
#include "caf/typed_event_based_actor.hpp"
#include "caf/typed_response_promise.hpp"

#include "p2pd/actors/common/lifecycle.hpp"
#include "p2pd/actors/signal/node/detail/delivered_ids.hpp"
#include "p2pd/actors/signal/node/signal_node_spec.hpp"
#include "p2pd/messages/signal_node.hpp"
#include "p2pd/proto/secure_envelope.hpp"

namespace p2pd::actors {

/// The node's interface plus what its channels deliver.
using signal_node_impl = signal_node_actor::extend<caf::reacts_to<signal_in>>;

/// One channel of the node.
struct node_channel {
  signal_channel_actor hdl;
  std::string name;   ///< for error messages; learned from its stats
  bool owned = false; ///< the node opened it and closes it
  bool alive = true;  ///< false once it terminated (a monitor said so)
  bool listening = false; ///< it confirmed the node's subscription
  uint64_t failures_in_a_row = 0; ///< publishes failed since its last success
};

/// A send whose channels have not all answered.
struct pending_send {
  caf::typed_response_promise<net::message_id> rp;
  net::message_id id{};
  std::string peer;        ///< the recipient's id, for the error message
  size_t outstanding = 0;  ///< channel answers still to come
  bool answered = false;   ///< the requester has its answer
  caf::error first_error;
  std::string errors;      ///< "name: error; name: error"
};

struct signal_node_state {
  static inline const char* name = "p2pd.signal_node";

  signal_node_state() = default;
  signal_node_state(const signal_node_state&) = delete;
  signal_node_state& operator=(const signal_node_state&) = delete;
  /// Answers every send still waiting (CAF 0.17 drops an unanswered promise
  /// without a word, which would leave its requester waiting forever).
  ~signal_node_state();

  signal_node_spec spec;
  /// Declared before the inbox, which holds a reference to it.
  std::shared_ptr<const net::identity> me;
  std::unique_ptr<wire::inbox> inbox;
  std::unique_ptr<delivered_ids> delivered;
  std::string topic; ///< where this node listens

  std::vector<node_channel> channels;
  size_t subscribe_answers = 0; ///< channels that answered the subscription
  caf::error first_subscribe_error;
  std::string subscribe_errors; ///< "name: error; name: error"
  /// Requests for `online`, with the number of listening channels each needs.
  std::vector<std::pair<caf::typed_response_promise<caf::ok_atom>, size_t>> online_waiters;

  std::vector<caf::actor> subscribers;
  std::map<uint64_t, pending_send> pending;
  uint64_t next_send = 1;
  uint64_t rotation = 0; ///< spreads sends over equally healthy channels

  /// The counters the node keeps itself; the refusals come from the inbox.
  signal_node_stats counts;
  /// Messages a channel dropped for their size before the inbox saw them.
  uint64_t channel_too_large = 0;

  /// Open from the start; close requests are answered once the channels it
  /// opened answered theirs.
  lifecycle life;
  size_t closes_left = 0; ///< owned channels whose close has not been answered
};

using node_ptr = signal_node_impl::stateful_pointer<signal_node_state>;

// Sending (node_send.cpp).
caf::result<net::message_id> send_message(node_ptr self, const net::public_keys& peer,
                                          uint32_t type, const bytes& plaintext);

// Receiving (node_inbound.cpp).
void on_signal_in(node_ptr self, signal_in& in);
signal_node_stats current_stats(const signal_node_state& st);

} // namespace p2pd::actors
