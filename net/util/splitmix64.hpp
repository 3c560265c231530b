#pragma once

#include <cstdint>

namespace p2pd::net {

/// splitmix64: a seeded, deterministic sequence for choices that need no
/// secrecy (sample and predicted ports, a spray's probes; the simulation's
/// draws, where the same seed must replay the same run). Splits give each
/// NAT or host a sequence of its own, so that adding one does not shift the
/// others' draws.
class splitmix64 {
public:
  explicit splitmix64(uint64_t seed = 0) : state_(seed) {}

  uint64_t next() {
    uint64_t z = (state_ += 0x9e3779b97f4a7c15ULL);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
    return z ^ (z >> 31);
  }

  /// Uniform in [lo, hi] (inclusive); the modulo bias is below 2^-47 for
  /// spans of ports, far below what a test could see.
  uint64_t between(uint64_t lo, uint64_t hi) { return lo + next() % (hi - lo + 1); }

  /// A generator of its own, seeded from this one.
  splitmix64 split() { return splitmix64{next()}; }

private:
  uint64_t state_;
};

} // namespace p2pd::net
