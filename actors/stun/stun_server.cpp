#include "p2pd/actors/stun/stun_server.hpp"

#include <array>
#include <memory>

#include "caf/send.hpp"

#include "p2pd/messages/errors.hpp"
#include "p2pd/net/stun/stun_message.hpp"

namespace p2pd {

namespace {

// What a server's handlers share. Written before any pipe opens, read only
// afterwards, by handlers that all run on the one I/O thread.
struct server_context {
  net::stun_server_addrs addrs;
  std::string software;
  std::array<pipe_actor, 4> udp; // index: alt_ip * 2 + alt_port
};

size_t index_of(net::stun_socket_id s) {
  return (s.alt_ip ? 2 : 0) + (s.alt_port ? 1 : 0);
}

msg_handler udp_handler(std::shared_ptr<const server_context> ctx, net::stun_socket_id at) {
  return [ctx, at](pipe_io& io, std::string_view data, const endpoint& from) {
    auto reply = net::stun_respond(reinterpret_cast<const uint8_t*>(data.data()), data.size(),
                                   from, at, ctx->addrs, ctx->software);
    if (!reply || !*reply)
      return; // not a request, or garbage: nothing to answer
    auto& r = **reply;
    if (r.via == at) {
      io.send(std::string_view{reinterpret_cast<const char*>(r.bytes.data()), r.bytes.size()},
              r.to);
      return;
    }
    // A change request: the sibling socket on the other IP and/or port answers.
    caf::anon_send(ctx->udp[index_of(r.via)], send_atom::value,
                   bytes(r.bytes.begin(), r.bytes.end()), r.to);
  };
}

// STUN over TCP comes as a stream: the pipe cuts it into messages by their
// length field, resets a client that sends something else, and times out one
// that sends half a message (pipe_spec::framer, net_conf::msg_deadline).
net::result<size_t> stun_framer(std::string_view buffered) {
  auto data = reinterpret_cast<const uint8_t*>(buffered.data());
  if ((data[0] & 0xC0) != 0)
    return net::error{errc::malformed, "not STUN: the first two bits of a STUN message are 0"};
  auto need = net::stun_message_size(data, buffered.size());
  if (!need)
    return size_t{0}; // not a whole header yet
  if (*need > net::stun_max_message)
    return net::error{errc::malformed, "a STUN message of " + std::to_string(*need)
                                         + " bytes is above the largest accepted ("
                                         + std::to_string(net::stun_max_message) + ")"};
  return *need;
}

msg_handler tcp_handler(std::shared_ptr<const server_context> ctx, net::stun_socket_id at) {
  return [ctx, at](pipe_io& io, std::string_view msg, const endpoint& from) {
    auto reply = net::stun_respond(reinterpret_cast<const uint8_t*>(msg.data()), msg.size(), from,
                                   at, ctx->addrs, ctx->software, true);
    if (reply && *reply)
      io.reply(std::string_view{reinterpret_cast<const char*>((*reply)->bytes.data()),
                                (*reply)->bytes.size()});
  };
}

// The spec of the TCP pipe serving socket `at`: every TCP pipe of a server
// is built here, so what all of them need (framing, limits) is set once.
pipe_spec tcp_pipe_spec(const std::shared_ptr<const server_context>& ctx,
                        net::stun_socket_id at, const net_conf& conf) {
  auto s = server_spec(tcp, ctx->addrs.address_of(at), tcp_handler(ctx, at));
  s.conf = conf;
  s.framer = stun_framer;
  return s;
}

} // namespace

caf::expected<stun_server_plan> plan_stun_server(caf::actor_system& sys,
                                                 const stun_server_spec& spec) {
  auto& a = spec.addrs;
  if (!spec.udp && !spec.tcp)
    return make_error(errc::invalid_argument, "a STUN server needs UDP, TCP or both");
  if (a.alt_ip && a.alt_ip->fam() != a.primary_ip.fam())
    return make_error(errc::invalid_argument, "the alternate IP must be of the primary's family");
  // The handlers know every address before any socket serves: OTHER-ADDRESS
  // names them, and a change request is sent from a sibling.
  if (a.primary_port == 0 || (a.alt_port && *a.alt_port == 0))
    return make_error(errc::invalid_argument,
                      "a STUN server's plan needs its ports (0: pick free ones first, as "
                      "start_stun_server does)");
  const auto& stack = stack_or_os(spec.stack);
  auto ctx = std::make_shared<server_context>();
  ctx->software = spec.software;
  ctx->addrs = a;
  stun_server_plan out;
  out.addrs = ctx->addrs;
  for (bool alt_ip : {false, true})
    for (bool alt_port : {false, true}) {
      net::stun_socket_id id{alt_ip, alt_port};
      if (!ctx->addrs.has(id))
        continue;
      auto local = ctx->addrs.address_of(id);
      if (spec.udp) {
        auto s = server_spec(udp, local, udp_handler(ctx, id));
        auto h = stack.spawn_pipe(sys, s);
        ctx->udp[index_of(id)] = h;
        out.pipes.emplace_back(h, std::move(s));
      }
      // TCP on every address and port too, although change requests are
      // UDP only: OTHER-ADDRESS names the same transport's alternate, so
      // a TCP client sent there must find a server (RFC 5780 section 7.3).
      if (spec.tcp) {
        auto s = tcp_pipe_spec(ctx, id, spec.tcp_conf);
        out.pipes.emplace_back(stack.spawn_pipe(sys, s), std::move(s));
      }
    }
  return out;
}

} // namespace p2pd
