#pragma once

// Reads stdin on a thread of its own and sends what it read to an actor,
// a chunk at a time, never more than `credits` chunks ahead of what the
// actor said it consumed (the queue between them stays bounded). No actor
// blocks on stdin: the thread polls it every 100 ms so that its destructor
// can end it, and reads only when poll says there is something (or EOF).

#include <condition_variable>
#include <mutex>
#include <string>
#include <thread>

#include "caf/actor.hpp"
#include "caf/atom.hpp"

namespace p2pd::cli {

/// (stdin_atom, data, eof, error): `data` read; `eof` once stdin ended (the
/// last message, with no data); `error` non-empty when a read failed (also
/// the last message).
using stdin_atom = caf::atom_constant<caf::atom("p2pdstdin")>;

class stdin_reader {
public:
  /// Starts reading: chunks of at most `chunk` bytes, `credits` ahead.
  stdin_reader(caf::actor target, size_t chunk, size_t credits);
  ~stdin_reader();
  stdin_reader(const stdin_reader&) = delete;
  stdin_reader& operator=(const stdin_reader&) = delete;

  /// The actor handled one chunk: the thread may read one more.
  void consumed();

private:
  void run(caf::actor target, size_t chunk);

  std::mutex mtx_;
  std::condition_variable cv_;
  size_t credits_;
  bool quit_ = false;
  std::thread thread_;
};

} // namespace p2pd::cli
