#include "p2pd/actors/pipe/detail/receive_queues.hpp"

#include <algorithm>
#include <vector>

#include <re2/re2.h>

#include "p2pd/messages/errors.hpp"

namespace p2pd::actors {

namespace {

// Longer expressions are refused before RE2 parses them.
constexpr size_t max_expr_size = 4096;

caf::expected<std::shared_ptr<const re2::RE2>> compile(const std::string& expr) {
  if (expr.empty())
    return std::shared_ptr<const re2::RE2>{};
  if (expr.size() > max_expr_size)
    return make_error(errc::invalid_argument,
                      "a message pattern of " + std::to_string(expr.size())
                        + " characters is above the " + std::to_string(max_expr_size)
                        + " allowed");
  re2::RE2::Options opts;
  opts.set_encoding(re2::RE2::Options::EncodingLatin1); // bytes, not UTF-8
  opts.set_log_errors(false);
  opts.set_max_mem(1 << 20);
  auto re = std::make_shared<const re2::RE2>(expr, opts);
  if (!re->ok())
    return make_error(errc::invalid_argument,
                      "message pattern '" + expr + "' is not a valid RE2 expression: "
                        + re->error());
  return re;
}

} // namespace

bool receive_queues::queue::matches(const char* data, size_t size, const endpoint& from) const {
  if (!filter.matches(data, size, from))
    return false;
  return !re || re2::RE2::PartialMatch(re2::StringPiece{data, size}, *re);
}

caf::expected<uint64_t> receive_queues::find_or_add(const msg_filter& f) {
  for (auto& [id, q] : queues_)
    if (q.shared && q.filter == f)
      return id;
  auto re = compile(f.expr);
  if (!re)
    return std::move(re.error());
  auto id = next_id_++;
  auto& q = queues_[id];
  q.filter = f;
  q.re = std::move(*re);
  // A filter asked for now still sees what arrived before it was asked for:
  // the default queue (filter "any") holds everything not yet received.
  if (default_id_ == 0 && f == msg_filter::any()) {
    default_id_ = id;
  } else if (auto d = queues_.find(default_id_); d != queues_.end()) {
    for (auto& m : d->second.msgs)
      if (q.matches(m.data.data(), m.data.size(), m.from))
        q.msgs.push_back(m);
    while (q.msgs.size() > max_qsize_)
      q.msgs.pop_front();
  }
  return id;
}

caf::expected<uint64_t> receive_queues::add_private(const msg_filter& f) {
  auto re = compile(f.expr);
  if (!re)
    return std::move(re.error());
  auto id = next_id_++;
  auto& q = queues_[id];
  q.filter = f;
  q.re = std::move(*re);
  q.shared = false;
  return id;
}

bool receive_queues::remove(uint64_t id, const caf::error& reason) {
  auto i = queues_.find(id);
  if (i == queues_.end())
    return false;
  for (auto& w : i->second.waiters)
    w.rp.deliver(reason);
  queues_.erase(i);
  if (id == default_id_)
    default_id_ = 0;
  return true;
}

bool receive_queues::push(const char* data, size_t size, const endpoint& from,
                          const pipe_actor& pipe, uint64_t& dropped) {
  bool matched = false;
  std::vector<uint64_t> done_private;
  for (auto& [id, q] : queues_) {
    if (!q.matches(data, size, from))
      continue;
    matched = true;
    pipe_msg m{bytes(data, data + size), from, pipe};
    if (!q.waiters.empty()) {
      auto w = std::move(q.waiters.front());
      q.waiters.pop_front();
      w.rp.deliver(std::move(m));
      if (!q.shared)
        done_private.push_back(id); // an ask is answered: its queue has done its job
      continue;
    }
    if (q.msgs.size() >= max_qsize_) {
      q.msgs.pop_front();
      ++dropped;
    }
    q.msgs.push_back(std::move(m));
  }
  for (auto id : done_private)
    queues_.erase(id);
  return matched;
}

uint64_t receive_queues::recv(uint64_t id, caf::response_promise rp) {
  auto& q = queues_.at(id);
  if (!q.msgs.empty()) {
    rp.deliver(std::move(q.msgs.front()));
    q.msgs.pop_front();
    return 0;
  }
  auto wid = next_id_++;
  q.waiters.push_back(waiter{wid, std::move(rp)});
  return wid;
}

bool receive_queues::expire(uint64_t id, uint64_t wid, const caf::error& reason) {
  auto i = queues_.find(id);
  if (i == queues_.end())
    return false;
  auto& ws = i->second.waiters;
  auto w = std::find_if(ws.begin(), ws.end(), [&](const waiter& x) { return x.id == wid; });
  if (w == ws.end())
    return false;
  w->rp.deliver(reason);
  ws.erase(w);
  if (!i->second.shared)
    queues_.erase(i);
  return true;
}

bool receive_queues::waiting(uint64_t id, uint64_t wid) const {
  auto i = queues_.find(id);
  if (i == queues_.end())
    return false;
  auto& ws = i->second.waiters;
  return std::any_of(ws.begin(), ws.end(), [&](const waiter& x) { return x.id == wid; });
}

void receive_queues::fail_all(const caf::error& reason) {
  for (auto& [id, q] : queues_) {
    for (auto& w : q.waiters)
      w.rp.deliver(reason);
    q.waiters.clear();
  }
}

bool receive_queues::idle() const {
  return std::all_of(queues_.begin(), queues_.end(),
                     [](const auto& kvp) { return kvp.second.waiters.empty(); });
}

} // namespace p2pd::actors
