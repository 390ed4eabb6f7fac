// Byte links to devices: the thin Asio shell around the pure protocol and ingest code.
//
// A Link delivers the bytes of one device connection to its LinkHandler, each read stamped with
// the host receive time, and sends host->device bytes. Serial and outgoing TCP links reconnect
// by themselves with exponential backoff (100 ms doubling to 5 s) after an unplug or disconnect;
// an accepted TCP connection (the device dialled in) does not: the device dials again.
//
// Thread rules: a link and its handler run on the io_context's thread(s) through one strand of
// execution (all handlers of a link are serialised); start/stop/send must be called from it.
// Links are shared_ptr-owned: pending handlers keep them alive until they finish.
#pragma once

#include <boost/asio.hpp>

#include <chrono>
#include <cstdint>
#include <deque>
#include <memory>
#include <span>
#include <string>
#include <vector>

#include "common/clock.hpp"

namespace spasmwatch::io {

class LinkHandler {
 public:
  virtual ~LinkHandler() = default;
  virtual void on_link_up() = 0;
  virtual void on_bytes(std::span<const std::uint8_t> bytes, std::int64_t host_time_ns) = 0;
  // `error` says why (end of file, I/O error, ...). Not called after stop().
  virtual void on_link_down(const boost::system::error_code& error) = 0;
};

// Exponential backoff for reconnect attempts.
class Backoff {
 public:
  Backoff(std::chrono::milliseconds initial = std::chrono::milliseconds(100),
          std::chrono::milliseconds max = std::chrono::seconds(5))
      : initial_(initial), max_(max), next_(initial) {}
  std::chrono::milliseconds next() {
    const auto d = next_;
    next_ = std::min(next_ * 2, max_);
    return d;
  }
  void reset() { next_ = initial_; }

 private:
  std::chrono::milliseconds initial_, max_, next_;
};

class Link : public std::enable_shared_from_this<Link> {
 public:
  virtual ~Link() = default;
  virtual void start() = 0;
  virtual void stop() = 0;
  // Queues bytes for the device; dropped when the link is down.
  virtual void send(std::vector<std::uint8_t> bytes) = 0;
  [[nodiscard]] virtual std::string describe() const = 0;
  [[nodiscard]] virtual bool is_up() const = 0;
};

struct SerialSettings {
  std::string path;
  unsigned baud = 115200;
};

struct Endpoint {
  std::string host;
  std::uint16_t port = 0;
};

// Parses "HOST:PORT" ("[::1]:7700" for IPv6). Throws std::invalid_argument naming the text.
[[nodiscard]] Endpoint parse_endpoint(std::string_view text);

[[nodiscard]] std::shared_ptr<Link> make_serial_link(boost::asio::io_context& io,
                                                     SerialSettings settings,
                                                     LinkHandler& handler, const Clock& clock);
[[nodiscard]] std::shared_ptr<Link> make_tcp_client_link(boost::asio::io_context& io,
                                                         Endpoint endpoint, LinkHandler& handler,
                                                         const Clock& clock);
// Wraps a connected socket (from a listener). Not reconnecting.
[[nodiscard]] std::shared_ptr<Link> make_accepted_link(boost::asio::ip::tcp::socket socket,
                                                       LinkHandler& handler, const Clock& clock);

}  // namespace spasmwatch::io
