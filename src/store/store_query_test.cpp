#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "store/schema.hpp"
#include "store/store.hpp"
#include "store/store_test_support.hpp"

namespace spasmwatch::store {
namespace {

using testing::kBaseUtcNs;
using testing::kSecondNs;

// Four events and four annotations:
//   t+0 NECK TWITCH 0.3 FINAL | t+10 CALF SPASM 0.8 FINAL | t+20 CALF CRAMP 0.95 PROVISIONAL |
//   t+30 JAW JAW_TONIC 0.6 FINAL (device "jaw")
//   note at t+11 linked to the spasm, feedback CONFIRM at t+12 on the spasm, symptom at t+15,
//   trigger at t+25.
class StoreQueryTest : public ::testing::Test {
 protected:
  void SetUp() override {
    add_event(0, proto::NECK, proto::TWITCH, 0.3, proto::FINAL, "calf-left");
    add_event(10, proto::CALF, proto::SPASM, 0.8, proto::FINAL, "calf-left");
    add_event(20, proto::CALF, proto::CRAMP, 0.95, proto::PROVISIONAL, "calf-left");
    add_event(30, proto::JAW, proto::JAW_TONIC, 0.6, proto::FINAL, "jaw");
    proto::Annotation note = testing::make_note(at(11), "woke up from it");
    note.set_event_id(ids_[1]);
    note_id_ = store_.put_annotation(note);
    store_.put_annotation(testing::make_feedback(at(12), ids_[1], proto::EventFeedback::CONFIRM));
    store_.put_annotation(testing::make_symptom(at(15), 6));
    proto::Annotation trigger;
    trigger.set_kind(proto::Annotation::TRIGGER);
    trigger.set_start_utc_ns(at(25));
    trigger.mutable_trigger()->set_type(proto::Trigger::CAFFEINE);
    store_.put_annotation(trigger);
  }

  static std::int64_t at(int seconds) { return kBaseUtcNs + seconds * kSecondNs; }

  void add_event(int seconds, proto::BodySite site, proto::EventType type, double confidence,
                 proto::EventState state, const std::string& device) {
    proto::Event e = testing::make_event(at(seconds), state);
    e.set_site(site);
    e.set_type(type);
    e.set_confidence(confidence);
    e.set_device(device);
    ids_.push_back(store_.put_event(e));
  }

  std::vector<std::string> found(const EventQuery& query) {
    std::vector<std::string> ids;
    for (const auto& stored : store_.find_events(query)) ids.push_back(stored.event().id());
    return ids;
  }

