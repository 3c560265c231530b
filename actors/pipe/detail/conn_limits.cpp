// What a TCP server allows its clients: whole messages (with a framer), a
// bounded wait for them, and a table from which the longest idle client is
// shed first. Without these, clients that send nothing, half a message or
// garbage could hold every slot forever and deny the service to others.

#include <algorithm>
#include <chrono>
#include <string_view>

#include "p2pd/actors/common/timeouts.hpp"
#include "p2pd/actors/pipe/detail/pipe_atoms.hpp"
#include "p2pd/actors/pipe/detail/pipe_state.hpp"
#include "p2pd/messages/errors.hpp"
#include "p2pd/net/util/length_prefix.hpp"

namespace p2pd::actors {

namespace {

bool positive(caf::timespan t) {
  return t.count() > 0;
}

// Whether the peer took some of our bytes since we last looked: a client
// that sends a lot and reads slowly is read from only as it takes our
// replies (backpressure), so silence from it is not idleness while our
// bytes still move. Looked at only when a client seems idle, and compared
// with the last look, so a stalled client goes at most one idle_timeout late.
bool took_bytes(pipe_state::conn& c, caf::actor_clock::time_point now) {
  auto queued = c.stream->pending() + c.stream->in_flight();
  if (queued == c.last_pending)
    return false;
  c.last_pending = queued;
  c.last_rx = now;
  return true;
}

} // namespace

void pipe_state::on_plaintext(stream_id h, conn& c, const char* data,
                              size_t size) {
  auto peer = c.peer; // a handler may end the connection, and c with it
  if (!spec.framer && !spec.peer_framer)
    return deliver(data, size, peer);
  auto malformed = [&](const std::string& why) {
    ++stats.clients_malformed;
    reset_conn(h, make_error(errc::malformed, "bytes from " + peer.to_string()
                                                + " do not frame as this pipe's messages ("
                                                + why + "); the connection is reset"));
  };
  // Frame straight from the read buffer when nothing is pending: no copy.
  std::string buf = std::move(c.partial);
  bool was_partial = !buf.empty();
  std::string_view rest{data, size};
  if (was_partial) {
    buf.append(data, size);
    rest = buf;
  }
  bool consumed = false;
  while (!rest.empty()) {
    auto need = spec.peer_framer ? spec.peer_framer(peer, rest) : spec.framer(rest);
    if (!need)
      return malformed(need.error().what);
    auto limit = spec.conf.reader_limit;
    if (*need > limit)
      return malformed("a message of " + std::to_string(*need) + " bytes exceeds reader_limit ("
                       + std::to_string(limit) + " bytes)");
    if (*need == 0 && rest.size() > limit)
      return malformed("no message boundary within reader_limit (" + std::to_string(limit)
                       + " bytes)");
    if (*need == 0 || *need > rest.size())
      break;
    // A length prefix is the pipe's, not the message's.
    auto skip = spec.length_prefixed ? net::length_prefix_size : 0;
    deliver(rest.data() + skip, *need - skip, peer);
    rest.remove_prefix(*need);
    consumed = true;
    if (conns.count(h) == 0)
      return; // the handler ended the connection
  }
  auto& still = conns[h];
  if (rest.empty()) {
    still.partial.clear();
    return;
  }
  if (!was_partial || consumed)
    still.partial_since = self->clock().now(); // a new message began
  if (was_partial) {
    // The buffer goes back as it is, less what was delivered: a message
    // trickled in byte by byte must not be copied whole at every byte.
    buf.erase(0, static_cast<size_t>(rest.data() - buf.data()));
    still.partial = std::move(buf);
  } else {
    still.partial.assign(rest.data(), rest.size());
  }
}

bool pipe_state::shed_longest_idle() {
  if (conns.empty())
    return false;
  auto oldest = std::min_element(conns.begin(), conns.end(), [](const auto& x, const auto& y) {
    return x.second.rx_seq < y.second.rx_seq;
  });
  // How long is known only from sweeps: since the last read a sweep saw.
  std::string idle;
  if (oldest->second.rx_seq == oldest->second.swept_seq)
    idle = ", idle for at least "
           + timeouts::ms_text(std::chrono::duration_cast<caf::timespan>(self->clock().now()
                                                                - oldest->second.last_rx));
  ++stats.clients_shed;
  reset_conn(oldest->first,
             make_error(errc::connection_shed,
                        "the client table is full (max_clients "
                          + std::to_string(spec.conf.max_clients) + ") and "
                          + oldest->second.peer.to_string() + idle
                          + ", was the longest idle; reset to make room"));
  return true;
}

void pipe_state::arm_sweep() {
  if (sweeping || spec.is_client() || life.phase() == phase::closed)
    return;
  auto idle = spec.conf.idle_timeout;
  auto deadline = spec.framer || spec.peer_framer ? spec.conf.msg_deadline : caf::timespan{0};
  if (!positive(idle) && !positive(deadline))
    return;
  auto limit = !positive(idle) ? deadline : !positive(deadline) ? idle : std::min(idle, deadline);
  // A quarter of the limit: a client is reset at most 25 % late, and a
  // table of thousands is walked a few times per limit, not per message.
  auto tick = std::clamp<caf::timespan>(limit / 4, timeouts::sweep_min, timeouts::sweep_max);
  sweeping = true;
  later(tick, sweep_atom::value);
}

void pipe_state::sweep() {
  sweeping = false;
  if (life.phase() != phase::open)
    return;
  auto now = self->clock().now();
  auto idle = spec.conf.idle_timeout;
  auto deadline = spec.conf.msg_deadline;
  std::vector<std::pair<stream_id, caf::error>> expired;
  for (auto& [h, c] : conns) {
    if (c.rx_seq != c.swept_seq) { // it sent since the last sweep
      c.swept_seq = c.rx_seq;
      c.last_rx = now;
    }
    if (positive(idle) && now - c.last_rx >= idle && !took_bytes(c, now))
      expired.emplace_back(h, make_error(errc::idle_timeout,
                                         c.peer.to_string() + " sent nothing and took nothing for "
                                           + timeouts::ms_text(idle) + " (idle_timeout); reset"));
    else if ((spec.framer || spec.peer_framer) && positive(deadline) && !c.partial.empty()
             && now - c.partial_since >= deadline)
      expired.emplace_back(
        h, make_error(errc::idle_timeout,
                      "a message from " + c.peer.to_string() + " was not whole within "
                        + timeouts::ms_text(deadline) + " (msg_deadline; " + std::to_string(c.partial.size())
                        + " bytes of it came); reset"));
  }
  for (auto& [h, reason] : expired) {
    ++stats.clients_timed_out;
    reset_conn(h, std::move(reason));
  }
  if (!conns.empty())
    arm_sweep();
}

} // namespace p2pd::actors
