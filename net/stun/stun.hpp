#pragma once

// The STUN codec: attribute rules (stun_attrs), keys, HMAC and fingerprint
// (stun_auth), decoding and typed accessors (stun_message), encoding
// (stun_builder). CAF-free.

#include "p2pd/net/stun/stun_attrs.hpp"
#include "p2pd/net/stun/stun_auth.hpp"
#include "p2pd/net/stun/stun_builder.hpp"
#include "p2pd/net/stun/stun_message.hpp"
