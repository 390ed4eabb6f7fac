// The local API's HTTP server (Boost.Beast): a Unix socket (owner-only, no token needed) and/or a
// loopback TCP port (bearer token required), one thread of its own, requests answered by
// api::Handler, live events pushed to stream clients as server-sent events.
//
// Limits (ServerOptions): request header 8 KiB (431), body 64 KiB (413), 64 connections per
// listener (503 to the next; the TCP side cannot crowd out the Unix socket), 16 stream clients
// (503), a request must arrive completely within 10 s of its first byte and a connection may idle
// 60 s before its first byte (then it is closed), a response must be taken within 10 s, a stream
// client that falls 1024 events behind is dropped. Malformed HTTP gets 400, a wrong or missing
// token 401, and the connection is closed.
//
// Stream format (GET /v1/events/stream, text/event-stream):
//   event: provisional|final|retracted
//   id: <event uuid>
//   data: <the Event as one line of JSON>
// and a comment line ": keepalive" every 15 s. The daemon publishes a FINAL event only after the
// store acknowledged its write, so a client that saw it final can rely on it being stored.
//
// Thread rules: start()/stop() from the owning thread; publish() and counters from any thread.
// The handler runs on the server's thread only.
#pragma once

#include <atomic>
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <thread>

#include "api/api_handler.hpp"
#include "events.pb.h"

namespace spasmwatch::api {

struct ServerOptions {
  std::string unix_socket;           // path; empty: no Unix socket
  std::string tcp_host;              // loopback address ("127.0.0.1", "::1", "localhost"); empty: no TCP
  std::uint16_t tcp_port = 0;        // 0: any free port (see tcp_port())
  std::size_t max_header_bytes = 8 * 1024;
  std::size_t max_body_bytes = 64 * 1024;
  std::size_t max_connections = 64;
  std::size_t max_stream_clients = 16;
  std::chrono::milliseconds request_timeout{10'000};
  std::chrono::milliseconds idle_timeout{60'000};
  std::chrono::milliseconds write_timeout{10'000};
  std::chrono::milliseconds keepalive_interval{15'000};
  std::size_t stream_backlog = 1024;  // queued events per stream client before it is dropped
};

class Server {
 public:
  Server(ServerOptions options, Handler& handler);
  ~Server();  // stop()
  Server(const Server&) = delete;
  Server& operator=(const Server&) = delete;

  // Binds and starts the thread. Throws std::runtime_error naming the address or path (in use,
  // not loopback, path too long, another daemon answering on the socket).
  void start();
  // Closes every connection and joins the thread. Idempotent.
  void stop();

  // Sends `event` to every stream client whose filter matches.
  void publish(const proto::Event& event);

  [[nodiscard]] std::uint16_t tcp_port() const { return bound_port_; }
  [[nodiscard]] std::uint32_t connections() const { return connections_.load(); }
  [[nodiscard]] std::uint32_t stream_clients() const { return stream_clients_.load(); }

  struct Impl;  // sessions reach the server through it

 private:
  std::unique_ptr<Impl> impl_;
  std::uint16_t bound_port_ = 0;
  std::atomic<std::uint32_t> connections_{0};
  std::atomic<std::uint32_t> stream_clients_{0};
  std::thread thread_;
  std::atomic<bool> started_{false};
};

}  // namespace spasmwatch::api
