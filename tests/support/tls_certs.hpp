#pragma once

#include <memory>
#include <string>

#include "temp_dir.hpp"

// Test certificates made with OpenSSL's C API in a temporary directory
// (removed again with the object). All keys are EC P-256, which both
// TLS 1.2 and 1.3 and every OpenSSL tool accept.

namespace p2pd::test {

/// A certificate file and its private key file (PEM).
struct cert_pair {
  std::string cert;
  std::string key;
};

/// A small PKI for TLS tests.
class tls_test_certs {
public:
  /// Creates the directory and every file below; nullptr and `error` set on
  /// failure.
  static std::unique_ptr<tls_test_certs> make(std::string& error);

  tls_test_certs(const tls_test_certs&) = delete;
  tls_test_certs& operator=(const tls_test_certs&) = delete;

private:
  temp_dir tmp_{"p2pd-tls-"};

public:
  /// The temporary directory holding everything.
  const std::string dir = tmp_.path();
  /// The test CA: self-signed, CN "p2pd test CA". `ca.cert` is the file to trust.
  cert_pair ca;
  /// CN "localhost", subjectAltName DNS:localhost, IP:127.0.0.1, IP:::1;
  /// signed by the CA; serverAuth.
  cert_pair server;
  /// The same names as `server`, but self-signed (no CA vouches for it).
  cert_pair self_signed;
  /// Like `server` and signed by the CA, but it expired yesterday.
  cert_pair expired;
  /// CN "p2pd test client", signed by the CA; clientAuth.
  cert_pair client;
  /// A file that is not PEM at all.
  std::string garbage;

private:
  tls_test_certs() = default;
};

} // namespace p2pd::test
