#include "turn_tcp_plain.hpp"

#include <fcntl.h>
#include <poll.h>
#include <sys/socket.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <exception>
#include <optional>

#include "p2pd/net/turn/channel_data.hpp"
#include "p2pd/net/turn/turn_tcp.hpp"

#include "sys_util.hpp"

namespace p2pd::bench {

namespace {

using std::chrono::milliseconds;

// The wait for the peer's connection once the allocation is permitted.
constexpr int attempt_limit_ms = 10000;

bool send_all(int fd, const uint8_t* data, size_t size) {
  size_t done = 0;
  while (done < size) {
    auto n = ::send(fd, data + done, size - done, MSG_NOSIGNAL);
    if (n < 0 && errno == EINTR)
      continue;
    if (n < 0 && would_block()) {
      pollfd p{fd, POLLOUT, 0};
      ::poll(&p, 1, 50);
      continue;
    }
    if (n < 0)
      return false;
    done += static_cast<size_t>(n);
  }
  return true;
}

} // namespace

plain_tcp_turn_echo::plain_tcp_turn_echo(const turn_account& acct)
  : session_([&] {
      auto cfg = plain_turn_config(acct);
      cfg.stream = true;
      cfg.allocate.relay_transport = net::protocol::tcp;
      cfg.stream_timeout = milliseconds(2000);
      return cfg;
    }()) {
  server_ = acct.server;
  control_ = connect_loopback(SOCK_STREAM, acct.server.port);
}

std::unique_ptr<plain_tcp_turn_echo> plain_tcp_turn_echo::start(const turn_account& acct,
                                                                const net::ip_address& peer_ip,
                                                                std::string& why) {
  std::unique_ptr<plain_tcp_turn_echo> e;
  try {
    e.reset(new plain_tcp_turn_echo(acct));
  } catch (const std::exception& ex) {
    why = std::string{"control connection: "} + ex.what();
    return nullptr;
  }
  auto& s = e->session_;
  auto errors = [&] {
    std::string out;
    for (auto& ev : s.take_events())
      if (ev.err)
        out += ": " + net::to_string(ev.err);
    return out;
  };
  s.start(net::turn_clock::now());
  if (!e->pump([&] { return s.state() == net::turn_state::allocated; }, 5000)) {
    why = "allocate: " + std::string{net::to_string(s.state())} + errors();
    return nullptr;
  }
  e->relayed_ = s.allocation()->relayed;
  s.take_events(); // allocated
  if (auto err = s.permit(net::endpoint{peer_ip, 0}, net::turn_clock::now())) {
    why = "permit: " + net::to_string(err);
    return nullptr;
  }
  if (!e->pump([&] { return !s.permit_pending(peer_ip); }, 5000)) {
    why = "no answer to CreatePermission within 5 s";
    return nullptr;
  }
  for (auto& ev : s.take_events())
    if (ev.what == net::turn_event::kind::permission_failed) {
      why = "permission refused: " + net::to_string(ev.err);
      return nullptr;
    }
  e->thread_ = std::thread{[p = e.get()] { p->run(); }};
  return e;
}

plain_tcp_turn_echo::~plain_tcp_turn_echo() {
  stop_ = true;
  if (thread_.joinable())
    thread_.join();
  data_ = net::unique_fd{};
  session_.close(net::turn_clock::now());
  pump([&] { return session_.state() == net::turn_state::closed; }, 1000);
}

std::string plain_tcp_turn_echo::problems() const {
  std::lock_guard<std::mutex> guard{mutex_};
  std::string out = failure_;
  note_count(out, "send errors", send_errors_);
  return out;
}

void plain_tcp_turn_echo::fail(std::string why) {
  std::lock_guard<std::mutex> guard{mutex_};
  if (failure_.empty())
    failure_ = std::move(why);
}

void plain_tcp_turn_echo::flush() {
  for (auto& f : session_.take_output())
    if (!send_all(control_.get(), f.data(), f.size()))
      ++send_errors_;
}

bool plain_tcp_turn_echo::read_control(int wait_ms) {
  pollfd p{control_.get(), POLLIN, 0};
  ::poll(&p, 1, wait_ms);
  uint8_t buf[4096];
  ssize_t n;
  while ((n = ::recv(control_.get(), buf, sizeof(buf), MSG_DONTWAIT)) > 0)
    control_in_.insert(control_in_.end(), buf, buf + n);
  if (n == 0 || (n < 0 && !would_block()))
    return false;
  // Whole frames off the front of the stream.
  size_t at = 0;
  while (at < control_in_.size()) {
    auto size = net::turn_stream_frame_size(control_in_.data() + at, control_in_.size() - at);
    if (!size)
      return false; // not TURN: the stream is lost
    if (!*size || **size > control_in_.size() - at)
      break;
    session_.receive(control_in_.data() + at, **size, net::turn_clock::now());
    at += **size;
  }
  control_in_.erase(control_in_.begin(), control_in_.begin() + static_cast<std::ptrdiff_t>(at));
  session_.tick(net::turn_clock::now());
  flush();
  return true;
}

template <class Done>
bool plain_tcp_turn_echo::pump(Done done, int limit_ms) {
  auto deadline = net::turn_clock::now() + milliseconds(limit_ms);
  flush();
  while (!done()) {
    auto now = net::turn_clock::now();
    if (now >= deadline || session_.state() == net::turn_state::failed)
      return false;
    auto wake = std::min(deadline, session_.next_tick().value_or(deadline));
    auto wait = std::chrono::duration_cast<milliseconds>(wake - now).count();
    if (!read_control(static_cast<int>(std::clamp<long long>(wait, 0, 20))))
      return false;
  }
  return true;
}

std::string plain_tcp_turn_echo::bind(uint32_t connection_id, std::vector<uint8_t>& early) {
  const auto& auth = session_.auth();
  if (!auth)
    return "ConnectionBind: no credentials to sign it with";
  try {
    data_ = connect_loopback(SOCK_STREAM, server_.port);
  } catch (const std::exception& ex) {
    return std::string{"data connection: "} + ex.what();
  }
  auto id = net::stun_txid::random();
  auto req = net::build_turn_connection_bind(id, connection_id, *auth);
  if (!req)
    return "ConnectionBind: " + net::to_string(req.error());
  if (!send_all(data_.get(), req->data(), req->size()))
    return std::string{"ConnectionBind: send: "} + std::strerror(errno);
  std::vector<uint8_t> in;
  uint8_t buf[4096];
  auto deadline = clk::now() + std::chrono::seconds(5);
  while (clk::now() < deadline && !stop_) {
    pollfd p{data_.get(), POLLIN, 0};
    ::poll(&p, 1, 20);
    auto n = ::recv(data_.get(), buf, sizeof(buf), MSG_DONTWAIT);
    if (n == 0 || (n < 0 && !would_block()))
      return "ConnectionBind: the server closed the data connection";
    if (n > 0)
      in.insert(in.end(), buf, buf + n);
    auto took = net::check_turn_connection_bind(in.data(), in.size(), id, auth->key,
                                                connection_id);
    if (!took)
      return "ConnectionBind: " + net::to_string(took.error());
    if (*took > 0) {
      early.assign(in.begin() + static_cast<std::ptrdiff_t>(*took), in.end());
      return "";
    }
    if (!read_control(0)) // the allocation stays fresh meanwhile
      return "the control connection failed";
  }
  return "no answer to ConnectionBind within 5 s";
}

void plain_tcp_turn_echo::run() {
  std::optional<uint32_t> cid;
  auto attempt = [&] {
    for (auto& ev : session_.take_events())
      if (ev.what == net::turn_event::kind::connection_attempt && !cid)
        cid = ev.connection_id;
    return cid.has_value() || stop_;
  };
  if (!pump(attempt, attempt_limit_ms) || !cid) {
    if (!stop_)
      fail("no peer connection (ConnectionAttempt) within "
           + std::to_string(attempt_limit_ms / 1000) + " s");
    return;
  }
  std::vector<uint8_t> early;
  if (auto why = bind(*cid, early); !why.empty()) {
    fail(why);
    return;
  }
  echo(early);
}

void plain_tcp_turn_echo::echo(const std::vector<uint8_t>& early) {
  if (!early.empty() && !send_all(data_.get(), early.data(), early.size()))
    ++send_errors_;
  std::vector<uint8_t> buf(65536);
  while (!stop_) {
    // The fast path: the peer's bytes go straight back.
    auto n = ::recv(data_.get(), buf.data(), buf.size(), MSG_DONTWAIT);
    if (n > 0) {
      if (!send_all(data_.get(), buf.data(), static_cast<size_t>(n)))
        ++send_errors_;
      continue;
    }
    if (n == 0 || !would_block()) {
      fail("the peer's connection ended before the load did");
      return;
    }
    // Nothing there: wait for more, at most 50 ms so that stop_ is seen;
    // meanwhile keep the allocation and the permission fresh.
    pollfd p[2] = {{data_.get(), POLLIN, 0}, {control_.get(), POLLIN, 0}};
    ::poll(p, 2, 50);
    auto due = session_.next_tick();
    if ((p[1].revents != 0 || (due && *due <= net::turn_clock::now())) && !read_control(0)) {
      fail("the control connection failed");
      return;
    }
  }
}

} // namespace p2pd::bench
