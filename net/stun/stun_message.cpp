#include "p2pd/net/stun/stun_message.hpp"

#include <openssl/rand.h>

#include <algorithm>
#include <bitset>
#include <cstdarg>
#include <cstdio>
#include <cstring>
#include <memory>

#include "p2pd/net/stun/detail/stun_detail.hpp"

namespace p2pd::net {

using namespace stun_detail;

std::string stun_detail::strf(const char* fmt, ...) {
  char buf[256];
  va_list ap;
  va_start(ap, fmt);
  int n = std::vsnprintf(buf, sizeof(buf), fmt, ap);
  va_end(ap);
  return n < 0 ? std::string() : std::string(buf, std::min<size_t>(n, sizeof(buf) - 1));
}

// --- header pieces -------------------------------------------------------------

const char* to_string(stun_class x) {
  switch (x) {
    case stun_class::request: return "request";
    case stun_class::indication: return "indication";
    case stun_class::success: return "success";
    case stun_class::error: return "error";
  }
  return "unknown";
}

uint16_t stun_message_type(stun_class c, uint16_t method) {
  // RFC 8489 §5: M11..M7 C1 M6..M4 C0 M3..M0.
  auto m = static_cast<unsigned>(method & 0x0FFF);
  auto k = static_cast<unsigned>(c);
  return static_cast<uint16_t>((m & 0x000F) | ((m & 0x0070) << 1) | ((m & 0x0F80) << 2)
                               | ((k & 1) << 4) | ((k & 2) << 7));
}

stun_txid stun_txid::random(bool rfc3489) {
  stun_txid id;
  id.rfc3489_ = rfc3489;
  // RAND_bytes fails only without an entropy source; then nothing is safe and
  // an id that cannot be guessed cannot be made either.
  if (RAND_bytes(id.bytes_.data(), static_cast<int>(id.size())) != 1)
    std::abort();
  return id;
}

result<stun_txid> stun_txid::from_bytes(const uint8_t* data, size_t size) {
  if (size != 12 && size != 16)
    return error{errc::invalid_argument,
                 strf("a STUN transaction id has 12 or 16 bytes, not %zu", size)};
  stun_txid id;
  id.rfc3489_ = size == 16;
  std::memcpy(id.bytes_.data(), data, size);
  return id;
}

std::string stun_txid::to_string() const {
  static const char* hex = "0123456789abcdef";
  std::string out;
  for (size_t i = 0; i < size(); ++i) {
    out += hex[bytes_[i] >> 4];
    out += hex[bytes_[i] & 15];
  }
  return out;
}

std::optional<size_t> stun_message_size(const uint8_t* data, size_t size) {
  if (size < stun_header_size)
    return std::nullopt;
  return stun_header_size + get16(data + 2);
}

// --- values ----------------------------------------------------------------------

result<endpoint> decode_stun_address(const uint8_t* v, size_t n, const uint8_t* xor_key) {
  if (n < 4)
    return error{errc::malformed, strf("address value of %zu bytes is shorter than 4", n)};
  // v[0] is reserved: RFC 8489 says to ignore it.
  uint8_t fam = v[1];
  size_t want = fam == 1 ? 8 : fam == 2 ? 20 : 0;
  if (want == 0)
    return error{errc::malformed, strf("address family %u is neither 1 (IPv4) nor 2 (IPv6)", fam)};
  if (n != want)
    return error{errc::malformed, strf("an %s address value has %zu bytes, not %zu",
                                       fam == 1 ? "IPv4" : "IPv6", n, want)};
  uint16_t port = get16(v + 2);
  uint8_t addr[16];
  std::memcpy(addr, v + 4, want - 4);
  if (xor_key != nullptr) {
    port ^= get16(xor_key);
    for (size_t i = 0; i < want - 4; ++i)
      addr[i] ^= xor_key[i];
  }
  if (fam == 1)
    return endpoint{ip_address::v4_bytes(addr), port};
  ip_address::bytes_type b;
  std::memcpy(b.data(), addr, 16);
  return endpoint{ip_address::v6(b), port};
}

namespace {

// The 16 bytes after the length field, which XOR addresses are XORed with.
std::array<uint8_t, 16> xor_key_of(const stun_txid& id) {
  std::array<uint8_t, 16> key{};
  if (id.rfc3489()) {
    std::memcpy(key.data(), id.data(), 16);
  } else {
    put32(key.data(), stun_magic_cookie);
    std::memcpy(key.data() + 4, id.data(), 12);
  }
  return key;
}

// Checks a known attribute's value; the error says what is wrong, the caller
// adds where.
error check_value(const stun_attr_info& info, const uint8_t* v, size_t n) {
  if (n < info.min_len || n > info.max_len) {
    if (info.min_len == info.max_len)
      return error{errc::malformed, strf("has %zu bytes, must have %u", n, info.min_len)};
    return error{errc::malformed,
                 strf("has %zu bytes, must have %u to %u", n, info.min_len, info.max_len)};
  }
  if (n % info.len_step != 0)
    return error{errc::malformed,
                 strf("has %zu bytes, not a multiple of %u", n, info.len_step)};
  switch (info.kind) {
    case stun_value_kind::address:
    case stun_value_kind::xor_address: {
      // The XOR key does not change whether an address is well-formed.
      auto ep = decode_stun_address(v, n, nullptr);
      if (!ep)
        return ep.error();
      break;
    }
    case stun_value_kind::text:
      if (!valid_utf8({reinterpret_cast<const char*>(v), n}))
        return error{errc::malformed, "is not valid UTF-8"};
      break;
    case stun_value_kind::error_code: {
      unsigned cls = v[2] & 7;
      unsigned num = v[3];
      if (cls < 3 || cls > 6)
        return error{errc::malformed, strf("has class %u, not 3 to 6", cls)};
      if (num > 99)
        return error{errc::malformed, strf("has number %u, not 0 to 99", num)};
      if (!valid_utf8({reinterpret_cast<const char*>(v + 4), n - 4}))
        return error{errc::malformed, "has a reason phrase that is not valid UTF-8"};
      break;
    }
    case stun_value_kind::opaque:
    case stun_value_kind::type_list:
      break;
  }
  return {};
}

} // namespace

// --- decoding --------------------------------------------------------------------

result<stun_message> decode_stun(const uint8_t* data, size_t size,
                                 const stun_decode_options& opts) {
  auto bad = [](std::string what) { return error{errc::malformed, std::move(what)}; };
  if (size > opts.max_size)
    return error{errc::message_too_large,
                 strf("STUN message of %zu bytes is over the limit of %zu", size, opts.max_size)};
  if (size < stun_header_size)
    return bad(strf("STUN message of %zu bytes is shorter than the 20-byte header", size));
  uint16_t type = get16(data);
  if (type & 0xC000)
    return bad(strf("STUN message type 0x%04x has a top bit set: not STUN", type));
  size_t len = get16(data + 2);
  if (len % 4 != 0)
    return bad(strf("STUN length field %zu is not a multiple of 4", len));
  if (len != size - stun_header_size)
    return bad(strf("STUN length field says %zu bytes follow the header, %zu do", len,
                    size - stun_header_size));
  stun_message m;
  uint32_t cookie = get32(data + 4);
  if (cookie == stun_magic_cookie) {
    m.txid_ = *stun_txid::from_bytes(data + 8, 12);
  } else if (opts.allow_rfc3489) {
    m.txid_ = *stun_txid::from_bytes(data + 4, 16);
  } else {
    return bad(strf("STUN magic cookie is 0x%08x, not 0x%08x (an RFC 3489 message?)", cookie,
                    stun_magic_cookie));
  }
  if (opts.expect_txid && *opts.expect_txid != m.txid_)
    return bad("STUN transaction id " + m.txid_.to_string() + " is not the expected "
               + opts.expect_txid->to_string());
  m.method_ = static_cast<uint16_t>((type & 0x000F) | ((type & 0x00E0) >> 1)
                                    | ((type & 0x3E00) >> 2));
  m.class_ = static_cast<stun_class>(((type >> 4) & 1) | ((type >> 7) & 2));

  // 8 KiB on the heap rather than the stack: which types came already, for
  // "only the first counts" and listing unknown types once.
  auto seen = std::make_unique<std::bitset<65536>>();
  bool after_mi = false;
  bool after_mi256 = false;
  size_t fp_offset = 0;
  size_t off = stun_header_size;
  while (off < size) {
    size_t remain = size - off;
    if (remain < 4) // cannot happen with both multiples of 4; checked anyway
      return bad(strf("attribute header at offset %zu needs 4 bytes, %zu remain", off, remain));
    uint16_t t = get16(data + off);
    size_t n = get16(data + off + 2);
    size_t padded = (n + 3) & ~size_t{3};
    if (padded > remain - 4) {
      if (padded != n)
        return bad(strf("%s at offset %zu claims %zu bytes (%zu padded), %zu remain",
                        stun_attr_name(t).c_str(), off, n, padded, remain - 4));
      return bad(strf("%s at offset %zu claims %zu bytes, %zu remain",
                      stun_attr_name(t).c_str(), off, n, remain - 4));
    }
    if (fp_offset != 0)
      return bad(strf("FINGERPRINT at offset %zu is not the last attribute: %s follows at "
                      "offset %zu",
                      fp_offset, stun_attr_name(t).c_str(), off));
    const uint8_t* v = data + off + 4;
    size_t at = off;
    off += 4 + padded;
    // RFC 8489 §14.5, §14.6: what follows the integrity attributes is ignored.
    bool ignored = t != stun_attr::fingerprint
                   && (after_mi256 || (after_mi && t != stun_attr::message_integrity_sha256));
    if (ignored)
      continue;
    bool first = !seen->test(t);
    seen->set(t);
    auto info = stun_attr_lookup(t);
    if (info != nullptr && (first || t == stun_attr::fingerprint)) {
      if (auto err = check_value(*info, v, n))
        return bad(stun_attr_name(t) + strf(" at offset %zu ", at) + err.what);
    } else if (info == nullptr && first && stun_comprehension_required(t)) {
      m.unknown_.push_back(t);
    }
    if (t == stun_attr::message_integrity) {
      after_mi = true;
      m.mi_offset_ = at;
    } else if (t == stun_attr::message_integrity_sha256) {
      after_mi256 = true;
      m.mi256_offset_ = at;
    } else if (t == stun_attr::fingerprint) {
      fp_offset = at;
      m.has_fingerprint_ = true;
    }
    m.attrs_.push_back(stun_attribute{t, std::vector<uint8_t>(v, v + n)});
  }
  if (fp_offset != 0) {
    // FINGERPRINT is last, so the length field already covers it as the CRC
    // wants (RFC 8489 §14.7).
    uint32_t want = stun_fingerprint(data, fp_offset);
    uint32_t got = get32(data + fp_offset + 4);
    if (want != got)
      return bad(strf("FINGERPRINT at offset %zu is 0x%08x, the message's is 0x%08x", fp_offset,
                      got, want));
  }
  m.raw_.assign(data, data + size);
  return m;
}

// --- accessors -------------------------------------------------------------------

const stun_attribute* stun_message::find(uint16_t type) const {
  for (auto& a : attrs_)
    if (a.type == type)
      return &a;
  return nullptr;
}

std::optional<endpoint> stun_message::address(uint16_t type) const {
  auto info = stun_attr_lookup(type);
  if (info == nullptr
      || (info->kind != stun_value_kind::address && info->kind != stun_value_kind::xor_address))
    return std::nullopt;
  auto a = find(type);
  if (a == nullptr)
    return std::nullopt;
  auto key = xor_key_of(txid_);
  auto ep = decode_stun_address(a->value.data(), a->value.size(),
                                info->kind == stun_value_kind::xor_address ? key.data() : nullptr);
  if (!ep)
    return std::nullopt;
  return *ep;
}

std::optional<endpoint> stun_message::mapped_address() const {
  return address(stun_attr::mapped_address);
}

std::optional<endpoint> stun_message::xor_mapped_address() const {
  if (find(stun_attr::xor_mapped_address) != nullptr)
    return address(stun_attr::xor_mapped_address);
  return address(stun_attr::xor_mapped_address_legacy);
}

std::optional<endpoint> stun_message::response_origin() const {
  return address(stun_attr::response_origin);
}

std::optional<endpoint> stun_message::other_address() const {
  return address(stun_attr::other_address);
}

std::optional<endpoint> stun_message::changed_address() const {
  return address(stun_attr::changed_address);
}

std::optional<endpoint> stun_message::source_address() const {
  return address(stun_attr::source_address);
}

std::vector<endpoint> stun_message::addresses(uint16_t type) const {
  std::vector<endpoint> out;
  auto info = stun_attr_lookup(type);
  if (info == nullptr
      || (info->kind != stun_value_kind::address && info->kind != stun_value_kind::xor_address))
    return out;
  auto key = xor_key_of(txid_);
  for (auto& a : attrs_) {
    if (a.type != type)
      continue;
    auto ep = decode_stun_address(a.value.data(), a.value.size(),
                                  info->kind == stun_value_kind::xor_address ? key.data() : nullptr);
    if (ep)
      out.push_back(*ep);
  }
  return out;
}

std::optional<stun_error_code> stun_message::error_code() const {
  auto a = find(stun_attr::error_code);
  if (a == nullptr)
    return std::nullopt;
  // Built messages were not checked by decode_stun: check again.
  if (check_value(*stun_attr_lookup(stun_attr::error_code), a->value.data(), a->value.size()))
    return std::nullopt;
  auto& v = a->value;
  stun_error_code out;
  out.code = static_cast<uint16_t>((v[2] & 7) * 100 + v[3]);
  out.reason.assign(v.begin() + 4, v.end());
  return out;
}

std::optional<stun_change_request> stun_message::change_request() const {
  auto a = find(stun_attr::change_request);
  if (a == nullptr || a->value.size() != 4)
    return std::nullopt;
  return stun_change_request{(a->value[3] & 0x04) != 0, (a->value[3] & 0x02) != 0};
}

namespace {

std::optional<std::string> text_of(const stun_message& m, uint16_t type) {
  auto a = m.find(type);
  if (a == nullptr)
    return std::nullopt;
  return std::string(a->value.begin(), a->value.end());
}

} // namespace

std::optional<std::string> stun_message::software() const {
  return text_of(*this, stun_attr::software);
}

std::optional<std::string> stun_message::username() const {
  return text_of(*this, stun_attr::username);
}

std::optional<std::string> stun_message::realm() const {
  return text_of(*this, stun_attr::realm);
}

std::optional<std::string> stun_message::nonce() const {
  return text_of(*this, stun_attr::nonce);
}

std::vector<uint16_t> stun_message::unknown_attributes() const {
  std::vector<uint16_t> out;
  if (auto a = find(stun_attr::unknown_attributes))
    for (size_t i = 0; i + 1 < a->value.size(); i += 2)
      out.push_back(get16(a->value.data() + i));
  return out;
}

// --- integrity -------------------------------------------------------------------

bool stun_message::integrity_ok(const stun_key& key) const {
  if (!has_integrity() || raw_.empty())
    return false;
  // The HMAC covers the message up to the attribute, with the length field
  // set as if the attribute ended the message (RFC 8489 §14.5).
  auto check = [&](size_t at, bool sha256) {
    size_t n = get16(raw_.data() + at + 2);
    std::vector<uint8_t> text(raw_.begin(), raw_.begin() + at);
    put16(text.data() + 2, static_cast<uint16_t>(at + 4 + n - stun_header_size));
    const uint8_t* got = raw_.data() + at + 4;
    if (sha256) {
      auto mac = stun_hmac_sha256(key, text.data(), text.size());
      return stun_equal_ct(mac.data(), got, n);
    }
    auto mac = stun_hmac_sha1(key, text.data(), text.size());
    return stun_equal_ct(mac.data(), got, mac.size());
  };
  if (mi_offset_ != npos && !check(mi_offset_, false))
    return false;
  if (mi256_offset_ != npos && !check(mi256_offset_, true))
    return false;
  return true;
}

} // namespace p2pd::net
