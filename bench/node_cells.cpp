#include "node_cells.hpp"

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <future>
#include <memory>
#include <mutex>
#include <thread>

#include "caf/all.hpp"

#include "p2pd/node.hpp"

#include "sys_util.hpp"

namespace p2pd::bench {

namespace {

using namespace std::chrono_literals;

// What the receiving nodes got, counted by a handler inside the node actor.
// The sender waits on it to keep its window; the handler wakes it only
// every `wake_every` messages and at the last one.
struct counter {
  std::atomic<uint64_t> msgs{0};
  std::atomic<uint64_t> bytes{0};
  std::atomic<uint64_t> wake_every{1};
  std::atomic<uint64_t> last{0};
  std::mutex mx;
  std::condition_variable cv;

  void on_msg(const node_msg& m) {
    bytes += m.data.size();
    auto n = ++msgs;
    if (n % wake_every == 0 || n == last) {
      std::lock_guard<std::mutex> guard{mx};
      cv.notify_all();
    }
  }

  /// Waits until `pred(msgs)` holds; false after `limit` without progress.
  template <class Pred>
  bool wait(Pred pred, caf::timespan limit) {
    std::unique_lock<std::mutex> lock{mx};
    return cv.wait_for(lock, limit, [&] { return pred(msgs.load()); });
  }
};

caf::expected<std::shared_ptr<const net::identity>> fresh_identity() {
  auto id = net::identity::generate();
  if (!id)
    return make_error(id.error());
  return std::make_shared<const net::identity>(std::move(*id));
}

node_spec loopback_spec(const signal_hub_actor& hub, std::shared_ptr<const net::identity> id,
                        const std::shared_ptr<counter>& sink) {
  node_spec spec;
  spec.identity = std::move(id);
  spec.interfaces = {"lo"};
  spec.hub = hub;
  if (sink)
    spec.handlers.push_back([sink](const node_msg& m) { sink->on_msg(m); });
  return spec;
}

double ms_since(clk::time_point t0) {
  return std::chrono::duration<double, std::milli>(clk::now() - t0).count();
}

// `count` messages of `size` bytes on `conn`'s pipe, at most `window` in
// flight; done when the sink has counted them all.
caf::expected<rate_cell> node_rate(const node_connection& conn, counter& sink, size_t size,
                                   size_t count, size_t window) {
  sink.msgs = 0;
  sink.bytes = 0;
  sink.last = count;
  sink.wake_every = std::max<size_t>(1, window / 4);
  bytes payload(size, 'x');
  auto lost = [&](size_t sent) {
    return make_error(errc::recv_timeout, std::to_string(sink.msgs.load()) + " of "
                                            + std::to_string(sent)
                                            + " messages arrived, then nothing for 10 s");
  };
  auto t0 = clk::now();
  for (size_t i = 0; i < count; ++i) {
    if (i - std::min<uint64_t>(i, sink.msgs.load()) >= window
        && !sink.wait([&](uint64_t got) { return i - got < window; }, 10s))
      return lost(i);
    // Fire and forget: the pipe answers nothing to a send; a failed one
    // shows as a message that never arrives.
    caf::anon_send(conn.pipe, send_atom::value, payload, conn.remote);
  }
  if (!sink.wait([&](uint64_t got) { return got >= count; }, 10s))
    return lost(count);
  double s = std::chrono::duration<double>(clk::now() - t0).count();
  if (sink.bytes != count * size)
    return make_error(errc::io_failed, std::to_string(sink.bytes.load()) + " bytes arrived, not "
                                         + std::to_string(count * size));
  return rate_cell{static_cast<double>(count) / s, static_cast<double>(count * size) / s / 1e6};
}

// Connects pairs of nodes, `window` at a time, from an event-based actor
// (a blocking one waits for one answer at a time).
struct mesh_job {
  std::vector<node_actor> nodes;
  std::vector<std::string> addresses;
  std::vector<std::pair<size_t, size_t>> pairs;
  node::connect_options opts;
  size_t next = 0;
  size_t answered = 0;
  size_t failed = 0;
  std::string first_error;
  std::promise<void> done;
};

void connect_next(caf::event_based_actor* self, std::shared_ptr<mesh_job> job) {
  if (job->next == job->pairs.size())
    return;
  auto [i, j] = job->pairs[job->next++];
  auto answered = [=](const caf::error& err) {
    ++job->answered;
    if (err) {
      ++job->failed;
      if (job->first_error.empty())
        job->first_error = render(err);
    }
    if (job->answered == job->pairs.size()) {
      job->done.set_value();
      self->quit();
      return;
    }
    connect_next(self, job);
  };
  // A connect bounds itself (the direct budget); this only bounds a node
  // that stopped answering.
  self->request(job->nodes[i], 60s, connect_atom::value, job->addresses[j], job->opts)
    .then([=](node_connection&) { answered(caf::none); },
          [=](caf::error& err) { answered(err); });
}

// The actor that keeps `window` connects of `job` in flight. (A function
// with arguments: CAF 0.17 function-based spawns without any dereference
// a null pointer, docs/design-notes.md.)
caf::behavior mesh_driver(caf::event_based_actor* self, std::shared_ptr<mesh_job> job,
                          size_t window) {
  for (size_t k = 0; k < window; ++k)
    connect_next(self, job);
  return {[](caf::ok_atom) {}}; // nothing to receive but the answers
}

} // namespace

double mesh_result::kib_per_node() const {
  return nodes ? static_cast<double>(rss_started_kib - rss_before_kib) / static_cast<double>(nodes)
               : 0;
}

double mesh_result::kib_per_connection() const {
  return pairs ? static_cast<double>(rss_meshed_kib - rss_started_kib) / static_cast<double>(pairs)
               : 0;
}

node_result measure_nodes(runtime& rt, const node_sizes& sz) {
  node_result out;
  auto sink = std::make_shared<counter>();
  auto hub = spawn_signal_hub(rt.system());
  std::vector<node_handle> nodes;
  auto close_all = [&] {
    for (auto& n : nodes)
      if (auto err = n.close(); err && out.problem.empty())
        out.problem = "close: " + render(err);
  };
  // (a) Start, one node after another; the identity is made before.
  for (size_t i = 0; i < sz.nodes; ++i) {
    auto id = fresh_identity();
    if (!id) {
      out.problem = "identity: " + render(id.error());
      return out;
    }
    auto spec = loopback_spec(hub, *id, sink);
    auto t0 = clk::now();
    auto n = rt.start_node(std::move(spec));
    if (!n) {
      out.problem = "start node " + std::to_string(i + 1) + ": " + render(n.error());
      close_all();
      return out;
    }
    out.start_ms.push_back(ms_since(t0));
    nodes.push_back(std::move(*n));
  }
  // (b) Direct connects from the first node to each other one: IPv4 only,
  // so that each is one TCP connect and one TLS handshake, as the baseline
  // (by default a connect on loopback races an IPv4 and an IPv6 attempt).
  node::connect_options v4;
  v4.families = {net::family::v4};
  std::optional<node_connection> first;
  for (size_t i = 1; i < nodes.size(); ++i) {
    auto t0 = clk::now();
    auto conn = nodes[0].connect(nodes[i].address(), v4);
    if (!conn) {
      out.problem = "connect " + std::to_string(i) + ": " + render(conn.error());
      close_all();
      return out;
    }
    out.connect_ms.push_back(ms_since(t0));
    out.report_ms.push_back(static_cast<double>(conn->report.ms));
    if (conn->report.how != node::strategy::direct) {
      out.problem = "connect " + std::to_string(i) + " was " + conn->report.to_string();
      close_all();
      return out;
    }
    if (!first)
      first = *conn;
  }
  // (c) Messages over the first connection.
  if (first) {
    auto small = node_rate(*first, *sink, sz.small_size, sz.small_count, sz.small_window);
    auto large = small ? node_rate(*first, *sink, sz.large_size, sz.large_count, sz.large_window)
                       : caf::expected<rate_cell>{small.error()};
    if (small && large) {
      out.small = *small;
      out.large = *large;
    } else {
      out.problem = "messages: " + render(small ? large.error() : small.error());
    }
  }
  close_all();
  return out;
}

mesh_result measure_mesh(runtime& rt, const node_sizes& sz) {
  mesh_result out;
  out.nodes = sz.mesh_nodes;
  auto& sys = rt.system();
  auto hub = spawn_signal_hub(sys);
  std::vector<std::shared_ptr<const net::identity>> ids;
  for (size_t i = 0; i < sz.mesh_nodes; ++i) {
    auto id = fresh_identity();
    if (!id) {
      out.problem = "identity: " + render(id.error());
      return out;
    }
    ids.push_back(*id);
  }
  caf::scoped_actor self{sys};
  auto job = std::make_shared<mesh_job>();
  auto close_all = [&] {
    for (auto& n : job->nodes)
      self->request(n, 30s, caf::close_atom::value)
        .receive([](caf::ok_atom) {},
                 [&](caf::error& err) {
                   if (out.problem.empty())
                     out.problem = "close: " + render(err);
                 });
  };
  // Start: all spawned at once, then each awaited (they start in parallel).
  out.rss_before_kib = proc_status_kib("VmRSS");
  auto t0 = clk::now();
  for (auto& id : ids) {
    auto n = spawn_node(sys, loopback_spec(hub, id, nullptr));
    if (!n) {
      out.problem =
        "spawn node " + std::to_string(job->nodes.size() + 1) + ": " + render(n.error());
      close_all();
      return out;
    }
    job->nodes.push_back(*n);
  }
  for (auto& n : job->nodes)
    self->request(n, 120s, ready_atom::value)
      .receive([&](node_info& info) { job->addresses.push_back(info.address); },
               [&](caf::error& err) {
                 if (out.problem.empty())
                   out.problem = "start: " + render(err);
               });
  out.start_ms = ms_since(t0);
  out.rss_started_kib = proc_status_kib("VmRSS");
  if (!out.problem.empty()) {
    close_all();
    return out;
  }
  // The mesh: node i connects to node j for every i < j.
  for (size_t i = 0; i < job->nodes.size(); ++i)
    for (size_t j = i + 1; j < job->nodes.size(); ++j)
      job->pairs.emplace_back(i, j);
  out.pairs = job->pairs.size();
  job->opts.families = {net::family::v4};
  auto finished = job->done.get_future();
  t0 = clk::now();
  if (!job->pairs.empty()) {
    sys.spawn(mesh_driver, job, sz.mesh_window);
    // Bounded: each connect is bounded by its 60 s request.
    if (finished.wait_for(std::chrono::minutes(10)) != std::future_status::ready)
      out.problem = "the mesh did not finish within 10 minutes";
  }
  out.mesh_ms = ms_since(t0);
  out.rss_meshed_kib = proc_status_kib("VmRSS");
  if (out.problem.empty() && job->failed > 0)
    out.problem = std::to_string(job->failed) + " of " + std::to_string(out.pairs)
                  + " connects failed, the first: " + job->first_error;
  // Every node must have a connection to every other. A connect answers
  // once its hello is sent; the peer counts the connection when the hello
  // has come: the last few may need a moment.
  auto deadline = clk::now() + 5s;
  for (size_t i = 0; i < job->nodes.size() && out.problem.empty();) {
    uint32_t have = 0;
    self->request(job->nodes[i], 10s, stats_atom::value)
      .receive([&](node_stats& st) { have = st.connections; },
               [&](caf::error& err) { out.problem = "stats: " + render(err); });
    if (have == job->nodes.size() - 1 || !out.problem.empty()) {
      ++i;
    } else if (clk::now() >= deadline) {
      out.problem = "node " + std::to_string(i + 1) + " has " + std::to_string(have)
                    + " connections, not " + std::to_string(job->nodes.size() - 1);
    } else {
      std::this_thread::sleep_for(10ms);
    }
  }
  t0 = clk::now();
  close_all();
  out.close_ms = ms_since(t0);
  out.rss_closed_kib = proc_status_kib("VmRSS");
  return out;
}

} // namespace p2pd::bench
