// bench_signal: two signalling nodes exchanging sealed, signed messages, next
// to plain baselines that move the same bytes without crypto, in one run.
//
//   bench_signal           full run (about 10 s)
//   bench_signal --quick   smoke run (CTest): few messages
//
// (a)  node -> node through the in-process hub
// (a') two plain CAF actors passing the same bytes on
// (b)  node -> node through a local mosquitto the benchmark starts
// (b') a bare paho async client publishing to itself through that broker
//
// Each cell: messages per second with up to 256 in flight, and the one-way
// latency of messages sent one at a time (median, p99). The ratio is
// p2pd / baseline. The payload is 256 bytes of plaintext; a node sends it
// as an envelope of about 500 bytes (keys, ids, signature, tag), the
// baselines as the 256 bytes alone.
//
// Exit status: 1 if a cell lost a message or failed to run; slower numbers
// are printed, not failed (a shared 2-core machine does not repeat them).

#include <cstdio>
#include <cstring>
#include <memory>
#include <string>
#include <thread>

#include "mosquitto_fixture.hpp"

#include "p2pd/api/runtime.hpp"
#include "p2pd/actors/signal/hub/signal_hub.hpp"
#include "p2pd/actors/signal/node/signal_node.hpp"
#include "p2pd/proto/secure_envelope.hpp"

#include "signal_cells.hpp"
#include "sys_util.hpp"

using namespace p2pd;
using namespace p2pd::bench;

namespace {

std::shared_ptr<const net::identity> fresh_identity() {
  auto id = net::identity::generate();
  if (!id)
    return nullptr;
  return std::make_shared<const net::identity>(std::move(*id));
}

size_t envelope_size(size_t payload) {
  auto a = fresh_identity();
  auto b = fresh_identity();
  std::string text(payload, 'x');
  auto s = wire::seal_envelope(*a, b->pub(), wire::PAYLOAD_TYPE_CONNECT_REQUEST,
                               net::byte_view{text}, system_clock_ms(), 60'000);
  return s ? s->envelope.size() : 0;
}

// Two nodes on `spec` (identities made in memory), measured, then closed.
signal_cell node_cell(runtime& rt, signal_node_spec spec, const signal_sizes& sz) {
  signal_cell out;
  spec.identity = fresh_identity();
  auto a = spawn_signal_node(rt.system(), spec);
  spec.identity = fresh_identity();
  auto b = spawn_signal_node(rt.system(), spec);
  if (!a || !b) {
    out.problem = render(!a ? a.error() : b.error());
    return out;
  }
  caf::scoped_actor self{rt.system()};
  for (auto& n : {*a, *b})
    self->request(n, std::chrono::seconds(20), online_atom::value, uint32_t{0})
      .receive([](caf::ok_atom) {}, [&](caf::error& err) { out.problem = render(err); });
  if (out.ok())
    out = measure_nodes(rt.system(), *a, *b, sz);
  for (auto& n : {*a, *b})
    self->request(n, std::chrono::seconds(10), caf::close_atom::value)
      .receive([](caf::ok_atom) {}, [](caf::error&) {});
  return out;
}

void print_row(const char* label, const signal_cell& c) {
  if (!c.ok()) {
    std::printf("  %-34s FAILED: %s\n", label, c.problem.c_str());
    return;
  }
  std::printf("  %-34s %10.0f %12.1f %10.1f\n", label, c.rate, c.median_us, c.p99_us);
}

void print_ratio(const signal_cell& p, const signal_cell& b) {
  if (!p.ok() || !b.ok() || b.rate <= 0 || b.median_us <= 0 || b.p99_us <= 0)
    return;
  std::printf("  %-34s %9.3fx %11.1fx %9.1fx\n", "ratio p2pd / baseline", p.rate / b.rate,
              p.median_us / b.median_us, p.p99_us / b.p99_us);
}

int usage(const char* prog) {
  std::fprintf(stderr, "usage: %s [--quick]\n", prog);
  return 2;
}

} // namespace

int main(int argc, char** argv) {
  bool quick = false;
  for (int i = 1; i < argc; ++i) {
    if (std::strcmp(argv[i], "--quick") == 0)
      quick = true;
    else
      return usage(argv[0]);
  }
  signal_sizes hub_sz;
  hub_sz.latency_msgs = quick ? 100 : 2000;
  hub_sz.rate_msgs = quick ? 300 : 10000;
  signal_sizes mqtt_sz = hub_sz;
  mqtt_sz.latency_msgs = quick ? 100 : 1000;
  mqtt_sz.rate_msgs = quick ? 200 : 5000;
  if (quick)
    hub_sz.warmup = mqtt_sz.warmup = 10;

  std::printf("bench_signal%s: %u cores, load average %s (other work skews the ratios)\n",
              quick ? " --quick" : "", std::thread::hardware_concurrency(),
              load_average().c_str());
  std::printf("payload %zu bytes of plaintext, sealed as a %zu-byte envelope\n\n", hub_sz.payload,
              envelope_size(hub_sz.payload));
  std::printf("  %-34s %10s %12s %10s\n", "", "msgs/s", "median us", "p99 us");

  bool failed = false;
  runtime rt;
  {
    signal_node_spec spec;
    spec.hub = spawn_signal_hub(rt.system());
    auto p = node_cell(rt, spec, hub_sz);
    auto b = measure_caf_pair(rt.system(), hub_sz);
    print_row("(a)  p2pd nodes, in-process hub", p);
    print_row("(a') plain CAF actors", b);
    print_ratio(p, b);
    failed = !p.ok() || !b.ok();
  }
  std::printf("\n");
  std::string why;
  auto broker = test::mosquitto_broker::start(why);
  if (!broker) {
    std::printf("  (b) skipped: %s\n", why.c_str());
    // Only a broker that is installed but does not start is a failure.
    failed = failed || why.rfind("not installed", 0) != 0;
  } else {
    // The bare client first, alone: a paho client that connects while
    // another one of the process sits idle waits up to a second per step.
    auto b = measure_paho(broker->uri(), mqtt_sz);
    signal_node_spec spec;
    spec.brokers.push_back(broker->uri());
    auto p = node_cell(rt, spec, mqtt_sz);
    print_row("(b)  p2pd nodes, local mosquitto", p);
    print_row("(b') bare paho client, QoS 1", b);
    print_ratio(p, b);
    failed = failed || !p.ok() || !b.ok();
  }
  std::printf("\nload average at the end: %s\n", load_average().c_str());
  return failed ? 1 : 0;
}
