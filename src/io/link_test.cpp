#include "io/link.hpp"

#include <gtest/gtest.h>
#include <pty.h>
#include <termios.h>
#include <unistd.h>

#include <string>

namespace spasmwatch::io {
namespace {

namespace asio = boost::asio;
using asio::ip::tcp;

struct CollectingHandler final : LinkHandler {
  int ups = 0;
  int downs = 0;
  std::string bytes;
  std::int64_t last_time_ns = 0;
  std::function<void()> on_data;
  void on_link_up() override { ++ups; }
  void on_bytes(std::span<const std::uint8_t> b, std::int64_t t) override {
    bytes.append(reinterpret_cast<const char*>(b.data()), b.size());
    last_time_ns = t;
    if (on_data) on_data();
  }
  void on_link_down(const boost::system::error_code&) override { ++downs; }
};

TEST(ParseEndpoint, AcceptsHostPortAndBracketedIpv6) {
  EXPECT_EQ(parse_endpoint("127.0.0.1:7700").host, "127.0.0.1");
  EXPECT_EQ(parse_endpoint("127.0.0.1:7700").port, 7700);
  EXPECT_EQ(parse_endpoint("[::1]:80").host, "::1");
  EXPECT_EQ(parse_endpoint("localhost:1").port, 1);
}

TEST(ParseEndpoint, RejectsBadInputNamingIt) {
  for (const char* bad : {"127.0.0.1", ":80", "host:", "host:0", "host:65536", "host:12x"}) {
    try {
      (void)parse_endpoint(bad);
      ADD_FAILURE() << bad;
    } catch (const std::invalid_argument& e) {
      EXPECT_NE(std::string(e.what()).find(bad), std::string::npos) << e.what();
    }
  }
}

TEST(TcpClientLink, ReceivesStampedBytesAndReconnectsAfterTheServerDrops) {
  asio::io_context io;
  tcp::acceptor acceptor(io, tcp::endpoint(asio::ip::make_address("127.0.0.1"), 0));
  const auto port = acceptor.local_endpoint().port();
  FakeClock clock(42);
  CollectingHandler handler;
  auto link = make_tcp_client_link(io, {"127.0.0.1", port}, handler, clock);
  link->start();

  int accepted = 0;
  std::function<void()> accept_one = [&] {
    acceptor.async_accept([&](const boost::system::error_code& ec, tcp::socket socket) {
      ASSERT_FALSE(ec);
      ++accepted;
      const std::string text = accepted == 1 ? "first" : "second";
      asio::write(socket, asio::buffer(text));
      socket.close();  // the "device" drops the connection
      if (accepted < 2) accept_one();
    });
  };
  accept_one();
  handler.on_data = [&] {
    if (handler.bytes == "firstsecond") link->stop();
  };
  io.run_for(std::chrono::seconds(10));
  EXPECT_EQ(handler.bytes, "firstsecond");
  EXPECT_EQ(handler.last_time_ns, 42);
  EXPECT_EQ(accepted, 2);
  EXPECT_EQ(handler.ups, 2);
  EXPECT_GE(handler.downs, 1);
}

TEST(SerialLink, ReadsFromAPseudoTerminalAndSeesTheUnplug) {
  int master = -1;
  int slave = -1;
  char name[256];
  ASSERT_EQ(openpty(&master, &slave, name, nullptr, nullptr), 0);
  termios tio{};
  tcgetattr(slave, &tio);
  cfmakeraw(&tio);
  tcsetattr(slave, TCSANOW, &tio);
  close(slave);

  asio::io_context io;
  FakeClock clock;
  CollectingHandler handler;
  auto link = make_serial_link(io, {name, 115200}, handler, clock);
  link->start();
  ASSERT_EQ(handler.ups, 1);
  const std::string payload("\x01\x02\x00hello", 8);
  ASSERT_EQ(write(master, payload.data(), payload.size()), static_cast<ssize_t>(payload.size()));
  handler.on_data = [&] {
    if (handler.bytes.size() == payload.size()) close(master);  // unplug
  };
  asio::steady_timer guard(io, std::chrono::seconds(5));
  guard.async_wait([&](const boost::system::error_code&) { link->stop(); });
  // Stop as soon as the unplug is seen (the link would keep retrying the vanished device).
  std::function<void()> poll;
  asio::steady_timer poller(io);
  poll = [&] {
    if (handler.downs > 0) {
      link->stop();
      guard.cancel();
      return;
    }
    poller.expires_after(std::chrono::milliseconds(10));
    poller.async_wait([&](const boost::system::error_code&) { poll(); });
  };
  poll();
  io.run_for(std::chrono::seconds(10));
  EXPECT_EQ(handler.bytes, payload);
  EXPECT_EQ(handler.downs, 1);
}

}  // namespace
}  // namespace spasmwatch::io
