#include "io/link.hpp"

#include <array>
#include <charconv>
#include <stdexcept>

namespace spasmwatch::io {

namespace asio = boost::asio;
using boost::system::error_code;
using asio::ip::tcp;

Endpoint parse_endpoint(std::string_view text) {
  const auto colon = text.rfind(':');
  if (colon == std::string_view::npos || colon == 0 || colon + 1 == text.size()) {
    throw std::invalid_argument("expected HOST:PORT, got '" + std::string(text) + "'");
  }
  std::string_view host = text.substr(0, colon);
  if (host.size() >= 2 && host.front() == '[' && host.back() == ']') host = host.substr(1, host.size() - 2);
  const std::string_view port_text = text.substr(colon + 1);
  unsigned port = 0;
  const auto [end, ec] = std::from_chars(port_text.data(), port_text.data() + port_text.size(), port);
  if (ec != std::errc{} || end != port_text.data() + port_text.size() || port == 0 || port > 65535) {
    throw std::invalid_argument("bad port '" + std::string(port_text) + "' in '" + std::string(text) +
                                "' (expected 1-65535)");
  }
  return {std::string(host), static_cast<std::uint16_t>(port)};
}

namespace {

// Read loop, write queue and reconnect for any Asio byte stream.
template <class Stream>
class StreamLink : public Link {
 public:
  StreamLink(Stream stream, LinkHandler& handler, const Clock& clock, bool reconnect)
      : stream_(std::move(stream)),
        timer_(stream_.get_executor()),
        handler_(handler),
        clock_(clock),
        reconnect_(reconnect) {}

  void stop() override {
    stopped_ = true;
    timer_.cancel();
    close_stream();
  }

  void send(std::vector<std::uint8_t> bytes) override {
    if (!up_ || stopped_) return;
    writes_.push_back(std::move(bytes));
    if (writes_.size() == 1) write_next();
  }

  [[nodiscard]] bool is_up() const override { return up_; }

 protected:
  // Opens the stream and calls link_up() or link_failed().
  virtual void open() = 0;
  virtual void close_stream() {
    error_code ignored;
    stream_.close(ignored);
  }

  void link_up() {
    if (stopped_) return;
    up_ = true;
    backoff_.reset();
    handler_.on_link_up();
    read_next();
  }

  // Opening failed: retry later (nothing to report, the link never came up).
  void open_failed() {
    close_stream();
    schedule_reconnect();
  }

  void schedule_reconnect() {
    if (stopped_ || !reconnect_) return;
    timer_.expires_after(backoff_.next());
    timer_.async_wait([self = shared_from_this(), this](const error_code& ec) {
      if (!ec && !stopped_) open();
    });
  }

  Stream stream_;
  asio::steady_timer timer_;
  bool stopped_ = false;

 private:
  void read_next() {
    stream_.async_read_some(asio::buffer(buffer_),
                            [self = shared_from_this(), this](const error_code& ec, std::size_t n) {
                              if (stopped_) return;
                              if (n > 0) handler_.on_bytes({buffer_.data(), n}, clock_.utc_ns());
                              if (ec) {
                                link_down(ec);
                                return;
                              }
                              read_next();
                            });
  }

  void write_next() {
    asio::async_write(stream_, asio::buffer(writes_.front()),
                      [self = shared_from_this(), this](const error_code& ec, std::size_t) {
                        if (stopped_ || !up_) return;
                        if (ec) {
                          link_down(ec);
                          return;
                        }
                        writes_.pop_front();
                        if (!writes_.empty()) write_next();
                      });
  }

  void link_down(const error_code& ec) {
    if (!up_) return;
    up_ = false;
    writes_.clear();
    close_stream();
    handler_.on_link_down(ec);
    schedule_reconnect();
  }

