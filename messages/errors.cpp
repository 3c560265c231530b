#include "p2pd/messages/errors.hpp"

#include "caf/message.hpp"
#include "caf/sec.hpp"

namespace p2pd {

caf::error make_error(errc code, std::string what) {
  return caf::error{static_cast<uint8_t>(code), error_category,
                    caf::make_message(std::move(what))};
}

caf::error make_error(const net::error& err) {
  return make_error(err.code, err.what);
}

errc code_of(const caf::error& err) {
  if (err.category() != error_category)
    return errc::none;
  return static_cast<errc>(err.code());
}

std::string what_of(const caf::error& err) {
  if (err.category() != error_category)
    return {};
  auto& ctx = err.context();
  if (ctx.match_elements<std::string>())
    return ctx.get_as<std::string>(0);
  return {};
}

std::string render(const caf::error& err) {
  if (!err)
    return "none";
  if (err.category() == error_category)
    return net::to_string(net::error{code_of(err), what_of(err)});
  return caf::to_string(err);
}

void add_error_category(caf::actor_system_config& cfg) {
  cfg.add_error_category(error_category,
                         [](uint8_t code, caf::atom_value, const caf::message& ctx) {
                           std::string what;
                           if (ctx.match_elements<std::string>())
                             what = ctx.get_as<std::string>(0);
                           return net::to_string(
                             net::error{static_cast<errc>(code), std::move(what)});
                         });
}

} // namespace p2pd
