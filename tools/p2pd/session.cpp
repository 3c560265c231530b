#include "session.hpp"

#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <deque>
#include <iostream>
#include <memory>
#include <optional>
#include <string_view>
#include <utility>

#include "cli.hpp"
#include "control.hpp"
#include "stdin_reader.hpp"

namespace p2pd::cli {

namespace {

using session_clock = std::chrono::steady_clock;

std::string_view view_of(const bytes& b) {
  return {reinterpret_cast<const char*>(b.data()), b.size()};
}

// One session's flow control: a ping after every `ack_every` bytes; stdin
// is read on while fewer than `window` bytes wait for their pong.
struct session_flow {
  size_t chunk;
  size_t ack_every;
  size_t window;
};

session_flow flow_for(bool datagram) {
  // Datagrams: one message per datagram, below a path MTU of 1280 with
  // room for the seal; streams: TLS records of 16 KiB.
  if (datagram)
    return {1200, 24 * 1024, 96 * 1024};
  return {16 * 1024, 64 * 1024, 256 * 1024};
}

} // namespace

bool write_stdout(const bytes& data) {
  size_t done = 0;
  while (done < data.size()) {
    auto n = ::write(STDOUT_FILENO, data.data() + done, data.size() - done);
    if (n < 0 && errno == EINTR)
      continue;
    if (n <= 0)
      return false;
    done += static_cast<size_t>(n);
  }
  return true;
}

bool answer_ping(node_handle& n, const node_msg& m) {
  auto c = decode_control(view_of(m.data));
  if (!c || c->kind != control_kind::ping)
    return false;
  if (auto err = n.send(m.peer, encode({control_kind::pong, c->seq})))
    std::cerr << "p2pd: answer a ping of " << m.peer << ": " << render(err) << '\n';
  return true;
}

int run_session(running_node& rn, const session_spec& s) {
  auto& n = *rn.node;
  auto flow = flow_for(s.datagram);
  std::unique_ptr<stdin_reader> reader;
  if (s.read_stdin)
    reader = std::make_unique<stdin_reader>(caf::actor{rn.self.ptr()}, flow.chunk, 4);

  uint64_t sent = 0, acked = 0, last_mark = 0, next_seq = 1;
  std::deque<std::pair<uint64_t, uint64_t>> marks; // ping seq -> bytes sent before it
  bool credit_owed = false;
  // Since when the window is full (stdin not read), while it is.
  std::optional<session_clock::time_point> stalled;
  uint64_t final_seq = 0; // the ping after stdin ended
  session_clock::time_point final_deadline{};
  session_clock::time_point final_sent{};
  uint64_t from_others = 0;
  bool input_failed = false; // stdin's read failed: the session ends as at EOF, then exit 1
  int rc = -1;
  caf::error send_err;

  auto send = [&](std::string_view data) {
    if (send_err)
      return;
    send_err = n.send(s.peer, data);
  };
  auto ping = [&] {
    marks.emplace_back(next_seq, sent);
    send(encode({control_kind::ping, next_seq}));
    last_mark = sent;
    return next_seq++;
  };
  auto maybe_credit = [&] {
    if (credit_owed && reader && sent - acked < flow.window) {
      credit_owed = false;
      stalled.reset();
      reader->consumed();
    } else if (credit_owed && !stalled) {
      stalled = session_clock::now();
    }
  };
  // The peer ended the session (a bye, or it closed): after our input
  // ended, bytes it never confirmed may be lost, which is no success.
  auto peer_ended = [&] {
    if (final_seq != 0 && acked < sent) {
      std::cerr << "p2pd: " << s.peer << " ended the session before confirming our last "
                << (sent - acked) << " bytes\n";
      return exit_timeout;
    }
    return input_failed ? exit_failure : exit_ok;
  };
  auto finish = [&](int code, bool say_bye) {
    if (say_bye)
      send(encode({control_kind::bye, 0}));
    if (auto err = n.disconnect(s.peer); err && code == exit_ok)
      std::cerr << "p2pd: close the connection to " << s.peer << ": " << render(err) << '\n';
    rc = code == exit_ok && input_failed ? exit_failure : code;
  };

  while (rc < 0) {
    rn.self->receive(
      [&](stdin_atom, std::string& data, bool eof, std::string& error) {
        if (!error.empty()) {
          std::cerr << "p2pd: " << error << '\n';
          input_failed = true;
        }
        if (!eof) {
          if (looks_like_control(data)) { // never taken for a control message
            send(data.substr(0, 1));
            send(std::string_view{data}.substr(1));
          } else {
            send(data);
          }
          sent += data.size();
          if (sent - last_mark >= flow.ack_every)
            ping();
          credit_owed = true;
          maybe_credit();
          return;
        }
        // Input ended: a last ping; its pong says the peer has every byte.
        final_seq = ping();
        final_sent = session_clock::now();
        final_deadline = final_sent + s.close_wait;
      },
      [&](node_msg& m) {
        if (answer_ping(n, m))
          return;
        if (m.peer != s.peer) {
          if (from_others++ == 0)
            std::cerr << "p2pd: dropping messages of " << m.peer
                      << ": this session is with " << s.peer << '\n';
          return;
        }
        if (auto c = decode_control(view_of(m.data))) {
          if (c->kind == control_kind::bye)
            return finish(peer_ended(), false);
          // A pong: every byte sent before its ping has arrived.
          while (!marks.empty() && marks.front().first <= c->seq) {
            acked = std::max(acked, marks.front().second);
            marks.pop_front();
          }
          if (stalled)
            stalled = session_clock::now(); // it answers: wait on
          if (final_seq != 0 && c->seq >= final_seq)
            return finish(exit_ok, true);
          maybe_credit();
          return;
        }
        if (looks_like_control(view_of(m.data))) {
          std::cerr << "p2pd: dropped a malformed control message of " << m.data.size()
                    << " bytes\n";
          return;
        }
        if (!write_stdout(m.data)) {
          progress("stdout is closed: ending the session");
          finish(exit_ok, true);
        }
      },
      [&](node_peer_end& e) {
        if (e.peer != s.peer)
          return;
        if (e.reason) {
          std::cerr << "p2pd: the connection to " << s.peer << " broke: " << render(e.reason)
                    << '\n';
          rc = exit_failure;
        } else {
          rc = peer_ended();
        }
      },
      [&](stop_signal_atom, int) {
        progress("stopped by a signal: closing the connection");
        finish(exit_ok, true);
      },
      [](caf::message&) {}, // peer_up, progress, refusals: nothing to do here
      caf::after(std::chrono::milliseconds(200)) >> [&] {
        auto now = session_clock::now();
        if (final_seq != 0 && now > final_deadline) {
          std::cerr << "p2pd: " << s.peer << " did not confirm our last bytes within "
                    << s.close_wait.count() << " s\n";
          return finish(exit_timeout, true);
        }
        if (!s.datagram) {
          if (stalled && now - *stalled > s.close_wait) {
            std::cerr << "p2pd: " << s.peer << " confirmed none of our last "
                      << (sent - acked) << " bytes within " << s.close_wait.count()
                      << " s (is it a p2pd program? they answer pings)\n";
            finish(exit_timeout, true);
          }
          return;
        }
        // Datagrams get lost, pings too: ask again for the last one, and
        // after a second without any pong stop waiting for the lost ones.
        if (final_seq != 0 && now - final_sent > std::chrono::milliseconds(500)) {
          send(encode({control_kind::ping, final_seq}));
          final_sent = now;
        }
        if (stalled && now - *stalled > std::chrono::seconds(1)) {
          acked = sent;
          marks.clear();
          maybe_credit();
        }
      });
    if (send_err && rc < 0) {
      std::cerr << "p2pd: send to " << s.peer << ": " << render(send_err) << '\n';
      rc = exit_failure;
    }
  }
  if (from_others > 0)
    std::cerr << "p2pd: dropped " << from_others << " messages of other peers\n";
  return rc;
}

} // namespace p2pd::cli
