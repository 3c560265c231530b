#include "p2pd/actors/pipe/pipe_spec.hpp"

namespace p2pd {

pipe_spec server_spec(net::protocol proto, endpoint local, msg_handler on_msg) {
  pipe_spec s;
  s.proto = proto;
  s.local = local;
  s.on_msg = std::move(on_msg);
  return s;
}

pipe_spec client_spec(net::protocol proto, std::string host, uint16_t port) {
  pipe_spec s;
  s.proto = proto;
  s.host = std::move(host);
  s.port = port;
  return s;
}

} // namespace p2pd
