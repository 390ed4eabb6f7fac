// The embedded store: one SQLite file holding devices, recording sessions, gaps, signal quality,
// detected events, the user's annotations and their feedback on events. Health data: the file is
// owner-only (owner_only.hpp) and no acknowledged write is ever lost.
//
// Durability: WAL journal, synchronous=FULL (the WAL is fsync'ed at every commit, so a committed
// transaction survives kill -9 and power loss), foreign keys on, 5 s busy timeout, IMMEDIATE write
// transactions. Schema versioned by migrations (schema.hpp).
//
// Ids: events and annotations are keyed by UUID text (generated here when empty); devices,
// sessions, gaps and signal quality by their natural keys (device id, session id, stream, sample
// index, minute), which are already the same on every machine. Every write is an upsert keyed by
// those ids and stamps updated_utc_ns, so replaying writes, or a later sync to a central database,
// is idempotent (a sync copies rows, it does not replay writes). One exception: put_signal_quality
// adds its counts to the minute's row (a minute may be seen by two daemon runs). A FINAL event is
// never downgraded by a late PROVISIONAL upsert of the same id.
//
// Errors: ValidationError (field and bad value), NotFoundError, StoreError (file and operation).
// A write that throws changed nothing.
//
// Thread rules: a Store is one SQLite connection, used by one thread at a time. The daemon writes
// through StoreWriter (one writer thread, batched); readers open their own read-only Store on the
// same file: WAL lets them read committed data while the writer writes.
#pragma once

#include <cstdint>
#include <filesystem>
#include <functional>
#include <limits>
#include <optional>
#include <string>
#include <vector>

#include "annotations.pb.h"
#include "common/clock.hpp"
#include "events.pb.h"
#include "store/sqlite.hpp"
#include "store/store_error.hpp"

namespace spasmwatch::store {

struct DeviceRecord {
  std::string device_id{};  // from the Hello; required
  std::string name{};       // the daemon's name for it
  std::string firmware{};
  proto::BodySite site = proto::SITE_UNSPECIFIED;
  proto::Side side = proto::SIDE_UNSPECIFIED;
  std::int64_t seen_utc_ns = 0;  // widens first/last seen; 0: now
};

struct SessionRecord {
  std::string device_id{};
  std::uint64_t session_id = 0;
  std::int64_t seen_utc_ns = 0;  // widens first/last seen; 0: now
};

struct GapRecord {
  std::string device_id{};
  std::uint64_t session_id = 0;
  std::uint32_t stream_id = 0;
  std::uint64_t first_sample_index = 0;
  std::uint64_t lost_count = 0;  // time points
  std::int64_t utc_ns = 0;       // host time the gap was noticed (arrival of what followed it)
};

struct SignalQualityRecord {
  std::string device_id{};
  std::int64_t minute_utc_ns = 0;  // rounded down to the minute
  // Counts to ADD to that minute's row: a daemon writes the part of a minute it saw, so a restart
  // (or two device entries with one device id) within a minute adds up instead of overwriting.
  std::uint64_t lost_samples = 0;
  std::uint64_t bad_frames = 0;
};

inline constexpr int kMaxQueryLimit = 10'000;

// Events whose start lies in [from_utc_ns, to_utc_ns), oldest first; unset filters match all.
struct EventQuery {
  std::int64_t from_utc_ns = std::numeric_limits<std::int64_t>::min();
  std::int64_t to_utc_ns = std::numeric_limits<std::int64_t>::max();
  std::optional<proto::BodySite> site{};
  std::optional<proto::EventType> type{};
  std::optional<double> min_confidence{};
  std::optional<proto::EventState> state{};
  std::optional<std::string> device{};
  int limit = 500;  // 1..kMaxQueryLimit
  int offset = 0;
};

// Annotations whose start lies in [from_utc_ns, to_utc_ns), oldest first.
struct AnnotationQuery {
  std::int64_t from_utc_ns = std::numeric_limits<std::int64_t>::min();
  std::int64_t to_utc_ns = std::numeric_limits<std::int64_t>::max();
  std::optional<proto::Annotation::Kind> kind{};
  std::optional<std::string> event_id{};
  int limit = 500;
  int offset = 0;
};

class Store {
 public:
  // The connection's effective durability settings, as SQLite reports them.
  struct Settings {
    std::string journal_mode;  // "wal"
    int synchronous = 0;       // 2 = FULL
    bool foreign_keys = false;
    int busy_timeout_ms = 0;
  };

