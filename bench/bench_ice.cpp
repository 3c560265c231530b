// bench_ice: one ICE session with libnice (RFC 5245, full ICE, UDP), the
// baseline p2pd's UDP hole punching is compared with in the NAT lab
// (tests/lab/punch_matrix.sh). Two processes, one per lab host, one started
// with --role controlling and the other --role controlled:
//
//   bench_ice --role controlling --stun 203.0.113.10:3478 --send a2b --receive b2a
//   bench_ice --role controlled  --stun 203.0.113.10:3478 --send b2a --receive a2b
//
// Each gathers host and server-reflexive candidates (STUN, no TURN: what is
// compared is a direct path), writes its session description (libnice's SDP,
// base64, one line) to --send, a FIFO the other reads as its --receive: the
// exchange is out of band, no network but the lab's is involved. Then ICE
// runs its connectivity checks; once a pair is selected, both send
// application datagrams every 20 ms until each has received the other's and
// knows the other has received its own (an ack flag in the datagram).
//
// stdout gets one line (progress and libnice's complaints go to stderr):
//   ice ok=1 role=controlling ms=412 gather_ms=35 described_ms=40 connected_ms=398
//       local=srflx remote=prflx local_addr=198.51.100.13:41000
//       remote_addr=198.51.100.16:50123 reason=-
//   ice ok=0 role=controlled ms=10000 gather_ms=... reason=timeout:checks state=connecting
// ms: from the program's start to the first application datagram received
// (for a failure: to the failure). Exit: 0 success, 1 failure, 2 bad arguments.
// Every wait is bounded by --timeout.
#include <nice/agent.h>
#include <nice/interfaces.h>
#include <fcntl.h>
#include <glib-unix.h>
#include <glib.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>

