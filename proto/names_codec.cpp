#include "p2pd/proto/names_codec.hpp"

#include <algorithm>

#include "p2pd/proto/names.pb.h"

namespace p2pd::wire::names {

namespace pb = p2pd::names_wire;

namespace {

using net::errc;

error too_large(const char* what, size_t size) {
  return error{errc::message_too_large, std::string{what} + " of " + std::to_string(size)
                                          + " bytes is above the largest accepted ("
                                          + std::to_string(max_message_bytes) + ")"};
}

void to_pb(const name_record& r, pb::name_record& out) {
  out.set_name(r.name);
  out.set_value(r.value.data(), r.value.size());
  out.set_owner_key(r.owner.data(), r.owner.size());
  out.set_version(r.version);
  out.set_time(r.time);
  out.set_expiry(r.expiry);
  out.set_deleted(r.deleted);
  out.set_signature(r.sig.data(), r.sig.size());
}

result<name_record> from_pb(const pb::name_record& in) {
  name_record r;
  if (in.owner_key().size() != r.owner.size())
    return error{errc::malformed, "an owner key of " + std::to_string(in.owner_key().size())
                                    + " bytes; it must have 32"};
  if (in.signature().size() != r.sig.size())
    return error{errc::malformed, "a signature of " + std::to_string(in.signature().size())
                                    + " bytes; it must have 64"};
  r.name = in.name();
  r.value.assign(in.value().begin(), in.value().end());
  std::copy(in.owner_key().begin(), in.owner_key().end(), r.owner.begin());
  r.version = in.version();
  r.time = in.time();
  r.expiry = in.expiry();
  r.deleted = in.deleted();
  std::copy(in.signature().begin(), in.signature().end(), r.sig.begin());
  return r;
}

result<std::vector<uint8_t>> serialize(const google::protobuf::MessageLite& msg,
                                       const char* what) {
  auto size = msg.ByteSizeLong();
  if (size > max_message_bytes)
    return too_large(what, size);
  std::vector<uint8_t> out(size);
  if (size > 0 && !msg.SerializeToArray(out.data(), static_cast<int>(size)))
    return error{errc::malformed, std::string{"cannot serialize a "} + what};
  return out;
}

error check_versions(uint32_t version, uint32_t min_version, const char* what) {
  if (version == 0 || min_version == 0 || min_version > version)
    return error{errc::malformed, std::string{"a "} + what + " of version "
                                    + std::to_string(version) + " needing "
                                    + std::to_string(min_version)};
  if (min_version > current_version)
    return error{errc::unsupported_version,
                 std::string{"a "} + what + " needs reader version " + std::to_string(min_version)
                   + ", this is version " + std::to_string(current_version)};
  return {};
}

} // namespace

result<std::vector<uint8_t>> encode_request(const request& r) {
  pb::name_request m;
  m.set_version(r.version);
  m.set_min_version(r.min_version);
  m.set_request_id(r.request_id);
  switch (r.op) {
    case op::put:
      if (r.record.deleted)
        return error{errc::invalid_argument, "a put of a deleted record: send it as a del"};
      to_pb(r.record, *m.mutable_put()->mutable_record());
      break;
    case op::del:
      if (!r.record.deleted)
        return error{errc::invalid_argument, "a del of a record not marked deleted"};
      to_pb(r.record, *m.mutable_del()->mutable_record());
      break;
    case op::lookup:
      m.mutable_lookup()->set_name(r.name);
      break;
  }
  return serialize(m, "name request");
}

result<request> decode_request(const uint8_t* data, size_t size) {
  if (size > max_message_bytes)
    return too_large("name request", size);
  pb::name_request m;
  if (!m.ParseFromArray(data, static_cast<int>(size)))
    return error{errc::malformed, "not a name request"};
  if (auto err = check_versions(m.version(), m.min_version(), "name request"))
    return err;
  request r;
  r.version = m.version();
  r.min_version = m.min_version();
  r.request_id = m.request_id();
  switch (m.op_case()) {
    case pb::name_request::kPut:
    case pb::name_request::kDel: {
      bool put = m.op_case() == pb::name_request::kPut;
      const auto& rec = put ? m.put().record() : m.del().record();
      auto parsed = from_pb(rec);
      if (!parsed)
        return parsed.error();
      if (parsed->deleted == put)
        return error{errc::malformed, put ? "a put of a record marked deleted"
                                          : "a del of a record not marked deleted"};
      r.op = put ? op::put : op::del;
      r.record = std::move(*parsed);
      break;
    }
    case pb::name_request::kLookup:
      r.op = op::lookup;
      r.name = m.lookup().name();
      break;
    default:
      return error{errc::malformed, "a name request without an operation"};
  }
  return r;
}

result<request> decode_request(const std::vector<uint8_t>& data) {
  return decode_request(data.data(), data.size());
}

std::optional<uint64_t> peek_request_id(const uint8_t* data, size_t size) {
  if (size > max_message_bytes)
    return std::nullopt;
  pb::name_request m;
  if (!m.ParseFromArray(data, static_cast<int>(size)))
    return std::nullopt;
  return m.request_id();
}

result<std::vector<uint8_t>> encode_response(const response& r) {
  pb::name_response m;
  m.set_version(r.version);
  m.set_min_version(r.min_version);
  m.set_request_id(r.request_id);
  m.set_status(static_cast<pb::name_status>(static_cast<int>(r.code)));
  m.set_detail(r.detail.substr(0, max_detail));
  if (r.record)
    to_pb(*r.record, *m.mutable_record());
  return serialize(m, "name response");
}

result<response> decode_response(const uint8_t* data, size_t size) {
  if (size > max_message_bytes)
    return too_large("name response", size);
  pb::name_response m;
  if (!m.ParseFromArray(data, static_cast<int>(size)))
    return error{errc::malformed, "not a name response"};
  if (auto err = check_versions(m.version(), m.min_version(), "name response"))
    return err;
  response r;
  r.version = m.version();
  r.min_version = m.min_version();
  r.request_id = m.request_id();
  auto code = static_cast<int>(m.status());
  if (code < static_cast<int>(status::ok) || code > static_cast<int>(status::unsupported_version))
    return error{errc::malformed, "a name response of status " + std::to_string(code)};
  r.code = static_cast<status>(code);
  if (m.detail().size() > max_detail)
    return error{errc::malformed, "a detail of " + std::to_string(m.detail().size()) + " bytes"};
  r.detail = m.detail();
  if (m.has_record()) {
    auto parsed = from_pb(m.record());
    if (!parsed)
      return parsed.error();
    r.record = std::move(*parsed);
  }
  return r;
}

result<response> decode_response(const std::vector<uint8_t>& data) {
  return decode_response(data.data(), data.size());
}

} // namespace p2pd::wire::names
