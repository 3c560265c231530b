#pragma once

#include <memory>

#include <gtest/gtest.h>

#include "support/expect.hpp"

#include "p2pd/net/crypto/identity.hpp"
#include "p2pd/net/tls/tls_context.hpp"

namespace p2pd::test {

/// A node's TLS context (its identity's certificate, peers verified by key)
/// for the pipe tests; nullptr, and the test failed, when it cannot be made.
inline std::shared_ptr<net::tls_context> node_ctx(const net::identity& me, bool server) {
  auto ctx = net::tls_context::make_node(me, server);
  EXPECT_OK(ctx);
  return ctx ? *ctx : nullptr;
}

} // namespace p2pd::test
