// bench_names: the name server (actors/names) on SQLite and on PostgreSQL,
// registrations and lookups per second through the server over UDP on
// loopback, against the same store calls made directly on a database of
// their own in the same run, one table.
//
//   bench_names           full run (under a minute)
//   bench_names --quick   smoke run (CTest): a few hundred requests
//
// Registrations: each a new name (16 per key, the cap), signed before the
// clock starts, so that both columns time what a server does with a put
// (the server also checks the signature and its limits, then runs the
// put's transaction: read, count the key's names, insert, commit). Lookups:
// the registered names, each once per round. The direct column calls the
// store (net/names/name_store.hpp) on one thread: the same transactions
// without the network, the codec, the actor and the blocking executor.
// The server column: `clients` threads, each a UDP socket with one request
// out at a time. SQLite runs with synchronous=FULL (a commit is an fsync);
// the test's PostgreSQL with fsync on.
//
// The ratio is server / direct (below 1: the server is slower). Exit
// status 1 if a request failed or was refused.

#include <fcntl.h>
#include <sys/socket.h>

#include <atomic>
#include <cstdio>
#include <cstring>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "p2pd/api/names.hpp"
#include "p2pd/net/names/name_store.hpp"

#include "postgres_fixture.hpp"
#include "sys_util.hpp"
#include "temp_dir.hpp"

using namespace p2pd;
using namespace p2pd::bench;
namespace nn = p2pd::net::names;
namespace wn = p2pd::wire::names;

namespace {

struct sizes {
  size_t names = 2000;   ///< registrations per column
  size_t lookups = 8000; ///< lookups per column
  size_t clients = 4;
};

struct rates {
  double puts_per_s = 0;
  double lookups_per_s = 0;
  std::string problem;
};

std::vector<nn::name_record> make_records(size_t n, const std::string& prefix) {
  std::vector<nn::name_record> out;
  auto now = std::chrono::duration_cast<std::chrono::seconds>(
               std::chrono::system_clock::now().time_since_epoch())
               .count();
  std::optional<net::identity> key;
  for (size_t i = 0; i < n; ++i) {
    if (i % 16 == 0)
      key = std::move(*net::identity::generate());
    std::string value = "p2pd1_bench-value-" + std::to_string(i);
    out.push_back(nn::make_record(*key, prefix + std::to_string(i) + ".bench",
                                  std::vector<uint8_t>(value.begin(), value.end()), 1, now, 3600));
  }
  return out;
}

double per_s(size_t n, clk::time_point t0) {
  return static_cast<double>(n) / std::chrono::duration<double>(clk::now() - t0).count();
}

rates direct(const std::string& url, const std::vector<nn::name_record>& records, size_t lookups) {
  rates out;
  auto store = nn::open_store(url);
  if (!store) {
    out.problem = net::to_string(store.error());
    return out;
  }
  nn::rules_config cfg;
  auto now = records.front().time;
  auto t0 = clk::now();
  for (const auto& r : records) {
    auto v = (*store)->put(r, now, cfg);
    if (!v || !v->ok()) {
      out.problem = "direct put of " + r.name + ": "
                    + (v ? std::string{nn::to_string(v->code)} : net::to_string(v.error()));
      return out;
    }
  }
  out.puts_per_s = per_s(records.size(), t0);
  t0 = clk::now();
  for (size_t i = 0; i < lookups; ++i) {
    auto got = (*store)->lookup(records[i % records.size()].name, now);
    if (!got || !*got) {
      out.problem = "direct lookup found nothing";
      return out;
    }
  }
  out.lookups_per_s = per_s(lookups, t0);
  return out;
}

// `count` requests (request i from make(i)) spread over `clients` threads,
// each a UDP socket with one request out at a time; the first failure.
template <class Make, class Check>
std::string drive(uint16_t port, size_t count, size_t clients, Make make, Check verify) {
  std::atomic<size_t> next{0};
  std::string problem;
  std::mutex mtx;
  std::vector<std::thread> threads;
  for (size_t c = 0; c < clients; ++c)
    threads.emplace_back([&] {
      try {
        auto fd = connect_loopback(SOCK_DGRAM, port);
        // Blocking, with a bound: a lost answer is a failure, not a hang.
        bench::check(::fcntl(fd.get(), F_SETFL, ::fcntl(fd.get(), F_GETFL) & ~O_NONBLOCK), "fcntl");
        timeval tv{2, 0};
        bench::check(::setsockopt(fd.get(), SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv), "SO_RCVTIMEO");
        std::vector<uint8_t> buf(wn::max_message_bytes);
        for (size_t i = next++; i < count; i = next++) {
          auto req = make(i);
          if (::send(fd.get(), req.data(), req.size(), 0) < 0)
            throw std::runtime_error(std::string{"send: "} + std::strerror(errno));
          auto got = ::recv(fd.get(), buf.data(), buf.size(), 0);
          if (got < 0)
            throw std::runtime_error("no answer to request " + std::to_string(i));
          auto resp = wn::decode_response(buf.data(), static_cast<size_t>(got));
          if (!resp)
            throw std::runtime_error("an answer that does not decode: " + resp.error().what);
          if (auto why = verify(i, *resp); !why.empty())
            throw std::runtime_error(why);
        }
      } catch (const std::exception& e) {
        std::lock_guard<std::mutex> guard{mtx};
        if (problem.empty())
          problem = e.what();
        next = count; // the others stop
      }
    });
  for (auto& t : threads)
    t.join();
  return problem;
}

rates through_server(const std::string& url, const std::vector<nn::name_record>& records,
                     const sizes& sz) {
  rates out;
  auto store = nn::open_store(url);
  if (!store) {
    out.problem = net::to_string(store.error());
    return out;
  }
  runtime rt;
  name_server_spec spec;
  spec.store = std::move(*store);
  // The limits are the server's defence, not what is measured here.
  spec.limits.ip_burst = spec.limits.key_burst = 1e9;
  spec.limits.ip_per_s = spec.limits.key_per_s = 1e9;
  test::temp_dir dir{"p2pd-bench-names-"};
  daemon_spec base;
  base.data_dir = dir.path();
  auto lo = *net::ip_address::parse("127.0.0.1");
  auto srv = start_name_server(rt, std::move(spec), {{net::protocol::udp, endpoint{lo, 0}}}, base);
  if (!srv) {
    out.problem = render(srv.error());
    return out;
  }
  auto port = srv->listeners.front().local.port;
  std::vector<std::vector<uint8_t>> puts;
  for (size_t i = 0; i < records.size(); ++i) {
    wn::request req;
    req.op = wn::op::put;
    req.request_id = i + 1;
    req.record = records[i];
    puts.push_back(*wn::encode_request(req));
  }
  auto t0 = clk::now();
  out.problem = drive(
    port, puts.size(), sz.clients, [&](size_t i) { return puts[i]; },
    [&](size_t i, const wn::response& r) -> std::string {
      if (r.request_id != i + 1 || r.code != nn::status::ok)
        return "put " + records[i].name + ": " + nn::to_string(r.code) + " " + r.detail;
      return {};
    });
  out.puts_per_s = per_s(puts.size(), t0);
  if (!out.problem.empty())
    return out;
  t0 = clk::now();
  out.problem = drive(
    port, sz.lookups, sz.clients,
    [&](size_t i) {
      wn::request req;
      req.op = wn::op::lookup;
      req.request_id = i + 1;
      req.name = records[i % records.size()].name;
      return *wn::encode_request(req);
    },
    [&](size_t i, const wn::response& r) -> std::string {
      if (r.request_id != i + 1 || r.code != nn::status::ok || !r.record)
        return "lookup " + records[i % records.size()].name + ": " + nn::to_string(r.code);
      return {};
    });
  out.lookups_per_s = per_s(sz.lookups, t0);
  srv->daemon->close();
  caf::anon_send_exit(srv->server, caf::exit_reason::user_shutdown);
  return out;
}

std::string num(double x) {
  char buf[64];
  std::snprintf(buf, sizeof buf, "%.0f", x);
  return buf;
}

void row(const std::string& what, double server, double direct) {
  char ratio[32] = "";
  if (server > 0 && direct > 0)
    std::snprintf(ratio, sizeof ratio, "%.2f", server / direct);
  std::printf("| %-34s | %12s | %12s | %6s |\n", what.c_str(), num(server).c_str(),
              num(direct).c_str(), ratio);
}

} // namespace

