// The request handler on a real SQLite file: every endpoint, and every kind of bad input answered
// with a 4xx naming the problem while the store stays exactly as it was.
#include "api/api_handler.hpp"

#include <gtest/gtest.h>

#include "common/proto_json.hpp"
#include "store/store_test_support.hpp"
#include "store/store_writer.hpp"

namespace spasmwatch::api {
namespace {

using boost::beast::http::verb;
using store::testing::kBaseUtcNs;
using store::testing::kSecondNs;

const std::string kToken(64, 'a');

class HandlerTest : public ::testing::Test {
 protected:
  HandlerTest()
      : writer_(dir_ / "events.db", clock_),
        reader_(store::Store::open(dir_ / "events.db", clock_, {.read_only = true})),
        handler_(Handler::Context{&reader_, &writer_,
                                  [] {
                                    proto::ApiStatus s;
                                    s.set_version("test");
                                    (*s.mutable_ingest()->mutable_devices())["neck"].set_bad_frames(3);
                                    return s;
                                  },
                                  kToken, &clock_}) {
    event_ = store::testing::make_event(kBaseUtcNs);
    event_.set_id(writer_.put_event(event_).get());
    auto neck = store::testing::make_event(kBaseUtcNs + 60 * kSecondNs);
    neck.set_site(proto::NECK);
    neck.set_type(proto::CRAMP);
    neck.set_confidence(0.4);
    neck_id_ = writer_.put_event(neck).get();
  }

  Response call(verb method, std::string target, std::string body = {}, std::string type = "application/json") {
    targets_.push_back(std::move(target));
    bodies_.push_back(std::move(body));
    types_.push_back(std::move(type));
    Request r;
    r.method = method;
    r.target = targets_.back();
    r.body = bodies_.back();
    r.content_type = types_.back();
    return handler_.handle(r);
  }

  // Everything the store holds, to show that a refused request changed nothing.
  std::string snapshot() {
    std::string s = to_json_line(reader_.counts());
    for (const auto& a : reader_.find_annotations({})) s += to_json_line(a);
    for (const auto& e : reader_.find_events({})) s += to_json_line(e);
    return s;
  }

  static std::string message_of(const Response& r) {
    proto::ApiError error;
    std::string problem;
    EXPECT_TRUE(from_json(r.body, error, problem)) << problem << " in " << r.body;
    EXPECT_EQ(error.status(), r.status);
    return error.message();
  }

