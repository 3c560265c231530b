#include "p2pd/net/punch/punch_session.hpp"

#include <array>

namespace p2pd::net {

namespace {

std::array<uint8_t, 8> be64(uint64_t x) {
  std::array<uint8_t, 8> out{};
  for (size_t i = 0; i < 8; ++i)
    out[i] = static_cast<uint8_t>(x >> (56 - 8 * i));
  return out;
}

std::string plural(uint64_t n, const char* one, const char* many) {
  return std::to_string(n) + " " + (n == 1 ? one : many);
}

} // namespace

const char* to_string(punch_phase p) {
  switch (p) {
    case punch_phase::probing: return "probing";
    case punch_phase::nominating: return "nominating";
    case punch_phase::open: return "open";
    case punch_phase::done: return "done";
  }
  return "unknown";
}

punch_session::punch_session(datagram_seal seal, punch_config cfg)
  : seal_(std::move(seal)), cfg_(std::move(cfg)) {}

result<punch_session> punch_session::make(const session_keys& keys, punch_config cfg) {
  if (cfg.sockets == 0)
    return error{errc::invalid_argument, "a punch needs at least one local socket"};
  if (cfg.answer_only && (!cfg.targets.empty() || !cfg.spray.empty()))
    return error{errc::invalid_argument, "an answering punch probes no endpoint of its own"};
  if (!cfg.answer_only && cfg.targets.empty() && cfg.spray.empty())
    return error{errc::invalid_argument, "a punch needs an endpoint of the peer to probe"};
  auto seal = datagram_seal::make(keys);
  if (!seal)
    return seal.error();
  return punch_session{std::move(*seal), std::move(cfg)};
}

bool punch_session::emit(std::vector<punch_send>& out, size_t socket, const endpoint& to,
                         frame_kind kind, byte_view payload) {
  auto bytes = seal_.seal(kind, payload);
  if (!bytes) {
    // Only a used-up counter gets here: the session cannot send again.
    phase_ = punch_phase::done;
    return false;
  }
  out.push_back(punch_send{socket, to, std::move(*bytes)});
  return true;
}

bool punch_session::emit_probe(std::vector<punch_send>& out, size_t socket, const endpoint& to) {
  if (probes_ >= cfg_.max_probes)
    return false;
  if (!emit(out, socket, to, frame_kind::probe))
    return false;
  ++probes_;
  return true;
}

std::vector<punch_send> punch_session::round() {
  std::vector<punch_send> out;
  if (phase_ != punch_phase::probing || probes_ >= cfg_.max_probes)
    return out;
  ++rounds_;
  bool spray = rounds_ <= cfg_.spray_rounds;
  for (size_t s = 0; s < cfg_.sockets; ++s) {
    for (const auto& t : cfg_.targets)
      if (!emit_probe(out, s, t))
        return out;
    if (spray)
      for (const auto& t : cfg_.spray)
        if (!emit_probe(out, s, t))
          return out;
  }
  return out;
}

std::optional<punch_send> punch_session::renominate() {
  if (phase_ != punch_phase::nominating)
    return std::nullopt;
  if (nominations_ >= cfg_.nominate_tries) {
    phase_ = punch_phase::done;
    return std::nullopt;
  }
  std::vector<punch_send> out;
  if (!emit(out, path_->socket, path_->remote, frame_kind::nominate))
    return std::nullopt;
  ++nominations_;
  return std::move(out.front());
}

punch_received punch_session::on_datagram(size_t socket, const endpoint& from, byte_view bytes,
                                          std::vector<punch_send>& out) {
  punch_received r;
  if (phase_ == punch_phase::done) {
    r.stray = true;
    ++stray_;
    return r;
  }
  auto f = seal_.open(bytes);
  if (!f) {
    r.dropped = f.error();
    return r;
  }
  ++authentic_;
  punch_path via{socket, from};
  if (phase_ == punch_phase::open)
    handle_open(via, *f, r, out);
  else
    handle_probing(via, *f, r, out);
  if (r.stray)
    ++stray_;
  return r;
}

void punch_session::handle_probing(const punch_path& via, const frame& f, punch_received& r,
                                   std::vector<punch_send>& out) {
  bool on_nominated = phase_ == punch_phase::nominating && via == *path_;
  switch (f.kind) {
    case frame_kind::probe:
      emit(out, via.socket, via.remote, frame_kind::probe_ack, be64(f.counter));
      if (triggered_.size() < cfg_.max_triggered && triggered_.insert(via).second)
        emit_probe(out, via.socket, via.remote);
      return;
    case frame_kind::probe_ack:
      ++acks_;
      if (cfg_.controlling && phase_ == punch_phase::probing) {
        path_ = via;
        phase_ = punch_phase::nominating;
        if (emit(out, via.socket, via.remote, frame_kind::nominate))
          nominations_ = 1;
      }
      return;
    case frame_kind::nominate:
      if (cfg_.controlling) {
        r.conflict = true;
        return;
      }
      path_ = via;
      phase_ = punch_phase::open;
      r.selected = true;
      emit(out, via.socket, via.remote, frame_kind::nominate_ack);
      return;
    case frame_kind::nominate_ack:
    case frame_kind::keepalive:
    case frame_kind::data:
      // The controlled side sends data and keepalives only on the path it
      // took: either confirms the nomination (its ack may be lost).
      if (!on_nominated) {
        r.stray = true;
        return;
      }
      phase_ = punch_phase::open;
      r.selected = true;
      if (f.kind == frame_kind::data)
        r.data = f.payload;
      return;
    case frame_kind::close:
      r.peer_closed = true;
      phase_ = punch_phase::done;
      return;
  }
}

void punch_session::handle_open(const punch_path& via, const frame& f, punch_received& r,
                                std::vector<punch_send>& out) {
  bool on_path = via == *path_;
  bool on_socket = via.socket == path_->socket;
  switch (f.kind) {
    case frame_kind::probe:
      // The peer may probe on until its nomination or ack arrives.
      if (on_path)
        emit(out, via.socket, via.remote, frame_kind::probe_ack, be64(f.counter));
      else
        r.stray = true;
      return;
    case frame_kind::nominate:
      // Our nominate_ack was lost: the controlling side asks again.
      if (on_path && !cfg_.controlling)
        emit(out, via.socket, via.remote, frame_kind::nominate_ack);
      else
        r.stray = true;
      return;
    case frame_kind::probe_ack:
    case frame_kind::nominate_ack:
      r.stray = true; // late: the path is chosen
      return;
    case frame_kind::data:
    case frame_kind::keepalive:
      if (!on_socket) {
        r.stray = true;
        return;
      }
      if (!on_path) {
        path_->remote = via.remote;
        r.rebound = true;
      }
      if (f.kind == frame_kind::data)
        r.data = f.payload;
      return;
    case frame_kind::close:
      if (!on_socket) {
        r.stray = true;
        return;
      }
      r.peer_closed = true;
      phase_ = punch_phase::done;
      return;
  }
}

result<punch_send> punch_session::on_path(frame_kind kind, byte_view payload) {
  auto bytes = seal_.seal(kind, payload);
  if (!bytes)
    return bytes.error();
  return punch_send{path_->socket, path_->remote, std::move(*bytes)};
}

result<punch_send> punch_session::data(byte_view payload) {
  if (phase_ != punch_phase::open)
    return error{errc::pipe_closed, std::string{"no data before a path is chosen ("}
                                      + to_string(phase_) + ")"};
  return on_path(frame_kind::data, payload);
}

result<punch_send> punch_session::keepalive() {
  if (phase_ != punch_phase::open)
    return error{errc::pipe_closed, "no keepalive without a path"};
  return on_path(frame_kind::keepalive, {});
}

result<punch_send> punch_session::close() {
  phase_ = punch_phase::done;
  if (!path_)
    return error{errc::pipe_closed, "no path to send the close on"};
  return on_path(frame_kind::close, {});
}

std::string punch_session::summary() const {
  std::string out = plural(probes_, "probe", "probes") + " in " + plural(rounds_, "round", "rounds")
                    + " from " + plural(cfg_.sockets, "socket", "sockets") + " to "
                    + plural(cfg_.targets.size(), "endpoint", "endpoints");
  if (!cfg_.spray.empty())
    out += " and " + plural(cfg_.spray.size(), "sprayed port", "sprayed ports");
  if (authentic_ == 0)
    out += "; no authentic datagram came";
  else
    out += "; " + plural(authentic_, "authentic datagram", "authentic datagrams") + " came ("
           + plural(acks_, "probe_ack", "probe_acks") + ")";
  if (nominations_ > 0 && path_)
    out += "; nominated socket " + std::to_string(path_->socket) + " -> "
           + path_->remote.to_string() + " " + plural(nominations_, "time", "times");
  const auto& c = seal_.counters();
  auto drops = c.malformed + c.foreign + c.forged + c.replayed;
  if (drops > 0)
    out += "; dropped " + std::to_string(c.forged) + " forged, " + std::to_string(c.replayed)
           + " replayed, " + std::to_string(c.foreign) + " foreign, "
           + std::to_string(c.malformed) + " malformed";
  return out;
}

} // namespace p2pd::net
