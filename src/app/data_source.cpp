#include "app/data_source.hpp"

#include <boost/asio.hpp>

#include <cstdlib>

#include "api/api_client.hpp"
#include "api/api_handler.hpp"
#include "app/cli_common.hpp"
#include "app/daemon_config.hpp"
#include "common/proto_json.hpp"
#include "store/uuid.hpp"

namespace spasmwatch::app {

namespace {

using boost::beast::http::verb;

class FileSource final : public DataSource {
 public:
  FileSource(const std::string& path, bool writable, const Clock& clock)
      : store_(writable ? store::Store::open(path, clock) : open_store_for_reading(path, clock)) {}

  std::vector<proto::StoredEvent> events(store::EventQuery query) override { return all_events(store_, query); }
  std::vector<proto::Annotation> annotations(store::AnnotationQuery query) override {
    return all_annotations(store_, query);
  }
  std::string add_annotation(const proto::Annotation& annotation) override { return store_.put_annotation(annotation); }
  proto::ApiStatus status() override {
    proto::ApiStatus s;
    s.set_db(store_.path().string());
    *s.mutable_store() = store_.counts();
    return s;
  }
  bool is_daemon() const override { return false; }
  std::string describe() const override { return "database file " + store_.path().string(); }

 private:
  store::Store store_;
};

class DaemonSource final : public DataSource {
 public:
  explicit DaemonSource(std::string socket) : client_({std::move(socket), "", 0, ""}, std::chrono::seconds(30)) {}

  // Whether a daemon listens on the socket (a stale socket file refuses the connection). Once one
  // accepts, its answers count, errors included: falling back to a file then could write to
  // another database than the daemon's.
  bool listening() const {
    boost::asio::io_context io;
    boost::asio::local::stream_protocol::socket socket(io);
    boost::system::error_code ec;
    socket.connect(boost::asio::local::stream_protocol::endpoint(client_.address().unix_socket), ec);
    return !ec;
  }

  std::vector<proto::StoredEvent> events(store::EventQuery query) override {
    std::vector<proto::StoredEvent> out;
    query.limit = 1000;
    for (query.offset = 0;; query.offset += query.limit) {
      proto::EventList page;
      get("/v1/events?" + api::event_query_string(query), page);
      for (auto& e : *page.mutable_events()) out.push_back(std::move(e));
      if (!page.more()) return out;
    }
  }

  std::vector<proto::Annotation> annotations(store::AnnotationQuery query) override {
    std::vector<proto::Annotation> out;
    query.limit = 1000;
    for (query.offset = 0;; query.offset += query.limit) {
      proto::AnnotationList page;
      get("/v1/annotations?" + api::annotation_query_string(query), page);
      for (auto& a : *page.mutable_annotations()) out.push_back(std::move(a));
      if (!page.more()) return out;
    }
  }

  // The id is chosen here, so that a retry after a lost answer cannot store it twice (the API
  // answers 409 to a second POST of the same id).
  std::string add_annotation(const proto::Annotation& annotation) override {
    proto::Annotation with_id = annotation;
    if (with_id.id().empty()) with_id.set_id(store::generate_uuid_v4());
    proto::Annotation stored;
    call(verb::post, "/v1/annotations", to_json_line(with_id), stored);
    return stored.id();
  }

  proto::ApiStatus status() override {
    proto::ApiStatus s;
    get("/v1/status", s);
    return s;
  }
  bool is_daemon() const override { return true; }
  std::string describe() const override { return "spasmwatchd at " + client_.address().describe(); }

 private:
  void get(const std::string& target, google::protobuf::Message& out) { call(verb::get, target, {}, out); }

  void call(verb method, const std::string& target, const std::string& body, google::protobuf::Message& out) {
    api::ClientResponse r;
    try {
      r = client_.request(method, target, body);
    } catch (const api::ClientError& e) {
      throw store::StoreError(e.what());
    }
    std::string error;
    if (r.status >= 200 && r.status < 300) {
      if (!from_json(r.body, out, error)) throw store::StoreError("unreadable answer from spasmwatchd: " + error);
      return;
    }
    proto::ApiError refusal;
    const std::string message = from_json(r.body, refusal, error) ? refusal.message() : r.body;
    if (r.status >= 400 && r.status < 500) throw InputError("spasmwatchd", message);
    throw store::StoreError("spasmwatchd: " + message);
  }

  api::Client client_;
};

}  // namespace

std::unique_ptr<DataSource> open_data_source(const DataSourceOptions& options, const Clock& clock) {
  if (!options.db.empty()) return std::make_unique<FileSource>(options.db, options.writable, clock);
  std::string socket = options.api_socket;
  if (socket.empty()) {
    const char* env = std::getenv("SPASMWATCH_API_SOCKET");
    socket = env != nullptr && *env != '\0' ? env : default_api_socket();
  }
  auto daemon = std::make_unique<DaemonSource>(socket);
  if (daemon->listening()) return daemon;
  if (!options.api_socket.empty()) {
    throw store::StoreError("no spasmwatchd answers on " + options.api_socket + " (is it running?)");
  }
  return std::make_unique<FileSource>(default_db_path(), options.writable, clock);
}

}  // namespace spasmwatch::app
