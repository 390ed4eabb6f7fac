#include "store/schema.hpp"

#include <sqlite3.h>

#include <string>

#include "store/store_error.hpp"

namespace spasmwatch::store {

namespace {

// Version 1. Integers that are uint64 in the protos (sample indices, session ids, counts) are
// stored as their two's-complement int64. Rows synced elsewhere carry updated_utc_ns.
constexpr const char* kSchemaV1 = R"sql(
PRAGMA application_id = 1397774164;

-- Wearables, keyed by the id from their Hello (stable across machines).
CREATE TABLE devices (
  device_id TEXT PRIMARY KEY NOT NULL,
  name TEXT NOT NULL,
  firmware TEXT NOT NULL,
  site INTEGER NOT NULL,
  side INTEGER NOT NULL,
  first_seen_utc_ns INTEGER NOT NULL,
  last_seen_utc_ns INTEGER NOT NULL,
  updated_utc_ns INTEGER NOT NULL
) STRICT;

-- Recording sessions (one per device power-up).
CREATE TABLE sessions (
  device_id TEXT NOT NULL,
  session_id INTEGER NOT NULL,
  first_seen_utc_ns INTEGER NOT NULL,
  last_seen_utc_ns INTEGER NOT NULL,
  updated_utc_ns INTEGER NOT NULL,
  PRIMARY KEY (device_id, session_id)
) STRICT, WITHOUT ROWID;

-- Runs of samples that never arrived.
CREATE TABLE gaps (
  device_id TEXT NOT NULL,
  session_id INTEGER NOT NULL,
  stream_id INTEGER NOT NULL,
  first_sample_index INTEGER NOT NULL,
  lost_count INTEGER NOT NULL CHECK (lost_count >= 0),
  utc_ns INTEGER NOT NULL,
  updated_utc_ns INTEGER NOT NULL,
  PRIMARY KEY (device_id, session_id, stream_id, first_sample_index)
) STRICT, WITHOUT ROWID;
CREATE INDEX gaps_by_time ON gaps (utc_ns);

-- Per device and minute: samples lost and frames rejected.
CREATE TABLE signal_quality (
  device_id TEXT NOT NULL,
  minute_utc_ns INTEGER NOT NULL,
  lost_samples INTEGER NOT NULL CHECK (lost_samples >= 0),
  bad_frames INTEGER NOT NULL CHECK (bad_frames >= 0),
  updated_utc_ns INTEGER NOT NULL,
  PRIMARY KEY (device_id, minute_utc_ns)
) STRICT, WITHOUT ROWID;

-- Detected events, every field of proto Event. PROVISIONAL rows are upserted to FINAL.
CREATE TABLE events (
  id TEXT PRIMARY KEY NOT NULL,
  device TEXT NOT NULL,
  device_id TEXT NOT NULL,
  site INTEGER NOT NULL,
  side INTEGER NOT NULL,
  type INTEGER NOT NULL,
  state INTEGER NOT NULL CHECK (state IN (1, 2)),
  start_utc_ns INTEGER NOT NULL,
  end_utc_ns INTEGER NOT NULL,
  duration_s REAL NOT NULL,
  peak_uv REAL NOT NULL,
  mean_uv REAL NOT NULL,
  snr REAL NOT NULL,
  baseline_uv REAL NOT NULL,
  acc_peak_g REAL NOT NULL,
  confidence REAL NOT NULL CHECK (confidence BETWEEN 0 AND 1),
  context INTEGER NOT NULL,
  posture INTEGER NOT NULL,
  channel_mask INTEGER NOT NULL,
  start_sample_index INTEGER NOT NULL,
  end_sample_index INTEGER NOT NULL,
  device_start_s REAL NOT NULL,
  device_end_s REAL NOT NULL,
  session_id INTEGER NOT NULL,
  rhythm_hz REAL NOT NULL,
  created_utc_ns INTEGER NOT NULL,
  updated_utc_ns INTEGER NOT NULL
) STRICT;
CREATE INDEX events_by_start ON events (start_utc_ns);

-- The user's annotations; symptom / trigger / treatment details in columns, feedback beside
-- the event in event_feedback.
CREATE TABLE annotations (
  id TEXT PRIMARY KEY NOT NULL,
  kind INTEGER NOT NULL CHECK (kind BETWEEN 1 AND 5),
  start_utc_ns INTEGER NOT NULL,
  end_utc_ns INTEGER NOT NULL CHECK (end_utc_ns = 0 OR end_utc_ns >= start_utc_ns),
  event_id TEXT REFERENCES events (id),
  text TEXT NOT NULL,
  pain INTEGER CHECK (pain BETWEEN 0 AND 10),
  site INTEGER NOT NULL,
  side INTEGER NOT NULL,
  description TEXT NOT NULL,
  trigger_type INTEGER NOT NULL,
  treatment_type INTEGER NOT NULL,
  medication TEXT NOT NULL,
  dose TEXT NOT NULL,
  created_utc_ns INTEGER NOT NULL,
  updated_utc_ns INTEGER NOT NULL
) STRICT;
CREATE INDEX annotations_by_start ON annotations (start_utc_ns);
CREATE INDEX annotations_by_event ON annotations (event_id);

-- The user's verdicts on events; the detector's row in events is never changed by them.
CREATE TABLE event_feedback (
  annotation_id TEXT PRIMARY KEY NOT NULL REFERENCES annotations (id) ON DELETE CASCADE,
  event_id TEXT NOT NULL REFERENCES events (id),
  verdict INTEGER NOT NULL CHECK (verdict BETWEEN 1 AND 3),
  relabel_type INTEGER NOT NULL,
  relabel_site INTEGER NOT NULL,
  relabel_side INTEGER NOT NULL,
  updated_utc_ns INTEGER NOT NULL
) STRICT;
CREATE INDEX event_feedback_by_event ON event_feedback (event_id, updated_utc_ns);

-- Deleted ids, so that a later sync can propagate deletes without keeping deleted content.
CREATE TABLE tombstones (
  id TEXT PRIMARY KEY NOT NULL,
  table_name TEXT NOT NULL,
  deleted_utc_ns INTEGER NOT NULL
) STRICT;
)sql";

// The detector's onset sharpness, fill and rhythmic-series flag: kept so that feedback on events
// can later be related to them (and tuning learn from it).
constexpr const char* kSchemaV2 = R"sql(
ALTER TABLE events ADD COLUMN rise_s REAL NOT NULL DEFAULT 0;
ALTER TABLE events ADD COLUMN fill REAL NOT NULL DEFAULT 0;
ALTER TABLE events ADD COLUMN voluntary_pattern INTEGER NOT NULL DEFAULT 0 CHECK (voluntary_pattern IN (0, 1));
)sql";

