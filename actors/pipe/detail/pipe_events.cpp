// What the transport reports to a pipe's core (pipe_events); the connect and
// resolve outcomes are in pipe_open.cpp.
#include "p2pd/actors/pipe/detail/pipe_state.hpp"

#include "p2pd/messages/errors.hpp"

namespace p2pd::actors {

void pipe_state::on_datagram(const char* data, size_t size, const endpoint& from) {
  track_udp_peer(from);
  deliver(data, size, from);
}

void pipe_state::on_oversized(const endpoint& from, uint64_t size) {
  ++stats.dropped_oversized;
  auto reason = make_error(errc::message_too_large,
                           "a datagram of " + std::to_string(size) + " bytes from "
                             + from.to_string() + " exceeds reader_limit ("
                             + std::to_string(spec.conf.reader_limit) + " bytes); dropped");
  notify(events::errors, caf::make_message(pipe_error{hdl, from, reason}));
}

void pipe_state::on_udp_failed() {
  finish_close(make_error(errc::io_failed, "the UDP socket failed"), true);
}

void pipe_state::on_accepted(pipe_stream_ptr conn) {
  // A full table makes room by resetting its longest idle client: a
  // newcomer refused instead would let idle clients hold every slot.
  if (life.phase() != phase::open
      || (conns.size() >= spec.conf.max_clients && !shed_longest_idle())) {
    ++stats.clients_shed;
    conn->close();
    return;
  }
  ++stats.clients_accepted;
  add_conn(std::move(conn)); // up now, or once its TLS handshake is done
}

void pipe_state::on_listener_failed() {
  finish_close(make_error(errc::io_failed, "the listening socket failed"), true);
}

void pipe_state::on_data(stream_id id, const char* data, size_t size) {
  on_stream_data(id, data, size);
}

void pipe_state::on_stream_closed(stream_id id) {
  auto i = conns.find(id);
  if (i != conns.end())
    drop_conn(id, i->second.stream->last_error());
  if (life.phase() == phase::closing && !writes_pending())
    finish_close(caf::none, true);
}

void pipe_state::on_drained() {
  if (life.phase() == phase::closing && !writes_pending())
    finish_close(caf::none, true);
}

} // namespace p2pd::actors
