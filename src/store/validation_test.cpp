#include "store/validation.hpp"

#include <gtest/gtest.h>

#include <functional>
#include <string>
#include <vector>

#include "store/store_error.hpp"
#include "store/store_test_support.hpp"
#include "store/uuid.hpp"

namespace spasmwatch::store {
namespace {

using testing::kBaseUtcNs;

struct BadAnnotation {
  const char* name;
  std::function<void(proto::Annotation&)> spoil;
  std::string field;
  std::string value_fragment;  // must appear in the error's value
};

proto::Annotation good_treatment() {
  proto::Annotation a;
  a.set_kind(proto::Annotation::TREATMENT);
  a.set_start_utc_ns(kBaseUtcNs);
  a.mutable_treatment()->set_type(proto::Treatment::MEDICATION);
  a.mutable_treatment()->set_medication("baclofen");
  a.mutable_treatment()->set_dose("10 mg");
  return a;
}

TEST(Validation, AcceptsWellFormedAnnotationsOfEveryKind) {
  EXPECT_NO_THROW(validate_annotation(testing::make_note(kBaseUtcNs, "slept badly")));
  EXPECT_NO_THROW(validate_annotation(testing::make_symptom(kBaseUtcNs, 0)));
  EXPECT_NO_THROW(validate_annotation(testing::make_symptom(kBaseUtcNs, 10)));
  EXPECT_NO_THROW(validate_annotation(good_treatment()));
  proto::Annotation trigger;
  trigger.set_kind(proto::Annotation::TRIGGER);
  trigger.set_start_utc_ns(kBaseUtcNs);
  trigger.mutable_trigger()->set_type(proto::Trigger::WEATHER);
  EXPECT_NO_THROW(validate_annotation(trigger));
  auto relabel = testing::make_feedback(kBaseUtcNs, generate_uuid_v4(), proto::EventFeedback::RELABEL);
  relabel.mutable_feedback()->set_relabel_type(proto::CRAMP);
  EXPECT_NO_THROW(validate_annotation(relabel));
  // A symptom without details and a range annotation are fine.
  proto::Annotation bare;
  bare.set_kind(proto::Annotation::SYMPTOM);
  bare.set_start_utc_ns(kBaseUtcNs);
  bare.set_end_utc_ns(kBaseUtcNs);
  EXPECT_NO_THROW(validate_annotation(bare));
}

TEST(Validation, EveryAnnotationErrorNamesItsFieldAndValue) {
  const std::vector<BadAnnotation> cases = {
      {"unknown kind", [](auto& a) { a.set_kind(static_cast<proto::Annotation::Kind>(42)); }, "kind", "42"},
      {"unspecified kind", [](auto& a) { a.set_kind(proto::Annotation::ANNOTATION_KIND_UNSPECIFIED); },
       "kind", "0"},
      {"pain above 10", [](auto& a) { a = testing::make_symptom(kBaseUtcNs, 11); }, "symptom.pain", "11"},
      {"pain below 0", [](auto& a) { a = testing::make_symptom(kBaseUtcNs, -1); }, "symptom.pain", "-1"},
      {"end before start", [](auto& a) { a.set_end_utc_ns(kBaseUtcNs - 1); }, "end_utc_ns",
       std::to_string(kBaseUtcNs - 1)},
      {"negative start", [](auto& a) { a.set_start_utc_ns(-5); }, "start_utc_ns", "-5"},
      {"text too long", [](auto& a) { a.set_text(std::string(2001, 'x')); }, "text", "2001 characters"},
      {"text of 2001 two-byte characters",
       [](auto& a) {
         std::string s;
         for (int i = 0; i < 2001; ++i) s += "\xc3\xa9";  // é
         a.set_text(s);
       },
       "text", "2001 characters"},
      {"invalid UTF-8 text", [](auto& a) { a.set_text("ok \xff\xfe"); }, "text", "\\xff"},
      {"overlong UTF-8", [](auto& a) { a.set_text("\xc0\xaf"); }, "text", "\\xc0"},
      {"UTF-16 surrogate", [](auto& a) { a.set_text("\xed\xa0\x80"); }, "text", "\\xed"},
      {"bad id", [](auto& a) { a.set_id("not-a-uuid"); }, "id", "not-a-uuid"},
      {"bad event id", [](auto& a) { a.set_event_id("1234"); }, "event_id", "1234"},
      {"medication without name",
       [](auto& a) {
         a = good_treatment();
         a.mutable_treatment()->set_medication("  ");
       },
       "treatment.medication", "\"  \""},
      {"treatment without type",
       [](auto& a) {
         a = good_treatment();
         a.mutable_treatment()->set_type(proto::Treatment::TREATMENT_UNSPECIFIED);
       },
       "treatment.type", "0"},
      {"long dose",
       [](auto& a) {
         a = good_treatment();
         a.mutable_treatment()->set_dose(std::string(3000, 'd'));
       },
       "treatment.dose", "3000 characters"},
      {"trigger without type",
       [](auto& a) {
         a.set_kind(proto::Annotation::TRIGGER);
         a.mutable_trigger();
       },
       "trigger.type", "0"},
      {"details of another kind",
       [](auto& a) {
         a.set_kind(proto::Annotation::NOTE);
         a.mutable_trigger()->set_type(proto::Trigger::STRESS);
       },
       "trigger", "NOTE"},
      {"feedback without event",
       [](auto& a) { a = testing::make_feedback(kBaseUtcNs, "", proto::EventFeedback::CONFIRM); }, "event_id",
       "\"\""},
      {"feedback without verdict",
       [](auto& a) {
         a = testing::make_feedback(kBaseUtcNs, generate_uuid_v4(),
                                    proto::EventFeedback::VERDICT_UNSPECIFIED);
       },
       "feedback.verdict", "0"},
      {"relabel with nothing to relabel",
       [](auto& a) {
         a = testing::make_feedback(kBaseUtcNs, generate_uuid_v4(), proto::EventFeedback::RELABEL);
       },
       "feedback.relabel_type", "nothing to relabel"},
      {"relabel fields on a rejection",
       [](auto& a) {
         a = testing::make_feedback(kBaseUtcNs, generate_uuid_v4(), proto::EventFeedback::REJECT);
         a.mutable_feedback()->set_relabel_site(proto::THIGH);
       },
       "feedback.relabel_type", "REJECT"},
      {"unknown symptom site",
       [](auto& a) {
         a = testing::make_symptom(kBaseUtcNs, 3);
         a.mutable_symptom()->set_site(static_cast<proto::BodySite>(99));
       },
       "symptom.site", "99"},
  };
  for (const auto& c : cases) {
    SCOPED_TRACE(c.name);
    proto::Annotation a = testing::make_note(kBaseUtcNs, "note");
    c.spoil(a);
    try {
      validate_annotation(a);
      ADD_FAILURE() << "accepted: " << c.name;
    } catch (const ValidationError& error) {
      EXPECT_EQ(error.field(), c.field);
      EXPECT_NE(error.value().find(c.value_fragment), std::string::npos) << error.what();
      EXPECT_EQ(std::string(error.what()).rfind(c.field + ": ", 0), 0u) << error.what();
    }
  }
}

TEST(Validation, EventErrorsNameTheirField) {
  const std::vector<std::pair<std::function<void(proto::Event&)>, std::string>> cases = {
      {[](auto& e) { e.set_type(proto::EVENT_TYPE_UNSPECIFIED); }, "type"},
      {[](auto& e) { e.set_state(proto::EVENT_STATE_UNSPECIFIED); }, "state"},
      {[](auto& e) { e.set_confidence(1.5); }, "confidence"},
      {[](auto& e) { e.set_peak_uv(std::numeric_limits<double>::quiet_NaN()); }, "peak_uv"},
      {[](auto& e) { e.set_end_utc_ns(e.start_utc_ns() - 1); }, "end_utc_ns"},
      {[](auto& e) { e.set_end_utc_ns(0); }, "end_utc_ns"},  // FINAL needs an end
      {[](auto& e) { e.set_start_utc_ns(0); }, "start_utc_ns"},
      {[](auto& e) { e.set_device_id("\x80"); }, "device_id"},
      {[](auto& e) { e.set_id("x"); }, "id"},
  };
  for (const auto& [spoil, field] : cases) {
    SCOPED_TRACE(field);
    proto::Event e = testing::make_event(kBaseUtcNs);
    spoil(e);
    try {
      validate_event(e);
      ADD_FAILURE() << "accepted a bad " << field;
    } catch (const ValidationError& error) {
      EXPECT_EQ(error.field(), field) << error.what();
    }
  }
  EXPECT_NO_THROW(validate_event(testing::make_event(kBaseUtcNs, proto::PROVISIONAL)));
  // The type is known only at the end of an event.
  proto::Event untyped = testing::make_event(kBaseUtcNs, proto::PROVISIONAL);
  untyped.set_type(proto::EVENT_TYPE_UNSPECIFIED);
  EXPECT_NO_THROW(validate_event(untyped));
}

TEST(Validation, Utf8CountsCharactersNotBytes) {
  EXPECT_EQ(check_utf8("abc").characters, 3u);
  EXPECT_EQ(check_utf8("\xc3\xa9\xe2\x82\xac\xf0\x9f\x98\x80").characters, 3u);  // é € 😀
  EXPECT_FALSE(check_utf8("\xf4\x90\x80\x80").valid);                            // above U+10FFFF
  EXPECT_FALSE(check_utf8("abc\xe2\x82").valid);                                 // truncated
  EXPECT_EQ(check_utf8("abc\xe2\x82").bad_offset, 3u);
  std::string exactly_limit;
  for (std::size_t i = 0; i < kMaxTextCharacters; ++i) exactly_limit += "\xe2\x82\xac";
  EXPECT_NO_THROW(validate_text("text", exactly_limit));
}

TEST(Uuid, GeneratesDistinctVersion4Ids) {
  const std::string a = generate_uuid_v4();
  const std::string b = generate_uuid_v4();
  EXPECT_NE(a, b);
  ASSERT_EQ(a.size(), 36u);
  EXPECT_EQ(a[14], '4');
  EXPECT_NE(std::string("89ab").find(a[19]), std::string::npos);
  EXPECT_EQ(canonical_uuid(a), a);
  EXPECT_EQ(canonical_uuid("123E4567-E89B-42D3-A456-426614174000"), "123e4567-e89b-42d3-a456-426614174000");
  EXPECT_FALSE(canonical_uuid("123e4567e89b42d3a456426614174000"));
  EXPECT_FALSE(canonical_uuid("'; DROP TABLE events; --"));
}

}  // namespace
}  // namespace spasmwatch::store
