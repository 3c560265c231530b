#include "p2pd/net/ntp/ntp_packet.hpp"

#include <cstdio>

namespace p2pd::net {

namespace {

uint32_t get32(const uint8_t* p) {
  return (uint32_t{p[0]} << 24) | (uint32_t{p[1]} << 16) | (uint32_t{p[2]} << 8) | p[3];
}

uint64_t get64(const uint8_t* p) {
  return (uint64_t{get32(p)} << 32) | get32(p + 4);
}

void put32(uint8_t* p, uint32_t x) {
  p[0] = static_cast<uint8_t>(x >> 24);
  p[1] = static_cast<uint8_t>(x >> 16);
  p[2] = static_cast<uint8_t>(x >> 8);
  p[3] = static_cast<uint8_t>(x);
}

void put64(uint8_t* p, uint64_t x) {
  put32(p, static_cast<uint32_t>(x >> 32));
  put32(p + 4, static_cast<uint32_t>(x));
}

error refuse_packet(ntp_reject* why, ntp_reject reason, errc code, std::string what) {
  if (why != nullptr)
    *why = reason;
  return error{code, std::move(what)};
}

std::string kiss_meaning(const std::string& code) {
  if (code == "DENY")
    return "access denied";
  if (code == "RSTR")
    return "access restricted";
  if (code == "RATE")
    return "rate exceeded: ask less often";
  if (code == "INIT")
    return "the server has not synchronised yet";
  if (code == "STEP")
    return "the server's clock stepped";
  if (code == "AUTH" || code == "CRYP" || code == "NKEY")
    return "authentication failed";
  return "code unknown to p2pd";
}

} // namespace

const char* to_string(ntp_mode x) {
  switch (x) {
    case ntp_mode::reserved: return "reserved";
    case ntp_mode::symmetric_active: return "symmetric active";
    case ntp_mode::symmetric_passive: return "symmetric passive";
    case ntp_mode::client: return "client";
    case ntp_mode::server: return "server";
    case ntp_mode::broadcast: return "broadcast";
    case ntp_mode::control: return "control";
    case ntp_mode::private_use: return "private";
  }
  return "?";
}

const char* to_string(ntp_reject x) {
  switch (x) {
    case ntp_reject::short_packet: return "short_packet";
    case ntp_reject::bad_length: return "bad_length";
    case ntp_reject::bad_version: return "bad_version";
    case ntp_reject::bad_mode: return "bad_mode";
    case ntp_reject::kiss_of_death: return "kiss_of_death";
    case ntp_reject::unsynchronised: return "unsynchronised";
    case ntp_reject::bad_stratum: return "bad_stratum";
    case ntp_reject::origin_mismatch: return "origin_mismatch";
    case ntp_reject::zero_timestamp: return "zero_timestamp";
    case ntp_reject::bad_timestamps: return "bad_timestamps";
    case ntp_reject::wrong_sender: return "wrong_sender";
  }
  return "?";
}

std::string ntp_packet::reference_text() const {
  char text[5] = {static_cast<char>(reference_id >> 24), static_cast<char>(reference_id >> 16),
                  static_cast<char>(reference_id >> 8), static_cast<char>(reference_id), 0};
  // Codes are upper-case ASCII; a shorter one is padded with NULs.
  size_t len = 4;
  while (len > 0 && text[len - 1] == 0)
    --len;
  bool printable = len > 0;
  for (size_t i = 0; i < len; ++i)
    printable = printable && text[i] >= 0x20 && text[i] < 0x7f;
  if (printable)
    return std::string(text, len);
  char hex[11];
  std::snprintf(hex, sizeof(hex), "0x%08x", reference_id);
  return hex;
}

int64_t ntp_packet::root_distance_ns() const {
  return ntp_short_to_ns(root_delay) / 2 + ntp_short_to_ns(root_dispersion);
}

std::array<uint8_t, ntp_header_size> encode_ntp(const ntp_packet& x) {
  std::array<uint8_t, ntp_header_size> out{};
  out[0] = static_cast<uint8_t>((static_cast<uint8_t>(x.leap) & 3) << 6 | (x.version & 7) << 3
                                | (static_cast<uint8_t>(x.mode) & 7));
  out[1] = x.stratum;
  out[2] = static_cast<uint8_t>(x.poll);
  out[3] = static_cast<uint8_t>(x.precision);
  put32(&out[4], x.root_delay);
  put32(&out[8], x.root_dispersion);
  put32(&out[12], x.reference_id);
  put64(&out[16], x.reference.raw);
  put64(&out[24], x.origin.raw);
  put64(&out[32], x.receive.raw);
  put64(&out[40], x.transmit.raw);
  return out;
}

ntp_packet ntp_request(ntp_timestamp nonce) {
  ntp_packet x;
  x.leap = ntp_leap::none;
  x.version = ntp_version;
  x.mode = ntp_mode::client;
  x.transmit = nonce;
  return x;
}

result<ntp_packet> decode_ntp(const uint8_t* data, size_t size, ntp_reject* why) {
  if (size < ntp_header_size)
    return refuse_packet(why, ntp_reject::short_packet, errc::malformed,
                  "NTP packet of " + std::to_string(size) + " bytes, shorter than the "
                    + std::to_string(ntp_header_size) + "-byte header");
  if (size > ntp_max_size)
    return refuse_packet(why, ntp_reject::bad_length, errc::malformed,
                  "NTP packet of " + std::to_string(size) + " bytes, longer than "
                    + std::to_string(ntp_max_size));
  if (size % 4 != 0)
    return refuse_packet(why, ntp_reject::bad_length, errc::malformed,
                  "NTP packet of " + std::to_string(size)
                    + " bytes: extension fields and MACs come in 32-bit words");
  ntp_packet x;
  x.leap = static_cast<ntp_leap>(data[0] >> 6);
  x.version = static_cast<uint8_t>((data[0] >> 3) & 7);
  x.mode = static_cast<ntp_mode>(data[0] & 7);
  if (x.version < 1 || x.version > 4)
    return refuse_packet(why, ntp_reject::bad_version, errc::malformed,
                  "NTP version " + std::to_string(x.version) + " does not exist (1 to 4 do)");
  x.stratum = data[1];
  x.poll = static_cast<int8_t>(data[2]);
  x.precision = static_cast<int8_t>(data[3]);
  x.root_delay = get32(data + 4);
  x.root_dispersion = get32(data + 8);
  x.reference_id = get32(data + 12);
  x.reference.raw = get64(data + 16);
  x.origin.raw = get64(data + 24);
  x.receive.raw = get64(data + 32);
  x.transmit.raw = get64(data + 40);
  return x;
}

error check_ntp_reply(const ntp_packet& x, ntp_timestamp sent, ntp_reject* why) {
  if (x.mode != ntp_mode::server)
    return refuse_packet(why, ntp_reject::bad_mode, errc::malformed,
                  std::string{"NTP answer in mode "} + to_string(x.mode) + " ("
                    + std::to_string(static_cast<int>(x.mode)) + "), not server (4)");
  if (x.version < 3 || x.version > 4)
    return refuse_packet(why, ntp_reject::bad_version, errc::malformed,
                  "NTP answer of version " + std::to_string(x.version)
                    + " to a version 4 request (3 or 4 expected)");
  // Before anything else is believed: a packet that does not echo our
  // nonce answers no request of ours, and a spoofed kiss-o'-death must not
  // make us drop a server.
  if (x.origin != sent)
    return refuse_packet(why, ntp_reject::origin_mismatch, errc::not_for_us,
                  "NTP answer with origin " + x.origin.to_string()
                    + ", not the transmit timestamp we sent (" + sent.to_string()
                    + "): a late or spoofed answer");
  if (x.stratum == 0) {
    auto code = x.kiss_code();
    return refuse_packet(why, ntp_reject::kiss_of_death, errc::server_refused,
                  "NTP kiss-o'-death " + code + " (stratum 0): " + kiss_meaning(code));
  }
  if (x.leap == ntp_leap::unsynchronised)
    return refuse_packet(why, ntp_reject::unsynchronised, errc::server_refused,
                  "NTP server not synchronised (leap indicator 3, stratum "
                    + std::to_string(x.stratum) + ")");
  if (x.stratum == 16)
    return refuse_packet(why, ntp_reject::unsynchronised, errc::server_refused,
                  "NTP server not synchronised (stratum 16)");
  if (x.stratum > 16)
    return refuse_packet(why, ntp_reject::bad_stratum, errc::malformed,
                  "NTP answer with reserved stratum " + std::to_string(x.stratum));
  if (x.transmit.is_zero())
    return refuse_packet(why, ntp_reject::zero_timestamp, errc::malformed,
                  "NTP answer without a transmit timestamp");
  if (x.receive.is_zero())
    return refuse_packet(why, ntp_reject::zero_timestamp, errc::malformed,
                  "NTP answer without a receive timestamp");
  if (auto d = ntp_diff_ns(x.transmit, x.receive); d < 0)
    return refuse_packet(why, ntp_reject::bad_timestamps, errc::malformed,
                  "NTP answer sent " + std::to_string(-d)
                    + " ns before the request was received");
  return {};
}

result<ntp_packet> decode_ntp_reply(const uint8_t* data, size_t size, ntp_timestamp sent,
                                    ntp_reject* why) {
  auto x = decode_ntp(data, size, why);
  if (!x)
    return x;
  if (auto err = check_ntp_reply(*x, sent, why))
    return err;
  return x;
}

ntp_kiss_action kiss_action(const std::string& code) {
  if (code == "DENY" || code == "RSTR")
    return ntp_kiss_action::stop;
  if (code == "RATE")
    return ntp_kiss_action::slow_down;
  return ntp_kiss_action::skip;
}

} // namespace p2pd::net