  LinkHandler& handler_;
  const Clock& clock_;
  const bool reconnect_;
  bool up_ = false;
  Backoff backoff_;
  std::array<std::uint8_t, 16 * 1024> buffer_{};
  std::deque<std::vector<std::uint8_t>> writes_;
};

class SerialLink final : public StreamLink<asio::serial_port> {
 public:
  SerialLink(asio::io_context& io, SerialSettings settings, LinkHandler& handler, const Clock& clock)
      : StreamLink(asio::serial_port(io), handler, clock, true), settings_(std::move(settings)) {}

  void start() override { open(); }
  [[nodiscard]] std::string describe() const override {
    return "serial:" + settings_.path + "@" + std::to_string(settings_.baud);
  }

 private:
  void open() override {
    error_code ec;
    stream_.open(settings_.path, ec);
    // Asio puts the line in raw mode on open; set 8N1, no flow control, and the baud rate.
    if (!ec) stream_.set_option(asio::serial_port::baud_rate(settings_.baud), ec);
    if (!ec) stream_.set_option(asio::serial_port::character_size(8), ec);
    if (!ec) stream_.set_option(asio::serial_port::parity(asio::serial_port::parity::none), ec);
    if (!ec) stream_.set_option(asio::serial_port::stop_bits(asio::serial_port::stop_bits::one), ec);
    if (!ec) {
      stream_.set_option(asio::serial_port::flow_control(asio::serial_port::flow_control::none), ec);
    }
    if (ec) {
      open_failed();
      return;
    }
    link_up();
  }

  SerialSettings settings_;
};

class TcpClientLink final : public StreamLink<tcp::socket> {
 public:
  TcpClientLink(asio::io_context& io, Endpoint endpoint, LinkHandler& handler, const Clock& clock)
      : StreamLink(tcp::socket(io), handler, clock, true),
        resolver_(io),
        endpoint_(std::move(endpoint)) {}

  void start() override { open(); }
  [[nodiscard]] std::string describe() const override {
    return "tcp:" + endpoint_.host + ":" + std::to_string(endpoint_.port);
  }

 private:
  void open() override {
    resolver_.async_resolve(
        endpoint_.host, std::to_string(endpoint_.port),
        [self = shared_from_this(), this](const error_code& ec, tcp::resolver::results_type results) {
          if (stopped_) return;
          if (ec) {
            open_failed();
            return;
          }
          asio::async_connect(stream_, results,
                              [self, this](const error_code& connect_ec, const tcp::endpoint&) {
                                if (stopped_) return;
                                if (connect_ec) {
                                  open_failed();
                                  return;
                                }
                                error_code ignored;
                                stream_.set_option(tcp::no_delay(true), ignored);
                                link_up();
                              });
        });
  }

  tcp::resolver resolver_;
  Endpoint endpoint_;
};

class AcceptedLink final : public StreamLink<tcp::socket> {
 public:
  AcceptedLink(tcp::socket socket, LinkHandler& handler, const Clock& clock)
      : StreamLink(std::move(socket), handler, clock, false) {
    error_code ec;
    const auto remote = stream_.remote_endpoint(ec);
    description_ = ec ? "tcp:accepted" : "tcp:" + remote.address().to_string() + ":" +
                                             std::to_string(remote.port());
  }

  void start() override { open(); }
  [[nodiscard]] std::string describe() const override { return description_; }

 private:
  void open() override { link_up(); }
  std::string description_;
};

}  // namespace

std::shared_ptr<Link> make_serial_link(asio::io_context& io, SerialSettings settings,
                                       LinkHandler& handler, const Clock& clock) {
  return std::make_shared<SerialLink>(io, std::move(settings), handler, clock);
}

std::shared_ptr<Link> make_tcp_client_link(asio::io_context& io, Endpoint endpoint,
                                           LinkHandler& handler, const Clock& clock) {
  return std::make_shared<TcpClientLink>(io, std::move(endpoint), handler, clock);
}

std::shared_ptr<Link> make_accepted_link(tcp::socket socket, LinkHandler& handler,
                                         const Clock& clock) {
  return std::make_shared<AcceptedLink>(std::move(socket), handler, clock);
}

}  // namespace spasmwatch::io
