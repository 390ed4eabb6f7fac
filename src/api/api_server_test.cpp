// The HTTP server over a real Unix socket and real loopback TCP: token rule, limits, malformed
// HTTP, the live event stream, socket ownership.
#include "api/api_server.hpp"

#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <netinet/in.h>
#include <unistd.h>

#include <gtest/gtest.h>

#include <thread>

#include "api/api_client.hpp"
#include "api/api_token.hpp"
#include "common/proto_json.hpp"
#include "store/store_test_support.hpp"
#include "store/store_writer.hpp"

namespace spasmwatch::api {
namespace {

using boost::beast::http::verb;
using namespace std::chrono_literals;

const std::string kToken(64, 'c');

class ServerTest : public ::testing::Test {
 protected:
  explicit ServerTest(ServerOptions options = {}) : options_(std::move(options)) {}

  void SetUp() override {
    writer_.emplace(dir_ / "events.db", clock_);
    reader_.emplace(store::Store::open(dir_ / "events.db", clock_, {.read_only = true}));
    handler_.emplace(Handler::Context{&*reader_, &*writer_, [] { return proto::ApiStatus{}; }, kToken, &clock_});
    options_.unix_socket = (dir_ / "run" / "api.sock").string();
    options_.tcp_host = "127.0.0.1";
    options_.tcp_port = 0;
    server_.emplace(options_, *handler_);
    server_->start();
  }

  Address unix_address() const { return {options_.unix_socket, "", 0, ""}; }
  Address tcp_address(std::string token = "") const { return {"", "127.0.0.1", server_->tcp_port(), std::move(token)}; }

