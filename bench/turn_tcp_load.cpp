#include "turn_tcp_load.hpp"

#include <poll.h>
#include <sys/socket.h>

#include <algorithm>
#include <cerrno>
#include <cstdio>
#include <cstring>
#include <exception>

namespace p2pd::bench {

namespace {

// Messages as the UDP peer's datagrams (message_header): the echo must
// return them whole, in order, unchanged.
constexpr size_t max_message = 1 << 20;

std::string secs(seconds_d s) {
  char buf[32];
  std::snprintf(buf, sizeof(buf), "%.1f s", s.count());
  return buf;
}

double us_since(clk::time_point t0) {
  return std::chrono::duration<double, std::micro>(clk::now() - t0).count();
}

} // namespace

std::string tcp_peer::connect(const net::endpoint& target) {
  try {
    fd_ = connect_loopback(SOCK_STREAM, target.port); // non-blocking, TCP_NODELAY
  } catch (const std::exception& e) {
    return e.what();
  }
  return "";
}

bool tcp_peer::await_echo(seconds_d limit) {
  load_result scratch;
  std::vector<uint64_t> done;
  auto seq = ++seq_;
  queue(seq, 64);
  auto deadline = clk::now() + std::chrono::duration_cast<clk::duration>(limit);
  while (clk::now() < deadline && pump(20, scratch, done))
    if (std::find(done.begin(), done.end(), seq) != done.end())
      return true;
  return false;
}

load_result tcp_peer::run(const load_sizes& sz) {
  load_result out;
  auto first = seq_ + 1;
  if (!broken_) {
    rtt(out, sz);
    for (auto size : sz.rate_sizes)
      out.rates.push_back(broken_ ? rate_result{} : rate(out, sz, size));
    drain(sz.lost_after * 10, out);
  }
  out.sent = seq_ + 1 - first;
  out.lost = seq_ + 1 - std::max(expect_, first);
  if (broken_)
    out.problem = why_;
  else if (out.lost > 0)
    out.problem = std::to_string(out.lost) + " messages never echoed";
  else if (out.median_us <= 0)
    out.problem = "no round trip measured";
  for (auto& r : out.rates)
    if (out.problem.empty() && r.dgrams_s <= 0)
      out.problem = "a rate measured nothing";
  return out;
}

void tcp_peer::rtt(load_result& out, const load_sizes& sz) {
  std::vector<double> us;
  us.reserve(static_cast<size_t>(sz.rtt_samples));
  std::vector<uint64_t> done;
  // Bounded in time: an echo that stops answering ends the phase (and the
  // run: the stream is out of step then).
  auto deadline = clk::now() + std::chrono::seconds(30);
  auto give_up = std::chrono::duration_cast<clk::duration>(sz.lost_after * 10);
  int total = sz.rtt_warmup + sz.rtt_samples;
  for (int i = 0; i < total && clk::now() < deadline && !broken_; ++i) {
    auto seq = ++seq_;
    auto t0 = clk::now();
    queue(seq, sz.rtt_size);
    done.clear();
    while (std::find(done.begin(), done.end(), seq) == done.end()) {
      if (clk::now() - t0 > give_up) {
        broken_ = true;
        why_ = "a round trip got no echo within " + secs(sz.lost_after * 10);
        break;
      }
      if (!pump(20, out, done))
        break;
    }
    if (!broken_ && i >= sz.rtt_warmup)
      us.push_back(us_since(t0));
  }
  summarize_rtt(std::move(us), out);
}

rate_result tcp_peer::rate(load_result& out, const load_sizes& sz, size_t size) {
  rate_result r;
  auto start = clk::now();
  auto measure_from = start + std::chrono::duration_cast<clk::duration>(sz.rate_warmup);
  auto end = measure_from + std::chrono::duration_cast<clk::duration>(sz.rate_time);
  auto stall = std::chrono::duration_cast<clk::duration>(sz.lost_after * 10);
  uint64_t counted = 0;
  std::vector<uint64_t> done;
  auto now = start;
  auto last_progress = start;
  while (now < end && !broken_) {
    while (seq_ + 1 - expect_ < static_cast<uint64_t>(sz.window))
      queue(++seq_, size);
    done.clear();
    if (!pump(20, out, done))
      break;
    now = clk::now();
    if (!done.empty())
      last_progress = now;
    else if (now - last_progress > stall) {
      broken_ = true;
      why_ = "the echo stalled for " + secs(sz.lost_after * 10);
    }
    if (now >= measure_from)
      counted += done.size();
  }
  double secs = seconds_d(now - measure_from).count();
  if (secs > 0 && !broken_) {
    r.dgrams_s = static_cast<double>(counted) / secs;
    r.mb_s = r.dgrams_s * static_cast<double>(std::max(size, message_header)) / 1e6;
  }
  return r;
}

void tcp_peer::drain(seconds_d quiet, load_result& out) {
  std::vector<uint64_t> done;
  auto last = clk::now();
  auto limit = std::chrono::duration_cast<clk::duration>(quiet);
  while (!broken_ && expect_ <= seq_ && clk::now() - last < limit) {
    done.clear();
    if (!pump(20, out, done))
      return;
    if (!done.empty())
      last = clk::now();
  }
}

void tcp_peer::queue(uint64_t seq, size_t size) {
  size = std::clamp(size, message_header, max_message);
  uint32_t size32 = static_cast<uint32_t>(size);
  auto at = out_.size();
  out_.resize(at + size);
  std::memcpy(out_.data() + at, &seq, 8);
  std::memcpy(out_.data() + at + 8, &size32, 4);
  std::memset(out_.data() + at + message_header, message_filler(seq), size - message_header);
}

bool tcp_peer::pump(int wait_ms, load_result& out, std::vector<uint64_t>& done) {
  if (broken_)
    return false;
  auto fail = [&](std::string why) {
    broken_ = true;
    why_ = std::move(why);
    return false;
  };
  pollfd p{fd_.get(), static_cast<short>(POLLIN | (out_sent_ < out_.size() ? POLLOUT : 0)), 0};
  if (::poll(&p, 1, wait_ms) < 0 && errno != EINTR)
    return fail(std::string{"poll: "} + std::strerror(errno));
  while (out_sent_ < out_.size()) {
    auto n = ::send(fd_.get(), out_.data() + out_sent_, out_.size() - out_sent_, MSG_NOSIGNAL);
    if (n < 0 && would_block())
      break;
    if (n < 0)
      return fail(std::string{"send: "} + std::strerror(errno));
    out_sent_ += static_cast<size_t>(n);
  }
  if (out_sent_ == out_.size()) {
    out_.clear();
    out_sent_ = 0;
  }
  char buf[65536];
  for (;;) {
    auto n = ::recv(fd_.get(), buf, sizeof(buf), 0);
    if (n < 0 && would_block())
      break;
    if (n == 0)
      return fail("the echo closed the connection");
    if (n < 0)
      return fail(std::string{"recv: "} + std::strerror(errno));
    in_.insert(in_.end(), buf, buf + n);
  }
  // Whole messages off the front; each must be the next one sent.
  size_t at = 0;
  while (in_.size() - at >= message_header) {
    uint64_t seq = 0;
    uint32_t size = 0;
    std::memcpy(&seq, in_.data() + at, 8);
    std::memcpy(&size, in_.data() + at + 8, 4);
    if (seq != expect_ || size < message_header || size > max_message) {
      ++out.corrupt;
      return fail("the echoed stream is out of step (message " + std::to_string(seq)
                  + ", expected " + std::to_string(expect_) + ")");
    }
    if (in_.size() - at < size)
      break;
    auto body = in_.data() + at + message_header;
    if (!std::all_of(body, in_.data() + at + size, [c = message_filler(seq)](char x) { return x == c; })) {
      ++out.corrupt;
      return fail("message " + std::to_string(seq) + " came back changed");
    }
    done.push_back(seq);
    ++expect_;
    at += size;
  }
  in_.erase(in_.begin(), in_.begin() + static_cast<std::ptrdiff_t>(at));
  return true;
}

} // namespace p2pd::bench
