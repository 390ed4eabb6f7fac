#include "api/api_server.hpp"

#include <sys/stat.h>
#include <unistd.h>

#include <boost/asio.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>

#include <cerrno>
#include <cstring>
#include <deque>
#include <filesystem>
#include <future>
#include <stdexcept>
#include <vector>

#include "api/api_request.hpp"
#include "common/proto_json.hpp"
#include "store/validation.hpp"

namespace spasmwatch::api {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
using boost::system::error_code;

namespace {

class SessionBase {
 public:
  virtual ~SessionBase() = default;
  virtual void close() = 0;
  // A stream client: queues the event text if the filter takes it.
  virtual void offer(const proto::Event& event, const std::shared_ptr<const std::string>& text) = 0;
};

}  // namespace

struct Server::Impl {
  Impl(Server& s, ServerOptions o, Handler& h) : server(s), options(std::move(o)), handler(h) {}

  Server& server;
  ServerOptions options;
  Handler& handler;
  asio::io_context io{1};
  std::optional<asio::executor_work_guard<asio::io_context::executor_type>> work{asio::make_work_guard(io)};
  std::optional<asio::ip::tcp::acceptor> tcp_acceptor;
  std::optional<asio::local::stream_protocol::acceptor> unix_acceptor;
  // Per listener (0: TCP, 1: Unix socket), each with its own connection limit, so that local
  // users filling the TCP side cannot lock the owner out of the socket. API thread only.
  std::vector<std::weak_ptr<SessionBase>> sessions[2];
  std::vector<std::weak_ptr<SessionBase>> streams;  // API thread only
  asio::steady_timer accept_retry{io};
  bool closing = false;

  template <class Acceptor>
  void accept(Acceptor& acceptor, bool needs_token);
  void forget_expired() {
    for (auto& list : sessions) std::erase_if(list, [](const auto& w) { return w.expired(); });
    std::erase_if(streams, [](const auto& w) { return w.expired(); });
  }
};

namespace {

template <class Socket>
class Session final : public SessionBase, public std::enable_shared_from_this<Session<Socket>> {
 public:
  Session(Server::Impl& server, std::atomic<std::uint32_t>& connections, std::atomic<std::uint32_t>& streams,
          Socket socket, bool needs_token)
      : server_(server),
        connections_(connections),
        stream_count_(streams),
        socket_(std::move(socket)),
        timer_(server.io),
        needs_token_(needs_token) {
    ++connections_;
  }
  ~Session() override {
    --connections_;
    if (streaming_) --stream_count_;
  }

  // Over capacity, the request is still read (so that the client gets the 503 rather than a
  // reset), then answered 503 and the connection closed.
  void start(bool over_capacity) {
    over_capacity_ = over_capacity;
    read_request();
  }

  void close() override {
    if (closed_) return;
    closed_ = true;
    timer_.cancel();
    if (keepalive_timer_) keepalive_timer_->cancel();
    error_code ignored;
    socket_.shutdown(Socket::shutdown_both, ignored);
    socket_.close(ignored);
  }

  void offer(const proto::Event& event, const std::shared_ptr<const std::string>& text) override {
    if (!streaming_ || closed_ || !filter_.matches(event)) return;
    if (queue_.size() >= server_.options.stream_backlog) {
      close();  // a client this far behind has stopped reading
      return;
    }
    queue_.push_back(text);
    write_stream();
  }

 private:
  void arm(std::chrono::milliseconds timeout) {
    timer_.expires_after(timeout);
    timer_.async_wait([self = this->shared_from_this()](const error_code& ec) {
      if (!ec) self->close();
    });
  }

  // Waits for a request's first byte under the idle timeout, then gives the whole request (header
  // and body) the request timeout.
  void read_request() {
    if (closed_) return;
    parser_.emplace();
    parser_->header_limit(static_cast<std::uint32_t>(server_.options.max_header_bytes));
    parser_->body_limit(server_.options.max_body_bytes);
    if (buffer_.size() > 0) return read_message();  // pipelined: the next request has begun
    arm(server_.options.idle_timeout);
    socket_.async_wait(Socket::wait_read, [self = this->shared_from_this()](const error_code& ec) {
      if (ec) return self->close();
      self->read_message();
    });
  }

