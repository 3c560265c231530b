#include "p2pd/actors/pipe/receive_queues.hpp"

#include <algorithm>
#include <vector>

namespace p2pd::actors {

uint64_t receive_queues::find_or_add(const msg_filter& f) {
  for (auto& [id, q] : queues_)
    if (q.shared && q.filter == f)
      return id;
  auto id = next_id_++;
  auto& q = queues_[id];
  q.filter = f;
  // A filter asked for now still sees what arrived before it was asked for:
  // the default queue (filter "any") holds everything not yet received.
  if (default_id_ == 0 && f == msg_filter::any()) {
    default_id_ = id;
  } else if (auto d = queues_.find(default_id_); d != queues_.end()) {
    for (auto& m : d->second.msgs)
      if (f.matches(m.data.data(), m.data.size(), m.from))
        q.msgs.push_back(m);
    while (q.msgs.size() > max_qsize_)
      q.msgs.pop_front();
  }
  return id;
}

uint64_t receive_queues::add_private(const msg_filter& f) {
  auto id = next_id_++;
  auto& q = queues_[id];
  q.filter = f;
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
    if (!q.filter.matches(data, size, from))
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
