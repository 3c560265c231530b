#pragma once

// The p2pd(1) manual page, written from the CLI11 app itself (`p2pd --man`),
// so that it lists exactly the commands and options the program takes.

#include <ostream>

#include <CLI/CLI.hpp>

namespace p2pd::cli {

/// Writes the app's manual page in roff (man macros) to `out`: every
/// visible subcommand (nested ones too) with its options and positional
/// arguments, and the exit codes.
void write_man_page(const CLI::App& root, std::ostream& out);

} // namespace p2pd::cli