  store::testing::TempDir dir_;
  SystemClock clock_;
  ServerOptions options_;
  std::optional<store::StoreWriter> writer_;
  std::optional<store::Store> reader_;
  std::optional<Handler> handler_;
  std::optional<Server> server_;
};

TEST_F(ServerTest, UnixSocketIsOwnerOnlyAndNeedsNoToken) {
  struct stat st{};
  ASSERT_EQ(::stat(options_.unix_socket.c_str(), &st), 0);
  EXPECT_TRUE(S_ISSOCK(st.st_mode));
  EXPECT_EQ(st.st_mode & 0777, 0600u);
  ASSERT_EQ(::stat((dir_ / "run").c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 0777, 0700u);
  Client client(unix_address(), 5s);
  EXPECT_EQ(client.request(verb::get, "/v1/status").status, 200u);
}

TEST_F(ServerTest, TcpRefusesRequestsWithoutTheToken) {
  EXPECT_EQ(Client(tcp_address(), 5s).request(verb::get, "/v1/status").status, 401u);
  EXPECT_EQ(Client(tcp_address(std::string(64, 'd')), 5s).request(verb::get, "/v1/events").status, 401u);
  const auto post = Client(tcp_address(), 5s).request(verb::post, "/v1/annotations", R"({"kind":"NOTE"})");
  EXPECT_EQ(post.status, 401u);
  EXPECT_EQ(reader_->counts().annotations(), 0u);
  EXPECT_EQ(Client(tcp_address(kToken), 5s).request(verb::get, "/v1/status").status, 200u);
  const auto created = Client(tcp_address(kToken), 5s).request(verb::post, "/v1/annotations", R"({"kind":"NOTE"})");
  EXPECT_EQ(created.status, 201u) << created.body;
  EXPECT_EQ(reader_->counts().annotations(), 1u);  // acknowledged means committed
}

TEST_F(ServerTest, OversizeBodyAndHeaderAndMalformedHttpAreRefused) {
  Client client(unix_address(), 5s);
  const auto big = client.request(verb::post, "/v1/annotations",
                                  R"({"kind":"NOTE","text":")" + std::string(70 * 1024, 'x') + "\"}");
  EXPECT_EQ(big.status, 413u) << big.body;
  EXPECT_NE(big.body.find("body larger than 65536 bytes"), std::string::npos);

  const std::string huge_header = "GET /v1/status HTTP/1.1\r\nHost: x\r\nX-Big: " + std::string(9000, 'h') + "\r\n\r\n";
  const auto header_answer = client.raw(huge_header);
  EXPECT_TRUE(header_answer.starts_with("HTTP/1.1 431")) << header_answer.substr(0, 80);

  const auto garbage = client.raw("\x01\x02 not http at all\r\n\r\n");
  EXPECT_TRUE(garbage.starts_with("HTTP/1.1 400")) << garbage.substr(0, 80);
  EXPECT_NE(garbage.find("malformed HTTP request"), std::string::npos);

  const auto bad_length = client.raw("POST /v1/annotations HTTP/1.1\r\nContent-Length: -5\r\n\r\n");
  EXPECT_TRUE(bad_length.starts_with("HTTP/1.1 400")) << bad_length.substr(0, 80);
  EXPECT_EQ(reader_->counts().annotations(), 0u);

  // The server still answers.
  EXPECT_EQ(client.request(verb::get, "/v1/status").status, 200u);
}

TEST_F(ServerTest, KeepAliveServesSeveralRequestsOnOneConnection) {
  const std::string one = "GET /v1/status HTTP/1.1\r\nHost: x\r\n\r\n";
  const auto answer = Client(unix_address(), 5s).raw(one + one + "GET /v1/status HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n");
  std::size_t count = 0;
  for (auto at = answer.find("HTTP/1.1 200"); at != std::string::npos; at = answer.find("HTTP/1.1 200", at + 1)) ++count;
  EXPECT_EQ(count, 3u);
}

TEST_F(ServerTest, LiveStreamDeliversPublishedEventsMatchingItsFilter) {
  StreamReader all(unix_address(), "", 5s);
  StreamReader finals(tcp_address(kToken), "state=final&site=calf", 5s);
  // Both readers are registered once the server has answered their headers; a status request on
  // the same thread afterwards orders after them.
  ASSERT_EQ(Client(unix_address(), 5s).request(verb::get, "/v1/status").status, 200u);
  EXPECT_EQ(server_->stream_clients(), 2u);

  auto provisional = store::testing::make_event(store::testing::kBaseUtcNs, proto::PROVISIONAL);
  provisional.set_id("11111111-1111-4111-8111-111111111111");
  auto final_event = store::testing::make_event(store::testing::kBaseUtcNs);
  final_event.set_id(provisional.id());
  auto neck = store::testing::make_event(store::testing::kBaseUtcNs);
  neck.set_id("22222222-2222-4222-8222-222222222222");
  neck.set_site(proto::NECK);
  server_->publish(provisional);
  server_->publish(final_event);
  server_->publish(neck);

  std::vector<std::string> seen;
  for (int i = 0; i < 3; ++i) {
    const auto m = all.next(5s);
    ASSERT_TRUE(m) << "event " << i << " did not arrive";
    proto::Event e;
    std::string error;
    ASSERT_TRUE(from_json(m->data, e, error)) << error;
    EXPECT_EQ(e.id(), m->id);
    seen.push_back(m->event + ":" + m->id.substr(0, 2));
  }
  EXPECT_EQ(seen, (std::vector<std::string>{"provisional:11", "final:11", "final:22"}));

  const auto m = finals.next(5s);
  ASSERT_TRUE(m);
  EXPECT_EQ(m->event, "final");
  EXPECT_EQ(m->id, final_event.id());
  EXPECT_FALSE(finals.next(300ms)) << "the neck event does not match site=calf";
}

TEST_F(ServerTest, StreamWithBadFilterIsRefused) {
  try {
    StreamReader reader(unix_address(), "site=moon", 5s);
    FAIL() << "expected a refusal";
  } catch (const ClientError& e) {
    EXPECT_NE(std::string(e.what()).find("400"), std::string::npos) << e.what();
    EXPECT_NE(std::string(e.what()).find("moon"), std::string::npos) << e.what();
  }
}

TEST_F(ServerTest, SecondServerOnTheSameSocketIsRefused) {
  store::testing::TempDir other;
  ServerOptions o;
  o.unix_socket = options_.unix_socket;
  Server second(o, *handler_);
  try {
    second.start();
    FAIL() << "expected a refusal";
  } catch (const std::runtime_error& e) {
    EXPECT_NE(std::string(e.what()).find("another spasmwatchd"), std::string::npos) << e.what();
  }
  // The first still serves.
  EXPECT_EQ(Client(unix_address(), 5s).request(verb::get, "/v1/status").status, 200u);
}

TEST_F(ServerTest, StaleSocketFileIsReplaced) {
  server_->stop();
  // A socket file nobody listens on, as a killed daemon leaves it.
  const int fd = ::socket(AF_UNIX, SOCK_STREAM, 0);
  sockaddr_un addr{};
  addr.sun_family = AF_UNIX;
  std::snprintf(addr.sun_path, sizeof addr.sun_path, "%s", options_.unix_socket.c_str());
  ASSERT_EQ(::bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr), 0);
  ::close(fd);
  server_.emplace(options_, *handler_);
  server_->start();
  EXPECT_EQ(Client(unix_address(), 5s).request(verb::get, "/v1/status").status, 200u);
}

TEST_F(ServerTest, NonLoopbackTcpAddressIsRefused) {
  ServerOptions o;
  o.tcp_host = "0.0.0.0";
  Server s(o, *handler_);
  EXPECT_THROW(s.start(), std::runtime_error);
}

class LimitsTest : public ServerTest {
 protected:
  static ServerOptions tight() {
    ServerOptions o;
    o.max_connections = 2;
    o.max_stream_clients = 1;
    o.request_timeout = 300ms;
    o.idle_timeout = 3000ms;
    return o;
  }
  LimitsTest() : ServerTest(tight()) {}
};

// A connected socket that sends nothing.
int idle_connection(const std::string& path) {
  const int fd = ::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
  sockaddr_un addr{};
  addr.sun_family = AF_UNIX;
  std::snprintf(addr.sun_path, sizeof addr.sun_path, "%s", path.c_str());
  if (::connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0) {
    ::close(fd);
    return -1;
  }
  return fd;
}

TEST_F(LimitsTest, ConnectionsBeyondTheLimitGet503) {
  const int a = idle_connection(options_.unix_socket);
  const int b = idle_connection(options_.unix_socket);
  ASSERT_GE(a, 0);
  ASSERT_GE(b, 0);
  std::this_thread::sleep_for(50ms);  // both accepted
  const auto answer = Client(unix_address(), 5s).raw("GET /v1/status HTTP/1.1\r\n\r\n");
  EXPECT_TRUE(answer.starts_with("HTTP/1.1 503")) << answer.substr(0, 80);
  EXPECT_NE(answer.find("too many connections"), std::string::npos);
  ::close(a);
  ::close(b);
}

// A full TCP side does not lock the owner out of the Unix socket.
TEST_F(LimitsTest, TcpConnectionsDoNotCrowdOutTheSocket) {
  std::vector<int> fds;
  for (int i = 0; i < 3; ++i) {
    const int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_port = htons(server_->tcp_port());
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    ASSERT_EQ(::connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr), 0);
    fds.push_back(fd);
  }
  std::this_thread::sleep_for(50ms);
  EXPECT_EQ(Client(unix_address(), 5s).request(verb::get, "/v1/status").status, 200u);
  for (const int fd : fds) ::close(fd);
}

