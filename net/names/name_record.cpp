#include "p2pd/net/names/name_record.hpp"

#include "p2pd/net/util/digits.hpp"

namespace p2pd::net::names {

namespace {

template <class T>
void put_be(std::vector<uint8_t>& out, T x) {
  for (int shift = static_cast<int>(sizeof(T) * 8) - 8; shift >= 0; shift -= 8)
    out.push_back(static_cast<uint8_t>(static_cast<uint64_t>(x) >> shift));
}

} // namespace

std::vector<uint8_t> signed_bytes(const name_record& r) {
  std::vector<uint8_t> out;
  out.reserve(4 + r.name.size() + r.value.size() + r.owner.size() + 8 + 8 + 4 + 1);
  // Lengths as u32 whatever the limits: an oversized record still has one
  // encoding (it is refused by the rules, not by an ambiguity here).
  put_be<uint32_t>(out, static_cast<uint32_t>(r.name.size()));
  out.insert(out.end(), r.name.begin(), r.name.end());
  put_be<uint32_t>(out, static_cast<uint32_t>(r.value.size()));
  out.insert(out.end(), r.value.begin(), r.value.end());
  out.insert(out.end(), r.owner.begin(), r.owner.end());
  put_be<uint64_t>(out, r.version);
  put_be<int64_t>(out, r.time);
  put_be<uint32_t>(out, r.expiry);
  out.push_back(r.deleted ? 1 : 0);
  return out;
}

void sign_record(name_record& r, const identity& me) {
  r.owner = me.pub().sign;
  auto msg = signed_bytes(r);
  r.sig = me.sign(sign_purpose::name_record, byte_view{msg});
}

name_record make_record(const identity& me, std::string name, std::vector<uint8_t> value,
                        uint64_t version, int64_t time, uint32_t expiry, bool deleted) {
  name_record r;
  r.name = std::move(name);
  r.value = std::move(value);
  r.version = version;
  r.time = time;
  r.expiry = expiry;
  r.deleted = deleted;
  sign_record(r, me);
  return r;
}

bool verify_record(const name_record& r) {
  auto msg = signed_bytes(r);
  return verify(sign_purpose::name_record, r.owner, byte_view{msg}, r.sig);
}

result<std::vector<uint8_t>> from_hex(std::string_view text) {
  if (text.size() % 2 != 0)
    return error{errc::malformed, "hex of odd length " + std::to_string(text.size())};
  std::vector<uint8_t> out;
  out.reserve(text.size() / 2);
  for (size_t i = 0; i < text.size(); i += 2) {
    int hi = hex_digit(text[i]);
    int lo = hex_digit(text[i + 1]);
    if (hi < 0 || lo < 0)
      return error{errc::malformed, "not hex at offset " + std::to_string(i)};
    out.push_back(static_cast<uint8_t>(hi * 16 + lo));
  }
  return out;
}

} // namespace p2pd::net::names