  void read_message() {
    if (closed_) return;
    arm(server_.options.request_timeout);
    http::async_read(socket_, buffer_, *parser_, [self = this->shared_from_this()](const error_code& e, std::size_t) {
      self->on_read(e);
    });
  }

  void on_read(const error_code& ec) {
    timer_.cancel();
    if (closed_) return;
    if (ec == http::error::end_of_stream || ec == asio::error::eof || ec == asio::error::connection_reset ||
        ec == asio::error::operation_aborted) {
      return close();
    }
    if (ec == http::error::body_limit) {
      return send(error_response(413, "body larger than " + std::to_string(server_.options.max_body_bytes) + " bytes"),
                  false);
    }
    if (ec == http::error::header_limit) {
      return send(error_response(431, "request header larger than " +
                                          std::to_string(server_.options.max_header_bytes) + " bytes"),
                  false);
    }
    if (ec) return send(error_response(400, "malformed HTTP request: " + ec.message()), false);

    const auto& req = parser_->get();
    if (over_capacity_) {
      return send(error_response(503, "too many connections (at most " +
                                          std::to_string(server_.options.max_connections) + "); try again later"),
                  false);
    }
    const Request request = view_of(req, needs_token_);
    Response response = req.method() == http::verb::unknown
                            ? error_response(405, "unknown method " + store::printable(std::string_view(req.method_string().data(), req.method_string().size())))
                            : server_.handler.handle(request);
    if (response.stream && response.status == 200) return start_stream(std::move(response.filter));
    // A refused token ends the connection: an unauthenticated client holds no slot.
    const bool keep_alive = req.keep_alive() && response.status != 401;
    send(std::move(response), keep_alive);
  }

  void send(Response response, bool keep_alive) {
    auto res = std::make_shared<http::response<http::string_body>>(static_cast<http::status>(response.status), 11);
    res->set(http::field::server, "spasmwatchd");
    res->set(http::field::content_type, "application/json");
    res->set(http::field::cache_control, "no-store");
    if (!response.allow.empty()) res->set(http::field::allow, response.allow);
    if (response.status == 401) res->set(http::field::www_authenticate, "Bearer");
    res->keep_alive(keep_alive);
    res->body() = std::move(response.body);
    res->prepare_payload();
    arm(server_.options.write_timeout);
    http::async_write(socket_, *res, [self = this->shared_from_this(), res, keep_alive](const error_code& ec, std::size_t) {
      self->timer_.cancel();
      if (ec || !keep_alive) return self->close();
      self->read_request();
    });
  }

  void start_stream(StreamFilter filter) {
    if (server_.streams.size() >= server_.options.max_stream_clients) {
      server_.forget_expired();
      if (server_.streams.size() >= server_.options.max_stream_clients) {
        return send(error_response(503, "too many stream clients (at most " +
                                            std::to_string(server_.options.max_stream_clients) + ")"),
                    false);
      }
    }
    streaming_ = true;
    ++stream_count_;
    filter_ = std::move(filter);
    server_.streams.push_back(this->shared_from_this());
    queue_.push_back(std::make_shared<const std::string>(
        "HTTP/1.1 200 OK\r\nServer: spasmwatchd\r\nContent-Type: text/event-stream\r\n"
        "Cache-Control: no-store\r\nConnection: close\r\n\r\n: spasmwatchd live events\n\n"));
    write_stream();
    watch_for_close();
    keepalive();
  }

  // The client sends nothing more; a completed read means it went away.
  void watch_for_close() {
    socket_.async_read_some(asio::buffer(discard_), [self = this->shared_from_this()](const error_code& ec, std::size_t) {
      if (ec) return self->close();
      self->watch_for_close();
    });
  }

