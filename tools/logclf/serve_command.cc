// `logclf serve`: the HTTP service (src/server).
#include <fmt/format.h>
#include <pthread.h>

#include <atomic>
#include <cerrno>
#include <csignal>
#include <cstdio>
#include <cstdlib>
#include <ctime>
#include <exception>
#include <memory>
#include <thread>

#include "args.h"
#include "command.h"
#include "config_file.h"
#include "logclf/classifier.h"
#include "logclf/server.h"

namespace logclf::cli {

namespace {

struct ServeArgs {
  std::string model_dir, config_file;
  EncoderArgs encoder;  // --encoder, --encoder-dir, --threads (of the E5 encoder), --precision
  std::string batching = "auto";
  double batch_wait_ms = 2.0;
  double header_timeout_s = 10.0;
  CacheArgs cache;
  ServeOptions options;
};

// The model as the command line names it: at start-up, and again on SIGHUP.
Classifier load_model(const ServeArgs& a) { return cli::load_model(a.model_dir, a.encoder); }

// SIGHUP: the model bundle is loaded again and served from then on (requests in flight finish on the old
// one); a bundle that does not load leaves the old one serving. The access log is reopened (logrotate).
void reload(HttpServer& server, const ServeArgs& a) {
  // The log first: the message below tells that the whole reload is done.
  try {
    server.reopen_access_log();
  } catch (const std::exception& e) {
    fmt::print(stderr, "logclf: SIGHUP: {}; still writing to the previous file\n", e.what());
  }
  try {
    server.reload(load_model(a));
    if (!quiet)
      fmt::print(stderr, "logclf: SIGHUP: model reloaded from {}\n", a.model_dir.empty() ? "the built-in model" : a.model_dir);
  } catch (const std::exception& e) {
    fmt::print(stderr, "logclf: SIGHUP: model not reloaded, still serving the previous one: {}\n", e.what());
  }
  std::fflush(stderr);
}

std::string url_host(const std::string& host) { return host.find(':') != std::string::npos ? "[" + host + "]" : host; }

int run_serve(const ServeArgs& a) {
  // SIGINT, SIGTERM and SIGHUP are taken by sigtimedwait() below rather than by main()'s handlers, which
  // end the process at once. Blocked before any thread starts, so that every thread inherits the mask.
  sigset_t signals;
  sigemptyset(&signals);
  sigaddset(&signals, SIGINT);
  sigaddset(&signals, SIGTERM);
  sigaddset(&signals, SIGHUP);
  pthread_sigmask(SIG_BLOCK, &signals, nullptr);

  const Classifier classifier = load_model(a);
  ServeOptions options = a.options;
  options.cache = a.cache.options();
  options.batching = a.batching == "on" ? MicroBatching::always : a.batching == "off" ? MicroBatching::never
                                                                                      : MicroBatching::automatic;
  options.batch_wait = std::chrono::microseconds(static_cast<long long>(a.batch_wait_ms * 1000));
  options.header_timeout = std::chrono::milliseconds(static_cast<long long>(a.header_timeout_s * 1000));
  if (const char* key = std::getenv("LOGCLF_API_KEY"); options.api_key.empty() && key != nullptr) options.api_key = key;

  HttpServer server(classifier, options);
  const int port = server.bind();
  std::atomic<bool> finished{false};
  std::exception_ptr failure;
  std::thread serving([&] {
    try {
      server.run();
    } catch (...) {
      failure = std::current_exception();
    }
    finished = true;
  });
  if (!quiet) fmt::print(stderr, "logclf: serving on http://{}:{}\n", url_host(options.host), port);
  std::fflush(stderr);

  const timespec poll{0, 100'000'000};
  bool stopping = false;
  while (!finished) {
    const int sig = sigtimedwait(&signals, nullptr, &poll);
    if (sig <= 0) continue;  // timeout or EINTR: look at `finished` again
    if (sig == SIGHUP) {
      if (!stopping) reload(server, a);
      continue;
    }
    if (stopping) {
      fmt::print(stderr, "logclf: second signal, exiting without waiting\n");
      std::fflush(stderr);
      std::_Exit(1);
    }
    if (!quiet)
      fmt::print(stderr, "logclf: {} received, finishing the requests in flight\n", sig == SIGINT ? "SIGINT" : "SIGTERM");
    std::fflush(stderr);
    stopping = true;
    server.stop();
  }
  serving.join();
  if (failure) std::rethrow_exception(failure);
  if (stopping && !quiet) fmt::print(stderr, "logclf: stopped\n");
  return 0;
}

}  // namespace

void add_serve_command(CLI::App& app, Commands& commands) {
  auto args = std::make_shared<ServeArgs>();
  auto* cmd = app.add_subcommand("serve", "serve the classifier over HTTP (JSON, CSV and NDJSON API, web page)");
  cmd->add_option("-m,--model", args->model_dir, "model directory (default: the built-in model)");
  args->encoder.add_to(cmd, false);
  cmd->add_option("--host", args->options.host, "address to listen on")->capture_default_str();
  cmd->add_option("--port", args->options.port, "port to listen on; 0 picks a free one")
      ->capture_default_str()->check(CLI::Range(0, 65535));
  cmd->add_option("--http-threads", args->options.threads,
                  "threads for requests that may block (streamed or large bodies, batched classification; the "
                  "others are served by one event loop per core); 0: max(32, 4 x cores)")
      ->capture_default_str()->check(CLI::Range(0, 4096));
  cmd->add_option("--max-body", args->options.max_body, "largest request body, e.g. 64MiB (413 above)")
      ->default_str("64MiB")->transform(CLI::AsSizeValue(false));
  cmd->add_option("--max-buffered-bodies", args->options.max_buffered_bodies,
                  "request bodies held in memory at once, across all connections, e.g. 256MiB (503 above)")
      ->default_str("256MiB")->transform(CLI::AsSizeValue(false));
  cmd->add_option("--max-lines", args->options.max_lines, "most logs in one POST /v1/classify (413 above)")
      ->capture_default_str()->check(CLI::PositiveNumber);
  cmd->add_option("--api-key", args->options.api_key,
                  "require 'Authorization: Bearer KEY' on every API endpoint but /health; the web page (which asks for the "
                  "key), /docs, /redoc and /openapi.json stay open (default: $LOGCLF_API_KEY)");
  cmd->add_option("--max-connections", args->options.max_connections,
                  "connections at once; at the cap the longest idle one is closed to let a new client in")
      ->capture_default_str()->check(CLI::Range(1, 1000000));
  cmd->add_option("--max-connections-per-client", args->options.max_connections_per_client,
                  "connections at once from one client address (429 above)")
      ->capture_default_str()->check(CLI::Range(1, 1000000));
  cmd->add_option("--header-timeout", args->header_timeout_s,
                  "seconds a request's line and headers (and a new connection's first request) may take to arrive")
      ->capture_default_str()->check(CLI::Range(0.1, 3600.0));
  cmd->add_option("--cors-origin", args->options.cors_origins,
                  "allow cross-origin requests from this origin (repeatable; * for any); default: CORS off");
  cmd->add_option("--access-log", args->options.access_log,
                  "write one JSON line per request (time, client, method, path, status, bytes, duration, user agent) "
                  "to this file, appended, or - for standard output; SIGHUP reopens it");
  args->cache.add_to(cmd, "exact");
  cmd->add_flag("--fastapi-errors", args->options.fastapi_errors,
               "answer errors of /classify_log/ and /upload_csv/ as the original FastAPI service did: 422 "
               "{\"detail\": [...]} for a missing field, {\"detail\": message} otherwise (per request: ?compat=fastapi)");
  cmd->add_option("--batch", args->batching,
                  "share encoder batches between concurrent single-message requests: auto (when the encoder is "
                  "not lexical), on, off")
      ->capture_default_str()->check(CLI::IsMember({"auto", "on", "off"}));
  cmd->add_option("--batch-wait-ms", args->batch_wait_ms, "longest wait of a request for its batch to fill")
      ->capture_default_str()->check(CLI::Range(0.0, 1000.0));
  cmd->add_option("--batch-lines", args->options.batch_lines, "lines that make a batch full")
      ->capture_default_str()->check(CLI::Range(1, 4096));
  cmd->add_option("--config", args->config_file,
                  "YAML (.yaml, .yml) or TOML key/value file of any of these options by long name (port: 8080, "
                  "cors-origin: [a, b]; or port = 8080); the command line wins");
  commands.push_back({cmd, [cmd, args] {
                        if (!args->config_file.empty()) {
                          std::vector<ConfigSection> no_sections;
                          apply_config_file(*cmd, args->config_file, no_sections);
                        }
                        return run_serve(*args);
                      }});
}

}  // namespace logclf::cli
