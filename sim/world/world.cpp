#include "p2pd/sim/world/world.hpp"

#include "caf/atom.hpp"
#include "caf/event_based_actor.hpp"
#include "caf/exit_reason.hpp"
#include "caf/send.hpp"

namespace p2pd::sim {

namespace {

using world_wake_atom = caf::atom_constant<caf::atom("p2swake")>;
using world_arm_atom = caf::atom_constant<caf::atom("p2sarm")>;
using world_post_atom = caf::atom_constant<caf::atom("p2spost")>;

// Wakes the world at the times it asks for, on the actor clock: virtual
// under the test coordinator, real otherwise.
caf::behavior world_driver(caf::event_based_actor* self, std::weak_ptr<world> w) {
  return {
    [=](world_arm_atom, caf::timespan delay) {
      if (delay <= caf::timespan{0})
        self->send(self, world_wake_atom::value);
      else
        self->delayed_send(self, delay, world_wake_atom::value);
    },
    [=](world_wake_atom) {
      if (auto strong = w.lock())
        strong->on_wake();
    },
    [=](world_post_atom) { // with() runs what was posted
      if (auto strong = w.lock())
        strong->with([](world&) { return 0; });
    },
  };
}

} // namespace

std::shared_ptr<world> world::make(caf::actor_system& sys, fabric::config cfg) {
  std::shared_ptr<world> w{new world(sys, cfg)};
  w->driver_ = sys.spawn(world_driver, std::weak_ptr<world>{w});
  return w;
}

world::world(caf::actor_system& sys, fabric::config cfg)
  : sys_(sys), seed_(cfg.seed), start_(sys.clock().now()), fabric_(queue_, cfg) {}

world::~world() {
  if (driver_)
    caf::anon_send_exit(driver_, caf::exit_reason::user_shutdown);
}

void world::clear() {
  std::map<host_id, std::unique_ptr<host_udp>> udp;
  std::map<host_id, std::unique_ptr<host_tcp>> tcp;
  {
    std::lock_guard<std::mutex> guard{mtx_};
    udp.swap(udp_);
    tcp.swap(tcp_);
    queue_.clear();
  }
  std::vector<std::function<void(world&)>> posted;
  {
    std::lock_guard<std::mutex> guard{posted_mtx_};
    posted.swap(posted_);
    has_posted_ = false;
  }
  // Destroyed here, outside the lock: releasing a handler may end a pipe,
  // whose transport then posts to the world.
}

host_udp& world::udp(host_id h) {
  auto& slot = udp_[h];
  if (!slot)
    slot = std::make_unique<host_udp>(fabric_, h);
  return *slot;
}

host_tcp& world::tcp(host_id h) {
  auto& slot = tcp_[h];
  if (!slot)
    slot = std::make_unique<host_tcp>(fabric_, h);
  return *slot;
}

sim_time world::clock_now() const {
  return std::chrono::duration_cast<sim_time>(sys_.clock().now() - start_);
}

void world::catch_up() {
  queue_.run_until(clock_now());
}

void world::wake_at_next() {
  auto next = queue_.next_time();
  if (!next || (armed_ && *armed_ <= *next) || !driver_)
    return;
  armed_ = *next;
  caf::anon_send(driver_, world_arm_atom::value,
                 std::chrono::duration_cast<caf::timespan>(*next - clock_now()));
}

void world::on_wake() {
  std::unique_lock<std::mutex> guard{mtx_};
  armed_.reset();
  catch_up();
  run_posted();
  wake_at_next();
}

void world::post(std::function<void(world&)> f) {
  {
    std::lock_guard<std::mutex> guard{posted_mtx_};
    posted_.push_back(std::move(f));
    has_posted_.store(true, std::memory_order_release);
  }
  if (driver_)
    caf::anon_send(driver_, world_post_atom::value);
}

void world::run_posted() {
  // Calls posted while these run (a handler's pipe dying) wait for the next
  // round: the driver has a message for them.
  if (!has_posted_.load(std::memory_order_acquire))
    return;
  std::vector<std::function<void(world&)>> due;
  {
    std::lock_guard<std::mutex> guard{posted_mtx_};
    due.swap(posted_);
    has_posted_.store(false, std::memory_order_relaxed);
  }
  for (auto& f : due)
    f(*this);
}

} // namespace p2pd::sim
