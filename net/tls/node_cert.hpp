#pragma once

#include <memory>

#include "p2pd/net/crypto/identity.hpp"
#include "p2pd/net/error.hpp"

// OpenSSL's name for X509, declared so that this header does not pull in
// <openssl/x509.h>.
struct x509_st;

// Certificates that bind a TLS connection to node identities. A node's
// certificate is self-signed with its Ed25519 key and carries its X25519 key
// in an extension of its own; the peer derives the node id from both keys
// (node_id::of), so a certificate speaks for exactly one node and nobody
// without its Ed25519 key can present it (TLS 1.3's CertificateVerify proves
// the key, the self-signature binds the extension to it). No CA, no names, no
// validity period: what a node trusts is an id it was given, and two nodes
// whose clocks disagree still connect.

namespace p2pd::net {

/// The extension's OID: 2.25.<a random UUID> (ITU-T X.667), ours without a
/// registry. Its value is an OCTET STRING of the 32-byte X25519 key.
inline constexpr const char* node_key_oid = "2.25.84021346696996978455501408331814602400";

struct x509_free {
  void operator()(x509_st* p) const;
};
using x509_ptr = std::unique_ptr<x509_st, x509_free>;

/// The self-signed certificate of `me` (subject: its node id).
/// errc::crypto_failed if OpenSSL refuses.
result<x509_ptr> make_node_certificate(const identity& me);

/// The node keys `cert` binds, checked: an Ed25519 public key, the X25519
/// key extension (exactly 32 bytes), a self-signature that verifies, keys of
/// neither small order nor non-canonical. Errors (errc::tls_verify_failed)
/// say which check failed: "not a node certificate: its key is RSA, not
/// Ed25519".
result<public_keys> node_keys_of(x509_st* cert);

} // namespace p2pd::net
