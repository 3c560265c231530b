#include "tls_baseline.hpp"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <unistd.h>

#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/ssl.h>
#include <openssl/x509.h>

#include <chrono>
#include <cstring>
#include <memory>
#include <thread>

#include "sys_util.hpp"

namespace p2pd::bench {

namespace {

struct ssl_del {
  void operator()(SSL* p) const { SSL_free(p); }
};
struct ctx_del {
  void operator()(SSL_CTX* p) const { SSL_CTX_free(p); }
};
struct key_del {
  void operator()(EVP_PKEY* p) const { EVP_PKEY_free(p); }
};
struct cert_del {
  void operator()(X509* p) const { X509_free(p); }
};
using ssl_ptr = std::unique_ptr<SSL, ssl_del>;
using ctx_ptr = std::unique_ptr<SSL_CTX, ctx_del>;
using key_ptr = std::unique_ptr<EVP_PKEY, key_del>;
using cert_ptr = std::unique_ptr<X509, cert_del>;

// Every call that can fail here reports "what: OpenSSL's reason" and the
// measurement stops; the thread's error queue is emptied on the way.
std::string ssl_error(const std::string& what) {
  std::string out = what;
  while (auto e = ERR_get_error()) {
    char buf[256];
    ERR_error_string_n(e, buf, sizeof buf);
    out += std::string{out == what ? ": " : "; "} + buf;
  }
  return out;
}

std::string sys_error(const std::string& what) {
  return what + ": " + std::strerror(errno);
}

key_ptr make_key() {
  key_ptr out;
  std::unique_ptr<EVP_PKEY_CTX, void (*)(EVP_PKEY_CTX*)> kc{
    EVP_PKEY_CTX_new_id(EVP_PKEY_ED25519, nullptr), EVP_PKEY_CTX_free};
  EVP_PKEY* key = nullptr;
  if (kc && EVP_PKEY_keygen_init(kc.get()) == 1 && EVP_PKEY_keygen(kc.get(), &key) == 1)
    out.reset(key);
  return out;
}

// Self-signed, like a node certificate (which adds an extension with the
// node's X25519 key).
cert_ptr make_cert(EVP_PKEY* key) {
  cert_ptr x{X509_new()};
  if (!x)
    return x;
  auto* name = X509_get_subject_name(x.get());
  bool ok = X509_set_version(x.get(), 2) == 1
            && ASN1_INTEGER_set(X509_get_serialNumber(x.get()), 1) == 1
            && X509_gmtime_adj(X509_getm_notBefore(x.get()), 0) != nullptr
            && X509_gmtime_adj(X509_getm_notAfter(x.get()), 3600) != nullptr
            && X509_set_pubkey(x.get(), key) == 1
            && X509_NAME_add_entry_by_txt(name, "CN", MBSTRING_ASC,
                                          reinterpret_cast<const unsigned char*>("bench"), -1,
                                          -1, 0)
                 == 1
            && X509_set_issuer_name(x.get(), name) == 1
            && X509_sign(x.get(), key, nullptr) > 0;
  if (!ok)
    x.reset();
  return x;
}

// The peer's certificate is accepted when its self-signature checks out:
// a node checks that too (and which node id its keys hash to).
int verify_self_signed(int, X509_STORE_CTX* store) {
  X509* cert = X509_STORE_CTX_get_current_cert(store);
  EVP_PKEY* key = cert != nullptr ? X509_get0_pubkey(cert) : nullptr;
  return key != nullptr && X509_verify(cert, key) == 1 ? 1 : 0;
}

ctx_ptr make_ctx(bool server, EVP_PKEY* key, X509* cert) {
  ctx_ptr ctx{SSL_CTX_new(server ? TLS_server_method() : TLS_client_method())};
  if (!ctx || SSL_CTX_set_min_proto_version(ctx.get(), TLS1_3_VERSION) != 1
      || SSL_CTX_use_certificate(ctx.get(), cert) != 1
      || SSL_CTX_use_PrivateKey(ctx.get(), key) != 1)
    return nullptr;
  SSL_CTX_set_verify(ctx.get(), SSL_VERIFY_PEER | SSL_VERIFY_FAIL_IF_NO_PEER_CERT,
                     verify_self_signed);
  return ctx;
}

// One side's key, certificate and contexts.
struct tls_side {
  key_ptr key;
  cert_ptr cert;
  ctx_ptr server;
  ctx_ptr client;

