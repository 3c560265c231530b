#include "p2pd/net/addr/resolver.hpp"

#include <netdb.h>
#include <sys/socket.h>

#include <algorithm>
#include <cctype>
#include <condition_variable>
#include <map>
#include <memory>
#include <mutex>
#include <system_error>
#include <thread>

namespace p2pd::net {

namespace {

std::string lower(std::string s) {
  std::transform(s.begin(), s.end(), s.begin(),
                 [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  if (!s.empty() && s.back() == '.')
    s.pop_back(); // "localhost." is "localhost"
  return s;
}

bool ends_with(const std::string& s, const std::string& suffix) {
  return s.size() >= suffix.size()
         && s.compare(s.size() - suffix.size(), suffix.size(), suffix) == 0;
}

bool is_localhost(const std::string& name) {
  return name == "localhost" || ends_with(name, ".localhost");
}

bool is_invalid(const std::string& name) {
  return name == "invalid" || ends_with(name, ".invalid");
}

// getaddrinfo's code as a reason a user can act on.
std::string gai_reason(int rc) {
  switch (rc) {
    case EAI_NONAME:
      return std::string{"no such name (NXDOMAIN): "} + gai_strerror(rc);
    case EAI_AGAIN:
      return std::string{"the resolver failed or did not answer (SERVFAIL or timeout): "}
             + gai_strerror(rc);
#ifdef EAI_NODATA
    case EAI_NODATA:
      return std::string{"the name has no address: "} + gai_strerror(rc);
#endif
    default:
      return gai_strerror(rc);
  }
}

// What resolve_hosts' threads share with the caller, who may leave at the
// deadline: the threads hold it too, so the last one out frees it.
struct lookup_batch {
  std::mutex mtx;
  std::condition_variable done_cv;
  std::vector<std::string> names;                                // to resolve
  std::vector<std::optional<result<std::vector<ip_address>>>> out; // per name
  size_t next = 0;      // the next name a thread takes
  size_t finished = 0;  // names answered
  bool abandoned = false; // the caller left: take no further name
  std::optional<family> fam;
};

void lookup_thread(std::shared_ptr<lookup_batch> b) {
  std::unique_lock<std::mutex> lk{b->mtx};
  while (!b->abandoned && b->next < b->names.size()) {
    auto i = b->next++;
    auto name = b->names[i];
    lk.unlock();
    auto r = resolve_host(name, b->fam); // blocks, without the lock
    lk.lock();
    b->out[i] = std::move(r);
    ++b->finished;
    b->done_cv.notify_all();
  }
}

} // namespace

std::vector<result<std::vector<ip_address>>>
resolve_hosts(const std::vector<std::string>& hosts, std::chrono::milliseconds timeout,
              std::optional<family> fam) {
  std::vector<std::optional<result<std::vector<ip_address>>>> out(hosts.size());
  // Each distinct name is asked once; literals and special-use names at once.
  auto b = std::make_shared<lookup_batch>();
  b->fam = fam;
  std::map<std::string, size_t> slot; // name -> index in b->names
  std::vector<size_t> of_host(hosts.size(), 0);
  for (size_t i = 0; i < hosts.size(); ++i) {
    if (resolves_locally(hosts[i])) {
      out[i] = resolve_host(hosts[i], fam);
      continue;
    }
    auto [it, fresh] = slot.emplace(hosts[i], b->names.size());
    if (fresh)
      b->names.push_back(hosts[i]);
    of_host[i] = it->second;
  }
  b->out.resize(b->names.size());
  auto deadline = std::chrono::steady_clock::now() + timeout;
  size_t threads = std::min(b->names.size(), max_resolver_threads);
  size_t started = 0;
  for (; started < threads; ++started) {
    try {
      std::thread{lookup_thread, b}.detach();
    } catch (const std::system_error&) {
      break; // no more threads: those running take the rest of the names
    }
  }
  {
    std::unique_lock<std::mutex> lk{b->mtx};
    if (started == 0 && !b->names.empty()) {
      for (auto& r : b->out)
        r = error{errc::resolve_failed, "no thread could be started to resolve a name"};
    } else {
      b->done_cv.wait_until(lk, deadline, [&] { return b->finished == b->names.size(); });
      b->abandoned = true;
    }
    auto ms = std::to_string(timeout.count());
    for (size_t i = 0; i < hosts.size(); ++i) {
      if (out[i])
        continue;
      auto& r = b->out[of_host[i]];
      out[i] = r ? *r
                 : result<std::vector<ip_address>>{
                     error{errc::resolve_timeout, "'" + hosts[i]
                                                    + "' does not resolve: no answer within "
                                                    + ms + " ms"}};
    }
  }
  std::vector<result<std::vector<ip_address>>> done;
  done.reserve(out.size());
  for (auto& r : out)
    done.push_back(std::move(*r));
  return done;
}

bool resolves_locally(const std::string& host) {
  if (ip_address::parse(host))
    return true;
  auto name = lower(host);
  return is_localhost(name) || is_invalid(name);
}

result<std::vector<ip_address>> resolve_host(const std::string& host,
                                             std::optional<family> fam) {
  std::vector<ip_address> out;
  auto wanted = [&](family f) { return !fam || *fam == f; };
  if (auto ip = ip_address::parse(host)) {
    if (!wanted(ip->fam()))
      return error{errc::family_unsupported,
                   host + " is an " + to_string(ip->fam()) + " address, not "
                     + to_string(*fam)};
    out.push_back(*ip);
    return out;
  }
  auto name = lower(host);
  if (name.empty())
    return error{errc::invalid_argument, "empty host name"};
  if (is_invalid(name))
    return error{errc::resolve_failed,
                 "'" + host + "' does not resolve: .invalid names never do (RFC 6761)"};
  if (is_localhost(name)) {
    for (auto f : {family::v4, family::v6})
      if (wanted(f))
        out.push_back(ip_address::loopback(f));
    return out;
  }
  addrinfo hints{};
  hints.ai_family = !fam ? AF_UNSPEC : to_af(*fam);
  hints.ai_socktype = SOCK_STREAM; // one entry per address
  addrinfo* res = nullptr;
  int rc = ::getaddrinfo(name.c_str(), nullptr, &hints, &res);
  if (rc != 0)
    return error{errc::resolve_failed,
                 "'" + host + "' does not resolve: " + gai_reason(rc)};
  std::unique_ptr<addrinfo, decltype(&::freeaddrinfo)> guard{res, ::freeaddrinfo};
  for (auto* ai = res; ai != nullptr; ai = ai->ai_next) {
    auto ep = endpoint::from_sockaddr(ai->ai_addr, ai->ai_addrlen);
    if (ep && std::find(out.begin(), out.end(), ep->ip) == out.end())
      out.push_back(ep->ip);
  }
  std::stable_sort(out.begin(), out.end(), [](const ip_address& x, const ip_address& y) {
    return x.is_v4() && !y.is_v4();
  });
  if (out.empty())
    return error{errc::resolve_failed, "'" + host + "' has no address of the wanted family"};
  return out;
}

} // namespace p2pd::net
