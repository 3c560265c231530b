#include "stdin_reader.hpp"

#include <poll.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <vector>

#include "caf/send.hpp"

namespace p2pd::cli {

stdin_reader::stdin_reader(caf::actor target, size_t chunk, size_t credits)
  : credits_(credits) {
  thread_ = std::thread([this, target = std::move(target), chunk] { run(target, chunk); });
}

stdin_reader::~stdin_reader() {
  {
    std::lock_guard<std::mutex> guard{mtx_};
    quit_ = true;
  }
  cv_.notify_all();
  thread_.join();
}

void stdin_reader::consumed() {
  {
    std::lock_guard<std::mutex> guard{mtx_};
    ++credits_;
  }
  cv_.notify_all();
}

void stdin_reader::run(caf::actor target, size_t chunk) {
  std::vector<char> buf(chunk);
  for (;;) {
    {
      std::unique_lock<std::mutex> lock{mtx_};
      cv_.wait(lock, [&] { return quit_ || credits_ > 0; });
      if (quit_)
        return;
      --credits_;
    }
    // Wait until stdin has something, looking at the quit flag between polls.
    for (;;) {
      pollfd p{STDIN_FILENO, POLLIN, 0};
      int n = ::poll(&p, 1, 100);
      {
        std::lock_guard<std::mutex> guard{mtx_};
        if (quit_)
          return;
      }
      if (n > 0 || (n < 0 && errno != EINTR))
        break;
    }
    auto got = ::read(STDIN_FILENO, buf.data(), buf.size());
    if (got < 0 && (errno == EINTR || errno == EAGAIN)) {
      consumed(); // nothing was sent: give the credit back
      continue;
    }
    if (got < 0) {
      caf::anon_send(target, stdin_atom::value, std::string{}, true,
                     std::string{"read stdin: "} + std::strerror(errno));
      return;
    }
    if (got == 0) {
      caf::anon_send(target, stdin_atom::value, std::string{}, true, std::string{});
      return;
    }
    caf::anon_send(target, stdin_atom::value, std::string(buf.data(), static_cast<size_t>(got)),
                   false, std::string{});
  }
}

} // namespace p2pd::cli
