#include "api/api_client.hpp"

#include <boost/asio.hpp>
#include <boost/asio/generic/stream_protocol.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>

namespace spasmwatch::api {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
using boost::system::error_code;
using Socket = asio::generic::stream_protocol::socket;

std::string Address::describe() const {
  return unix_socket.empty() ? host + ":" + std::to_string(port) : unix_socket;
}

namespace {

// Runs the io_context until `done` or the deadline. On timeout cancels the operation (or closes
// the socket when `close` is set), waits for it to finish, and returns false.
bool run_for(asio::io_context& io, Socket& socket, const bool& done, std::chrono::steady_clock::time_point deadline,
             bool close) {
  io.restart();
  while (!done) {
    const auto now = std::chrono::steady_clock::now();
    if (now >= deadline || io.run_one_for(deadline - now) == 0) {
      if (done) break;
      error_code ignored;
      if (close) {
        socket.close(ignored);
      } else {
        socket.cancel(ignored);
      }
      io.restart();
      while (!done) io.run_one();  // the aborted operation completes
      return false;
    }
  }
  return true;
}

void run_until(asio::io_context& io, Socket& socket, const bool& done,
               std::chrono::steady_clock::time_point deadline, const std::string& what) {
  if (!run_for(io, socket, done, deadline, true)) throw ClientError(what + ": no answer in time");
}

void connect(asio::io_context& io, Socket& socket, const Address& a, std::chrono::steady_clock::time_point deadline) {
  asio::generic::stream_protocol::endpoint endpoint;
  if (!a.unix_socket.empty()) {
    endpoint = asio::generic::stream_protocol::endpoint(asio::local::stream_protocol::endpoint(a.unix_socket));
  } else {
    asio::ip::tcp::resolver resolver(io);
    error_code ec;
    const auto results = resolver.resolve(a.host, std::to_string(a.port), ec);
    if (ec || results.empty()) throw ClientError("cannot resolve " + a.describe() + ": " + ec.message());
    endpoint = asio::generic::stream_protocol::endpoint(results.begin()->endpoint());
  }
  bool done = false;
  error_code result;
  socket.async_connect(endpoint, [&](const error_code& ec) {
    result = ec;
    done = true;
  });
  run_until(io, socket, done, deadline, "connecting to spasmwatchd at " + a.describe());
  if (result) throw ClientError("cannot connect to spasmwatchd at " + a.describe() + ": " + result.message());
}

http::request<http::string_body> make_request(http::verb method, const std::string& target, const Address& a) {
  http::request<http::string_body> req(method, target, 11);
  req.set(http::field::host, a.unix_socket.empty() ? a.host : "localhost");
  req.set(http::field::user_agent, "spasmwatch");
  if (!a.token.empty()) req.set(http::field::authorization, "Bearer " + a.token);
  req.keep_alive(false);
  return req;
}

}  // namespace

struct Client::Impl {
  asio::io_context io{1};
};

Client::Client(Address address, std::chrono::milliseconds timeout)
    : address_(std::move(address)), timeout_(timeout), impl_(std::make_unique<Impl>()) {}

Client::~Client() = default;

ClientResponse Client::request(http::verb method, const std::string& target, const std::string& body,
                               const std::string& content_type) {
  const auto deadline = std::chrono::steady_clock::now() + timeout_;
  Socket socket(impl_->io);
  connect(impl_->io, socket, address_, deadline);
  auto req = make_request(method, target, address_);
  if (!body.empty() || method == http::verb::post || method == http::verb::put) {
    req.set(http::field::content_type, content_type);
    req.body() = body;
  }
  req.prepare_payload();
  bool done = false;
  error_code result;
  http::async_write(socket, req, [&](const error_code& ec, std::size_t) {
    result = ec;
    done = true;
  });
  run_until(impl_->io, socket, done, deadline, "sending to spasmwatchd at " + address_.describe());
  if (result) throw ClientError("cannot send to spasmwatchd at " + address_.describe() + ": " + result.message());
  beast::flat_buffer buffer;
  http::response_parser<http::string_body> parser;
  parser.body_limit(256 * 1024 * 1024);
  done = false;
  http::async_read(socket, buffer, parser, [&](const error_code& ec, std::size_t) {
    result = ec;
    done = true;
  });
  run_until(impl_->io, socket, done, deadline, "waiting for spasmwatchd at " + address_.describe());
  if (result) throw ClientError("bad answer from spasmwatchd at " + address_.describe() + ": " + result.message());
  return {parser.get().result_int(), std::move(parser.get().body())};
}

std::string Client::raw(const std::string& bytes) {
  const auto deadline = std::chrono::steady_clock::now() + timeout_;
  Socket socket(impl_->io);
  connect(impl_->io, socket, address_, deadline);
  bool done = false;
  error_code result;
  asio::async_write(socket, asio::buffer(bytes), [&](const error_code& ec, std::size_t) {
    result = ec;
    done = true;
  });
  run_until(impl_->io, socket, done, deadline, "sending");
  std::string answer;
  done = false;
  asio::async_read(socket, asio::dynamic_buffer(answer), [&](const error_code&, std::size_t) { done = true; });
  run_until(impl_->io, socket, done, deadline, "reading");
  return answer;
}

struct StreamReader::Impl {
  asio::io_context io{1};
  Socket socket{io};
  std::string buffer;
};

StreamReader::StreamReader(Address address, const std::string& query, std::chrono::milliseconds timeout)
    : impl_(std::make_unique<Impl>()) {
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  connect(impl_->io, impl_->socket, address, deadline);
  auto req = make_request(http::verb::get, "/v1/events/stream" + (query.empty() ? "" : "?" + query), address);
  req.prepare_payload();
  bool done = false;
  error_code result;
  http::async_write(impl_->socket, req, [&](const error_code& ec, std::size_t) {
    result = ec;
    done = true;
  });
  run_until(impl_->io, impl_->socket, done, deadline, "opening the event stream");
  if (result) throw ClientError("cannot open the event stream: " + result.message());
  done = false;
  asio::async_read_until(impl_->socket, asio::dynamic_buffer(impl_->buffer), "\r\n\r\n",
                         [&](const error_code& ec, std::size_t) {
                           result = ec;
                           done = true;
                         });
  run_until(impl_->io, impl_->socket, done, deadline, "opening the event stream");
  if (result) throw ClientError("event stream closed before its header: " + result.message());
  const auto header_end = impl_->buffer.find("\r\n\r\n") + 4;
  const std::string header = impl_->buffer.substr(0, header_end);
  impl_->buffer.erase(0, header_end);
  if (!header.starts_with("HTTP/1.1 200")) {
    // A refusal: read its body to the end for the message.
    done = false;
    asio::async_read(impl_->socket, asio::dynamic_buffer(impl_->buffer), [&](const error_code&, std::size_t) { done = true; });
    run_until(impl_->io, impl_->socket, done, deadline, "reading the refusal");
    throw ClientError("event stream refused: " + header.substr(0, header.find('\r')) + " " + impl_->buffer);
  }
}

StreamReader::~StreamReader() = default;

std::optional<StreamReader::Message> StreamReader::next(std::chrono::milliseconds timeout) {
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  for (;;) {
    const auto end = impl_->buffer.find("\n\n");
    if (end != std::string::npos) {
      const std::string block = impl_->buffer.substr(0, end + 1);
      impl_->buffer.erase(0, end + 2);
      Message m;
      std::size_t at = 0;
      while (at < block.size()) {
        const auto nl = block.find('\n', at);
        const std::string line = block.substr(at, nl - at);
        at = nl + 1;
        if (line.starts_with("event: ")) m.event = line.substr(7);
        if (line.starts_with("id: ")) m.id = line.substr(4);
        if (line.starts_with("data: ")) m.data = line.substr(6);
      }
      if (!m.event.empty()) return m;
      continue;  // a comment (keep-alive)
    }
    bool done = false;
    error_code result;
    asio::async_read_until(impl_->socket, asio::dynamic_buffer(impl_->buffer), "\n\n",
                           [&](const error_code& ec, std::size_t) {
                             result = ec;
                             done = true;
                           });
    if (!run_for(impl_->io, impl_->socket, done, deadline, false)) return std::nullopt;
    if (result) throw ClientError("event stream closed: " + result.message());
  }
}

}  // namespace spasmwatch::api
