#include "p2pd/net/stun/stun_builder.hpp"

#include <cstring>

#include "p2pd/net/stun/detail/stun_detail.hpp"

namespace p2pd::net {

using namespace stun_detail;

namespace {

constexpr size_t max_attrs_len = stun_max_message - stun_header_size;

} // namespace

stun_builder::stun_builder(stun_class c, uint16_t method, const stun_txid& id) {
  buf_.resize(stun_header_size);
  put16(buf_.data(), stun_message_type(c, method));
  if (id.rfc3489()) {
    std::memcpy(buf_.data() + 4, id.data(), 16);
  } else {
    put32(buf_.data() + 4, stun_magic_cookie);
    std::memcpy(buf_.data() + 8, id.data(), 12);
  }
}

stun_builder stun_builder::from(const stun_message& m) {
  stun_builder b(m.cls(), m.method(), m.txid());
  for (auto& a : m.attributes()) {
    if (a.type == stun_attr::message_integrity || a.type == stun_attr::message_integrity_sha256
        || a.type == stun_attr::fingerprint)
      continue;
    b.add_raw(a.type, a.value.data(), a.value.size());
  }
  return b;
}

stun_builder& stun_builder::padding(uint8_t byte) {
  pad_ = byte;
  return *this;
}

void stun_builder::fail(errc code, std::string what) {
  if (!err_)
    err_ = error{code, std::move(what)};
}

void stun_builder::set_length(size_t attrs_len) {
  put16(buf_.data() + 2, static_cast<uint16_t>(attrs_len));
}

void stun_builder::append(uint16_t type, const uint8_t* data, size_t size) {
  if (err_)
    return;
  size_t padded = (size + 3) & ~size_t{3};
  size_t attrs_len = buf_.size() - stun_header_size;
  if (size > 0xFFFF || attrs_len + 4 + padded > max_attrs_len) {
    fail(errc::message_too_large,
         strf("%s of %zu bytes does not fit: a STUN message has at most %zu attribute bytes",
              stun_attr_name(type).c_str(), size, max_attrs_len));
    return;
  }
  size_t at = buf_.size();
  buf_.resize(at + 4 + padded, pad_);
  put16(buf_.data() + at, type);
  put16(buf_.data() + at + 2, static_cast<uint16_t>(size));
  if (size > 0)
    std::memcpy(buf_.data() + at + 4, data, size);
  set_length(buf_.size() - stun_header_size);
}

bool stun_builder::check_order(uint16_t type) {
  if (after_fingerprint_) {
    fail(errc::invalid_argument, stun_attr_name(type) + " after FINGERPRINT, which must be last");
    return false;
  }
  bool allowed_after_mi = type == stun_attr::fingerprint
                          || (type == stun_attr::message_integrity_sha256 && !after_integrity256_);
  if ((after_integrity_ || after_integrity256_) && !allowed_after_mi) {
    fail(errc::invalid_argument,
         stun_attr_name(type) + " after MESSAGE-INTEGRITY would be ignored by the receiver");
    return false;
  }
  return true;
}

stun_builder& stun_builder::add_raw(uint16_t type, const uint8_t* data, size_t size) {
  append(type, data, size);
  return *this;
}

stun_builder& stun_builder::add_raw(uint16_t type, std::string_view bytes) {
  return add_raw(type, reinterpret_cast<const uint8_t*>(bytes.data()), bytes.size());
}

namespace {

// The MAPPED-ADDRESS layout, XORed with the 16 bytes after the length field
// when `key` is given.
std::vector<uint8_t> address_value(const endpoint& ep, const uint8_t* key) {
  size_t n = ep.ip.size();
  std::vector<uint8_t> v(4 + n);
  v[1] = ep.ip.is_v4() ? 1 : 2;
  uint16_t port = ep.port;
  if (key != nullptr)
    port ^= get16(key);
  put16(v.data() + 2, port);
  for (size_t i = 0; i < n; ++i)
    v[4 + i] = static_cast<uint8_t>(ep.ip.bytes()[i] ^ (key != nullptr ? key[i] : 0));
  return v;
}

} // namespace

stun_builder& stun_builder::add_address(uint16_t type, const endpoint& ep) {
  if (check_order(type)) {
    auto v = address_value(ep, nullptr);
    append(type, v.data(), v.size());
  }
  return *this;
}

stun_builder& stun_builder::add_xor_address(uint16_t type, const endpoint& ep) {
  if (check_order(type)) {
    auto v = address_value(ep, xor_key());
    append(type, v.data(), v.size());
  }
  return *this;
}

stun_builder& stun_builder::add_error_code(uint16_t code, std::string_view reason) {
  if (!check_order(stun_attr::error_code))
    return *this;
  if (code < 300 || code > 699) {
    fail(errc::invalid_argument, strf("STUN error code %u is not 300 to 699", code));
    return *this;
  }
  if (reason.size() > stun_max_text || !valid_utf8(reason)) {
    fail(errc::invalid_argument,
         strf("STUN reason phrase of %zu bytes is not UTF-8 of at most %zu bytes", reason.size(),
              stun_max_text));
    return *this;
  }
  std::vector<uint8_t> v(4 + reason.size());
  v[2] = static_cast<uint8_t>(code / 100);
  v[3] = static_cast<uint8_t>(code % 100);
  std::memcpy(v.data() + 4, reason.data(), reason.size());
  append(stun_attr::error_code, v.data(), v.size());
  return *this;
}

stun_builder& stun_builder::add_change_request(stun_change_request flags) {
  if (check_order(stun_attr::change_request)) {
    uint8_t v[4] = {0, 0, 0, 0};
    v[3] = static_cast<uint8_t>((flags.change_ip ? 0x04 : 0) | (flags.change_port ? 0x02 : 0));
    append(stun_attr::change_request, v, sizeof(v));
  }
  return *this;
}

stun_builder& stun_builder::add_unknown_attributes(const std::vector<uint16_t>& types) {
  if (check_order(stun_attr::unknown_attributes)) {
    std::vector<uint8_t> v(types.size() * 2);
    for (size_t i = 0; i < types.size(); ++i)
      put16(v.data() + 2 * i, types[i]);
    append(stun_attr::unknown_attributes, v.data(), v.size());
  }
  return *this;
}

stun_builder& stun_builder::add_text(uint16_t type, std::string_view text) {
  if (!check_order(type))
    return *this;
  auto info = stun_attr_lookup(type);
  if (info != nullptr && info->kind != stun_value_kind::text) {
    fail(errc::invalid_argument, stun_attr_name(type) + " is not a text attribute");
    return *this;
  }
  size_t max = info != nullptr ? info->max_len : 0xFFFF;
  if (text.size() > max || !valid_utf8(text)) {
    fail(errc::invalid_argument, strf("%s of %zu bytes is not UTF-8 of at most %zu bytes",
                                      stun_attr_name(type).c_str(), text.size(), max));
    return *this;
  }
  append(type, reinterpret_cast<const uint8_t*>(text.data()), text.size());
  return *this;
}

stun_builder& stun_builder::add_integrity(const stun_key& key) {
  if (after_integrity_) {
    fail(errc::invalid_argument, "a second MESSAGE-INTEGRITY would be ignored by the receiver");
    return *this;
  }
  if (!check_order(stun_attr::message_integrity) || err_)
    return *this;
  // The HMAC covers the header with the length that includes this attribute.
  size_t attrs_len = buf_.size() - stun_header_size;
  set_length(attrs_len + 24);
  auto mac = stun_hmac_sha1(key, buf_.data(), buf_.size());
  append(stun_attr::message_integrity, mac.data(), mac.size());
  after_integrity_ = true;
  return *this;
}

stun_builder& stun_builder::add_integrity_sha256(const stun_key& key) {
  if (!check_order(stun_attr::message_integrity_sha256) || err_)
    return *this;
  size_t attrs_len = buf_.size() - stun_header_size;
  set_length(attrs_len + 36);
  auto mac = stun_hmac_sha256(key, buf_.data(), buf_.size());
  append(stun_attr::message_integrity_sha256, mac.data(), mac.size());
  after_integrity256_ = true;
  return *this;
}

stun_builder& stun_builder::add_fingerprint() {
  if (!check_order(stun_attr::fingerprint) || err_)
    return *this;
  size_t attrs_len = buf_.size() - stun_header_size;
  set_length(attrs_len + 8);
  uint8_t v[4];
  put32(v, stun_fingerprint(buf_.data(), buf_.size()));
  append(stun_attr::fingerprint, v, sizeof(v));
  after_fingerprint_ = true;
  return *this;
}

result<std::vector<uint8_t>> stun_builder::finish() const {
  if (err_)
    return err_;
  return buf_;
}

} // namespace p2pd::net
