#include "store/store.hpp"

#include <google/protobuf/util/message_differencer.h>
#include <gtest/gtest.h>
#include <sqlite3.h>
#include <sys/stat.h>

#include <string>

#include "common/proto_json.hpp"
#include "store/schema.hpp"
#include "store/store_test_support.hpp"
#include "store/uuid.hpp"

namespace spasmwatch::store {
namespace {

using google::protobuf::util::MessageDifferencer;
using testing::kBaseUtcNs;
using testing::kSecondNs;
using testing::TempDir;

// Direct SQLite access, to look at the file the way another program would.
std::int64_t raw_int(const std::filesystem::path& db_path, const char* sql) {
  sqlite3* db = nullptr;
  EXPECT_EQ(sqlite3_open_v2(db_path.c_str(), &db, SQLITE_OPEN_READWRITE, nullptr), SQLITE_OK);
  sqlite3_stmt* statement = nullptr;
  std::int64_t value = -1;
  if (sqlite3_prepare_v2(db, sql, -1, &statement, nullptr) == SQLITE_OK &&
      sqlite3_step(statement) == SQLITE_ROW) {
    value = sqlite3_column_int64(statement, 0);
  }
  sqlite3_finalize(statement);
  sqlite3_close(db);
  return value;
}

void raw_exec(const std::filesystem::path& db_path, const char* sql) {
  sqlite3* db = nullptr;
  ASSERT_EQ(sqlite3_open_v2(db_path.c_str(), &db, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE, nullptr),
            SQLITE_OK);
  EXPECT_EQ(sqlite3_exec(db, sql, nullptr, nullptr, nullptr), SQLITE_OK) << sqlite3_errmsg(db);
  sqlite3_close(db);
}

mode_t mode_of(const std::filesystem::path& path) {
  struct stat st {};
  EXPECT_EQ(::stat(path.c_str(), &st), 0) << path;
  return st.st_mode & 07777;
}

class StoreTest : public ::testing::Test {
 protected:
  TempDir dir_;
  FakeClock clock_{kBaseUtcNs + 1000 * kSecondNs};
  std::filesystem::path db_path_ = dir_ / "spasmwatch.db";
};

// A file written by the first schema (before rise_s, fill, voluntary_pattern) opens, migrates in
// place, keeps its event, and then stores the new fields.
TEST_F(StoreTest, VersionOneFileMigratesAndKeepsItsEvents) {
  raw_exec(db_path_, migrations()[0].sql);
  raw_exec(db_path_, "PRAGMA user_version = 1");
  raw_exec(db_path_, ("PRAGMA application_id = " + std::to_string(kApplicationId)).c_str());
  raw_exec(db_path_, R"sql(
INSERT INTO events VALUES ('0b7c1e5a-8f0e-4c1b-9a7e-3d2f1c0b9a88', 'calf', 'SW-1', 9, 1, 2, 2,
  1700000000000000000, 1700000002000000000, 2.0, 300.0, 120.0, 14.0, 8.5, 0.02, 0.9, 1, 1, 3,
  1000, 3000, 1.0, 3.0, 7, 0.0, 1700000000000000000, 1700000000000000000))sql");
  Store store = Store::open(db_path_, clock_);
  EXPECT_EQ(store.schema_version(), 2);
  const auto old = store.get_event("0b7c1e5a-8f0e-4c1b-9a7e-3d2f1c0b9a88");
  ASSERT_TRUE(old.has_value());
  EXPECT_EQ(old->event().peak_uv(), 300.0);
  EXPECT_EQ(old->event().rise_s(), 0.0);
  EXPECT_FALSE(old->event().voluntary_pattern());

  auto e = testing::make_event(kBaseUtcNs + 10 * kSecondNs);
  e.set_rise_s(0.045);
  e.set_fill(0.8);
  e.set_voluntary_pattern(true);
  const auto id = store.put_event(e);
  const auto stored = store.get_event(id);
  ASSERT_TRUE(stored.has_value());
  EXPECT_EQ(stored->event().rise_s(), 0.045);
  EXPECT_EQ(stored->event().fill(), 0.8);
  EXPECT_TRUE(stored->event().voluntary_pattern());
  EXPECT_EQ(store.integrity_check(), "ok");
}

TEST_F(StoreTest, MigrationsCreateTheSchemaAndReopenIsIdempotent) {
  std::string event_id;
  {
    Store store = Store::open(db_path_, clock_);
    EXPECT_EQ(store.schema_version(), latest_schema_version());
    event_id = store.put_event(testing::make_event(kBaseUtcNs));
    const Store::Settings settings = store.settings();
    EXPECT_EQ(settings.journal_mode, "wal");
    EXPECT_EQ(settings.synchronous, 2);  // FULL
    EXPECT_TRUE(settings.foreign_keys);
    EXPECT_EQ(settings.busy_timeout_ms, 5000);
  }
  for (const char* table : {"devices", "sessions", "gaps", "signal_quality", "events", "annotations",
                            "event_feedback", "tombstones"}) {
    SCOPED_TRACE(table);
    sqlite3* db = nullptr;
    ASSERT_EQ(sqlite3_open_v2(db_path_.c_str(), &db, SQLITE_OPEN_READONLY, nullptr), SQLITE_OK);
    sqlite3_stmt* statement = nullptr;
    ASSERT_EQ(sqlite3_prepare_v2(db, "SELECT count(*) FROM sqlite_schema WHERE type = 'table' AND name = ?1",
                                 -1, &statement, nullptr),
              SQLITE_OK);
    sqlite3_bind_text(statement, 1, table, -1, nullptr);
    ASSERT_EQ(sqlite3_step(statement), SQLITE_ROW);
    EXPECT_EQ(sqlite3_column_int(statement, 0), 1);
    sqlite3_finalize(statement);
    sqlite3_close(db);
  }
  EXPECT_EQ(raw_int(db_path_, "PRAGMA user_version"), latest_schema_version());
  EXPECT_EQ(raw_int(db_path_, "PRAGMA application_id"), kApplicationId);
  for (int reopen = 0; reopen < 2; ++reopen) {
    Store store = Store::open(db_path_, clock_);
    EXPECT_EQ(store.schema_version(), latest_schema_version());
    EXPECT_EQ(store.counts().events(), 1u);
    EXPECT_TRUE(store.get_event(event_id).has_value());
  }
  EXPECT_EQ(raw_int(db_path_, "PRAGMA user_version"), latest_schema_version());
}

TEST_F(StoreTest, RefusesANewerSchemaNamingFileAndVersions) {
  { Store store = Store::open(db_path_, clock_); }
  raw_exec(db_path_, "PRAGMA user_version = 99");
  try {
    (void)Store::open(db_path_, clock_);
    FAIL() << "opened a newer database";
  } catch (const StoreError& error) {
    const std::string message = error.what();
    EXPECT_NE(message.find(db_path_.string()), std::string::npos) << message;
    EXPECT_NE(message.find("99"), std::string::npos) << message;
    EXPECT_NE(message.find("(" + std::to_string(latest_schema_version()) + ")"), std::string::npos)
        << message;
  }
  EXPECT_EQ(raw_int(db_path_, "PRAGMA user_version"), 99);  // left as it was
}

TEST_F(StoreTest, RefusesAnotherProgramsDatabase) {
  raw_exec(db_path_, "CREATE TABLE photos (id INTEGER PRIMARY KEY)");
  EXPECT_THROW((void)Store::open(db_path_, clock_), StoreError);
  EXPECT_EQ(raw_int(db_path_, "PRAGMA user_version"), 0);
}

TEST_F(StoreTest, CreatesOwnerOnlyFilesAndDirectoriesWhateverTheUmask) {
  const mode_t previous = ::umask(0);  // the most permissive umask: modes must not follow it
  const auto nested = dir_ / "a" / "b" / "spasmwatch.db";
  {
    Store store = Store::open(nested, clock_);
    store.put_annotation(testing::make_note(kBaseUtcNs, "wal exists now"));
    EXPECT_EQ(mode_of(nested), 0600u);
    EXPECT_EQ(mode_of(nested.string() + "-wal"), 0600u);
    EXPECT_EQ(mode_of(nested.string() + "-shm"), 0600u);
  }
  ::umask(previous);
  EXPECT_EQ(mode_of(dir_ / "a"), 0700u);
  EXPECT_EQ(mode_of(dir_ / "a" / "b"), 0700u);
}

TEST_F(StoreTest, RepairsLoosePermissionsOfAnExistingDatabase) {
  { Store store = Store::open(db_path_, clock_); }
  ASSERT_EQ(::chmod(db_path_.c_str(), 0644), 0);
  Store store = Store::open(db_path_, clock_);
  EXPECT_EQ(mode_of(db_path_), 0600u);
}

TEST_F(StoreTest, EventRoundTripsEveryField) {
  Store store = Store::open(db_path_, clock_);
  proto::Event event = testing::make_event(kBaseUtcNs);
  event.set_id(store.put_event(event));
  const auto stored = store.get_event(event.id());
  ASSERT_TRUE(stored.has_value());
  EXPECT_TRUE(MessageDifferencer::Equals(stored->event(), event)) << stored->event().DebugString();
  EXPECT_EQ(stored->created_utc_ns(), clock_.utc_ns());
  EXPECT_FALSE(stored->has_feedback());
}

TEST_F(StoreTest, ProvisionalEventUpsertedToFinalKeepsOneRow) {
  Store store = Store::open(db_path_, clock_);
  proto::Event provisional = testing::make_event(kBaseUtcNs, proto::PROVISIONAL);
  const std::string id = store.put_event(provisional);
  clock_.advance_ns(3 * kSecondNs);
  proto::Event final_event = testing::make_event(kBaseUtcNs, proto::FINAL);
  final_event.set_id(id);
  EXPECT_EQ(store.put_event(final_event), id);
  // A late, reordered provisional write must not undo the final one.
  provisional.set_id(id);
  store.put_event(provisional);

  const proto::StoreCounts counts = store.counts();
  EXPECT_EQ(counts.events(), 1u);
  EXPECT_EQ(counts.final_events(), 1u);
  EXPECT_EQ(counts.provisional_events(), 0u);
  const auto stored = store.get_event(id);
  ASSERT_TRUE(stored.has_value());
  EXPECT_EQ(stored->event().state(), proto::FINAL);
  EXPECT_EQ(stored->event().end_utc_ns(), kBaseUtcNs + 2 * kSecondNs);
  EXPECT_LT(stored->created_utc_ns(), stored->updated_utc_ns());
}

TEST_F(StoreTest, RetractionDeletesOnlyUnlinkedProvisionalEventsAndLeavesATombstone) {
  Store store = Store::open(db_path_, clock_);
  const std::string retracted = store.put_event(testing::make_event(kBaseUtcNs, proto::PROVISIONAL));
  EXPECT_TRUE(store.retract_event(retracted));
  EXPECT_FALSE(store.get_event(retracted).has_value());
  EXPECT_FALSE(store.retract_event(retracted)) << "idempotent";

  // A FINAL event is never removed; a provisional one the user annotated stays with its notes.
  const std::string final_id = store.put_event(testing::make_event(kBaseUtcNs + kSecondNs));
  EXPECT_FALSE(store.retract_event(final_id));
  const std::string linked = store.put_event(testing::make_event(kBaseUtcNs + 9 * kSecondNs, proto::PROVISIONAL));
  proto::Annotation note = testing::make_note(kBaseUtcNs, "felt that one");
  note.set_event_id(linked);
  store.put_annotation(note);
  EXPECT_FALSE(store.retract_event(linked));
  EXPECT_EQ(store.counts().events(), 2u);
  EXPECT_THROW((void)store.retract_event("not-a-uuid"), ValidationError);
}

TEST_F(StoreTest, FeedbackIsKeptBesideTheUntouchedDetectorEvent) {
  Store store = Store::open(db_path_, clock_);
  proto::Event event = testing::make_event(kBaseUtcNs);
  event.set_id(store.put_event(event));

  const std::string reject_id = store.put_annotation(
      testing::make_feedback(kBaseUtcNs + kSecondNs, event.id(), proto::EventFeedback::REJECT));
  clock_.advance_ns(kSecondNs);
  auto relabel =
      testing::make_feedback(kBaseUtcNs + 2 * kSecondNs, event.id(), proto::EventFeedback::RELABEL);
  relabel.mutable_feedback()->set_relabel_type(proto::CRAMP);
  relabel.mutable_feedback()->set_relabel_site(proto::THIGH);
  const std::string relabel_id = store.put_annotation(relabel);

  auto stored = store.get_event(event.id());
  ASSERT_TRUE(stored.has_value());
  EXPECT_TRUE(MessageDifferencer::Equals(stored->event(), event));  // the detector's view is unchanged
  ASSERT_EQ(stored->annotations_size(), 2);
  EXPECT_EQ(stored->annotations(0).id(), reject_id);
  EXPECT_EQ(stored->annotations(0).feedback().verdict(), proto::EventFeedback::REJECT);
  EXPECT_EQ(stored->feedback().verdict(), proto::EventFeedback::RELABEL);  // the latest verdict
  EXPECT_EQ(stored->feedback().relabel_type(), proto::CRAMP);
  EXPECT_EQ(stored->feedback().relabel_site(), proto::THIGH);

  EXPECT_TRUE(store.delete_annotation(relabel_id));
  stored = store.get_event(event.id());
  EXPECT_EQ(stored->feedback().verdict(), proto::EventFeedback::REJECT);
  EXPECT_EQ(store.counts().feedback(), 1u);
}

TEST_F(StoreTest, LinksToUnknownEventsAreRefusedAndChangeNothing) {
  Store store = Store::open(db_path_, clock_);
  const std::string missing = generate_uuid_v4();
  for (proto::Annotation a : {testing::make_feedback(kBaseUtcNs, missing, proto::EventFeedback::CONFIRM),
                              testing::make_note(kBaseUtcNs, "linked")}) {
    a.set_event_id(missing);
    try {
      store.put_annotation(a);
      ADD_FAILURE() << "accepted a link to an unknown event";
    } catch (const ValidationError& error) {
      EXPECT_EQ(error.field(), "event_id");
      EXPECT_NE(error.value().find(missing), std::string::npos);
    }
  }
  try {
    store.put_annotation(testing::make_symptom(kBaseUtcNs, 12));
    ADD_FAILURE() << "accepted pain 12";
  } catch (const ValidationError& error) {
    EXPECT_EQ(error.field(), "symptom.pain");
  }
  EXPECT_EQ(store.counts().annotations(), 0u);
}

TEST_F(StoreTest, AnnotationDefaultsToNowAndKeepsCreatedOnUpdate) {
  Store store = Store::open(db_path_, clock_);
  proto::Annotation note = testing::make_note(0, "first");
  const std::string id = store.put_annotation(note);
  auto stored = store.get_annotation(id);
  ASSERT_TRUE(stored.has_value());
  EXPECT_EQ(stored->start_utc_ns(), clock_.utc_ns());
  const std::int64_t created = stored->created_utc_ns();

  clock_.advance_ns(kSecondNs);
  proto::Annotation changed = *stored;
  changed.set_text("second");
  changed.set_created_utc_ns(0);
  store.update_annotation(changed);
  stored = store.get_annotation(id);
  EXPECT_EQ(stored->text(), "second");
  EXPECT_EQ(stored->created_utc_ns(), created);
  EXPECT_EQ(stored->updated_utc_ns(), created + kSecondNs);

  proto::Annotation unknown = testing::make_note(kBaseUtcNs, "nobody");
  unknown.set_id(generate_uuid_v4());
  EXPECT_THROW(store.update_annotation(unknown), NotFoundError);
  EXPECT_FALSE(store.get_annotation(unknown.id()).has_value());

  EXPECT_TRUE(store.delete_annotation(id));
  EXPECT_FALSE(store.delete_annotation(id));
  EXPECT_FALSE(store.get_annotation(id).has_value());
  EXPECT_EQ(raw_int(db_path_, "SELECT count(*) FROM tombstones"), 1);
}

TEST_F(StoreTest, SqlLookingStringsAreStoredVerbatim) {
  Store store = Store::open(db_path_, clock_);
  const std::string nasty = "'; DROP TABLE events; --";
  const std::string with_nul("a\0b\"'", 5);
  proto::Event event = testing::make_event(kBaseUtcNs);
  event.set_device(nasty);
  event.set_id(store.put_event(event));
  proto::Annotation treatment;
  treatment.set_kind(proto::Annotation::TREATMENT);
  treatment.set_start_utc_ns(kBaseUtcNs);
  treatment.set_text(nasty);
  treatment.set_event_id(event.id());
  treatment.mutable_treatment()->set_type(proto::Treatment::MEDICATION);
  treatment.mutable_treatment()->set_medication("Robert'); DROP TABLE annotations;--");
  treatment.mutable_treatment()->set_dose(with_nul);
  const std::string id = store.put_annotation(treatment);

  const auto stored = store.get_annotation(id);
  ASSERT_TRUE(stored.has_value());
  EXPECT_EQ(stored->text(), nasty);
  EXPECT_EQ(stored->treatment().medication(), "Robert'); DROP TABLE annotations;--");
  EXPECT_EQ(stored->treatment().dose(), with_nul);
  const auto events = store.find_events(EventQuery{.device = nasty});
  ASSERT_EQ(events.size(), 1u);
  EXPECT_EQ(events[0].event().device(), nasty);
  EXPECT_EQ(events[0].annotations_size(), 1);
  EXPECT_EQ(store.integrity_check(), "ok");
}

TEST_F(StoreTest, ReadOnlyStoreReadsButRefusesWrites) {
  EXPECT_THROW((void)Store::open(db_path_, clock_, {.read_only = true}), StoreError);  // no file yet
  {
    Store writer = Store::open(db_path_, clock_);
    writer.put_annotation(testing::make_note(kBaseUtcNs, "x"));
  }
  Store reader = Store::open(db_path_, clock_, {.read_only = true});
  EXPECT_EQ(reader.counts().annotations(), 1u);
  EXPECT_THROW(reader.put_annotation(testing::make_note(kBaseUtcNs, "y")), StoreError);
}

TEST_F(StoreTest, IngestRecordsAreIdempotentUpserts) {
  Store store = Store::open(db_path_, clock_);
  for (int round = 0; round < 2; ++round) {
    store.put_device({.device_id = "SW-0001",
                      .name = "calf-left",
                      .firmware = "1.2.0",
                      .site = proto::CALF,
                      .side = proto::LEFT,
                      .seen_utc_ns = kBaseUtcNs + round * kSecondNs});
    store.put_session(
        {.device_id = "SW-0001", .session_id = 0xffffffffffffffffULL, .seen_utc_ns = kBaseUtcNs});
    store.put_gap({.device_id = "SW-0001",
                   .session_id = 0xffffffffffffffffULL,
                   .stream_id = 1,
                   .first_sample_index = 4000,
                   .lost_count = 64,
                   .utc_ns = kBaseUtcNs});
    store.put_signal_quality({.device_id = "SW-0001",
                              .minute_utc_ns = kBaseUtcNs + 59 * kSecondNs,
                              .lost_samples = 64,
                              .bad_frames = 2});
  }
  const proto::StoreCounts counts = store.counts();
  EXPECT_EQ(counts.devices(), 1u);
  EXPECT_EQ(counts.sessions(), 1u);
  EXPECT_EQ(counts.gaps(), 1u);
  EXPECT_EQ(counts.lost_samples(), 64u);
  EXPECT_EQ(raw_int(db_path_, "SELECT count(*) FROM signal_quality"), 1);
  // Two writes for one minute (say, before and after a restart) add up.
  EXPECT_EQ(raw_int(db_path_, "SELECT lost_samples FROM signal_quality"), 128);
  EXPECT_EQ(raw_int(db_path_, "SELECT bad_frames FROM signal_quality"), 4);
  EXPECT_EQ(raw_int(db_path_, "SELECT last_seen_utc_ns - first_seen_utc_ns FROM devices"), kSecondNs);
  EXPECT_EQ(raw_int(db_path_, "SELECT minute_utc_ns % 60000000000 FROM signal_quality"), 0);
  try {
    store.put_gap({.device_id = ""});
    ADD_FAILURE() << "accepted a gap without device";
  } catch (const ValidationError& error) {
    EXPECT_EQ(error.field(), "device_id");
  }
}

TEST_F(StoreTest, AnnotationJsonFromTheApiIsStoredAndReturnedThroughTheProtobufMapping) {
  Store store = Store::open(db_path_, clock_);
  proto::Annotation parsed;
  std::string error;
  ASSERT_TRUE(from_json(R"({"kind": "SYMPTOM", "text": "after the walk",
                            "symptom": {"pain": 7, "site": "NECK", "side": "LEFT"}})",
                        parsed, error))
      << error;
  const std::string id = store.put_annotation(parsed);
  const auto stored = store.get_annotation(id);
  ASSERT_TRUE(stored.has_value());
  const std::string json = to_json(*stored);
  EXPECT_NE(json.find(R"("pain": 7)"), std::string::npos) << json;
  EXPECT_NE(json.find(R"("site": "NECK")"), std::string::npos) << json;
  EXPECT_NE(json.find(R"("kind": "SYMPTOM")"), std::string::npos) << json;

  // Out-of-range values parse (the types are right) and are refused by validation, by name.
  ASSERT_TRUE(from_json(R"({"kind": "SYMPTOM", "symptom": {"pain": 11}})", parsed, error)) << error;
  try {
    store.put_annotation(parsed);
    ADD_FAILURE() << "pain 11 accepted";
  } catch (const ValidationError& e) {
    EXPECT_EQ(e.field(), "symptom.pain");
    EXPECT_EQ(e.value(), "11");
  }
  // Details of two kinds at once are a parse error of the oneof already.
  EXPECT_FALSE(from_json(
      R"({"kind": "TRIGGER", "trigger": {"type": "STRESS"}, "treatment": {"type": "HEAT"}})", parsed, error));
}

}  // namespace
}  // namespace spasmwatch::store
