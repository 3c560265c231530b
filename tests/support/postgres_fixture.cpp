#include "postgres_fixture.hpp"

#include <sys/wait.h>
#include <unistd.h>

#include <cstdlib>
#include <fstream>
#include <sstream>

#include "sockets.hpp"

namespace p2pd::test {

namespace {

// Runs the fixture script with `args`; its exit status (-1: it did not
// exit), with what it wrote to stderr in `err`.
int run_script(const std::string& args, const std::string& err_file, std::string& err) {
  auto cmd = std::string{P2PD_SOURCE_DIR} + "/tests/support/postgres_fixture.sh " + args + " 2>"
             + err_file;
  int rc = std::system(cmd.c_str());
  std::ifstream in{err_file};
  std::stringstream text;
  text << in.rdbuf();
  err = text.str();
  return WIFEXITED(rc) ? WEXITSTATUS(rc) : -1;
}

} // namespace

std::unique_ptr<postgres_server> postgres_server::start(std::string& why) {
  std::unique_ptr<postgres_server> s{new postgres_server};
  if (!s->dir_) {
    why = "no temporary directory";
    return nullptr;
  }
  // A free port now; should another process take it first, pg_ctl says so.
  s->port_ = free_port(net::protocol::tcp);
  std::string err;
  int rc = run_script("start " + s->dir_.path() + " " + std::to_string(s->port_) + " "
                        + std::to_string(::getpid()),
                      s->dir_.path() + "/fixture.err", err);
  if (rc != 0) {
    why = rc == 3 ? err : "postgres did not start (exit " + std::to_string(rc) + "): " + err;
    return nullptr;
  }
  s->running_ = true;
  return s;
}

postgres_server::~postgres_server() {
  if (running_) {
    std::string err;
    run_script("stop " + dir_.path(), "/dev/null", err);
  }
}

std::string postgres_server::create_database(std::string& why) {
  auto name = "names_" + std::to_string(++next_db_);
  std::string err;
  int rc = run_script("createdb " + dir_.path() + " " + std::to_string(port_) + " " + name,
                      dir_.path() + "/fixture.err", err);
  if (rc != 0) {
    why = "createdb " + name + " failed: " + err;
    return "";
  }
  return "postgresql://postgres@127.0.0.1:" + std::to_string(port_) + "/" + name;
}

} // namespace p2pd::test