int main(int argc, char** argv) {
  sizes sz;
  bool quick = argc == 2 && std::strcmp(argv[1], "--quick") == 0;
  if (argc > 1 && !quick) {
    std::fprintf(stderr, "usage: %s [--quick]\n", argv[0]);
    return 2;
  }
  if (quick) {
    sz.names = 160;
    sz.lookups = 400;
  }
  std::printf("bench_names%s: %u cores, load average %s (other work skews the ratios)\n",
              quick ? " --quick" : "", std::thread::hardware_concurrency(),
              load_average().c_str());
  std::printf("%zu registrations and %zu lookups per column; server: %zu UDP clients, one "
              "request out each\n\n",
              sz.names, sz.lookups, sz.clients);
  test::temp_dir dir{"p2pd-bench-names-db-"};
  std::string why;
  auto pg = test::postgres_server::start(why);
  struct backend {
    std::string name;
    std::string direct_url, server_url;
  };
  std::vector<backend> backends{
    {"SQLite", "sqlite:" + dir.path() + "/direct.db", "sqlite:" + dir.path() + "/server.db"}};
  if (pg) {
    auto a = pg->create_database(why);
    auto b = pg->create_database(why);
    if (!a.empty() && !b.empty())
      backends.push_back({"PostgreSQL", a, b});
  }
  if (backends.size() < 2)
    std::printf("PostgreSQL: not measured: %s\n\n", why.c_str());
  bool failed = false;
  std::printf("| %-34s | %12s | %12s | %6s |\n", "per second", "server", "direct", "ratio");
  std::printf("|%s|%s|%s|%s|\n", std::string(36, '-').c_str(), std::string(14, '-').c_str(),
              std::string(14, '-').c_str(), std::string(8, '-').c_str());
  for (auto& b : backends) {
    auto direct_recs = make_records(sz.names, "d");
    auto server_recs = make_records(sz.names, "s");
    auto d = direct(b.direct_url, direct_recs, sz.lookups);
    auto s = through_server(b.server_url, server_recs, sz);
    row(b.name + " registrations", s.puts_per_s, d.puts_per_s);
    row(b.name + " lookups", s.lookups_per_s, d.lookups_per_s);
    for (auto* p : {&d.problem, &s.problem})
      if (!p->empty()) {
        std::printf("%s: FAILED: %s\n", b.name.c_str(), p->c_str());
        failed = true;
      }
  }
  return failed ? 1 : 0;
}