  struct Options {
    bool read_only = false;  // read-only: the file must exist at the current schema version
    int busy_timeout_ms = 5000;
  };

  // Read-write: creates the file (0600) and missing directories (0700), repairs looser modes of
  // existing files, migrates. Throws StoreError naming the file (e.g. a newer schema version).
  // `clock` stamps created/updated times and must outlive the Store.
  static Store open(const std::filesystem::path& path, const Clock& clock, Options options);
  static Store open(const std::filesystem::path& path, const Clock& clock) { return open(path, clock, {}); }

  Store(Store&&) noexcept = default;
  Store& operator=(Store&&) = delete;
  Store(const Store&) = delete;
  ~Store() = default;

  // ---- writes: each is atomic; inside a transaction() it runs in a savepoint ----------------
  // Upsert keyed by id (generated when empty); returns the id.
  std::string put_event(proto::Event event);
  // The detector retracted a provisional event (voluntary activity or noise): its PROVISIONAL row
  // is deleted and a tombstone left, so a later sync deletes it too. A FINAL row is never removed,
  // and neither is a row the user linked annotations to (their data stays attached). Returns
  // whether a row was deleted; idempotent.
  bool retract_event(const std::string& id);
  // Upsert keyed by id (generated when empty); start 0 means now. Returns the id.
  std::string put_annotation(proto::Annotation annotation);
  // Replaces an existing annotation (created_utc_ns kept); NotFoundError when there is none.
  void update_annotation(proto::Annotation annotation);
  // Removes it (and its feedback) and leaves a tombstone; false when there was none.
  bool delete_annotation(const std::string& id);
  void put_device(const DeviceRecord& device);
  void put_session(const SessionRecord& session);
  void put_gap(const GapRecord& gap);
  void put_signal_quality(const SignalQualityRecord& quality);

  // ---- reads: each sees one consistent snapshot ---------------------------------------------
  [[nodiscard]] std::optional<proto::StoredEvent> get_event(const std::string& id);
  [[nodiscard]] std::vector<proto::StoredEvent> find_events(const EventQuery& query);
  [[nodiscard]] std::optional<proto::Annotation> get_annotation(const std::string& id);
  [[nodiscard]] std::vector<proto::Annotation> find_annotations(const AnnotationQuery& query);
  [[nodiscard]] proto::StoreCounts counts();
  [[nodiscard]] std::string integrity_check();  // "ok" when the file is sound
  [[nodiscard]] Settings settings();

  // ---- batching (StoreWriter) ------------------------------------------------------------------
  // BEGIN IMMEDIATE ... COMMIT around several writes; rolls back unless committed.
  [[nodiscard]] sqlite::Transaction transaction() {
    return sqlite::Transaction(db_, sqlite::Transaction::Mode::kImmediate);
  }
  // One operation inside a transaction that can fail alone.
  [[nodiscard]] sqlite::Savepoint savepoint() { return sqlite::Savepoint(db_); }

  [[nodiscard]] bool in_transaction() const { return db_.in_transaction(); }
  [[nodiscard]] int schema_version() const { return schema_version_; }
  [[nodiscard]] const std::filesystem::path& path() const { return path_; }
  [[nodiscard]] const Clock& clock() const { return *clock_; }

 private:
  Store(std::filesystem::path path, sqlite::Connection db, const Clock& clock, bool read_only);
  void write(const std::function<void()>& body);  // transaction or savepoint around body
  void read(const std::function<void()>& body);   // one snapshot around body
  void require_writable() const;
  void require_event(const std::string& field, const std::string& event_id);
  void store_annotation(proto::Annotation& annotation, bool must_exist);
  void load_event_details(proto::StoredEvent& stored);

  std::filesystem::path path_;
  sqlite::Connection db_;
  const Clock* clock_;
  bool read_only_;
  int schema_version_ = 0;
};

}  // namespace spasmwatch::store
