#include "p2pd/net/names/name_rules.hpp"

#include <algorithm>

#include "p2pd/net/crypto/identity.hpp"

namespace p2pd::net::names {

const char* to_string(status s) {
  switch (s) {
    case status::ok: return "ok";
    case status::not_found: return "not_found";
    case status::taken: return "taken";
    case status::stale_version: return "stale_version";
    case status::stale_time: return "stale_time";
    case status::forged: return "forged";
    case status::invalid: return "invalid";
    case status::too_many_names: return "too_many_names";
    case status::rate_limited: return "rate_limited";
    case status::busy: return "busy";
    case status::internal: return "internal";
    case status::malformed: return "malformed";
    case status::unsupported_version: return "unsupported_version";
  }
  return "unknown";
}

namespace {

bool label_char(char c) {
  return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-';
}

} // namespace

error check_name(std::string_view name) {
  if (name.empty())
    return error{errc::invalid_argument, "an empty name"};
  if (name.size() > max_name)
    return error{errc::invalid_argument, "a name of " + std::to_string(name.size())
                                           + " characters; at most " + std::to_string(max_name)};
  size_t start = 0;
  while (start <= name.size()) {
    auto dot = name.find('.', start);
    auto end = dot == std::string_view::npos ? name.size() : dot;
    auto label = name.substr(start, end - start);
    if (label.empty())
      return error{errc::invalid_argument, "an empty label at offset " + std::to_string(start)};
    if (label.size() > max_label)
      return error{errc::invalid_argument, "a label of " + std::to_string(label.size())
                                             + " characters; at most "
                                             + std::to_string(max_label)};
    for (size_t i = 0; i < label.size(); ++i)
      if (!label_char(label[i]))
        return error{errc::invalid_argument,
                     "character '" + detail::quote_char(label[i]) + "' at offset "
                       + std::to_string(start + i) + "; names take a-z, 0-9, '-' and '.'"};
    if (label.front() == '-' || label.back() == '-')
      return error{errc::invalid_argument, "a label that begins or ends with '-'"};
    if (dot == std::string_view::npos)
      break;
    start = dot + 1;
  }
  return {};
}

verdict check_record(const name_record& r, int64_t now, const rules_config& cfg) {
  if (auto err = check_name(r.name))
    return {status::invalid, err.what};
  if (r.value.size() > max_value)
    return {status::invalid, "a value of " + std::to_string(r.value.size()) + " bytes; at most "
                               + std::to_string(max_value)};
  if (r.expiry < min_expiry_s || r.expiry > max_expiry_s)
    return {status::invalid, "an expiry of " + std::to_string(r.expiry) + " s; it must be in "
                               + std::to_string(min_expiry_s) + ".."
                               + std::to_string(max_expiry_s)};
  if (r.version == 0)
    return {status::invalid, "version 0; versions begin at 1"};
  // Checked before the signature, which costs more; a stale record is one a
  // replayer could not have made fresh without the key anyway.
  if (r.time < now - cfg.max_skew_s || r.time > now + cfg.max_skew_s)
    return {status::stale_time, "a record signed at " + std::to_string(r.time) + ", "
                                  + std::to_string(now - r.time) + " s from the server's clock"
                                  + " (at most " + std::to_string(cfg.max_skew_s) + ")"};
  if (!verify_record(r))
    return {status::forged, "the signature does not check with the owner's key"};
  return {};
}

bool is_live(const name_record& held, int64_t now) {
  return !held.deleted && now < held.expires_at();
}

int64_t tombstone_until(const name_record& t, const rules_config& cfg) {
  return std::max(t.time + cfg.max_skew_s, t.expires_at());
}

bool binds(const name_record& held, int64_t now, const rules_config& cfg) {
  if (held.deleted)
    return now <= tombstone_until(held, cfg);
  return now < held.expires_at();
}

verdict decide_put(const std::optional<name_record>& held, const name_record& incoming,
                   size_t other_names_of_owner, int64_t now, const rules_config& cfg) {
  bool bound = held && binds(*held, now, cfg);
  if (bound && held->owner != incoming.owner) {
    // Another key's tombstone frees the name: only its owner's replays are
    // refused, and those carry its key.
    if (!held->deleted)
      return {status::taken, "'" + incoming.name + "' is held by another key"};
    bound = false;
  }
  if (bound && incoming.version <= held->version)
    return {status::stale_version, "version " + std::to_string(incoming.version)
                                     + " is not above the held " + std::to_string(held->version)};
  if (incoming.deleted) {
    if (!bound || !is_live(*held, now))
      return {status::not_found, "no live record of '" + incoming.name + "' to delete"};
    return {};
  }
  bool renews = bound && is_live(*held, now);
  if (!renews && other_names_of_owner >= cfg.max_names_per_key)
    return {status::too_many_names, "the key holds " + std::to_string(other_names_of_owner)
                                      + " names; at most "
                                      + std::to_string(cfg.max_names_per_key)};
  return {};
}

} // namespace p2pd::net::names
