// The MQTT baseline of bench_signal: a bare paho client, no actors, no crypto.
#include <chrono>
#include <condition_variable>
#include <mutex>
#include <random>

#include "mqtt/async_client.h"

#include "cell_loop.hpp"
#include "signal_cells.hpp"

namespace p2pd::bench {

namespace {

// Counts the messages paho hands over, on paho's thread.
class arrivals {
public:
  void add() {
    {
      std::lock_guard<std::mutex> guard{mtx_};
      ++count_;
    }
    cv_.notify_one();
  }

  /// Waits (at most 5 s) until more than `seen` messages came.
  bool wait_beyond(size_t seen) {
    std::unique_lock<std::mutex> lock{mtx_};
    return cv_.wait_for(lock, std::chrono::seconds(5), [&] { return count_ > seen; });
  }

private:
  std::mutex mtx_;
  std::condition_variable cv_;
  size_t count_ = 0;
};

} // namespace

signal_cell measure_paho(const std::string& uri, const signal_sizes& sz) {
  signal_cell out;
  std::random_device rd;
  auto id = "p2pd-bench-" + std::to_string(rd());
  auto topic = "p2pd-bench/" + id;
  try {
    arrivals in; // declared first: paho's thread may call it until cli is gone
    // Paho refuses publishes beyond 100 not yet written by default (error
    // -12); the window of the rate cell is larger.
    mqtt::async_client cli{uri, id, static_cast<int>(sz.window) * 4,
                           static_cast<mqtt::iclient_persistence*>(nullptr)};
    cli.set_message_callback([&](mqtt::const_message_ptr) { in.add(); });
    auto opts = mqtt::connect_options_builder()
                  .clean_session(true)
                  .mqtt_version(MQTTVERSION_3_1_1)
                  .connect_timeout(std::chrono::seconds(5))
                  .finalize();
    // Blocking waits are fine here: this thread is no actor.
    cli.connect(opts)->wait();
    cli.subscribe(topic, 1)->wait();
    std::string payload(sz.payload, 'x');
    size_t got = 0;
    auto send = [&] { cli.publish(topic, payload.data(), payload.size(), 1, false); };
    auto await = [&] {
      if (!in.wait_beyond(got))
        return false;
      ++got;
      return true;
    };
    out = run_cell(sz, send, await);
    cli.disconnect()->wait();
  } catch (const mqtt::exception& e) {
    out.problem = std::string{"paho: "} + e.what();
  }
  return out;
}

} // namespace p2pd::bench