namespace {

struct options {
  bool controlling = false;
  std::string role;
  std::string stun_ip;
  unsigned stun_port = 3478;
  std::string send_path;
  std::string receive_path;
  int family = 4; // 4, 6, or 0 (any)
  int timeout_s = 10;
};

struct session {
  options opt;
  GMainLoop* loop = nullptr;
  NiceAgent* agent = nullptr;
  guint stream = 0;
  gint64 t0 = 0;
  // Milliseconds since t0 at each step; -1: not yet.
  long gather_ms = -1;
  long described_ms = -1;
  long connected_ms = -1;
  long first_rx_ms = -1;
  bool peer_acked = false;
  bool remote_set = false;
  bool done = false;
  guint state = NICE_COMPONENT_STATE_DISCONNECTED;
  std::string local_type = "-";
  std::string remote_type = "-";
  std::string local_addr = "-";
  std::string remote_addr = "-";
  // The peer's description as it arrives on the FIFO.
  int receive_fd = -1;
  guint receive_watch = 0;
  std::string received;
  // Ours, waiting for the peer to open its end of the FIFO.
  std::string description;
  guint send_timer = 0;
  guint data_timer = 0;
  int exit_code = 1;
};

long elapsed_ms(const session& s) {
  return static_cast<long>((g_get_monotonic_time() - s.t0) / 1000);
}

const char* candidate_type(NiceCandidateType t) {
  switch (t) {
    case NICE_CANDIDATE_TYPE_HOST:
      return "host";
    case NICE_CANDIDATE_TYPE_SERVER_REFLEXIVE:
      return "srflx";
    case NICE_CANDIDATE_TYPE_PEER_REFLEXIVE:
      return "prflx";
    case NICE_CANDIDATE_TYPE_RELAYED:
      return "relay";
  }
  return "?";
}

std::string address_text(const NiceAddress& a) {
  char ip[NICE_ADDRESS_STRING_LEN] = {};
  nice_address_to_string(&a, ip);
  std::string host = ip;
  if (nice_address_ip_version(&a) == 6)
    host = "[" + host + "]";
  return host + ":" + std::to_string(nice_address_get_port(&a));
}

// The one result line; ends the loop. `reason` is "-" for a success.
void finish(session& s, bool ok, const std::string& reason) {
  if (s.done)
    return;
  s.done = true;
  s.exit_code = ok ? 0 : 1;
  long ms = ok ? s.first_rx_ms : elapsed_ms(s);
  std::printf("ice ok=%d role=%s ms=%ld gather_ms=%ld described_ms=%ld connected_ms=%ld "
              "local=%s remote=%s local_addr=%s remote_addr=%s reason=%s state=%s\n",
              ok ? 1 : 0, s.opt.role.c_str(), ms, s.gather_ms, s.described_ms, s.connected_ms,
              s.local_type.c_str(), s.remote_type.c_str(), s.local_addr.c_str(),
              s.remote_addr.c_str(), reason.c_str(), nice_component_state_to_string(
                static_cast<NiceComponentState>(s.state)));
  std::fflush(stdout);
  g_main_loop_quit(s.loop);
}

void send_datagram(session& s) {
  std::string text = "bench_ice " + s.opt.role + " ack=" + (s.first_rx_ms >= 0 ? "1" : "0");
  nice_agent_send(s.agent, s.stream, 1, static_cast<guint>(text.size()), text.c_str());
}

gboolean on_data_timer(gpointer data) {
  send_datagram(*static_cast<session*>(data));
  return G_SOURCE_CONTINUE;
}

// Both have the other's datagram: a few more with ack=1 so that the peer
// surely learns it too, then the result.
gboolean on_linger_over(gpointer data) {
  finish(*static_cast<session*>(data), true, "-");
  return G_SOURCE_REMOVE;
}

void on_recv(NiceAgent*, guint, guint, guint len, gchar* buf, gpointer data) {
  auto& s = *static_cast<session*>(data);
  std::string text{buf, len};
  if (text.rfind("bench_ice ", 0) != 0 || s.done)
    return;
  bool was_complete = s.first_rx_ms >= 0 && s.peer_acked;
  if (s.first_rx_ms < 0) {
    s.first_rx_ms = elapsed_ms(s);
    send_datagram(s); // the ack at once
  }
  if (text.find("ack=1") != std::string::npos)
    s.peer_acked = true;
  if (!was_complete && s.peer_acked)
    g_timeout_add(200, on_linger_over, &s);
}

void record_pair(session& s, NiceCandidate* local, NiceCandidate* remote) {
  if (!local || !remote)
    return;
  s.local_type = candidate_type(local->type);
  s.remote_type = candidate_type(remote->type);
  s.local_addr = address_text(local->addr);
  s.remote_addr = address_text(remote->addr);
}

void on_selected_pair(NiceAgent*, guint, guint, NiceCandidate* local, NiceCandidate* remote,
                      gpointer data) {
  record_pair(*static_cast<session*>(data), local, remote);
}

void on_state(NiceAgent* agent, guint stream, guint component, guint state, gpointer data) {
  auto& s = *static_cast<session*>(data);
  s.state = state;
  if (state == NICE_COMPONENT_STATE_FAILED) {
    finish(s, false, "ice_failed");
    return;
  }
  if ((state == NICE_COMPONENT_STATE_CONNECTED || state == NICE_COMPONENT_STATE_READY)
      && s.connected_ms < 0) {
    s.connected_ms = elapsed_ms(s);
    NiceCandidate* local = nullptr;
    NiceCandidate* remote = nullptr;
    if (nice_agent_get_selected_pair(agent, stream, component, &local, &remote))
      record_pair(s, local, remote);
    send_datagram(s);
    s.data_timer = g_timeout_add(20, on_data_timer, &s);
  }
}

// Our description into the FIFO once the peer has opened it for reading
// (O_NONBLOCK: ENXIO until then); retried every 5 ms within the deadline.
gboolean try_send_description(gpointer data) {
  auto& s = *static_cast<session*>(data);
  int fd = ::open(s.opt.send_path.c_str(), O_WRONLY | O_NONBLOCK | O_CLOEXEC);
  if (fd < 0) {
    if (errno == ENXIO)
      return G_SOURCE_CONTINUE;
    finish(s, false, std::string{"send:"} + std::strerror(errno));
    s.send_timer = 0;
    return G_SOURCE_REMOVE;
  }
  // One line of a few hundred bytes: below PIPE_BUF, written at once.
  std::string line = "sdp " + s.description + "\n";
  auto n = ::write(fd, line.data(), line.size());
  ::close(fd);
  s.send_timer = 0;
  if (n != static_cast<ssize_t>(line.size()))
    finish(s, false, "send:short_write");
  else
    s.described_ms = elapsed_ms(s);
  return G_SOURCE_REMOVE;
}

void on_gathering_done(NiceAgent* agent, guint stream, gpointer data) {
  auto& s = *static_cast<session*>(data);
  s.gather_ms = elapsed_ms(s);
  gchar* sdp = nice_agent_generate_local_sdp(agent);
  gchar* b64 = g_base64_encode(reinterpret_cast<const guchar*>(sdp), std::strlen(sdp));
  s.description = b64;
  g_free(b64);
  g_free(sdp);
  (void)stream;
  if (try_send_description(&s) == G_SOURCE_CONTINUE)
    s.send_timer = g_timeout_add(5, try_send_description, &s);
}

void apply_description(session& s, const std::string& line) {
  if (line.rfind("sdp ", 0) != 0) {
    finish(s, false, "peer_description:not_sdp");
    return;
  }
  gsize len = 0;
  guchar* raw = g_base64_decode(line.c_str() + 4, &len);
  std::string sdp{reinterpret_cast<char*>(raw), len};
  g_free(raw);
  if (nice_agent_parse_remote_sdp(s.agent, sdp.c_str()) < 0) {
    finish(s, false, "peer_description:unparsable");
    return;
  }
  s.remote_set = true;
}

gboolean on_peer_readable(gint fd, GIOCondition, gpointer data) {
  auto& s = *static_cast<session*>(data);
  char buf[4096];
  for (;;) {
    auto n = ::read(fd, buf, sizeof buf);
    if (n > 0) {
      s.received.append(buf, static_cast<size_t>(n));
      if (s.received.size() > 65536) {
        finish(s, false, "peer_description:too_long");
        break;
      }
      continue;
    }
    if (n < 0 && errno == EAGAIN)
      return G_SOURCE_CONTINUE; // more to come
    break;                      // EOF or an error: the writer is done
  }
  s.receive_watch = 0;
  auto nl = s.received.find('\n');
  if (!s.done) {
    if (nl == std::string::npos)
      finish(s, false, "peer_description:none");
    else
      apply_description(s, s.received.substr(0, nl));
  }
  return G_SOURCE_REMOVE;
}

gboolean on_deadline(gpointer data) {
  auto& s = *static_cast<session*>(data);
  std::string stage = s.gather_ms < 0      ? "gathering"
                      : !s.remote_set      ? "no_peer_description"
                      : s.connected_ms < 0 ? "checks"
                      : s.first_rx_ms < 0  ? "no_data"
                                           : "no_ack";
  finish(s, false, "timeout:" + stage);
  return G_SOURCE_REMOVE;
}

bool parse_stun(const std::string& text, options& o) {
  auto colon = text.rfind(':');
  if (colon == std::string::npos || text.find(':') != colon)
    return false; // IPv4 address:port (the lab's STUN server is IPv4)
  o.stun_ip = text.substr(0, colon);
  char* end = nullptr;
  auto port = std::strtoul(text.c_str() + colon + 1, &end, 10);
  if (*end != '\0' || port == 0 || port > 65535)
    return false;
  o.stun_port = static_cast<unsigned>(port);
  NiceAddress probe;
  return nice_address_set_from_string(&probe, o.stun_ip.c_str());
}

int usage(const char* why) {
  std::fprintf(stderr,
               "bench_ice: %s\n"
               "usage: bench_ice --role controlling|controlled --stun IPV4:PORT --send FIFO "
               "--receive FIFO [--family 4|6|any] [--timeout SEC (1..120, default 10)]\n",
               why);
  return 2;
}

// Only the addresses of `family` become host candidates (libnice takes all
// otherwise): the lab compares IPv4 NAT traversal, and its IPv6 has no NAT.
bool add_local_addresses(session& s) {
  GList* ips = nice_interfaces_get_local_ips(FALSE);
  int added = 0;
  for (GList* i = ips; i; i = i->next) {
    auto* text = static_cast<gchar*>(i->data);
    NiceAddress a;
    if (nice_address_set_from_string(&a, text)
        && (s.opt.family == 0 || static_cast<int>(nice_address_ip_version(&a)) == s.opt.family)) {
      nice_agent_add_local_address(s.agent, &a);
      ++added;
    }
    g_free(text);
  }
  g_list_free(ips);
  return added > 0;
}

} // namespace