// A request without the token is answered 401 and the connection closed: the second,
// pipelined request gets no answer.
TEST_F(ServerTest, RefusedTokenClosesTheConnection) {
  const std::string one = "GET /v1/status HTTP/1.1\r\nHost: x\r\n\r\n";
  const auto answer = Client(tcp_address(), 5s).raw(one + one);
  EXPECT_TRUE(answer.starts_with("HTTP/1.1 401")) << answer.substr(0, 80);
  EXPECT_EQ(answer.find("HTTP/1.1", 5), std::string::npos) << answer;
}

TEST_F(LimitsTest, SlowAndIdleConnectionsAreClosed) {
  const int fd = idle_connection(options_.unix_socket);
  ASSERT_GE(fd, 0);
  const std::string partial = "GET /v1/status HTTP/1.1\r\nHost:";
  ASSERT_EQ(::write(fd, partial.data(), partial.size()), static_cast<ssize_t>(partial.size()));
  // The server closes it after the request timeout: read returns 0 (EOF), bounded by SO_RCVTIMEO.
  timeval tv{5, 0};
  ::setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
  const auto started = std::chrono::steady_clock::now();
  char byte = 0;
  EXPECT_EQ(::read(fd, &byte, 1), 0);
  // Closed by the request timeout (300 ms from the first byte), not the idle one (3 s).
  EXPECT_LT(std::chrono::steady_clock::now() - started, 2s);
  ::close(fd);
  // Freed slots: new requests are served.
  EXPECT_EQ(Client(unix_address(), 5s).request(verb::get, "/v1/status").status, 200u);
}

TEST_F(LimitsTest, StreamClientsBeyondTheLimitAreRefused) {
  StreamReader first(unix_address(), "", 5s);
  try {
    StreamReader second(unix_address(), "", 5s);
    FAIL() << "expected a refusal";
  } catch (const ClientError& e) {
    EXPECT_NE(std::string(e.what()).find("503"), std::string::npos) << e.what();
  }
}

TEST(TokenTest, CreatedOnceOwnerOnlyAndReadBack) {
  store::testing::TempDir dir;
  const auto path = (dir / "state" / "api-token").string();
  const auto token = load_or_create_token(path);
  EXPECT_EQ(token.size(), 64u);
  struct stat st{};
  ASSERT_EQ(::stat(path.c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 0777, 0600u);
  EXPECT_EQ(load_or_create_token(path), token);
  EXPECT_EQ(read_token(path), token);
  ::chmod(path.c_str(), 0644);
  EXPECT_EQ(load_or_create_token(path), token);
  ASSERT_EQ(::stat(path.c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 0777, 0600u) << "looser mode repaired";
  EXPECT_NE(load_or_create_token((dir / "other").string()), token);
  EXPECT_THROW((void)read_token((dir / "missing").string()), std::runtime_error);
}

}  // namespace
}  // namespace spasmwatch::api
