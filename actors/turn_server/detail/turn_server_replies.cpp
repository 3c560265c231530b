// The TURN server's answers: error and success responses, the long-term
// credentials' check (RFC 8489 §9.2), lifetimes.
#include "p2pd/actors/turn_server/detail/turn_server_replies.hpp"

#include <algorithm>
#include <chrono>

#include "p2pd/net/stun/detail/stun_detail.hpp"

namespace p2pd::actors::turn_srv {

namespace {

const char* reason_of(uint16_t code) {
  switch (code) {
    case 400: return "Bad Request";
    case 401: return "Unauthorized";
    case 403: return "Forbidden";
    case 420: return "Unknown Attribute";
    case 437: return "Allocation Mismatch";
    case 438: return "Stale Nonce";
    case 440: return "Address Family not Supported";
    case 441: return "Wrong Credentials";
    case 442: return "Unsupported Transport Protocol";
    case 443: return "Peer Address Family Mismatch";
    case 446: return "Connection Already Exists"; // RFC 6062
    case 447: return "Connection Timeout or Failure";
    case 486: return "Allocation Quota Reached";
    case 508: return "Insufficient Capacity";
    default: return "Error";
  }
}

void count_error(turn_server_stats& s, uint16_t code) {
  switch (code) {
    case 401: break; // counted where the reason is known
    case 403: ++s.refused_peer; break;
    case 438: ++s.stale_nonce; break;
    case 486: ++s.refused_quota; break;
    case 508: ++s.refused_capacity; break;
    default: ++s.refused_other; break;
  }
}

} // namespace

int64_t ns_of(srv_time t) {
  return std::chrono::duration_cast<std::chrono::nanoseconds>(t.time_since_epoch()).count();
}

bytes as_bytes(const std::vector<uint8_t>& v) {
  return bytes(v.begin(), v.end());
}

void reply_error(server_ptr self, const net::stun_message& req, const client_id& to,
                 uint16_t code, const net::stun_key* key, const std::vector<uint16_t>& unknown) {
  auto& st = self->state;
  count_error(st.stats, code);
  net::stun_builder b{net::stun_class::error, req.method(), req.txid()};
  b.add_error_code(code, reason_of(code));
  if (!unknown.empty())
    b.add_unknown_attributes(unknown);
  if (code == 401 || code == 438) {
    b.add_text(net::stun_attr::realm, st.spec.realm);
    auto expires = self->clock().now() + st.spec.nonce_lifetime;
    b.add_text(net::stun_attr::nonce, st.nonces->mint(to.ep.ip, ns_of(expires)));
  }
  if (!st.spec.software.empty())
    b.add_software(st.spec.software);
  if (key != nullptr)
    b.add_integrity(*key);
  b.add_fingerprint();
  if (auto out = b.finish())
    to_client(self, to, as_bytes(*out));
}

void reply_success(server_ptr self, net::stun_builder& b, const client_id& to,
                   const net::stun_key& key, bytes* keep) {
  auto& st = self->state;
  if (!st.spec.software.empty())
    b.add_software(st.spec.software);
  b.add_integrity(key);
  b.add_fingerprint();
  auto out = b.finish();
  if (!out)
    return;
  auto data = as_bytes(*out);
  if (keep != nullptr)
    *keep = data;
  to_client(self, to, std::move(data));
}

std::optional<credentials> authenticate(server_ptr self, const net::stun_message& m,
                                        const client_id& from) {
  auto& st = self->state;
  if (!m.has_integrity()) {
    ++st.stats.unauthenticated;
    reply_error(self, m, from, 401);
    return std::nullopt;
  }
  auto user = m.username();
  auto realm = m.realm();
  auto nonce = m.nonce();
  if (!user || !realm || !nonce) {
    reply_error(self, m, from, 400);
    return std::nullopt;
  }
  switch (st.nonces->check(*nonce, from.ep.ip, ns_of(self->clock().now()))) {
    case turn_nonces::verdict::ok: break;
    case turn_nonces::verdict::stale:
    case turn_nonces::verdict::forged:
      // A nonce of another server (or a restart of this one) is as good as
      // stale: the client signs again with the one given.
      reply_error(self, m, from, 438);
      return std::nullopt;
  }
  auto pw = st.spec.users.find(*user);
  if (pw == st.spec.users.end() || *realm != st.spec.realm) {
    ++st.stats.auth_failed;
    reply_error(self, m, from, 401);
    return std::nullopt;
  }
  auto key = net::stun_key::long_term(*user, st.spec.realm, pw->second);
  if (!key || !m.integrity_ok(*key)) {
    ++st.stats.auth_failed;
    reply_error(self, m, from, 401);
    return std::nullopt;
  }
  return credentials{*user, std::move(*key)};
}

caf::timespan granted(const turn_server_spec& spec, std::optional<uint32_t> asked_s) {
  caf::timespan want = asked_s ? caf::timespan{std::chrono::seconds(*asked_s)}
                               : spec.default_lifetime;
  auto g = std::max(std::min(want, spec.max_lifetime), spec.default_lifetime);
  return std::min(g, spec.max_lifetime);
}

uint32_t seconds_of(caf::timespan t) {
  auto s = std::chrono::duration_cast<std::chrono::seconds>(t + std::chrono::seconds(1)
                                                            - caf::timespan{1});
  return static_cast<uint32_t>(std::max<int64_t>(1, s.count()));
}

void add_lifetime(net::stun_builder& b, uint32_t s) {
  uint8_t v[4];
  net::stun_detail::put32(v, s);
  b.add_raw(net::stun_attr::lifetime, v, sizeof(v));
}

} // namespace p2pd::actors::turn_srv
