// The local API's request handler: one parsed HTTP request in, one response out. No sockets
// here (api_server.hpp owns those), so the handler is unit-tested and fuzzed directly.
//
// Endpoints (API.md has the full reference):
//   GET    /v1/status                 ApiStatus (version, uptime, store counts, devices)
//   GET    /v1/devices                IngestStats (each device and its streams)
//   GET    /v1/events?filters         EventList      filters: from, to, site, type, min_confidence,
//                                                    state, device, limit, offset
//   GET    /v1/events/{id}            StoredEvent (with its annotations and the latest verdict)
//   POST   /v1/events/{id}/feedback   EventFeedback body -> 201 the FEEDBACK Annotation
//   GET    /v1/events/stream?filters  server-sent events: provisional, final, retracted
//   GET    /v1/annotations?filters    AnnotationList filters: from, to, kind, event_id, limit, offset
//   POST   /v1/annotations            Annotation body -> 201 the stored Annotation
//   GET    /v1/annotations/{id}       Annotation
//   PUT    /v1/annotations/{id}       Annotation body -> 200 the stored Annotation
//   DELETE /v1/annotations/{id}       Deleted
//
// Rules: a request over TCP needs "Authorization: Bearer <token>" (the Unix socket is owner-only
// instead); bodies are UTF-8 JSON in protobuf's JSON mapping (unknown fields and wrong types are
// refused); every refusal is a 4xx ApiError whose message names the problem, and changes nothing.
// A write answers only after it is committed (durable): the StoreWriter's acknowledgement.
//
// Thread rules: handle() runs on the API thread only (it owns the read-only Store connection).
#pragma once

#include <boost/beast/http/verb.hpp>

#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <string_view>

#include "api.pb.h"
#include "common/clock.hpp"
#include "events.pb.h"
#include "store/store.hpp"

namespace spasmwatch::store {
class StoreWriter;
}

namespace spasmwatch::api {

struct Request {
  boost::beast::http::verb method = boost::beast::http::verb::get;
  std::string_view target;         // path and query, as sent
  std::string_view body;
  std::string_view authorization;  // the Authorization header, if any
  std::string_view content_type;
  bool needs_token = false;        // true over TCP
};

// Which live events a stream client wants (the query of GET /v1/events/stream).
struct StreamFilter {
  std::optional<proto::BodySite> site;
  std::optional<proto::EventType> type;
  std::optional<proto::EventState> state;
  std::optional<std::string> device;
  double min_confidence = 0;

  [[nodiscard]] bool matches(const proto::Event& event) const;
};

struct Response {
  unsigned status = 200;
  std::string body;  // JSON (one ApiError for 4xx/5xx)
  std::string allow;  // for 405: the methods the path takes
  bool stream = false;  // 200 to GET /v1/events/stream: the server turns the connection into a stream
  StreamFilter filter;
};

// Parsed query string; keys and values percent-decoded. Throws std::invalid_argument naming the
// bad part.
[[nodiscard]] std::vector<std::pair<std::string, std::string>> parse_query(std::string_view query);

// EventQuery <-> query string, shared with the CLI's API client so both sides agree.
[[nodiscard]] std::string event_query_string(const store::EventQuery& query);
[[nodiscard]] std::string annotation_query_string(const store::AnnotationQuery& query);

class Handler {
 public:
  struct Context {
    store::Store* reader = nullptr;        // read-only connection; null when the daemon has no store
    store::StoreWriter* writer = nullptr;  // null when the daemon has no store
    std::function<proto::ApiStatus()> status;  // the daemon's view (ingest, version, ...)
    std::string token;                     // required over TCP; empty: TCP requests are refused
    const Clock* clock = nullptr;
  };

  explicit Handler(Context context);

  [[nodiscard]] Response handle(const Request& request);

 private:
  Response route(const Request& request);
  Response get_status();
  Response list_events(std::string_view query);
  Response get_event(const std::string& id);
  Response post_feedback(const std::string& id, const proto::EventFeedback& feedback);
  Response list_annotations(std::string_view query);
  Response get_annotation(const std::string& id);
  Response post_annotation(proto::Annotation annotation);
  Response put_annotation(const std::string& id, proto::Annotation annotation);
  Response delete_annotation(const std::string& id);
  Response stream(std::string_view query);
  store::Store& reader();
  store::StoreWriter& writer();

  Context context_;
};

// An ApiError response.
[[nodiscard]] Response error_response(unsigned status, std::string message);

}  // namespace spasmwatch::api
