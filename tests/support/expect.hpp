#pragma once

// The one set of expect macros of every suite. They take what an operation
// returned and, when it failed, print the error's rendered text (gtest alone
// would print "false" or the bytes of the object):
//
//   ASSERT_OK(x), EXPECT_OK(x)
//     x is an error (caf::error, net::error): it must be none;
//     x holds a value or an error (caf::expected<T>, net::result<T>): a value.
//   ASSERT_ERRC(x, code), EXPECT_ERRC(x, code)
//     x is an error, or holds one, with that errc.
//
// Like any gtest assertion they take more text with <<.

#include <string>
#include <type_traits>
#include <utility>

#include <gtest/gtest.h>

#include "caf/fwd.hpp"

#include "p2pd/net/error.hpp"

namespace p2pd {

// Declared in p2pd/messages/errors.hpp (defined in p2pd_core); declared here
// again so that this header needs CAF's forward declarations only: the tests
// of net/ and proto/, which do not link CAF, use the same macros, and only a
// test that passes a caf::error makes these calls.
std::string render(const caf::error& err);
net::errc code_of(const caf::error& err);

namespace test::detail {

/// True for types that hold a value or an error (they have error()).
template <class T, class = void>
struct holds_error : std::false_type {};

template <class T>
struct holds_error<T, std::void_t<decltype(std::declval<const T&>().error())>>
  : std::true_type {};

inline std::string error_text(const net::error& err) {
  return net::to_string(err);
}

inline net::errc error_code(const net::error& err) {
  return err.code;
}

// Templates, so that caf::error need not be complete where no test uses it.
template <class E, class = std::enable_if_t<std::is_same_v<E, caf::error>>>
std::string error_text(const E& err) {
  return ::p2pd::render(err);
}

template <class E, class = std::enable_if_t<std::is_same_v<E, caf::error>>>
net::errc error_code(const E& err) {
  return ::p2pd::code_of(err);
}

} // namespace test::detail

namespace test {

/// The error of `r`, or no error when it holds a value.
template <class T>
net::error error_of(const net::result<T>& r) {
  return r ? net::error{} : r.error();
}

/// For ASSERT_OK / EXPECT_OK.
template <class T>
::testing::AssertionResult check_ok(const char* text, const T& x) {
  if constexpr (detail::holds_error<T>::value) {
    if (static_cast<bool>(x))
      return ::testing::AssertionSuccess();
    return ::testing::AssertionFailure()
           << text << " failed: " << detail::error_text(x.error());
  } else {
    if (!static_cast<bool>(x))
      return ::testing::AssertionSuccess();
    return ::testing::AssertionFailure() << text << " failed: " << detail::error_text(x);
  }
}

/// For ASSERT_ERRC / EXPECT_ERRC.
template <class T>
::testing::AssertionResult check_errc(const char* text, const char* code_text, const T& x,
                                      net::errc want) {
  if constexpr (detail::holds_error<T>::value) {
    if (static_cast<bool>(x))
      return ::testing::AssertionFailure()
             << text << " succeeded, expected the error " << code_text;
    return check_errc(text, code_text, x.error(), want);
  } else {
    // No code to ask an empty caf::error for: CAF 0.17 has no category there.
    if (!static_cast<bool>(x))
      return ::testing::AssertionFailure() << text << " is no error, expected " << code_text;
    if (detail::error_code(x) == want)
      return ::testing::AssertionSuccess();
    return ::testing::AssertionFailure() << text << " is " << detail::error_text(x)
                                         << ", expected " << code_text;
  }
}

} // namespace test

} // namespace p2pd

// A loop that runs its body once on failure, not gtest's if/else: then
// `if (c) EXPECT_OK(x);` needs no braces (GCC's -Wdangling-else sees
// through gtest's own blocker when the macro is not a system header's).
#define P2PD_TEST_CHECK_(result, fail)                                                     \
  for (::testing::AssertionResult p2pd_check_ = (result); !static_cast<bool>(p2pd_check_); \
       p2pd_check_ = ::testing::AssertionSuccess())                                        \
  fail(p2pd_check_.failure_message())

#define ASSERT_OK(x) P2PD_TEST_CHECK_(::p2pd::test::check_ok(#x, x), GTEST_FATAL_FAILURE_)
#define EXPECT_OK(x) P2PD_TEST_CHECK_(::p2pd::test::check_ok(#x, x), GTEST_NONFATAL_FAILURE_)
#define ASSERT_ERRC(x, code)                                                                \
  P2PD_TEST_CHECK_(::p2pd::test::check_errc(#x, #code, x, code), GTEST_FATAL_FAILURE_)
#define EXPECT_ERRC(x, code)                                                                \
  P2PD_TEST_CHECK_(::p2pd::test::check_errc(#x, #code, x, code), GTEST_NONFATAL_FAILURE_)
