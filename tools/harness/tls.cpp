#include "tls.hpp"

#include <unistd.h>

#include "caf/io/middleman.hpp"
#include "caf/openssl/manager.hpp"

#include "p2pd/messages/errors.hpp"

namespace p2pd::harness {

caf::error use_tls(caf::actor_system_config& cfg, const std::string& dir) {
  for (auto name : {"cert.pem", "key.pem", "ca.pem"}) {
    auto path = dir + "/" + name;
    if (::access(path.c_str(), R_OK) != 0)
      return make_error(errc::invalid_argument, "tls: cannot read '" + path + "'");
  }
  cfg.set("openssl.certificate", dir + "/cert.pem");
  cfg.set("openssl.key", dir + "/key.pem");
  cfg.set("openssl.cafile", dir + "/ca.pem");
  cfg.load<caf::openssl::manager>();
  return {};
}

caf::io::middleman_actor connector_of(caf::actor_system& sys) {
  if (sys.has_openssl_manager())
    return sys.openssl_manager().actor_handle();
  return sys.middleman().actor_handle();
}

} // namespace p2pd::harness
