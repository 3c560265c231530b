// A client pipe's preamble (pipe_spec::preamble): a request and its answer
// on the connection before TLS or data, such as TURN's ConnectionBind.
#include "p2pd/actors/pipe/detail/pipe_state.hpp"

#include <algorithm>

#include "p2pd/actors/pipe/detail/pipe_atoms.hpp"
#include "p2pd/messages/errors.hpp"

namespace p2pd::actors {

void pipe_state::start_preamble(conn& c) {
  c.in_preamble = true;
  auto& req = spec.preamble->request;
  auto& buf = c.stream->wr_buf();
  buf.insert(buf.end(), req.begin(), req.end());
  c.stream->flush();
  later(spec.conf.con_timeout, preamble_tmo_atom::value, c.stream->id());
}

void pipe_state::on_preamble(stream_id h, const char* data, size_t size) {
  auto& c = conns.at(h);
  c.preamble_buf.append(data, size);
  auto fail = [&](caf::error err) {
    // A client pipe: the open fails, or (opened already, which cannot be
    // while the preamble runs) the pipe ends.
    if (life.phase() == phase::opening)
      return open_failed(err);
    conns.erase(h);
    by_peer.clear();
    finish_close(err, false);
  };
  auto n = spec.preamble->answer(c.preamble_buf);
  if (!n) {
    auto why = n.error();
    why.what = "the answer to the pipe's preamble from " + c.peer.to_string() + ": " + why.what;
    return fail(make_error(why));
  }
  if (*n == 0) {
    if (c.preamble_buf.size() >= spec.conf.reader_limit)
      return fail(make_error(errc::message_too_large,
                             "the answer to the pipe's preamble is over "
                               + std::to_string(spec.conf.reader_limit) + " bytes"));
    return;
  }
  auto rest = c.preamble_buf.substr(std::min(*n, c.preamble_buf.size()));
  c.in_preamble = false;
  c.preamble_buf.clear();
  c.preamble_buf.shrink_to_fit();
  secure_or_up(c);
  // What came right after the answer is the stream's first bytes.
  if (!rest.empty() && conns.count(h) > 0)
    on_stream_data(h, rest.data(), rest.size());
}

void pipe_state::preamble_timeout(stream_id h) {
  auto i = conns.find(h);
  if (i == conns.end() || !i->second.in_preamble || life.phase() != phase::opening)
    return;
  auto ms = std::chrono::duration_cast<std::chrono::milliseconds>(spec.conf.con_timeout);
  open_failed(make_error(errc::recv_timeout, "no answer to the pipe's preamble from "
                                               + i->second.peer.to_string() + " within "
                                               + std::to_string(ms.count()) + " ms"));
}

} // namespace p2pd::actors