  std::string make() {
    key = make_key();
    if (!key)
      return ssl_error("Ed25519 key");
    cert = make_cert(key.get());
    if (!cert)
      return ssl_error("certificate");
    server = make_ctx(true, key.get(), cert.get());
    client = make_ctx(false, key.get(), cert.get());
    if (!server || !client)
      return ssl_error("TLS context");
    return {};
  }
};

// A blocked peer (a failed handshake on the other side) must not hang the
// benchmark: every socket gives up after 10 s.
void set_io_timeouts(int fd) {
  timeval tv{10, 0};
  ::setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
  ::setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof tv);
}

// A listening TCP socket on the loopback address of `fam`, a free port.
net::unique_fd listen_loopback(int fam, uint16_t& port) {
  net::unique_fd fd{::socket(fam, SOCK_STREAM | SOCK_CLOEXEC, 0)};
  if (!fd)
    return fd;
  sockaddr_storage ss{};
  socklen_t len = 0;
  if (fam == AF_INET) {
    auto* a = reinterpret_cast<sockaddr_in*>(&ss);
    a->sin_family = AF_INET;
    a->sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    len = sizeof(sockaddr_in);
  } else {
    auto* a = reinterpret_cast<sockaddr_in6*>(&ss);
    a->sin6_family = AF_INET6;
    a->sin6_addr = in6addr_loopback;
    len = sizeof(sockaddr_in6);
  }
  if (::bind(fd.get(), reinterpret_cast<sockaddr*>(&ss), len) != 0
      || ::listen(fd.get(), 1024) != 0
      || ::getsockname(fd.get(), reinterpret_cast<sockaddr*>(&ss), &len) != 0)
    return net::unique_fd{};
  port = ntohs(fam == AF_INET ? reinterpret_cast<sockaddr_in*>(&ss)->sin_port
                              : reinterpret_cast<sockaddr_in6*>(&ss)->sin6_port);
  return fd;
}

// A blocking TCP connection to 127.0.0.1:port, Nagle off (as p2pd's pipes).
net::unique_fd connect_v4(uint16_t port) {
  net::unique_fd fd{::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0)};
  if (!fd)
    return fd;
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  a.sin_port = htons(port);
  if (::connect(fd.get(), reinterpret_cast<sockaddr*>(&a), sizeof a) != 0)
    return net::unique_fd{};
  int one = 1;
  ::setsockopt(fd.get(), IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
  set_io_timeouts(fd.get());
  return fd;
}

net::unique_fd accept_one(int lfd) {
  net::unique_fd fd{::accept4(lfd, nullptr, nullptr, SOCK_CLOEXEC)};
  if (fd) {
    int one = 1;
    ::setsockopt(fd.get(), IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
    set_io_timeouts(fd.get());
  }
  return fd;
}

ssl_ptr tls_on(SSL_CTX* ctx, int fd) {
  ssl_ptr ssl{SSL_new(ctx)};
  if (ssl && SSL_set_fd(ssl.get(), fd) != 1)
    ssl.reset();
  return ssl;
}

double ms_between(clk::time_point a, clk::time_point b) {
  return std::chrono::duration<double, std::milli>(b - a).count();
}

} // namespace

floor_result measure_tls_floor(size_t n) {
  floor_result out;
  // The keys first and apart, as node identities are made before a node.
  std::vector<key_ptr> keys;
  for (size_t i = 0; i < n; ++i) {
    keys.push_back(make_key());
    if (!keys.back()) {
      out.problem = ssl_error("Ed25519 key");
      return out;
    }
  }
  struct endpoint {
    cert_ptr cert;
    ctx_ptr server, client;
    net::unique_fd v4, v6;
  };
  std::vector<endpoint> made;
  made.reserve(n);
  auto rss0 = proc_status_kib("VmRSS");
  for (size_t i = 0; i < n; ++i) {
    auto t0 = clk::now();
    endpoint e;
    e.cert = make_cert(keys[i].get());
    if (e.cert) {
      e.server = make_ctx(true, keys[i].get(), e.cert.get());
      e.client = make_ctx(false, keys[i].get(), e.cert.get());
    }
    if (!e.server || !e.client) {
      out.problem = ssl_error("certificate or TLS context");
      return out;
    }
    uint16_t port = 0;
    e.v4 = listen_loopback(AF_INET, port);
    if (!e.v4) {
      out.problem = sys_error("listen on 127.0.0.1");
      return out;
    }
    e.v6 = listen_loopback(AF_INET6, port); // none where ::1 does not work
    out.ms.push_back(ms_between(t0, clk::now()));
    made.push_back(std::move(e));
  }
  out.rss_kib_each = static_cast<double>(proc_status_kib("VmRSS") - rss0) / static_cast<double>(n);
  return out;
}

connect_result measure_tls_connects(size_t n) {
  connect_result out;
  tls_side srv, cli;
  if (auto err = srv.make(); !err.empty())
    return {{}, 0, err};
  if (auto err = cli.make(); !err.empty())
    return {{}, 0, err};
  uint16_t port = 0;
  auto lfd = listen_loopback(AF_INET, port);
  if (!lfd)
    return {{}, 0, sys_error("listen")};
  auto rss0 = proc_status_kib("VmRSS");
  // Both ends stay open until the end: a closed client would reset the
  // server's session tickets, and the RSS is taken with all of them open.
  std::vector<net::unique_fd> sfds, cfds;
  std::vector<ssl_ptr> sssl, cssl;
  sfds.reserve(n);
  sssl.reserve(n);
  std::string server_problem;
  std::thread server([&] {
    for (size_t i = 0; i < n; ++i) {
      auto fd = accept_one(lfd.get());
      auto ssl = fd ? tls_on(srv.server.get(), fd.get()) : nullptr;
      char c = 0;
      if (!ssl || SSL_accept(ssl.get()) != 1 || SSL_read(ssl.get(), &c, 1) != 1) {
        server_problem = ssl_error("server handshake " + std::to_string(i + 1));
        return;
      }
      sfds.push_back(std::move(fd));
      sssl.push_back(std::move(ssl));
    }
  });
  for (size_t i = 0; i < n && out.problem.empty(); ++i) {
    auto t0 = clk::now();
    auto fd = connect_v4(port);
    if (!fd) {
      out.problem = sys_error("connect " + std::to_string(i + 1));
      break;
    }
    auto ssl = tls_on(cli.client.get(), fd.get());
    if (!ssl || SSL_connect(ssl.get()) != 1) {
      out.problem = ssl_error("client handshake " + std::to_string(i + 1));
      break;
    }
    out.ms.push_back(ms_between(t0, clk::now()));
    // One byte each, as a node sends its hello: the server's side is done.
    if (SSL_write(ssl.get(), "h", 1) != 1) {
      out.problem = ssl_error("write " + std::to_string(i + 1));
      break;
    }
    cfds.push_back(std::move(fd));
    cssl.push_back(std::move(ssl));
  }
  if (!out.problem.empty())
    ::shutdown(lfd.get(), SHUT_RDWR); // the server's accept fails now instead of waiting
  server.join();
  if (out.problem.empty())
    out.problem = server_problem;
  out.rss_kib_each = static_cast<double>(proc_status_kib("VmRSS") - rss0) / static_cast<double>(n);
  return out;
}

rate_result measure_tls_rate(size_t size, size_t count) {
  rate_result out;
  tls_side srv, cli;
  if (auto err = srv.make(); !err.empty())
    return {0, 0, err};
  if (auto err = cli.make(); !err.empty())
    return {0, 0, err};
  uint16_t port = 0;
  auto lfd = listen_loopback(AF_INET, port);
  if (!lfd)
    return {0, 0, sys_error("listen")};
  clk::time_point done;
  std::string server_problem;
  std::thread server([&] {
    auto fd = accept_one(lfd.get());
    auto ssl = fd ? tls_on(srv.server.get(), fd.get()) : nullptr;
    if (!ssl || SSL_accept(ssl.get()) != 1) {
      server_problem = ssl_error("server handshake");
      return;
    }
    // Reads whole 64 KiB at a time and splits frames as they come, like a
    // length-prefixed pipe.
    std::vector<unsigned char> buf(65536);
    std::vector<unsigned char> pending;
    size_t got = 0;
    while (got < count) {
      int n = SSL_read(ssl.get(), buf.data(), static_cast<int>(buf.size()));
      if (n <= 0) {
        server_problem = ssl_error("read after " + std::to_string(got) + " messages");
        return;
      }
      pending.insert(pending.end(), buf.begin(), buf.begin() + n);
      size_t pos = 0;
      while (pending.size() - pos >= 4) {
        size_t len = (size_t{pending[pos]} << 24) | (size_t{pending[pos + 1]} << 16)
                     | (size_t{pending[pos + 2]} << 8) | size_t{pending[pos + 3]};
        if (len != size) {
          server_problem = "a frame of " + std::to_string(len) + " bytes, not "
                           + std::to_string(size);
          return;
        }
        if (pending.size() - pos - 4 < len)
          break;
        pos += 4 + len;
        ++got;
      }
      pending.erase(pending.begin(), pending.begin() + static_cast<std::ptrdiff_t>(pos));
    }
    done = clk::now();
  });
  auto fd = connect_v4(port);
  auto ssl = fd ? tls_on(cli.client.get(), fd.get()) : nullptr;
  if (!ssl || SSL_connect(ssl.get()) != 1) {
    out.problem = fd ? ssl_error("client handshake") : sys_error("connect");
  } else {
    std::vector<unsigned char> frame(4 + size, 'x');
    frame[0] = static_cast<unsigned char>(size >> 24);
    frame[1] = static_cast<unsigned char>(size >> 16);
    frame[2] = static_cast<unsigned char>(size >> 8);
    frame[3] = static_cast<unsigned char>(size);
    auto t0 = clk::now();
    for (size_t i = 0; i < count; ++i)
      if (SSL_write(ssl.get(), frame.data(), static_cast<int>(frame.size())) <= 0) {
        out.problem = ssl_error("write " + std::to_string(i + 1));
        break;
      }
    server.join();
    if (out.problem.empty())
      out.problem = server_problem;
    if (out.problem.empty()) {
      double s = std::chrono::duration<double>(done - t0).count();
      out.msgs_per_s = static_cast<double>(count) / s;
      out.mb_per_s = static_cast<double>(count * size) / s / 1e6;
    }
    return out;
  }
  // The server waits in accept or in its handshake: end both.
  ssl.reset();
  fd = net::unique_fd{};
  ::shutdown(lfd.get(), SHUT_RDWR);
  server.join();
  return out;
}

} // namespace p2pd::bench
