#include "tls_certs.hpp"

#include <fstream>

#include <openssl/bio.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>

namespace p2pd::test {

namespace {

struct pkey_free {
  void operator()(EVP_PKEY* p) const { EVP_PKEY_free(p); }
};
struct x509_free {
  void operator()(X509* p) const { X509_free(p); }
};
using pkey_ptr = std::unique_ptr<EVP_PKEY, pkey_free>;
using x509_ptr = std::unique_ptr<X509, x509_free>;

// Thrown inside this file only: make() turns it into its error string.
struct cert_error {
  std::string what;
};

[[noreturn]] void fail(const std::string& what) {
  char buf[256] = "no OpenSSL error";
  if (unsigned long e = ERR_get_error())
    ERR_error_string_n(e, buf, sizeof buf);
  ERR_clear_error();
  throw cert_error{what + ": " + buf};
}

pkey_ptr new_key() {
  pkey_ptr key{EVP_PKEY_Q_keygen(nullptr, nullptr, "EC", "P-256")};
  if (!key)
    fail("EC key generation");
  return key;
}

void add_ext(X509* cert, X509* issuer, int nid, const char* value) {
  X509V3_CTX ctx;
  X509V3_set_ctx(&ctx, issuer, cert, nullptr, nullptr, 0);
  X509_EXTENSION* ext = X509V3_EXT_nconf_nid(nullptr, &ctx, nid, value);
  if (ext == nullptr)
    fail(std::string{"extension "} + value);
  int ok = X509_add_ext(cert, ext, -1);
  X509_EXTENSION_free(ext);
  if (ok != 1)
    fail(std::string{"adding extension "} + value);
}

struct cert_spec {
  std::string cn;
  bool ca = false;
  const char* san = nullptr; // subjectAltName, e.g. "DNS:localhost"
  const char* eku = nullptr; // extendedKeyUsage
  long not_before = -3600;   // seconds from now
  long not_after = 86400;
};

// A certificate for `key`, signed by `issuer_key` as `issuer` (itself if
// `issuer` is null: self-signed).
x509_ptr make_cert(const cert_spec& spec, EVP_PKEY* key, X509* issuer, EVP_PKEY* issuer_key) {
  static long serial = 1;
  x509_ptr cert{X509_new()};
  if (!cert)
    fail("X509_new");
  X509* x = cert.get();
  X509_set_version(x, X509_VERSION_3);
  ASN1_INTEGER_set(X509_get_serialNumber(x), serial++);
  X509_gmtime_adj(X509_getm_notBefore(x), spec.not_before);
  X509_gmtime_adj(X509_getm_notAfter(x), spec.not_after);
  X509_NAME* name = X509_get_subject_name(x);
  X509_NAME_add_entry_by_txt(name, "O", MBSTRING_ASC,
                             reinterpret_cast<const unsigned char*>("p2pd tests"), -1, -1, 0);
  X509_NAME_add_entry_by_txt(name, "CN", MBSTRING_ASC,
                             reinterpret_cast<const unsigned char*>(spec.cn.c_str()), -1, -1,
                             0);
  X509_set_issuer_name(x, issuer != nullptr ? X509_get_subject_name(issuer) : name);
  if (X509_set_pubkey(x, key) != 1)
    fail("X509_set_pubkey");
  X509* signer = issuer != nullptr ? issuer : x;
  if (spec.ca) {
    add_ext(x, signer, NID_basic_constraints, "critical,CA:TRUE");
    add_ext(x, signer, NID_key_usage, "critical,keyCertSign,cRLSign");
  } else {
    add_ext(x, signer, NID_basic_constraints, "critical,CA:FALSE");
    add_ext(x, signer, NID_key_usage, "critical,digitalSignature");
  }
  add_ext(x, signer, NID_subject_key_identifier, "hash");
  if (issuer != nullptr)
    add_ext(x, signer, NID_authority_key_identifier, "keyid:always");
  if (spec.san != nullptr)
    add_ext(x, signer, NID_subject_alt_name, spec.san);
  if (spec.eku != nullptr)
    add_ext(x, signer, NID_ext_key_usage, spec.eku);
  if (X509_sign(x, issuer_key, EVP_sha256()) == 0)
    fail("X509_sign");
  return cert;
}

void write_pair(const std::string& base, X509* cert, EVP_PKEY* key, cert_pair& out) {
  out.cert = base + ".crt";
  out.key = base + ".key";
  BIO* bio = BIO_new_file(out.cert.c_str(), "w");
  if (bio == nullptr || PEM_write_bio_X509(bio, cert) != 1) {
    BIO_free(bio);
    fail("writing " + out.cert);
  }
  BIO_free(bio);
  bio = BIO_new_file(out.key.c_str(), "w");
  if (bio == nullptr
      || PEM_write_bio_PrivateKey(bio, key, nullptr, nullptr, 0, nullptr, nullptr) != 1) {
    BIO_free(bio);
    fail("writing " + out.key);
  }
  BIO_free(bio);
}

const char* const server_names = "DNS:localhost,IP:127.0.0.1,IP:::1";

} // namespace

std::unique_ptr<tls_test_certs> tls_test_certs::make(std::string& error) {
  std::unique_ptr<tls_test_certs> out{new tls_test_certs};
  if (out->dir.empty()) {
    error = "cannot create a temporary directory";
    return nullptr;
  }
  try {
    auto ca_key = new_key();
    auto ca_cert = make_cert({"p2pd test CA", true}, ca_key.get(), nullptr, ca_key.get());
    write_pair(out->dir + "/ca", ca_cert.get(), ca_key.get(), out->ca);

    cert_spec server{"localhost", false, server_names, "serverAuth"};
    auto key = new_key();
    auto cert = make_cert(server, key.get(), ca_cert.get(), ca_key.get());
    write_pair(out->dir + "/server", cert.get(), key.get(), out->server);

    key = new_key();
    cert = make_cert(server, key.get(), nullptr, key.get());
    write_pair(out->dir + "/self_signed", cert.get(), key.get(), out->self_signed);

    cert_spec expired = server;
    expired.not_before = -2 * 86400;
    expired.not_after = -86400;
    key = new_key();
    cert = make_cert(expired, key.get(), ca_cert.get(), ca_key.get());
    write_pair(out->dir + "/expired", cert.get(), key.get(), out->expired);

    cert_spec client{"p2pd test client", false, nullptr, "clientAuth"};
    key = new_key();
    cert = make_cert(client, key.get(), ca_cert.get(), ca_key.get());
    write_pair(out->dir + "/client", cert.get(), key.get(), out->client);
  } catch (const cert_error& e) {
    error = e.what;
    return nullptr; // the temp_dir goes with the object
  }
  out->garbage = out->dir + "/garbage.pem";
  std::ofstream{out->garbage} << "this is not a certificate\n";
  return out;
}

} // namespace p2pd::test
