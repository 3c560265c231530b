#include "p2pd/net/tls/node_cert.hpp"

#include <openssl/asn1.h>
#include <openssl/evp.h>
#include <openssl/objects.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>

#include "p2pd/net/crypto/key_check.hpp"
#include "p2pd/net/crypto/detail/openssl_util.hpp"
#include "p2pd/net/tls/tls_context.hpp"

namespace p2pd::net {

using namespace detail;

namespace {

struct obj_free {
  void operator()(ASN1_OBJECT* p) const { ASN1_OBJECT_free(p); }
};
struct octets_free {
  void operator()(ASN1_OCTET_STRING* p) const { ASN1_OCTET_STRING_free(p); }
};
struct pkey_free {
  void operator()(EVP_PKEY* p) const { EVP_PKEY_free(p); }
};

std::unique_ptr<ASN1_OBJECT, obj_free> node_key_obj() {
  // 1: numerical form only, no lookup in OpenSSL's table of names.
  return std::unique_ptr<ASN1_OBJECT, obj_free>{OBJ_txt2obj(node_key_oid, 1)};
}

error cert_refused(const std::string& why) {
  take_openssl_errors();
  return error{errc::tls_verify_failed, "not a node certificate: " + why};
}

error crypto(const std::string& what) {
  return error{errc::crypto_failed, what + ": " + take_openssl_errors()};
}

} // namespace

void x509_free::operator()(x509_st* p) const {
  X509_free(p);
}

result<x509_ptr> make_node_certificate(const identity& me) {
  clear_errors_on_exit guard;
  x509_ptr cert{X509_new()};
  auto obj = node_key_obj();
  if (!cert || !obj)
    return crypto("cannot make a node certificate");
  X509* x = cert.get();
  auto id = me.id().to_string();
  auto keys = me.pub();
  X509_NAME* name = X509_get_subject_name(x);
  bool ok = X509_set_version(x, X509_VERSION_3) == 1
            && ASN1_INTEGER_set(X509_get_serialNumber(x), 1) == 1
            // Validity is not checked by peers (see the header); OpenSSL
            // still wants one, so: from the epoch to the end of 9999.
            && ASN1_TIME_set_string_X509(X509_getm_notBefore(x), "19700101000000Z") == 1
            && ASN1_TIME_set_string_X509(X509_getm_notAfter(x), "99991231235959Z") == 1
            && X509_NAME_add_entry_by_NID(name, NID_commonName, MBSTRING_ASC,
                                          reinterpret_cast<const unsigned char*>(id.c_str()),
                                          -1, -1, 0) == 1
            && X509_set_issuer_name(x, name) == 1
            && X509_set_pubkey(x, sign_key_of(me)) == 1;
  if (!ok)
    return crypto("cannot fill in a node certificate");
  std::unique_ptr<ASN1_OCTET_STRING, octets_free> value{ASN1_OCTET_STRING_new()};
  if (!value || ASN1_OCTET_STRING_set(value.get(), keys.agree.data(), 32) != 1)
    return crypto("cannot encode the node's agreement key");
  X509_EXTENSION* ext = X509_EXTENSION_create_by_OBJ(nullptr, obj.get(), 0, value.get());
  if (ext == nullptr)
    return crypto("cannot make the node key extension");
  ok = X509_add_ext(x, ext, -1) == 1;
  X509_EXTENSION_free(ext);
  if (!ok)
    return crypto("cannot add the node key extension");
  // Ed25519 signs the whole message itself: no digest.
  if (X509_sign(x, sign_key_of(me), nullptr) <= 0)
    return crypto("cannot sign the node certificate");
  return cert;
}

result<public_keys> node_keys_of(x509_st* cert) {
  clear_errors_on_exit guard;
  if (cert == nullptr)
    return cert_refused("there is none");
  EVP_PKEY* key = X509_get0_pubkey(cert);
  if (key == nullptr)
    return cert_refused("its public key cannot be read");
  if (EVP_PKEY_get_id(key) != EVP_PKEY_ED25519)
    return cert_refused(std::string{"its key is "} + OBJ_nid2sn(EVP_PKEY_get_id(key))
                   + ", not Ed25519");
  public_keys keys;
  size_t n = keys.sign.size();
  if (EVP_PKEY_get_raw_public_key(key, keys.sign.data(), &n) != 1 || n != keys.sign.size())
    return cert_refused("its Ed25519 key cannot be read");
  auto obj = node_key_obj();
  int at = obj ? X509_get_ext_by_OBJ(cert, obj.get(), -1) : -1;
  if (at < 0)
    return cert_refused("it has no node key extension");
  if (X509_get_ext_by_OBJ(cert, obj.get(), at) >= 0)
    return cert_refused("it has two node key extensions");
  ASN1_OCTET_STRING* value = X509_EXTENSION_get_data(X509_get_ext(cert, at));
  if (value == nullptr || ASN1_STRING_length(value) != 32)
    return cert_refused("its node key extension does not hold 32 bytes");
  std::copy(ASN1_STRING_get0_data(value), ASN1_STRING_get0_data(value) + 32, keys.agree.begin());
  // The self-signature binds the extension to the Ed25519 key.
  if (X509_verify(cert, key) != 1)
    return cert_refused("its self-signature does not verify");
  if (auto err = check_public_keys(keys))
    return cert_refused(err.what);
  return keys;
}

} // namespace p2pd::net
