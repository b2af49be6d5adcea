// HttpServer (logclf/server.h) over the transport (transport.h).
#include "logclf/server.h"

#include "server/transport.h"

namespace logclf {

struct HttpServer::Impl {
  Impl(Classifier classifier, ServeOptions options) : transport(std::move(classifier), std::move(options)) {}
  server::Transport transport;
};

HttpServer::HttpServer(Classifier classifier, ServeOptions options)
    : impl_(std::make_unique<Impl>(std::move(classifier), std::move(options))) {}

HttpServer::~HttpServer() = default;

int HttpServer::bind() { return impl_->transport.bind(); }

void HttpServer::run() { impl_->transport.run(); }

void HttpServer::stop() { impl_->transport.stop(); }

void HttpServer::reload(Classifier classifier) { impl_->transport.reload(std::move(classifier)); }

void HttpServer::reopen_access_log() { impl_->transport.reopen_access_log(); }

}  // namespace logclf
