#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "caf/actor_addr.hpp"
#include "caf/actor_clock.hpp"
#include "caf/event_based_actor.hpp"

#include "p2pd/actors/punch/tcp_punch.hpp"

namespace p2pd {

/// The state of a tcp_punch, behind a shared pointer: the answers to its
/// pipes' open requests hold it weakly, so a punch destroyed meanwhile is
/// not reached, and a callback that destroys the punch does not pull the
/// state from under the call that made it.
class tcp_punch::core : public std::enable_shared_from_this<core> {
public:
  enum class phase : uint8_t {
    idle,    ///< not started
    running, ///< rounds every interval until the window ends
    ending,  ///< the window ended: waiting for answers, or for keep()
    done,    ///< kept, failed or cancelled: nothing open but what was kept
  };

  /// A connect of ours: a client pipe toward one remote.
  struct attempt {
    pipe_actor pipe;
    endpoint remote;
    bool up = false;
    tcp_punch_conn conn; ///< once up
  };

  core(caf::event_based_actor* self, uint64_t id, tcp_punch_spec spec, tcp_punch_callbacks cbs);

  caf::error start();
  void tick(const tcp_punch_tick& t);
  bool up(const pipe_up& x);
  bool end(const pipe_end& x);
  caf::error keep(const pipe_actor& pipe, const endpoint& remote);
  void cancel();
  bool owns(const caf::actor_addr& a) const;

  caf::event_based_actor* self;
  uint64_t id;
  tcp_punch_spec spec;
  tcp_punch_callbacks cbs;
  tcp_punch_stats stats;
  phase ph = phase::idle;
  endpoint local;
  caf::actor_clock::time_point first;
  caf::actor_clock::time_point deadline;

private:
  // The schedule
  void arm(caf::actor_clock::time_point t);
  void begin();
  void round(caf::actor_clock::time_point now);
  void window_over();
  void check_over();
  void fail(caf::error err);

  // Pipes
  pipe_spec base_spec() const;
  void start_listener();
  void listener_opened(const pipe_actor& l, const pipe_info& info);
  void listener_failed(const pipe_actor& l, const caf::error& err);
  void listener_gone(const caf::error& reason);
  void start_attempt(const endpoint& remote, caf::actor_clock::time_point now);
  void client_opened(const pipe_actor& pipe, const pipe_info& info);
  void client_failed(const pipe_actor& pipe, const caf::error& err);
  void lose(const tcp_punch_conn& conn, const caf::error& reason);
  void close_pipe(const pipe_actor& pipe);
  void close_all();

  // Book-keeping
  std::vector<attempt>::iterator find_client(const caf::actor_addr& a);
  bool any_up() const;
  void retire(const caf::actor_addr& a);
  bool retired(const caf::actor_addr& a) const;
  /// Counts a failed connect or handshake and keeps its reason.
  void count(const caf::error& err);
  void note(const caf::error& err);
  caf::error failure() const;

  pipe_actor listener_;
  bool listener_open_ = false;
  bool begun_ = false;
  uint64_t seq_ = 0;
  std::vector<attempt> clients_;
  std::vector<tcp_punch_conn> accepted_; ///< up on the listener, not kept
  /// Pipes the punch closed or that ended: their late events are absorbed.
  std::vector<caf::actor_addr> retired_;
  /// keep() of an accepted connection: the listener is the owner's, but the
  /// ends of the other connections it closes are still the punch's.
  pipe_actor kept_listener_;
  endpoint kept_remote_;
  std::vector<std::string> reasons_; ///< distinct failure texts, the first few
};

} // namespace p2pd
