#pragma once

// The main() of a fuzz target built without libFuzzer (the *_corpus tests):
// it feeds the target every file named, or every file in every directory
// named, so that the target always compiles and its seeds always pass under
// the project's compiler and sanitizers. A run that fed nothing fails.
// Built with libFuzzer (P2PD_LIBFUZZER), libFuzzer brings its own main().
//
// With "--seeds <dir>" first, a target that defines p2pd_fuzz_write_seeds()
// writes its generated seeds to <dir> instead (see tests/fuzz/README.md).

#include <cstdint>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <string>
#include <vector>

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size);

namespace p2pd::fuzz {

[[noreturn]] inline void broken(const char* target, const char* what) {
  std::fprintf(stderr, "%s: invariant broken: %s\n", target, what);
  std::abort();
}

/// Writes `bytes` to `dir`/`name` (for the seed generators).
inline void write_seed(const std::string& dir, const std::string& name,
                       const std::vector<uint8_t>& bytes) {
  std::filesystem::create_directories(dir);
  std::ofstream out(dir + "/" + name, std::ios::binary | std::ios::trunc);
  out.write(reinterpret_cast<const char*>(bytes.data()), static_cast<std::streamsize>(bytes.size()));
}

inline int run_corpus(const char* target, int argc, char** argv) {
  namespace fs = std::filesystem;
  size_t n = 0;
  // A path that cannot be read must fail the run: read as empty input, a
  // renamed or misspelled corpus would pass as one seed.
  auto run = [&](const fs::path& p) {
    std::ifstream in(p, std::ios::binary);
    if (!fs::is_regular_file(p) || !in) {
      std::fprintf(stderr, "%s: cannot read %s\n", target, p.c_str());
      return false;
    }
    std::vector<uint8_t> bytes((std::istreambuf_iterator<char>(in)),
                               std::istreambuf_iterator<char>());
    if (in.bad()) {
      std::fprintf(stderr, "%s: cannot read %s\n", target, p.c_str());
      return false;
    }
    LLVMFuzzerTestOneInput(bytes.data(), bytes.size());
    ++n;
    return true;
  };
  for (int i = 1; i < argc; ++i) {
    if (fs::is_directory(argv[i])) {
      for (auto& e : fs::directory_iterator(argv[i]))
        if (e.is_regular_file() && !run(e.path()))
          return 1;
    } else if (!run(argv[i])) {
      return 1;
    }
  }
  if (n == 0) {
    std::fprintf(stderr, "%s: no input was run: an empty or missing corpus\n", target);
    return 1;
  }
  std::printf("%s: %zu inputs, no invariant broken\n", target, n);
  return 0;
}

} // namespace p2pd::fuzz

#ifndef P2PD_LIBFUZZER
#  define P2PD_FUZZ_MAIN(target)                                                         \
    int main(int argc, char** argv) { return p2pd::fuzz::run_corpus(target, argc, argv); }
#  define P2PD_FUZZ_MAIN_WITH_SEEDS(target, write_seeds)                                  \
    int main(int argc, char** argv) {                                                     \
      if (argc == 3 && std::strcmp(argv[1], "--seeds") == 0) {                            \
        write_seeds(std::string{argv[2]});                                                \
        return 0;                                                                         \
      }                                                                                   \
      return p2pd::fuzz::run_corpus(target, argc, argv);                                  \
    }
#else
#  define P2PD_FUZZ_MAIN(target)
// libFuzzer's main() writes no seeds; the generator stays compiled (and so
// checked), marked as used.
#  define P2PD_FUZZ_MAIN_WITH_SEEDS(target, write_seeds)                                  \
    [[maybe_unused]] static auto* const p2pd_fuzz_seed_writer = &write_seeds;
#endif