  testing::TempDir dir_;
  FakeClock clock_{kBaseUtcNs + 3600 * kSecondNs};
  Store store_ = Store::open(dir_ / "q.db", clock_);
  std::vector<std::string> ids_;
  std::string note_id_;
};

TEST_F(StoreQueryTest, EventsFilterByTimeRangeSiteTypeConfidenceStateAndDevice) {
  EXPECT_EQ(found({}), ids_);
  EXPECT_EQ(found({.from_utc_ns = at(5), .to_utc_ns = at(20)}), (std::vector{ids_[1]}));  // end exclusive
  EXPECT_EQ(found({.from_utc_ns = at(10), .to_utc_ns = at(21)}), (std::vector{ids_[1], ids_[2]}));
  EXPECT_EQ(found({.site = proto::CALF}), (std::vector{ids_[1], ids_[2]}));
  EXPECT_EQ(found({.type = proto::CRAMP}), (std::vector{ids_[2]}));
  EXPECT_EQ(found({.min_confidence = 0.7}), (std::vector{ids_[1], ids_[2]}));
  EXPECT_EQ(found({.state = proto::PROVISIONAL}), (std::vector{ids_[2]}));
  EXPECT_EQ(found({.device = "jaw"}), (std::vector{ids_[3]}));
  EXPECT_EQ(found({.site = proto::CALF, .state = proto::FINAL}), (std::vector{ids_[1]}));
  EXPECT_TRUE(found({.site = proto::THIGH}).empty());
}

TEST_F(StoreQueryTest, EventsPageWithLimitAndOffset) {
  EXPECT_EQ(found({.limit = 2}), (std::vector{ids_[0], ids_[1]}));
  EXPECT_EQ(found({.limit = 2, .offset = 1}), (std::vector{ids_[1], ids_[2]}));
  EXPECT_TRUE(found({.limit = 5, .offset = 4}).empty());
  EXPECT_THROW(found({.limit = 0}), ValidationError);
  EXPECT_THROW(found({.offset = -1}), ValidationError);
  try {
    found({.from_utc_ns = at(10), .to_utc_ns = at(5)});
    ADD_FAILURE() << "accepted an inverted range";
  } catch (const ValidationError& error) {
    EXPECT_EQ(error.field(), "to_utc_ns");
  }
}

TEST_F(StoreQueryTest, EventsComeWithTheirLinkedAnnotationsAndFeedback) {
  const auto events = store_.find_events({});
  ASSERT_EQ(events.size(), 4u);
  EXPECT_EQ(events[0].annotations_size(), 0);
  EXPECT_FALSE(events[0].has_feedback());
  const proto::StoredEvent& spasm = events[1];
  ASSERT_EQ(spasm.annotations_size(), 2);
  EXPECT_EQ(spasm.annotations(0).id(), note_id_);
  EXPECT_EQ(spasm.annotations(0).text(), "woke up from it");
  EXPECT_EQ(spasm.annotations(1).kind(), proto::Annotation::FEEDBACK);
  EXPECT_EQ(spasm.feedback().verdict(), proto::EventFeedback::CONFIRM);
}

TEST_F(StoreQueryTest, AnnotationsFilterByTimeRangeKindAndEvent) {
  const auto kinds = [&](const AnnotationQuery& query) {
    std::vector<proto::Annotation::Kind> result;
    for (const auto& a : store_.find_annotations(query)) result.push_back(a.kind());
    return result;
  };
  using K = proto::Annotation;
  EXPECT_EQ(kinds({}), (std::vector{K::NOTE, K::FEEDBACK, K::SYMPTOM, K::TRIGGER}));
  EXPECT_EQ(kinds({.from_utc_ns = at(12), .to_utc_ns = at(25)}), (std::vector{K::FEEDBACK, K::SYMPTOM}));
  EXPECT_EQ(kinds({.kind = K::SYMPTOM}), (std::vector{K::SYMPTOM}));
  EXPECT_EQ(kinds({.event_id = ids_[1]}), (std::vector{K::NOTE, K::FEEDBACK}));
  EXPECT_EQ(kinds({.limit = 1, .offset = 3}), (std::vector{K::TRIGGER}));

  const auto symptoms = store_.find_annotations({.kind = K::SYMPTOM});
  ASSERT_EQ(symptoms.size(), 1u);
  EXPECT_EQ(symptoms[0].symptom().pain(), 6);
  EXPECT_EQ(symptoms[0].symptom().site(), proto::NECK);
  EXPECT_EQ(symptoms[0].symptom().side(), proto::RIGHT);
  EXPECT_EQ(symptoms[0].symptom().description(), "stabbing");
}

TEST_F(StoreQueryTest, CountsSummariseTheStore) {
  const proto::StoreCounts counts = store_.counts();
  EXPECT_EQ(counts.events(), 4u);
  EXPECT_EQ(counts.provisional_events(), 1u);
  EXPECT_EQ(counts.final_events(), 3u);
  EXPECT_EQ(counts.annotations(), 4u);
  EXPECT_EQ(counts.feedback(), 1u);
  EXPECT_EQ(counts.last_event_utc_ns(), at(30));
  EXPECT_EQ(counts.schema_version(), static_cast<std::uint32_t>(latest_schema_version()));
}

}  // namespace
}  // namespace spasmwatch::store