  void keepalive() {
    keepalive_timer_.emplace(server_.io);
    keepalive_timer_->expires_after(server_.options.keepalive_interval);
    keepalive_timer_->async_wait([self = this->shared_from_this()](const error_code& ec) {
      if (ec || self->closed_) return;
      static const auto kKeepalive = std::make_shared<const std::string>(": keepalive\n\n");
      self->queue_.push_back(kKeepalive);
      self->write_stream();
      self->keepalive();
    });
  }

  void write_stream() {
    if (writing_ || queue_.empty() || closed_) return;
    writing_ = true;
    arm(server_.options.write_timeout);
    auto text = queue_.front();
    asio::async_write(socket_, asio::buffer(*text), [self = this->shared_from_this(), text](const error_code& ec, std::size_t) {
      self->writing_ = false;
      self->timer_.cancel();
      if (ec) return self->close();
      self->queue_.pop_front();
      self->write_stream();
    });
  }

  Server::Impl& server_;
  std::atomic<std::uint32_t>& connections_;
  std::atomic<std::uint32_t>& stream_count_;
  Socket socket_;
  asio::steady_timer timer_;
  std::optional<asio::steady_timer> keepalive_timer_;
  bool needs_token_;
  beast::flat_buffer buffer_;
  std::optional<http::request_parser<http::string_body>> parser_;
  bool closed_ = false;
  bool over_capacity_ = false;
  bool streaming_ = false;
  bool writing_ = false;
  StreamFilter filter_;
  std::deque<std::shared_ptr<const std::string>> queue_;
  std::array<char, 512> discard_{};
};

bool is_loopback(const asio::ip::address& a) { return a.is_loopback(); }

}  // namespace

template <class Acceptor>
void Server::Impl::accept(Acceptor& acceptor, bool needs_token) {
  acceptor.async_accept([this, &acceptor, needs_token](const error_code& ec, typename Acceptor::protocol_type::socket socket) {
    if (closing || ec == asio::error::operation_aborted) return;
    if (ec) {
      // Out of descriptors (EMFILE) and the like: retry shortly instead of spinning.
      accept_retry.expires_after(std::chrono::milliseconds(100));
      accept_retry.async_wait([this, &acceptor, needs_token](const error_code& e) {
        if (!e && !closing) accept(acceptor, needs_token);
      });
      return;
    }
    forget_expired();
    auto& list = sessions[needs_token ? 0 : 1];
    const bool over = list.size() >= options.max_connections;
    auto session = std::make_shared<Session<typename Acceptor::protocol_type::socket>>(
        *this, server.connections_, server.stream_clients_, std::move(socket), needs_token);
    list.push_back(session);
    session->start(over);
    accept(acceptor, needs_token);
  });
}

Server::Server(ServerOptions options, Handler& handler)
    : impl_(std::make_unique<Impl>(*this, std::move(options), handler)) {}

Server::~Server() { stop(); }

void Server::start() {
  auto& o = impl_->options;
  if (!o.tcp_host.empty()) {
    asio::ip::tcp::resolver resolver(impl_->io);
    error_code ec;
    const auto results = resolver.resolve(o.tcp_host, std::to_string(o.tcp_port), ec);
    if (ec || results.empty()) throw std::runtime_error("API address " + o.tcp_host + ": " + ec.message());
    const auto endpoint = results.begin()->endpoint();
    if (!is_loopback(endpoint.address())) {
      throw std::runtime_error("API address " + o.tcp_host + " is not a loopback address (the API is local only)");
    }
    auto& acceptor = impl_->tcp_acceptor.emplace(impl_->io);
    acceptor.open(endpoint.protocol());
    acceptor.set_option(asio::ip::tcp::acceptor::reuse_address(true));
    acceptor.bind(endpoint, ec);
    if (ec) {
      throw std::runtime_error("cannot serve the API on " + o.tcp_host + ":" + std::to_string(o.tcp_port) + ": " +
                               ec.message());
    }
    acceptor.listen();
    bound_port_ = acceptor.local_endpoint().port();
  }
  if (!o.unix_socket.empty()) {
    namespace fs = std::filesystem;
    const fs::path path(o.unix_socket);
    if (o.unix_socket.size() >= sizeof(sockaddr_un{}.sun_path)) {
      throw std::runtime_error("API socket path " + o.unix_socket + " is too long (at most " +
                               std::to_string(sizeof(sockaddr_un{}.sun_path) - 1) + " bytes)");
    }
    if (path.has_parent_path()) {
      std::error_code fec;
      const bool created = fs::create_directories(path.parent_path(), fec);
      if (fec) throw std::runtime_error("cannot create API socket directory " + path.parent_path().string() + ": " + fec.message());
      if (created) ::chmod(path.parent_path().c_str(), 0700);
    }
    std::error_code fec;
    if (fs::exists(fs::symlink_status(path, fec))) {
      asio::local::stream_protocol::socket probe(impl_->io);
      error_code ec;
      probe.connect(asio::local::stream_protocol::endpoint(o.unix_socket), ec);
      if (!ec) throw std::runtime_error("another spasmwatchd answers on the API socket " + o.unix_socket);
      if (!fs::is_socket(fs::symlink_status(path, fec))) {
        throw std::runtime_error("API socket path " + o.unix_socket + " exists and is not a socket");
      }
      fs::remove(path, fec);  // stale, left by a daemon that was killed
    }
    auto& acceptor = impl_->unix_acceptor.emplace(impl_->io);
    error_code ec;
    acceptor.open(asio::local::stream_protocol(), ec);
    if (!ec) acceptor.bind(asio::local::stream_protocol::endpoint(o.unix_socket), ec);
    if (ec) throw std::runtime_error("cannot serve the API on " + o.unix_socket + ": " + ec.message());
    if (::chmod(o.unix_socket.c_str(), 0600) != 0) {
      throw std::runtime_error("cannot make API socket " + o.unix_socket + " owner-only: " + std::strerror(errno));
    }
    acceptor.listen();
  }
  if (impl_->tcp_acceptor) impl_->accept(*impl_->tcp_acceptor, true);
  if (impl_->unix_acceptor) impl_->accept(*impl_->unix_acceptor, false);
  started_ = true;
  thread_ = std::thread([this] { impl_->io.run(); });
}

void Server::publish(const proto::Event& event) {
  if (!started_) return;
  const char* name = event.state() == proto::FINAL         ? "final"
                     : event.state() == proto::PROVISIONAL ? "provisional"
                                                           : "retracted";
  auto text = std::make_shared<const std::string>(std::string("event: ") + name + "\nid: " + event.id() +
                                                  "\ndata: " + to_json_line(event) + "\n\n");
  asio::post(impl_->io, [impl = impl_.get(), event, text] {
    for (const auto& weak : impl->streams) {
      if (auto s = weak.lock()) s->offer(event, text);
    }
  });
}

void Server::stop() {
  if (!started_.exchange(false)) return;
  std::promise<void> closed;
  asio::post(impl_->io, [impl = impl_.get(), &closed] {
    impl->closing = true;
    error_code ignored;
    if (impl->tcp_acceptor) impl->tcp_acceptor->close(ignored);
    if (impl->unix_acceptor) impl->unix_acceptor->close(ignored);
    impl->accept_retry.cancel();
    for (const auto& list : impl->sessions) {
      for (const auto& weak : list) {
        if (auto s = weak.lock()) s->close();
      }
    }
    impl->work.reset();
    closed.set_value();
  });
  closed.get_future().wait();
  if (!impl_->options.unix_socket.empty()) {
    std::error_code ignored;
    std::filesystem::remove(impl_->options.unix_socket, ignored);
  }
  thread_.join();
}

}  // namespace spasmwatch::api
