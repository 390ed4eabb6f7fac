#include "api/api_handler.hpp"

#include <charconv>
#include <cmath>
#include <stdexcept>
#include <vector>

#include "common/body_site.hpp"
#include "common/proto_json.hpp"
#include "common/text.hpp"
#include "store/store_writer.hpp"
#include "store/validation.hpp"

namespace spasmwatch::api {

namespace http = boost::beast::http;

namespace {

// A refusal: becomes a 4xx ApiError.
class Refused : public std::runtime_error {
 public:
  Refused(unsigned status, const std::string& message) : std::runtime_error(message), status_(status) {}
  [[nodiscard]] unsigned status() const { return status_; }

 private:
  unsigned status_;
};

const char* error_code(unsigned status) {
  switch (status) {
    case 400: return "bad_request";
    case 401: return "unauthorized";
    case 404: return "not_found";
    case 405: return "method_not_allowed";
    case 408: return "request_timeout";
    case 409: return "conflict";
    case 413: return "payload_too_large";
    case 415: return "unsupported_media_type";
    case 431: return "request_header_fields_too_large";
    case 503: return "service_unavailable";
    default: return status >= 500 ? "internal_error" : "bad_request";
  }
}

Response ok(const google::protobuf::Message& message, unsigned status = 200) {
  Response r;
  r.status = status;
  r.body = to_json(message);
  return r;
}

int hex_value(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

std::string percent_decode(std::string_view text) {
  std::string out;
  out.reserve(text.size());
  for (std::size_t i = 0; i < text.size(); ++i) {
    if (text[i] == '+') {
      out += ' ';
    } else if (text[i] == '%') {
      const bool complete = i + 2 < text.size();
      const int hi = complete ? hex_value(text[i + 1]) : -1;
      const int lo = complete ? hex_value(text[i + 2]) : -1;
      if (hi < 0 || lo < 0) {
        throw std::invalid_argument("bad percent-escape in query at '" +
                                    std::string(text.substr(i, 3)) + "'");
      }
      out += static_cast<char>(hi * 16 + lo);
      i += 2;
    } else {
      out += text[i];
    }
  }
  const auto utf8 = store::check_utf8(out);
  if (!utf8.valid) throw std::invalid_argument("query is not valid UTF-8: " + store::printable(out));
  return out;
}

std::string percent_encode(std::string_view text) {
  static constexpr char kHex[] = "0123456789ABCDEF";
  std::string out;
  for (const char c : text) {
    const auto u = static_cast<unsigned char>(c);
    if ((u >= 'a' && u <= 'z') || (u >= 'A' && u <= 'Z') || (u >= '0' && u <= '9') || u == '-' || u == '_' ||
        u == '.' || u == '~' || u == ':') {
      out += c;
    } else {
      out += '%';
      out += kHex[u >> 4];
      out += kHex[u & 15];
    }
  }
  return out;
}

// A query parameter's value, refused with a message naming it.
struct Params {
  std::vector<std::pair<std::string, std::string>> items;
  std::int64_t now_ns = 0;

  void only(std::initializer_list<std::string_view> known) const {
    for (const auto& [key, value] : items) {
      bool found = false;
      for (const auto k : known) found = found || k == key;
      if (!found) {
        std::string list;
        for (const auto k : known) list += (list.empty() ? "" : ", ") + std::string(k);
        throw Refused(400, "unknown query parameter '" + key + "' (known: " + list + ")");
      }
    }
  }
  [[nodiscard]] const std::string* get(std::string_view key) const {
    const std::string* found = nullptr;
    for (const auto& [k, v] : items) {
      if (k != key) continue;
      if (found != nullptr) throw Refused(400, "query parameter '" + k + "' given twice");
      found = &v;
    }
    return found;
  }
  [[nodiscard]] std::optional<std::int64_t> time(std::string_view key) const {
    const auto* v = get(key);
    if (v == nullptr) return std::nullopt;
    std::int64_t ns = 0;
    const auto [end, ec] = std::from_chars(v->data(), v->data() + v->size(), ns);
    if (!v->empty() && ec == std::errc{} && end == v->data() + v->size()) return ns;
    if (const auto t = parse_time_text(*v, now_ns)) return t;
    throw Refused(400, std::string(key) + ": cannot read time '" + *v +
                           "' (expected nanoseconds since 1970, now, -30m, or UTC like 2026-11-24T08:00:00Z)");
  }
  [[nodiscard]] std::optional<int> integer(std::string_view key, int lo, int hi) const {
    const auto* v = get(key);
    if (v == nullptr) return std::nullopt;
    int n = 0;
    const auto [end, ec] = std::from_chars(v->data(), v->data() + v->size(), n);
    if (v->empty() || ec != std::errc{} || end != v->data() + v->size() || n < lo || n > hi) {
      throw Refused(400, std::string(key) + ": expected a whole number " + std::to_string(lo) + ".." +
                             std::to_string(hi) + " (got '" + *v + "')");
    }
    return n;
  }
  [[nodiscard]] std::optional<double> fraction(std::string_view key) const {
    const auto* v = get(key);
    if (v == nullptr) return std::nullopt;
    double x = 0;
    const auto [end, ec] = std::from_chars(v->data(), v->data() + v->size(), x);
    if (v->empty() || ec != std::errc{} || end != v->data() + v->size() || !(x >= 0 && x <= 1)) {
      throw Refused(400, std::string(key) + ": expected a number 0..1 (got '" + *v + "')");
    }
    return x;
  }
  template <class Enum>
  [[nodiscard]] std::optional<Enum> enumeration(std::string_view key, bool (*parse)(const std::string&, Enum*),
                                                std::string_view what) const {
    const auto* v = get(key);
    if (v == nullptr) return std::nullopt;
    Enum e{};
    if (!parse(enum_key(*v), &e) || static_cast<int>(e) == 0) {
      throw Refused(400, std::string(key) + ": unknown " + std::string(what) + " '" + *v + "'");
    }
    return e;
  }
  [[nodiscard]] std::optional<proto::BodySite> site(std::string_view key) const {
    const auto* v = get(key);
    if (v == nullptr) return std::nullopt;
    if (const auto s = parse_site(*v)) return s;
    proto::BodySite e{};
    if (proto::BodySite_Parse(enum_key(*v), &e) && e != proto::SITE_UNSPECIFIED) return e;
    throw Refused(400, std::string(key) + ": unknown body site '" + *v + "'");
  }
};

Params read_params(std::string_view query, std::int64_t now_ns) {
  try {
    return Params{parse_query(query), now_ns};
  } catch (const std::invalid_argument& e) {
    throw Refused(400, e.what());
  }
}

store::EventQuery event_query(const Params& p) {
  p.only({"from", "to", "site", "type", "min_confidence", "state", "device", "limit", "offset"});
  store::EventQuery q;
  if (const auto t = p.time("from")) q.from_utc_ns = *t;
  if (const auto t = p.time("to")) q.to_utc_ns = *t;
  q.site = p.site("site");
  q.type = p.enumeration<proto::EventType>("type", &proto::EventType_Parse, "event type");
  q.state = p.enumeration<proto::EventState>("state", &proto::EventState_Parse, "event state");
  q.min_confidence = p.fraction("min_confidence");
  if (const auto* d = p.get("device")) q.device = *d;
  q.limit = p.integer("limit", 1, store::kMaxQueryLimit).value_or(500);
  q.offset = p.integer("offset", 0, 1'000'000'000).value_or(0);
  return q;
}

// Bodies: UTF-8 JSON, protobuf's JSON mapping (unknown fields refused).
void parse_body(const Request& request, google::protobuf::Message& message) {
  const auto type = request.content_type.substr(0, request.content_type.find(';'));
  if (type != "application/json") {
    throw Refused(415, "body must be JSON: send Content-Type: application/json (got " +
                           store::printable(request.content_type) + ")");
  }
  const auto utf8 = store::check_utf8(request.body);
  if (!utf8.valid) {
    throw Refused(400, "body is not valid UTF-8 (bad byte sequence at offset " + std::to_string(utf8.bad_offset) + ")");
  }
  if (request.body.empty()) throw Refused(400, "empty body: expected a JSON object");
  std::string error;
  if (!from_json(request.body, message, error)) {
    throw Refused(400, "malformed " + message.GetDescriptor()->name() + " JSON: " + error);
  }
}

// Canonical UUID text of a path segment, or 404 (an id that cannot exist is not found).
std::string path_id(const std::string& what, const std::string& segment) {
  try {
    return store::canonical_id("id", segment);
  } catch (const store::ValidationError&) {
    throw Refused(404, what + " '" + store::printable(segment) + "' not found (ids are UUIDs)");
  }
}

bool constant_time_equal(std::string_view a, std::string_view b) {
  unsigned char diff = a.size() == b.size() ? 0 : 1;
  const std::size_t n = std::min(a.size(), b.size());
  for (std::size_t i = 0; i < n; ++i) diff |= static_cast<unsigned char>(a[i] ^ b[i]);
  return diff == 0;
}

}  // namespace

std::vector<std::pair<std::string, std::string>> parse_query(std::string_view query) {
  std::vector<std::pair<std::string, std::string>> out;
  while (!query.empty()) {
    const auto amp = query.find('&');
    const auto part = query.substr(0, amp);
    query = amp == std::string_view::npos ? std::string_view{} : query.substr(amp + 1);
    if (part.empty()) continue;
    const auto eq = part.find('=');
    if (eq == std::string_view::npos) {
      throw std::invalid_argument("query parameter '" + percent_decode(part) + "' has no value (expected key=value)");
    }
    out.emplace_back(percent_decode(part.substr(0, eq)), percent_decode(part.substr(eq + 1)));
    if (out.size() > 32) throw std::invalid_argument("too many query parameters (at most 32)");
  }
  return out;
}

std::string event_query_string(const store::EventQuery& q) {
  std::string s;
  const auto add = [&s](std::string_view key, const std::string& value) {
    s += (s.empty() ? "" : "&") + std::string(key) + "=" + percent_encode(value);
  };
  if (q.from_utc_ns != std::numeric_limits<std::int64_t>::min()) add("from", std::to_string(q.from_utc_ns));
  if (q.to_utc_ns != std::numeric_limits<std::int64_t>::max()) add("to", std::to_string(q.to_utc_ns));
  if (q.site) add("site", proto::BodySite_Name(*q.site));
  if (q.type) add("type", proto::EventType_Name(*q.type));
  if (q.state) add("state", proto::EventState_Name(*q.state));
  if (q.min_confidence) {
    char text[32];
    const auto r = std::to_chars(text, text + sizeof text, *q.min_confidence);
    add("min_confidence", std::string(text, r.ptr));
  }
  if (q.device) add("device", *q.device);
  add("limit", std::to_string(q.limit));
  if (q.offset != 0) add("offset", std::to_string(q.offset));
  return s;
}

std::string annotation_query_string(const store::AnnotationQuery& q) {
  std::string s;
  const auto add = [&s](std::string_view key, const std::string& value) {
    s += (s.empty() ? "" : "&") + std::string(key) + "=" + percent_encode(value);
  };
  if (q.from_utc_ns != std::numeric_limits<std::int64_t>::min()) add("from", std::to_string(q.from_utc_ns));
  if (q.to_utc_ns != std::numeric_limits<std::int64_t>::max()) add("to", std::to_string(q.to_utc_ns));
  if (q.kind) add("kind", proto::Annotation::Kind_Name(*q.kind));
  if (q.event_id) add("event_id", *q.event_id);
  add("limit", std::to_string(q.limit));
  if (q.offset != 0) add("offset", std::to_string(q.offset));
  return s;
}

bool StreamFilter::matches(const proto::Event& e) const {
  return (!site || e.site() == *site) && (!type || e.type() == *type) && (!state || e.state() == *state) &&
         (!device || e.device() == *device) && (e.state() == proto::RETRACTED || e.confidence() >= min_confidence);
}

Response error_response(unsigned status, std::string message) {
  proto::ApiError error;
  error.set_status(status);
  error.set_error(error_code(status));
  // Messages quote what the client sent; JSON strings must be UTF-8, so bad bytes become \xNN.
  if (!store::check_utf8(message).valid) message = store::printable(message);
  error.set_message(std::move(message));
  Response r;
  r.status = status;
  r.body = to_json(error);
  return r;
}

Handler::Handler(Context context) : context_(std::move(context)) {}

store::Store& Handler::reader() {
  if (context_.reader == nullptr) throw Refused(503, "the daemon runs without a store (--no-db)");
  return *context_.reader;
}

store::StoreWriter& Handler::writer() {
  if (context_.writer == nullptr) throw Refused(503, "the daemon runs without a store (--no-db)");
  return *context_.writer;
}

Response Handler::handle(const Request& request) {
  try {
    if (request.needs_token) {
      constexpr std::string_view kBearer = "Bearer ";
      if (request.authorization.empty()) {
        throw Refused(401, "missing token: send Authorization: Bearer <token> (the token file is in the data directory)");
      }
      if (!request.authorization.starts_with(kBearer) || context_.token.empty() ||
          !constant_time_equal(request.authorization.substr(kBearer.size()), context_.token)) {
        throw Refused(401, "wrong token in the Authorization header");
      }
    }
    return route(request);
  } catch (const Refused& e) {
    return error_response(e.status(), e.what());
  } catch (const store::ValidationError& e) {
    return error_response(400, e.what());
  } catch (const store::NotFoundError& e) {
    return error_response(404, e.what());
  } catch (const store::StoreError& e) {
    return error_response(503, std::string("store: ") + e.what());
  } catch (const std::exception& e) {
    return error_response(500, e.what());
  }
}

Response Handler::route(const Request& request) {
  const auto q = request.target.find('?');
  const std::string_view path = request.target.substr(0, q);
  const std::string_view query = q == std::string_view::npos ? std::string_view{} : request.target.substr(q + 1);
  std::vector<std::string> parts;
  for (std::size_t at = 0; at < path.size();) {
    if (path[at] == '/') {
      ++at;
      continue;
    }
    const auto next = path.find('/', at);
    parts.emplace_back(path.substr(at, next - at));
    if (parts.size() > 8) break;
    at = next == std::string_view::npos ? path.size() : next;
  }
  using V = http::verb;
  const V m = request.method;
  const auto wrong_method = [&](std::string allow) {
    Response r = error_response(405, "method " + std::string(http::to_string(m)) + " not allowed on " +
                                          store::printable(path) + " (allowed: " + allow + ")");
    r.allow = std::move(allow);
    return r;
  };
  const auto no_query = [&] {
    if (!query.empty()) throw Refused(400, "unexpected query on " + store::printable(path) + ": " + store::printable(query));
  };
  if (parts.size() < 2 || parts[0] != "v1") {
    return error_response(404, "no endpoint " + store::printable(path) + " (the API lives under /v1/)");
  }
  const std::string& collection = parts[1];
  if (collection == "status" && parts.size() == 2) {
    if (m != V::get) return wrong_method("GET");
    no_query();
    return get_status();
  }
  if (collection == "devices" && parts.size() == 2) {
    if (m != V::get) return wrong_method("GET");
    no_query();
    return ok(context_.status ? context_.status().ingest() : proto::IngestStats{});
  }
  if (collection == "events") {
    if (parts.size() == 2) {
      if (m != V::get) return wrong_method("GET");
      return list_events(query);
    }
    if (parts.size() == 3 && parts[2] == "stream") {
      if (m != V::get) return wrong_method("GET");
      return stream(query);
    }
    if (parts.size() == 3) {
      if (m != V::get) return wrong_method("GET");
      no_query();
      return get_event(parts[2]);
    }
    if (parts.size() == 4 && parts[3] == "feedback") {
      if (m != V::post) return wrong_method("POST");
      no_query();
      proto::EventFeedback feedback;
      parse_body(request, feedback);
      return post_feedback(parts[2], feedback);
    }
  }
  if (collection == "annotations") {
    if (parts.size() == 2) {
      if (m == V::get) return list_annotations(query);
      if (m != V::post) return wrong_method("GET, POST");
      no_query();
      proto::Annotation a;
      parse_body(request, a);
      return post_annotation(std::move(a));
    }
    if (parts.size() == 3) {
      no_query();
      if (m == V::get) return get_annotation(parts[2]);
      if (m == V::put) {
        proto::Annotation a;
        parse_body(request, a);
        return put_annotation(parts[2], std::move(a));
      }
      if (m == V::delete_) return delete_annotation(parts[2]);
      return wrong_method("GET, PUT, DELETE");
    }
  }
  return error_response(404, "no endpoint " + store::printable(path));
}

Response Handler::get_status() {
  proto::ApiStatus status = context_.status ? context_.status() : proto::ApiStatus{};
  if (context_.reader != nullptr) *status.mutable_store() = context_.reader->counts();
  return ok(status);
}

Response Handler::list_events(std::string_view query) {
  const auto params = read_params(query, context_.clock->utc_ns());
  store::EventQuery q = event_query(params);
  const int wanted = q.limit;
  q.limit = std::min(q.limit + 1, store::kMaxQueryLimit + 1);
  auto found = reader().find_events(q);
  proto::EventList list;
  list.set_more(found.size() > static_cast<std::size_t>(wanted));
  if (list.more()) found.resize(static_cast<std::size_t>(wanted));
  for (auto& e : found) *list.add_events() = std::move(e);
  return ok(list);
}

Response Handler::get_event(const std::string& segment) {
  const auto id = path_id("event", segment);
  auto e = reader().get_event(id);
  if (!e) throw Refused(404, "event " + id + " not found");
  return ok(*e);
}

Response Handler::post_feedback(const std::string& segment, const proto::EventFeedback& feedback) {
  const auto id = path_id("event", segment);
  if (!reader().get_event(id)) throw Refused(404, "event " + id + " not found");
  proto::Annotation a;
  a.set_kind(proto::Annotation::FEEDBACK);
  a.set_event_id(id);
  *a.mutable_feedback() = feedback;
  const auto stored_id = writer().put_annotation(a).get();
  auto stored = reader().get_annotation(stored_id);
  if (!stored) throw store::StoreError("annotation " + stored_id + " vanished after its write");
  return ok(*stored, 201);
}

Response Handler::list_annotations(std::string_view query) {
  const auto p = read_params(query, context_.clock->utc_ns());
  p.only({"from", "to", "kind", "event_id", "limit", "offset"});
  store::AnnotationQuery q;
  if (const auto t = p.time("from")) q.from_utc_ns = *t;
  if (const auto t = p.time("to")) q.to_utc_ns = *t;
  q.kind = p.enumeration<proto::Annotation::Kind>("kind", &proto::Annotation::Kind_Parse, "annotation kind");
  if (const auto* e = p.get("event_id")) q.event_id = store::canonical_id("event_id", *e);
  const int wanted = p.integer("limit", 1, store::kMaxQueryLimit).value_or(500);
  q.limit = std::min(wanted + 1, store::kMaxQueryLimit + 1);
  q.offset = p.integer("offset", 0, 1'000'000'000).value_or(0);
  auto found = reader().find_annotations(q);
  proto::AnnotationList list;
  list.set_more(found.size() > static_cast<std::size_t>(wanted));
  if (list.more()) found.resize(static_cast<std::size_t>(wanted));
  for (auto& a : found) *list.add_annotations() = std::move(a);
  return ok(list);
}

Response Handler::get_annotation(const std::string& segment) {
  const auto id = path_id("annotation", segment);
  auto a = reader().get_annotation(id);
  if (!a) throw Refused(404, "annotation " + id + " not found");
  return ok(*a);
}

Response Handler::post_annotation(proto::Annotation a) {
  if (!a.id().empty()) {
    // A client may choose the id (so a sync can create the same row everywhere), but POST never
    // overwrites: changing an annotation is PUT.
    if (reader().get_annotation(store::canonical_id("id", a.id()))) {
      throw Refused(409, "annotation " + a.id() + " exists: use PUT /v1/annotations/" + a.id() + " to change it");
    }
  }
  if (a.created_utc_ns() != 0 || a.updated_utc_ns() != 0) {
    throw Refused(400, "created_utc_ns and updated_utc_ns are set by the store; leave them out");
  }
  const auto id = writer().put_annotation(a).get();
  auto stored = reader().get_annotation(id);
  if (!stored) throw store::StoreError("annotation " + id + " vanished after its write");
  return ok(*stored, 201);
}

Response Handler::put_annotation(const std::string& segment, proto::Annotation a) {
  const auto id = path_id("annotation", segment);
  if (!a.id().empty() && store::canonical_id("id", a.id()) != id) {
    throw Refused(400, "id in the body (" + a.id() + ") differs from the id in the path (" + id + ")");
  }
  a.set_id(id);
  a.clear_created_utc_ns();
  a.clear_updated_utc_ns();
  writer().update_annotation(a).get();
  auto stored = reader().get_annotation(id);
  if (!stored) throw store::StoreError("annotation " + id + " vanished after its write");
  return ok(*stored);
}

Response Handler::delete_annotation(const std::string& segment) {
  const auto id = path_id("annotation", segment);
  if (!writer().delete_annotation(id).get()) throw Refused(404, "annotation " + id + " not found");
  proto::Deleted d;
  d.set_id(id);
  d.set_deleted(true);
  return ok(d);
}

Response Handler::stream(std::string_view query) {
  const auto p = read_params(query, context_.clock->utc_ns());
  p.only({"site", "type", "state", "device", "min_confidence"});
  Response r;
  r.stream = true;
  r.filter.site = p.site("site");
  r.filter.type = p.enumeration<proto::EventType>("type", &proto::EventType_Parse, "event type");
  r.filter.state = p.enumeration<proto::EventState>("state", &proto::EventState_Parse, "event state");
  if (const auto* d = p.get("device")) r.filter.device = *d;
  r.filter.min_confidence = p.fraction("min_confidence").value_or(0.0);
  return r;
}

}  // namespace spasmwatch::api
