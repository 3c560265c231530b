#include "p2pd/actors/pipe/pipe_spec.hpp"

#include <algorithm>

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

bool add_subscriber(std::vector<subscriber>& subs, const caf::actor& sub, uint8_t evs) {
  auto i = std::find_if(subs.begin(), subs.end(), [&](const subscriber& s) { return s.hdl == sub; });
  if (i != subs.end()) {
    i->events = evs;
    return false;
  }
  subs.push_back(subscriber{sub, evs});
  return true;
}

void remove_subscriber(std::vector<subscriber>& subs, const caf::actor& sub) {
  subs.erase(std::remove_if(subs.begin(), subs.end(),
                            [&](const subscriber& s) { return s.hdl == sub; }),
             subs.end());
}

} // namespace p2pd
