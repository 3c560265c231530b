#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "p2pd/net/error.hpp"
#include "p2pd/net/names/name_record.hpp"
#include "p2pd/net/names/name_rules.hpp"

/// The checked codec of the name service's wire format (names.proto). It
/// checks shapes and sizes, not rules or signatures: a server applies
/// net/names/name_rules.hpp to what it decoded, a client verify_record().
namespace p2pd::wire::names {

using net::error;
using net::result;
using net::names::name_record;
using net::names::status;

/// The protocol version this build writes and reads.
inline constexpr uint32_t current_version = 1;
/// The largest request or response: a record at its limits is about 1.4 KiB.
inline constexpr size_t max_message_bytes = 4096;
/// The longest `detail` a response carries (longer ones are cut).
inline constexpr size_t max_detail = 256;

enum class op : uint8_t { put, del, lookup };

struct request {
  uint32_t version = current_version;
  uint32_t min_version = current_version;
  uint64_t request_id = 0;
  names::op op = op::lookup;
  /// put and del (del: with `deleted` set).
  name_record record;
  /// lookup.
  std::string name;
};

struct response {
  uint32_t version = current_version;
  uint32_t min_version = current_version;
  uint64_t request_id = 0;
  names::status code = status::ok;
  std::string detail;
  /// A lookup's answer.
  std::optional<name_record> record;
};

/// Encodes a request. Errors: errc::message_too_large above
/// max_message_bytes; errc::invalid_argument for a put without a record's
/// key or signature sizes right, a del whose record is not deleted.
result<std::vector<uint8_t>> encode_request(const request& r);

/// Decodes a request. Errors, in this order: errc::message_too_large above
/// max_message_bytes (before parsing); errc::malformed for bytes that do not
/// parse, no operation, a record with a key or signature of the wrong size,
/// a del of a record not marked deleted, a put of one marked deleted;
/// errc::unsupported_version when min_version is above current_version.
result<request> decode_request(const uint8_t* data, size_t size);
result<request> decode_request(const std::vector<uint8_t>& data);

/// The request id of bytes that decode_request refused, when they parse
/// that far: so that a server can answer "malformed" to the right request.
std::optional<uint64_t> peek_request_id(const uint8_t* data, size_t size);

result<std::vector<uint8_t>> encode_response(const response& r);

/// Decodes a response. Errors as decode_request: too large, malformed
/// (unparseable, an unspecified or unknown status, a record of wrong key or
/// signature size), unsupported_version.
result<response> decode_response(const uint8_t* data, size_t size);
result<response> decode_response(const std::vector<uint8_t>& data);

} // namespace p2pd::wire::names
