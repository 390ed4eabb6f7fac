// libFuzzer entry point: arbitrary bytes as an HTTP request to the local API. Beast's parser (with
// the server's header and body limits) reads them; whatever parses goes to the request handler,
// which works on a real store (a file on tmpfs, so commits are cheap). Invariants: no crash, every
// answer is 2xx-5xx, every refusal is an ApiError JSON body naming a problem, the store stays
// sound.
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>

#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <memory>
#include <string>
#include <unistd.h>

#include "api/api_handler.hpp"
#include "api/api_request.hpp"
#include "common/proto_json.hpp"
#include "store/store_writer.hpp"

namespace {

using namespace spasmwatch;
namespace http = boost::beast::http;

struct World {
  World() {
    const std::string base = std::filesystem::exists("/dev/shm") ? "/dev/shm" : "/tmp";
    dir = base + "/sw_fuzz_api_" + std::to_string(::getpid());
    std::filesystem::create_directories(dir);
    writer = std::make_unique<store::StoreWriter>(dir + "/fuzz.db", clock);
    proto::Event e;
    e.set_id("11111111-1111-4111-8111-111111111111");
    e.set_device("neck");
    e.set_site(proto::NECK);
    e.set_type(proto::SPASM);
    e.set_state(proto::FINAL);
    e.set_start_utc_ns(1'700'000'000'000'000'000);
    e.set_end_utc_ns(1'700'000'001'000'000'000);
    e.set_confidence(0.8);
    writer->put_event(e).get();
    reader = std::make_unique<store::Store>(store::Store::open(dir + "/fuzz.db", clock, {.read_only = true}));
    handler = std::make_unique<api::Handler>(api::Handler::Context{
        reader.get(), writer.get(), [] { return proto::ApiStatus{}; }, std::string(64, 'f'), &clock});
  }
  ~World() {
    handler.reset();
    reader.reset();
    writer.reset();
    std::error_code ignored;
    std::filesystem::remove_all(dir, ignored);
  }
  std::string dir;
  SystemClock clock;
  std::unique_ptr<store::StoreWriter> writer;
  std::unique_ptr<store::Store> reader;
  std::unique_ptr<api::Handler> handler;
};

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  static World world;
  http::request_parser<http::string_body> parser;
  parser.header_limit(8 * 1024);
  parser.body_limit(64 * 1024);
  parser.eager(true);
  boost::system::error_code ec;
  const std::size_t used = parser.put(boost::asio::buffer(data, size), ec);
  if (!ec && !parser.is_done()) parser.put_eof(ec);
  if (ec || !parser.is_done() || used > size) return 0;
  const api::Request request = api::view_of(parser.get(), size > 0 && (data[0] & 1) != 0);
  const auto response = world.handler->handle(request);
  if (response.status < 200 || response.status > 599) __builtin_trap();
  if (response.status >= 400) {
    proto::ApiError error;
    std::string problem;
    if (!from_json(response.body, error, problem) || error.message().empty()) __builtin_trap();
  }
  return 0;
}