constexpr Migration kMigrations[] = {
    {1, "devices, sessions, gaps, signal quality, events, annotations, feedback", kSchemaV1},
    {2, "events: rise_s, fill, voluntary_pattern", kSchemaV2},
};

[[noreturn]] void refuse(const sqlite::Connection& db, const std::string& why) {
  throw StoreError("store " + db.path() + ": " + why);
}

}  // namespace

std::span<const Migration> migrations() {
  return kMigrations;
}

int latest_schema_version() {
  return kMigrations[std::size(kMigrations) - 1].version;
}

void configure_connection(sqlite::Connection& db, bool read_only, int busy_timeout_ms) {
  sqlite3_extended_result_codes(db.handle(), 1);
  sqlite3_busy_timeout(db.handle(), busy_timeout_ms);
  // No writable_schema tricks, no shadow-table writes: a bug cannot corrupt the file through SQL.
  sqlite3_db_config(db.handle(), SQLITE_DBCONFIG_DEFENSIVE, 1, nullptr);
  db.exec("PRAGMA trusted_schema = OFF");
  db.exec("PRAGMA foreign_keys = ON");
  if (read_only) return;
  // Deleted annotations are overwritten in the file, not left readable in free pages.
  db.exec("PRAGMA secure_delete = ON");
  // After a checkpoint, a WAL that grew past 64 MiB is truncated back.
  db.exec("PRAGMA journal_size_limit = 67108864");
}

int check_and_migrate(sqlite::Connection& db, bool read_only) {
  const std::int64_t application_id = db.query_int("PRAGMA application_id");
  std::int64_t version = db.query_int("PRAGMA user_version");
  const int latest = latest_schema_version();
  if (application_id != 0 && application_id != kApplicationId) {
    refuse(db, "is not a spasmwatch database (application_id " + std::to_string(application_id) + ")");
  }
  if (application_id == 0 && db.query_int("SELECT count(*) FROM sqlite_schema") != 0) {
    refuse(db, "is an SQLite database of another program (it has tables but no spasmwatch id)");
  }
  if (version > latest) {
    refuse(db, "schema version " + std::to_string(version) + " is newer than this spasmwatch supports (" +
                   std::to_string(latest) + "); use a newer spasmwatch");
  }
  if (read_only) {
    if (version < latest) {
      refuse(db, "schema version " + std::to_string(version) + " is older than " + std::to_string(latest) +
                     "; open it read-write once (e.g. start spasmwatchd) to migrate it");
    }
    return static_cast<int>(version);
  }

  // An acknowledged write must survive kill -9 and power loss: WAL, and an fsync of the WAL at
  // every commit (synchronous=NORMAL would only sync at checkpoints).
  if (db.query_text("PRAGMA journal_mode = WAL") != "wal") {
    refuse(db, "cannot switch to WAL journal mode (is the file on a network file system?)");
  }
  db.exec("PRAGMA synchronous = FULL");

  for (const Migration& migration : migrations()) {
    if (migration.version <= version) continue;
    sqlite::Transaction transaction(db, sqlite::Transaction::Mode::kImmediate);
    version = db.query_int("PRAGMA user_version");  // another process may have migrated meanwhile
    if (migration.version <= version) continue;
    try {
      db.exec(migration.sql);
    } catch (const StoreError& error) {
      refuse(db, "migration to schema version " + std::to_string(migration.version) + " (" +
                     migration.description + ") failed: " + error.what());
    }
    // PRAGMA takes no bound parameters; the number comes from the table above, never from input.
    db.exec(("PRAGMA user_version = " + std::to_string(migration.version)).c_str());
    transaction.commit();
    version = migration.version;
  }
  return static_cast<int>(version);
}

}  // namespace spasmwatch::store
