#include "mosquitto_fixture.hpp"

#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <fstream>

#include "sockets.hpp"

namespace p2pd::test {

namespace {

std::string find_program(const char* name) {
  for (const char* dir : {"/usr/sbin/", "/usr/bin/", "/usr/local/sbin/", "/usr/local/bin/"}) {
    std::string path = std::string{dir} + name;
    if (::access(path.c_str(), X_OK) == 0)
      return path;
  }
  return {};
}

} // namespace

std::string mosquitto_path() {
  return find_program("mosquitto");
}

std::string mosquitto_sub_path() {
  return find_program("mosquitto_sub");
}

std::string mosquitto_pub_path() {
  return find_program("mosquitto_pub");
}

std::unique_ptr<mosquitto_broker> mosquitto_broker::prepare(std::string& why) {
  if (mosquitto_path().empty()) {
    why = "not installed: mosquitto (Debian package mosquitto; scripts/install-deps.sh)";
    return nullptr;
  }
  std::unique_ptr<mosquitto_broker> b{new mosquitto_broker};
  if (!b->dir_) {
    why = "cannot make a temporary directory";
    return nullptr;
  }
  b->port_ = free_port(net::protocol::tcp);
  if (b->port_ == 0) {
    why = "no free port on 127.0.0.1";
    return nullptr;
  }
  // mosquitto 2 listens on nothing and refuses anonymous clients unless told.
  // As root it drops to user "mosquitto", which could not write a log file
  // here: it logs to stderr, which child_process sends to our log file.
  std::ofstream conf{b->dir() + "/mosquitto.conf"};
  conf << "listener " << b->port_ << " 127.0.0.1\n"
       << "allow_anonymous true\n"
       << "persistence false\n"
       << "log_dest stderr\n"
       // The default types, and subscriptions: a test sees in the log when
       // a client outside p2pd (mosquitto_sub) has subscribed.
       << "log_type error\nlog_type warning\nlog_type notice\nlog_type information\n"
       << "log_type subscribe\n";
  if (!conf) {
    why = "cannot write " + b->dir() + "/mosquitto.conf";
    return nullptr;
  }
  return b;
}

std::unique_ptr<mosquitto_broker> mosquitto_broker::start(std::string& why) {
  auto b = prepare(why);
  if (!b || !b->restart(why))
    return nullptr;
  return b;
}

std::string mosquitto_broker::uri() const {
  return "tcp://127.0.0.1:" + std::to_string(port_);
}

bool mosquitto_broker::restart(std::string& why) {
  stop();
  // The log is appended to: only what this start writes counts.
  auto from = log().size();
  if (!proc_.start({mosquitto_path(), "-c", dir() + "/mosquitto.conf"},
                   dir() + "/mosquitto.log", why))
    return false;
  return wait_until_up(from, why);
}

bool mosquitto_broker::wait_until_up(size_t log_from, std::string& why) {
  // "mosquitto version X running" comes once its listeners are open.
  if (proc_.wait_for_text(dir() + "/mosquitto.log", " running", log_from, 10000)
      && raw_connect(net::endpoint{net::ip_address::loopback(net::family::v4), port_}))
    return true;
  why = proc_.alive() ? "mosquitto did not accept connections on port " + std::to_string(port_)
                          + " within 10 s: " + log()
                      : "mosquitto exited: " + log();
  return false;
}

void mosquitto_broker::stop() {
  resume(); // a stopped process would not act on SIGTERM
  proc_.stop();
}

void mosquitto_broker::kill() {
  if (proc_.pid() > 0)
    ::kill(proc_.pid(), SIGKILL);
  paused_ = false;
  proc_.stop(); // reaps it
}

void mosquitto_broker::pause() {
  if (proc_.pid() > 0 && !paused_) {
    ::kill(proc_.pid(), SIGSTOP);
    // Signals arrive asynchronously: wait until it really stands still.
    int status = 0;
    ::waitpid(proc_.pid(), &status, WUNTRACED);
    paused_ = true;
  }
}

void mosquitto_broker::resume() {
  if (proc_.pid() > 0 && paused_)
    ::kill(proc_.pid(), SIGCONT);
  paused_ = false;
}

std::string mosquitto_broker::log() const {
  return read_file(dir() + "/mosquitto.log");
}

} // namespace p2pd::test
