#include "turn_load.hpp"

#include <poll.h>
#include <sys/socket.h>

#include <algorithm>
#include <cstring>

namespace p2pd::bench {

namespace {

using std::chrono::milliseconds;

milliseconds ms(seconds_d s) {
  return std::chrono::duration_cast<milliseconds>(s);
}

} // namespace

void summarize_rtt(std::vector<double> us, load_result& out) {
  if (us.empty())
    return;
  std::sort(us.begin(), us.end());
  out.median_us = us[us.size() / 2];
  out.p99_us = us[std::min(us.size() - 1, us.size() * 99 / 100)];
}

udp_peer::udp_peer() : out_(65536), in_(65536) {
  fd_ = unwrap(net::open_bound_socket(net::protocol::udp, loopback(0)));
  // Room for a window of large datagrams both ways.
  int buf = 4 << 20;
  ::setsockopt(fd_.get(), SOL_SOCKET, SO_RCVBUF, &buf, sizeof(buf));
  ::setsockopt(fd_.get(), SOL_SOCKET, SO_SNDBUF, &buf, sizeof(buf));
  local_ = unwrap(net::local_endpoint(fd_.get()));
}

bool udp_peer::await_hello(const net::endpoint& from, seconds_d limit) {
  auto deadline = clk::now() + std::chrono::duration_cast<clk::duration>(limit);
  while (clk::now() < deadline) {
    pollfd p{fd_.get(), POLLIN, 0};
    ::poll(&p, 1, 20);
    sockaddr_storage ss;
    socklen_t len = sizeof(ss);
    auto n = ::recvfrom(fd_.get(), in_.data(), in_.size(), 0, reinterpret_cast<sockaddr*>(&ss),
                        &len);
    if (n < 0)
      continue;
    auto got = net::endpoint::from_sockaddr(reinterpret_cast<sockaddr*>(&ss), len);
    if (got && *got == from)
      return true;
  }
  return false;
}

load_result udp_peer::run(const net::endpoint& target, const load_sizes& sz) {
  load_result out;
  sent_ = answered_ = 0;
  // Connected: only the echo's answers come in, and send() needs no address.
  sockaddr_storage ss;
  auto len = target.to_sockaddr(ss);
  if (::connect(fd_.get(), reinterpret_cast<sockaddr*>(&ss), len) != 0) {
    out.problem = std::string{"connect: "} + std::strerror(errno);
    return out;
  }
  rtt(out, sz);
  for (auto size : sz.rate_sizes)
    out.rates.push_back(rate(out, sz, size));
  drain(ms(sz.lost_after) * 2, out);
  out.sent = sent_;
  out.lost = sent_ - std::min(sent_, answered_);
  if (out.median_us <= 0)
    out.problem = "no round trip measured";
  for (auto& r : out.rates)
    if (r.dgrams_s <= 0)
      out.problem = "a rate measured nothing";
  return out;
}

void udp_peer::rtt(load_result& out, const load_sizes& sz) {
  std::vector<double> us;
  us.reserve(static_cast<size_t>(sz.rtt_samples));
  auto lost_after = ms(sz.lost_after);
  // Bounded in time and loss too: a relay that loses everything ends the
  // phase after 100 lost datagrams.
  auto deadline = clk::now() + std::chrono::seconds(30);
  int total = sz.rtt_warmup + sz.rtt_samples;
  for (int i = 0; i < total && clk::now() < deadline && sent_ - answered_ < 100; ++i) {
    auto seq = ++seq_;
    auto t0 = clk::now();
    if (!send_seq(seq, sz.rtt_size))
      continue;
    while (true) {
      auto left = std::chrono::duration_cast<milliseconds>(t0 + lost_after - clk::now());
      auto got = recv_seq(std::max(left, milliseconds(0)), out);
      if (got == static_cast<int64_t>(seq)) {
        if (i >= sz.rtt_warmup)
          us.push_back(std::chrono::duration<double, std::micro>(clk::now() - t0).count());
        break;
      }
      if (got == -1)
        break; // lost: counted at the end
    }
  }
  summarize_rtt(std::move(us), out);
}

rate_result udp_peer::rate(load_result& out, const load_sizes& sz, size_t size) {
  rate_result r;
  auto lost_after = ms(sz.lost_after);
  auto start = clk::now();
  auto measure_from = start + std::chrono::duration_cast<clk::duration>(sz.rate_warmup);
  auto end = measure_from + std::chrono::duration_cast<clk::duration>(sz.rate_time);
  int in_flight = 0;
  uint64_t counted = 0;
  auto now = start;
  while (now < end) {
    while (in_flight < sz.window && send_seq(++seq_, size))
      ++in_flight;
    auto got = recv_seq(lost_after, out);
    now = clk::now();
    if (got == -1) {
      in_flight = 0; // the window was lost: start it again
      continue;
    }
    // Take what else is there before sending more.
    for (; got != -1; got = recv_seq(milliseconds(0), out)) {
      if (got < 0)
        continue;
      in_flight = std::max(0, in_flight - 1);
      if (now >= measure_from)
        ++counted;
    }
  }
  double secs = seconds_d(now - measure_from).count();
  if (secs > 0) {
    r.dgrams_s = static_cast<double>(counted) / secs;
    r.mb_s = r.dgrams_s * static_cast<double>(size) / 1e6;
  }
  return r;
}

void udp_peer::drain(milliseconds quiet, load_result& out) {
  while (answered_ < sent_ && recv_seq(quiet, out) != -1) {
  }
}

bool udp_peer::send_seq(uint64_t seq, size_t size) {
  size = std::max(size, message_header);
  uint32_t size32 = static_cast<uint32_t>(size);
  std::memcpy(out_.data(), &seq, 8);
  std::memcpy(out_.data() + 8, &size32, 4);
  std::memset(out_.data() + message_header, message_filler(seq), size - message_header);
  // A datagram the kernel refuses (a full buffer) counts as not sent.
  if (::send(fd_.get(), out_.data(), size, 0) < 0)
    return false;
  ++sent_;
  return true;
}

int64_t udp_peer::recv_seq(milliseconds wait, load_result& out) {
  auto n = ::recv(fd_.get(), in_.data(), in_.size(), MSG_DONTWAIT);
  if (n < 0 && wait.count() > 0) {
    pollfd p{fd_.get(), POLLIN, 0};
    if (::poll(&p, 1, static_cast<int>(wait.count())) <= 0)
      return -1;
    n = ::recv(fd_.get(), in_.data(), in_.size(), MSG_DONTWAIT);
  }
  if (n < 0)
    return -1; // nothing there, or an ICMP error from a closed echo: lost
  uint64_t seq = 0;
  uint32_t size = 0;
  auto un = static_cast<size_t>(n);
  bool ok = un >= message_header;
  if (ok) {
    std::memcpy(&seq, in_.data(), 8);
    std::memcpy(&size, in_.data() + 8, 4);
    ok = size == un && seq <= seq_
         && std::all_of(in_.data() + message_header, in_.data() + un,
                        [c = message_filler(seq)](char x) { return x == c; });
  }
  if (!ok) {
    ++out.corrupt;
    return -2;
  }
  ++answered_;
  return static_cast<int64_t>(seq);
}

} // namespace p2pd::bench
