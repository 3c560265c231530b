#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <string>

#include "p2pd/net/error.hpp"
#include "p2pd/net/ntp/ntp_time.hpp"

// The NTP packet (RFC 5905 section 7.3): the 48-byte header a client sends
// and a server answers with. Extension fields and MACs after it are allowed
// in a reply and skipped: p2pd neither sends nor checks them.
//
// decode_ntp() checks the structure only (length, version), so that a test's
// server can read requests with it; decode_ntp_reply() is what a client
// applies to an answer: the structure, then check_ntp_reply()'s rules. Each
// refusal is an error that says what was wrong, and `why` (when given) tells
// which rule refused it, for the client's counters.

namespace p2pd::net {

/// The header; a reply may carry extension fields and a MAC after it.
inline constexpr size_t ntp_header_size = 48;
/// The longest reply read: the header and several extension fields (NTS
/// uses about 1 KiB); anything longer is no answer to our 48 bytes.
inline constexpr size_t ntp_max_size = 1024;
/// The version p2pd sends.
inline constexpr uint8_t ntp_version = 4;
/// The standard port.
inline constexpr uint16_t ntp_port = 123;

/// Leap indicator: whether the last minute of the day has 59 or 61 seconds,
/// or that the server's clock is not synchronised.
enum class ntp_leap : uint8_t { none = 0, add_second = 1, del_second = 2, unsynchronised = 3 };

/// Association mode.
enum class ntp_mode : uint8_t {
  reserved = 0,
  symmetric_active = 1,
  symmetric_passive = 2,
  client = 3,
  server = 4,
  broadcast = 5,
  control = 6,
  private_use = 7,
};

const char* to_string(ntp_mode x);

/// The fields of the header.
struct ntp_packet {
  ntp_leap leap = ntp_leap::none;
  uint8_t version = ntp_version;
  ntp_mode mode = ntp_mode::client;
  /// 1: a primary server (GPS, atomic clock), 2-15: that many hops from
  /// one, 16: unsynchronised; 0: unspecified, or a kiss-o'-death whose code
  /// is in reference_id.
  uint8_t stratum = 0;
  int8_t poll = 0;      ///< log2 of the poll interval in seconds
  int8_t precision = 0; ///< log2 of the server clock's precision in seconds
  uint32_t root_delay = 0;      ///< short format: round trip to the primary source
  uint32_t root_dispersion = 0; ///< short format: error bound to the primary source
  uint32_t reference_id = 0;    ///< the source, or a kiss code (stratum 0)
  ntp_timestamp reference;      ///< when the server's clock was last set
  ntp_timestamp origin;         ///< the client's transmit timestamp, echoed (T1)
  ntp_timestamp receive;        ///< when the server got the request (T2)
  ntp_timestamp transmit;       ///< when the server sent the answer (T3)

  /// The reference id as four ASCII characters ("RATE", "DENY") when they
  /// are printable, else as hex ("0x7f000001").
  std::string reference_text() const;

  /// A kiss-o'-death (stratum 0): its code; empty otherwise.
  std::string kiss_code() const { return stratum == 0 ? reference_text() : std::string{}; }

  /// root_delay / 2 + root_dispersion: how far the server's clock may be
  /// from true time, as the server says (RFC 5905's root distance without
  /// our own leg of the path).
  int64_t root_distance_ns() const;
};

/// The header's 48 bytes, big-endian as on the wire.
std::array<uint8_t, ntp_header_size> encode_ntp(const ntp_packet& x);

/// A client request (version 4, mode client) whose transmit timestamp is
/// `nonce`: a random value (ntp_timestamp::random()) that the server echoes
/// as origin. The time of sending stays with the client.
ntp_packet ntp_request(ntp_timestamp nonce);

/// Why a reply was refused; one counter each in a client's statistics.
enum class ntp_reject : uint8_t {
  short_packet,    ///< fewer than 48 bytes
  bad_length,      ///< more than ntp_max_size, or not a whole number of 32-bit words
  bad_version,     ///< not version 3 or 4 (decode_ntp: not 1-4)
  bad_mode,        ///< not a server's answer (mode 4)
  kiss_of_death,   ///< stratum 0: the server refuses to serve (DENY, RSTR, RATE, ...)
  unsynchronised,  ///< leap indicator 3 or stratum 16: the server does not know the time
  bad_stratum,     ///< a reserved stratum (17-255)
  origin_mismatch, ///< the origin is not the transmit timestamp of a request we sent
  zero_timestamp,  ///< no receive or transmit timestamp
  bad_timestamps,  ///< answered before it received, or a negative round trip
  wrong_sender,    ///< an answer from an address other than the one asked (a client's check)
};

/// How many reasons there are (for counters indexed by reason).
inline constexpr size_t ntp_reject_count = 11;

/// The reason's name, e.g. "kiss_of_death".
const char* to_string(ntp_reject x);

/// The header of `data`, checked for structure only: at least 48 bytes, at
/// most ntp_max_size, a whole number of 32-bit words, version 1-4. Errors
/// are errc::malformed, and say what is wrong.
result<ntp_packet> decode_ntp(const uint8_t* data, size_t size, ntp_reject* why = nullptr);

/// Whether `reply` is a usable answer to the request we sent with transmit
/// timestamp `sent`, in this order (so that nothing is believed of a packet
/// that does not answer our request):
/// - mode server and version 3 or 4 (errc::malformed);
/// - origin == `sent` (errc::not_for_us: a late answer, a spoofed one);
/// - stratum 0: a kiss-o'-death, named by its code (errc::server_refused);
/// - leap indicator 3 or stratum 16: not synchronised (errc::server_refused);
/// - stratum 17-255 (errc::malformed);
/// - a zero receive or transmit timestamp, or a transmit before the receive
///   (errc::malformed).
/// None on success.
error check_ntp_reply(const ntp_packet& reply, ntp_timestamp sent, ntp_reject* why = nullptr);

/// decode_ntp(), then check_ntp_reply().
result<ntp_packet> decode_ntp_reply(const uint8_t* data, size_t size, ntp_timestamp sent,
                                    ntp_reject* why = nullptr);

/// What a client must do after a kiss-o'-death (RFC 5905 section 7.4).
enum class ntp_kiss_action : uint8_t {
  stop,      ///< DENY, RSTR: never ask this server again
  slow_down, ///< RATE: ask this server less often
  skip,      ///< any other code: this answer is no sample
};

ntp_kiss_action kiss_action(const std::string& code);

} // namespace p2pd::net