  store::testing::TempDir dir_;
  SystemClock clock_;
  store::StoreWriter writer_;
  store::Store reader_;
  Handler handler_;
  proto::Event event_;
  std::string neck_id_;
  std::deque<std::string> targets_, bodies_, types_;
};

TEST_F(HandlerTest, StatusHasDaemonViewAndStoreCounts) {
  const auto r = call(verb::get, "/v1/status");
  ASSERT_EQ(r.status, 200u) << r.body;
  proto::ApiStatus status;
  std::string error;
  ASSERT_TRUE(from_json(r.body, status, error)) << error;
  EXPECT_EQ(status.version(), "test");
  EXPECT_EQ(status.store().events(), 2u);
  EXPECT_EQ(status.ingest().devices().at("neck").bad_frames(), 3u);

  const auto d = call(verb::get, "/v1/devices");
  ASSERT_EQ(d.status, 200u);
  proto::IngestStats ingest;
  ASSERT_TRUE(from_json(d.body, ingest, error)) << error;
  EXPECT_EQ(ingest.devices().size(), 1);
}

TEST_F(HandlerTest, EventsFilterBySiteTypeConfidenceAndTime) {
  const auto list = [&](const std::string& target) {
    const auto r = call(verb::get, target);
    EXPECT_EQ(r.status, 200u) << target << ": " << r.body;
    proto::EventList l;
    std::string error;
    EXPECT_TRUE(from_json(r.body, l, error)) << error;
    return l;
  };
  EXPECT_EQ(list("/v1/events").events_size(), 2);
  EXPECT_EQ(list("/v1/events?site=neck").events_size(), 1);
  EXPECT_EQ(list("/v1/events?site=neck").events(0).event().id(), neck_id_);
  EXPECT_EQ(list("/v1/events?type=cramp").events_size(), 1);
  EXPECT_EQ(list("/v1/events?min_confidence=0.5").events_size(), 1);
  EXPECT_EQ(list("/v1/events?from=" + std::to_string(kBaseUtcNs + kSecondNs)).events_size(), 1);
  EXPECT_EQ(list("/v1/events?to=2023-11-14T22:13:21Z").events_size(), 1);  // kBaseUtcNs is 22:13:20
  const auto page = list("/v1/events?limit=1");
  EXPECT_EQ(page.events_size(), 1);
  EXPECT_TRUE(page.more());
  EXPECT_FALSE(list("/v1/events?limit=1&offset=1").more());

  // The client side builds the same query the handler reads.
  store::EventQuery q;
  q.site = proto::NECK;
  q.min_confidence = 0.25;
  q.from_utc_ns = kBaseUtcNs;
  EXPECT_EQ(list("/v1/events?" + event_query_string(q)).events_size(), 1);
}

TEST_F(HandlerTest, AnnotationLifecycle) {
  auto r = call(verb::post, "/v1/annotations",
                R"({"kind":"SYMPTOM","symptom":{"pain":7,"site":"NECK"},"text":"after lifting"})");
  ASSERT_EQ(r.status, 201u) << r.body;
  proto::Annotation created;
  std::string error;
  ASSERT_TRUE(from_json(r.body, created, error)) << error;
  EXPECT_EQ(created.symptom().pain(), 7);
  EXPECT_GT(created.start_utc_ns(), 0);  // defaulted to now
  EXPECT_GT(created.created_utc_ns(), 0);

  r = call(verb::get, "/v1/annotations/" + created.id());
  ASSERT_EQ(r.status, 200u);
  r = call(verb::put, "/v1/annotations/" + created.id(),
           R"({"kind":"SYMPTOM","symptom":{"pain":4,"site":"NECK"},"start_utc_ns":)" +
               std::to_string(created.start_utc_ns()) + "}");
  ASSERT_EQ(r.status, 200u) << r.body;
  ASSERT_TRUE(reader_.get_annotation(created.id()));
  EXPECT_EQ(reader_.get_annotation(created.id())->symptom().pain(), 4);

  r = call(verb::get, "/v1/annotations?kind=symptom");
  proto::AnnotationList list;
  ASSERT_TRUE(from_json(r.body, list, error)) << error;
  EXPECT_EQ(list.annotations_size(), 1);

  r = call(verb::delete_, "/v1/annotations/" + created.id());
  EXPECT_EQ(r.status, 200u) << r.body;
  EXPECT_FALSE(reader_.get_annotation(created.id()));
  EXPECT_EQ(call(verb::delete_, "/v1/annotations/" + created.id()).status, 404u);
}

TEST_F(HandlerTest, FeedbackKeepsTheDetectorsEventAndRecordsTheVerdict) {
  auto r = call(verb::post, "/v1/events/" + event_.id() + "/feedback", R"({"verdict":"RELABEL","relabel_type":"CRAMP"})");
  ASSERT_EQ(r.status, 201u) << r.body;
  r = call(verb::get, "/v1/events/" + event_.id());
  ASSERT_EQ(r.status, 200u);
  proto::StoredEvent stored;
  std::string error;
  ASSERT_TRUE(from_json(r.body, stored, error)) << error;
  EXPECT_EQ(stored.event().type(), proto::SPASM);  // the detector's verdict stays
  EXPECT_EQ(stored.feedback().verdict(), proto::EventFeedback::RELABEL);
  EXPECT_EQ(stored.feedback().relabel_type(), proto::CRAMP);
  ASSERT_EQ(stored.annotations_size(), 1);
}

TEST_F(HandlerTest, SqlLookingTextIsStoredLiterally) {
  const std::string text = "'); DROP TABLE annotations; --";
  const auto r = call(verb::post, "/v1/annotations", R"({"kind":"NOTE","text":"'); DROP TABLE annotations; --"})");
  ASSERT_EQ(r.status, 201u) << r.body;
  const auto all = reader_.find_annotations({});
  ASSERT_EQ(all.size(), 1u);
  EXPECT_EQ(all[0].text(), text);
  EXPECT_EQ(reader_.integrity_check(), "ok");
}

struct BadCase {
  const char* name;
  verb method;
  std::string target;
  std::string body;
  std::string type;
  unsigned status;
  std::string says;  // the message names the problem
};

TEST_F(HandlerTest, BadInputGets4xxNamingTheProblemAndChangesNothing) {
  const std::string feedback = "/v1/events/" + event_.id() + "/feedback";
  const std::string json = "application/json";
  const std::vector<BadCase> cases = {
      {"malformed JSON", verb::post, "/v1/annotations", R"({"kind":)", json, 400, "malformed Annotation JSON"},
      {"not an object", verb::post, "/v1/annotations", "[1,2]", json, 400, "malformed"},
      {"wrong type", verb::post, "/v1/annotations", R"({"kind":"SYMPTOM","symptom":{"pain":"seven"}})", json, 400,
       "pain"},
      {"unknown field", verb::post, "/v1/annotations", R"({"kind":"NOTE","colour":"red"})", json, 400, "colour"},
      {"unknown enum", verb::post, "/v1/annotations", R"({"kind":"DREAM"})", json, 400, "kind"},
      {"pain out of range", verb::post, "/v1/annotations", R"({"kind":"SYMPTOM","symptom":{"pain":11}})", json, 400,
       "symptom.pain"},
      {"end before start", verb::post, "/v1/annotations",
       R"({"kind":"NOTE","start_utc_ns":2000000000000000000,"end_utc_ns":1000000000000000000})", json, 400,
       "end_utc_ns"},
      {"text too long", verb::post, "/v1/annotations", R"({"kind":"NOTE","text":")" + std::string(2001, 'x') + "\"}",
       json, 400, "text"},
      {"unknown event link", verb::post, "/v1/annotations",
       R"({"kind":"NOTE","event_id":"00000000-0000-4000-8000-000000000000"})", json, 400, "event_id: no stored event"},
      {"invalid UTF-8", verb::post, "/v1/annotations", "{\"kind\":\"NOTE\",\"text\":\"\xff\xfe\"}", json, 400, "UTF-8"},
      {"overlong UTF-8", verb::post, "/v1/annotations", "{\"kind\":\"NOTE\",\"text\":\"\xc0\xaf\"}", json, 400, "UTF-8"},
      {"empty body", verb::post, "/v1/annotations", "", json, 400, "empty body"},
      {"form body", verb::post, "/v1/annotations", "kind=NOTE", "application/x-www-form-urlencoded", 415,
       "Content-Type: application/json"},
      {"bad bytes in the content type", verb::post, "/v1/annotations", R"({"kind":"NOTE"})",
       "application/j\xffon", 415, "\\xff"},
      {"store-set field", verb::post, "/v1/annotations", R"({"kind":"NOTE","created_utc_ns":5})", json, 400,
       "created_utc_ns"},
      {"feedback without verdict", verb::post, feedback, "{}", json, 400, "verdict"},
      {"feedback on unknown event", verb::post, "/v1/events/00000000-0000-4000-8000-000000000001/feedback",
       R"({"verdict":"REJECT"})", json, 404, "not found"},
      {"feedback on SQL id", verb::post, "/v1/events/1'%20OR%20'1'='1/feedback", R"({"verdict":"REJECT"})", json,
       404, "not found"},
      {"update of unknown annotation", verb::put, "/v1/annotations/00000000-0000-4000-8000-000000000002",
       R"({"kind":"NOTE"})", json, 404, "not found"},
      {"update with other id", verb::put, "/v1/annotations/00000000-0000-4000-8000-000000000002",
       R"({"id":"00000000-0000-4000-8000-000000000003","kind":"NOTE"})", json, 400, "differs"},
      {"delete of a non-id", verb::delete_, "/v1/annotations/x;DROP", "", json, 404, "not found"},
      {"unknown query parameter", verb::get, "/v1/events?colour=red", "", json, 400, "colour"},
      {"SQL in a filter", verb::get, "/v1/events?site=neck'%20OR%201=1", "", json, 400, "site"},
      {"bad limit", verb::get, "/v1/events?limit=0", "", json, 400, "limit"},
      {"huge limit", verb::get, "/v1/events?limit=99999999999", "", json, 400, "limit"},
      {"bad time", verb::get, "/v1/events?from=yesterday", "", json, 400, "from"},
      {"bad confidence", verb::get, "/v1/events?min_confidence=2", "", json, 400, "min_confidence"},
      {"duplicate parameter", verb::get, "/v1/events?site=neck&site=calf", "", json, 400, "twice"},
      {"bad percent escape", verb::get, "/v1/events?site=%zz", "", json, 400, "percent"},
      {"invalid UTF-8 in query", verb::get, "/v1/events?device=%ff", "", json, 400, "UTF-8"},
      {"unknown path", verb::get, "/v1/spasms", "", json, 404, "/v1/spasms"},
      {"no version", verb::get, "/events", "", json, 404, "/v1/"},
      {"wrong method", verb::delete_, "/v1/events", "", json, 405, "DELETE"},
      {"query on status", verb::get, "/v1/status?x=1", "", json, 400, "unexpected query"},
  };
  const std::string before = snapshot();
  for (const auto& c : cases) {
    const auto r = call(c.method, c.target, c.body, c.type);
    EXPECT_EQ(r.status, c.status) << c.name << ": " << r.body;
    EXPECT_NE(message_of(r).find(c.says), std::string::npos) << c.name << ": " << r.body;
    EXPECT_EQ(snapshot(), before) << c.name << " changed the store";
  }
}

TEST_F(HandlerTest, TcpRequestsNeedTheToken) {
  Request r;
  r.method = verb::get;
  r.target = "/v1/status";
  r.needs_token = true;
  auto response = handler_.handle(r);
  EXPECT_EQ(response.status, 401u);
  EXPECT_NE(message_of(response).find("missing token"), std::string::npos);
  const std::string wrong = "Bearer " + std::string(64, 'b');
  r.authorization = wrong;
  response = handler_.handle(r);
  EXPECT_EQ(response.status, 401u);
  EXPECT_NE(message_of(response).find("wrong token"), std::string::npos);
  const std::string basic = "Basic " + kToken;
  r.authorization = basic;
  EXPECT_EQ(handler_.handle(r).status, 401u);
  const std::string right = "Bearer " + kToken;
  r.authorization = right;
  EXPECT_EQ(handler_.handle(r).status, 200u);
}

TEST_F(HandlerTest, StreamRequestCarriesItsFilter) {
  auto r = call(verb::get, "/v1/events/stream?site=calf&state=final&min_confidence=0.5");
  ASSERT_EQ(r.status, 200u) << r.body;
  ASSERT_TRUE(r.stream);
  auto e = store::testing::make_event(kBaseUtcNs);
  EXPECT_TRUE(r.filter.matches(e));
  e.set_confidence(0.3);
  EXPECT_FALSE(r.filter.matches(e));
  e.set_confidence(0.9);
  e.set_state(proto::PROVISIONAL);
  EXPECT_FALSE(r.filter.matches(e));
  e.set_state(proto::FINAL);
  e.set_site(proto::NECK);
  EXPECT_FALSE(r.filter.matches(e));
  EXPECT_EQ(call(verb::get, "/v1/events/stream?site=moon").status, 400u);
}

TEST_F(HandlerTest, WithoutAStoreDataEndpointsSay503) {
  Handler bare(Handler::Context{nullptr, nullptr, {}, kToken, &clock_});
  Request r;
  r.method = verb::get;
  r.target = "/v1/events";
  const auto response = bare.handle(r);
  EXPECT_EQ(response.status, 503u);
  EXPECT_NE(message_of(response).find("--no-db"), std::string::npos);
  r.target = "/v1/status";
  EXPECT_EQ(bare.handle(r).status, 200u);
}

TEST(QueryTest, PercentDecodingAndErrors) {
  const auto q = parse_query("a=1&b=x%20y+z&&c=%C3%A9");
  ASSERT_EQ(q.size(), 3u);
  EXPECT_EQ(q[1].second, "x y z");
  EXPECT_EQ(q[2].second, "\xc3\xa9");
  EXPECT_THROW((void)parse_query("novalue"), std::invalid_argument);
  EXPECT_THROW((void)parse_query("a=%4"), std::invalid_argument);
}

}  // namespace
}  // namespace spasmwatch::api