int main(int argc, char** argv) {
  session s;
  s.t0 = g_get_monotonic_time();
  auto& o = s.opt;
  for (int i = 1; i < argc; ++i) {
    std::string arg = argv[i];
    if (i + 1 >= argc)
      return usage(("option without a value: " + arg).c_str());
    std::string value = argv[++i];
    if (arg == "--role") {
      if (value != "controlling" && value != "controlled")
        return usage("--role: controlling or controlled");
      o.role = value;
      o.controlling = value == "controlling";
    } else if (arg == "--stun") {
      if (!parse_stun(value, o))
        return usage("--stun: an IPv4 address and a port, e.g. 203.0.113.10:3478");
    } else if (arg == "--send") {
      o.send_path = value;
    } else if (arg == "--receive") {
      o.receive_path = value;
    } else if (arg == "--family") {
      if (value != "4" && value != "6" && value != "any")
        return usage("--family: 4, 6 or any");
      o.family = value == "any" ? 0 : std::atoi(value.c_str());
    } else if (arg == "--timeout") {
      o.timeout_s = std::atoi(value.c_str());
      if (o.timeout_s < 1 || o.timeout_s > 120)
        return usage("--timeout: 1..120 seconds");
    } else {
      return usage(("unknown option " + arg).c_str());
    }
  }
  if (o.role.empty() || o.stun_ip.empty() || o.send_path.empty() || o.receive_path.empty())
    return usage("--role, --stun, --send and --receive are needed");
  for (auto* path : {&o.send_path, &o.receive_path}) {
    struct stat st{};
    if (::stat(path->c_str(), &st) != 0 && ::mkfifo(path->c_str(), 0600) != 0 && errno != EEXIST)
      return usage(("cannot make the FIFO " + *path + ": " + std::strerror(errno)).c_str());
    if (::stat(path->c_str(), &st) == 0 && !S_ISFIFO(st.st_mode))
      return usage((*path + " is not a FIFO").c_str());
  }
  // Opened before anything else, so that the peer's write never waits on us.
  s.receive_fd = ::open(o.receive_path.c_str(), O_RDONLY | O_NONBLOCK | O_CLOEXEC);
  if (s.receive_fd < 0)
    return usage(("cannot open " + o.receive_path + ": " + std::strerror(errno)).c_str());

  s.loop = g_main_loop_new(nullptr, FALSE);
  s.agent = nice_agent_new(g_main_loop_get_context(s.loop), NICE_COMPATIBILITY_RFC5245);
  g_object_set(s.agent, "stun-server", o.stun_ip.c_str(), "stun-server-port", o.stun_port,
               "controlling-mode", o.controlling ? TRUE : FALSE, "ice-udp", TRUE, "ice-tcp",
               FALSE, nullptr);
  if (g_object_class_find_property(G_OBJECT_GET_CLASS(s.agent), "upnp"))
    g_object_set(s.agent, "upnp", FALSE, nullptr); // the lab has no IGD; do not wait for one
  g_signal_connect(s.agent, "candidate-gathering-done", G_CALLBACK(on_gathering_done), &s);
  g_signal_connect(s.agent, "component-state-changed", G_CALLBACK(on_state), &s);
  g_signal_connect(s.agent, "new-selected-pair-full", G_CALLBACK(on_selected_pair), &s);
  if (!add_local_addresses(s)) {
    std::fprintf(stderr, "bench_ice: no local address of the family asked for\n");
    std::printf("ice ok=0 role=%s ms=0 reason=no_local_address\n", o.role.c_str());
    return 1;
  }
  s.stream = nice_agent_add_stream(s.agent, 1);
  nice_agent_set_stream_name(s.agent, s.stream, "application");
  nice_agent_attach_recv(s.agent, s.stream, 1, g_main_loop_get_context(s.loop), on_recv, &s);
  s.receive_watch =
    g_unix_fd_add(s.receive_fd, static_cast<GIOCondition>(G_IO_IN | G_IO_HUP | G_IO_ERR),
                  on_peer_readable, &s);
  g_timeout_add(static_cast<guint>(o.timeout_s) * 1000u, on_deadline, &s);
  if (!nice_agent_gather_candidates(s.agent, s.stream))
    finish(s, false, "gather_failed");
  else
    g_main_loop_run(s.loop);

  if (s.data_timer)
    g_source_remove(s.data_timer);
  if (s.send_timer)
    g_source_remove(s.send_timer);
  if (s.receive_watch)
    g_source_remove(s.receive_watch);
  ::close(s.receive_fd);
  nice_agent_remove_stream(s.agent, s.stream);
  g_object_unref(s.agent);
  g_main_loop_unref(s.loop);
  return s.exit_code;
}
