#include "p2pd/actors/stack/os_resolver.hpp"

#include <chrono>
#include <utility>

#include "caf/typed_event_based_actor.hpp"

#include "p2pd/actors/common/run_blocking.hpp"
#include "p2pd/actors/common/timeouts.hpp"
#include "p2pd/net/addr/resolver.hpp"

namespace p2pd {

namespace {

// Class-based: a function-based actor without arguments trips CAF 0.17's
// init_fun_factory (design notes, "CAF").
class os_resolver : public resolver_actor::base {
public:
  explicit os_resolver(caf::actor_config& cfg) : resolver_actor::base(cfg) {}

  behavior_type make_behavior() override {
    return {
      [this](resolve_atom, std::vector<std::string>& hosts,
             caf::timespan timeout) -> caf::result<resolved_hosts> {
        auto ms = std::chrono::duration_cast<std::chrono::milliseconds>(timeout);
        auto rp = make_response_promise<resolved_hosts>();
        // resolve_hosts returns within about `timeout`, so the job needs no
        // deadline of its own (and a request timeout would outlive it).
        actors::run_blocking(this, timeouts::until_answered,
                             [hosts = std::move(hosts), ms] {
                               return resolved_hosts{net::resolve_hosts(hosts, ms)};
                             })
          .then([rp](resolved_hosts& r) mutable { rp.deliver(std::move(r)); },
                [rp](caf::error& err) mutable { rp.deliver(std::move(err)); });
        return rp;
      },
    };
  }
};

} // namespace

resolver_actor spawn_os_resolver(caf::actor_system& sys) {
  return sys.spawn<os_resolver>();
}

} // namespace p2pd
