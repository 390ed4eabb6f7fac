// A client of the local API, for the CLI and tests: one request at a time over the Unix socket
// (no token) or loopback TCP (token), each bounded by a timeout; and a reader of the live event
// stream. Blocking calls; each Client owns its own io_context.
#pragma once

#include <boost/beast/http/verb.hpp>

#include <chrono>
#include <cstdint>
#include <memory>
#include <optional>
#include <stdexcept>
#include <string>

namespace spasmwatch::api {

// The daemon could not be reached or did not answer in time (not an HTTP error status).
class ClientError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

struct Address {
  std::string unix_socket;  // used when set
  std::string host;         // otherwise TCP
  std::uint16_t port = 0;
  std::string token;        // sent as a bearer token when set

  [[nodiscard]] std::string describe() const;
};

struct ClientResponse {
  unsigned status = 0;
  std::string body;
};

class Client {
 public:
  explicit Client(Address address, std::chrono::milliseconds timeout = std::chrono::seconds(30));
  ~Client();
  Client(const Client&) = delete;
  Client& operator=(const Client&) = delete;

  // One request on a fresh connection. Throws ClientError when unreachable or too slow.
  ClientResponse request(boost::beast::http::verb method, const std::string& target, const std::string& body = {},
                         const std::string& content_type = "application/json");

  // Sends raw bytes and returns whatever comes back until the server closes (tests of malformed
  // HTTP). Bounded by the timeout.
  std::string raw(const std::string& bytes);

  [[nodiscard]] const Address& address() const { return address_; }

 private:
  struct Impl;
  Address address_;
  std::chrono::milliseconds timeout_;
  std::unique_ptr<Impl> impl_;
};

// GET /v1/events/stream?query, then one server-sent event at a time.
class StreamReader {
 public:
  struct Message {
    std::string event;  // provisional, final, retracted
    std::string id;
    std::string data;   // the Event as JSON
  };

  // Connects and reads the response header; throws ClientError, or ClientError with the status and
  // body of a refusal.
  StreamReader(Address address, const std::string& query, std::chrono::milliseconds timeout);
  ~StreamReader();
  StreamReader(const StreamReader&) = delete;
  StreamReader& operator=(const StreamReader&) = delete;

  // The next event within `timeout` (keep-alive comments skipped); nothing on timeout. Throws
  // ClientError when the server closed the stream.
  std::optional<Message> next(std::chrono::milliseconds timeout);

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace spasmwatch::api
