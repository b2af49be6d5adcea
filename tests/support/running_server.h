// An in-process HTTP server on a free loopback port, serving from a thread until destroyed.
#pragma once

#include <httplib.h>

#include <thread>
#include <utility>

#include "logclf/classifier.h"
#include "logclf/server.h"

namespace logclf::testing {

class RunningServer {
 public:
  explicit RunningServer(ServeOptions options = {}) : server_(Classifier::load_default(), with_free_port(std::move(options))) {
    port_ = server_.bind();
    thread_ = std::thread([this] { server_.run(); });
  }
  ~RunningServer() {
    server_.stop();
    thread_.join();
  }
  RunningServer(const RunningServer&) = delete;
  RunningServer& operator=(const RunningServer&) = delete;

  httplib::Client client() const {
    httplib::Client c("127.0.0.1", port_);
    c.set_read_timeout(30);
    return c;
  }
  int port() const { return port_; }
  HttpServer& server() { return server_; }
  // Waits for run() to return (after stop()).
  void join() {
    thread_.join();
    thread_ = std::thread([] {});
  }

 private:
  static ServeOptions with_free_port(ServeOptions o) {
    o.port = 0;
    o.threads = 8;
    return o;
  }
  HttpServer server_;
  int port_ = 0;
  std::thread thread_;
};

}  // namespace logclf::testing
