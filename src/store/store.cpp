// Store: opening, and every write. Reads are in store_queries.cpp.
#include "store/store.hpp"

#include <sqlite3.h>

#include <utility>

#include "store/owner_only.hpp"
#include "store/schema.hpp"
#include "store/uuid.hpp"
#include "store/validation.hpp"

namespace spasmwatch::store {

namespace {

constexpr std::int64_t kMinuteNs = 60'000'000'000;

std::int64_t as_int64(std::uint64_t value) {
  return static_cast<std::int64_t>(value);
}

void validate_device_id(const std::string& device_id) {
  if (device_id.empty()) throw ValidationError("device_id", "\"\"", "is required");
  validate_text("device_id", device_id);
}

constexpr const char* kUpsertEvent = R"sql(
INSERT INTO events (id, device, device_id, site, side, type, state, start_utc_ns, end_utc_ns,
                    duration_s, peak_uv, mean_uv, snr, baseline_uv, acc_peak_g, confidence, context,
                    posture, channel_mask, start_sample_index, end_sample_index, device_start_s,
                    device_end_s, session_id, rhythm_hz, created_utc_ns, updated_utc_ns, rise_s, fill,
                    voluntary_pattern)
VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?15, ?16, ?17, ?18, ?19, ?20,
        ?21, ?22, ?23, ?24, ?25, ?26, ?26, ?27, ?28, ?29)
ON CONFLICT (id) DO UPDATE SET
  device = excluded.device, device_id = excluded.device_id, site = excluded.site,
  side = excluded.side, type = excluded.type, state = excluded.state,
  start_utc_ns = excluded.start_utc_ns, end_utc_ns = excluded.end_utc_ns,
  duration_s = excluded.duration_s, peak_uv = excluded.peak_uv, mean_uv = excluded.mean_uv,
  snr = excluded.snr, baseline_uv = excluded.baseline_uv, acc_peak_g = excluded.acc_peak_g,
  confidence = excluded.confidence, context = excluded.context, posture = excluded.posture,
  channel_mask = excluded.channel_mask, start_sample_index = excluded.start_sample_index,
  end_sample_index = excluded.end_sample_index, device_start_s = excluded.device_start_s,
  device_end_s = excluded.device_end_s, session_id = excluded.session_id,
  rhythm_hz = excluded.rhythm_hz, updated_utc_ns = excluded.updated_utc_ns,
  rise_s = excluded.rise_s, fill = excluded.fill, voluntary_pattern = excluded.voluntary_pattern
WHERE NOT (events.state = 2 AND excluded.state = 1)
)sql";

constexpr const char* kUpsertAnnotation = R"sql(
INSERT INTO annotations (id, kind, start_utc_ns, end_utc_ns, event_id, text, pain, site, side,
                         description, trigger_type, treatment_type, medication, dose,
                         created_utc_ns, updated_utc_ns)
VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?15, ?16)
ON CONFLICT (id) DO UPDATE SET
  kind = excluded.kind, start_utc_ns = excluded.start_utc_ns, end_utc_ns = excluded.end_utc_ns,
  event_id = excluded.event_id, text = excluded.text, pain = excluded.pain, site = excluded.site,
  side = excluded.side, description = excluded.description, trigger_type = excluded.trigger_type,
  treatment_type = excluded.treatment_type, medication = excluded.medication, dose = excluded.dose,
  updated_utc_ns = excluded.updated_utc_ns
)sql";

constexpr const char* kUpsertFeedback = R"sql(
INSERT INTO event_feedback (annotation_id, event_id, verdict, relabel_type, relabel_site,
                            relabel_side, updated_utc_ns)
VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)
ON CONFLICT (annotation_id) DO UPDATE SET
  event_id = excluded.event_id, verdict = excluded.verdict, relabel_type = excluded.relabel_type,
  relabel_site = excluded.relabel_site, relabel_side = excluded.relabel_side,
  updated_utc_ns = excluded.updated_utc_ns
)sql";

constexpr const char* kUpsertDevice = R"sql(
INSERT INTO devices (device_id, name, firmware, site, side, first_seen_utc_ns, last_seen_utc_ns,
                     updated_utc_ns)
VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?6, ?7)
ON CONFLICT (device_id) DO UPDATE SET
  name = excluded.name, firmware = excluded.firmware, site = excluded.site, side = excluded.side,
  first_seen_utc_ns = min(devices.first_seen_utc_ns, excluded.first_seen_utc_ns),
  last_seen_utc_ns = max(devices.last_seen_utc_ns, excluded.last_seen_utc_ns),
  updated_utc_ns = excluded.updated_utc_ns
)sql";

constexpr const char* kUpsertSession = R"sql(
INSERT INTO sessions (device_id, session_id, first_seen_utc_ns, last_seen_utc_ns, updated_utc_ns)
VALUES (?1, ?2, ?3, ?3, ?4)
ON CONFLICT (device_id, session_id) DO UPDATE SET
  first_seen_utc_ns = min(sessions.first_seen_utc_ns, excluded.first_seen_utc_ns),
  last_seen_utc_ns = max(sessions.last_seen_utc_ns, excluded.last_seen_utc_ns),
  updated_utc_ns = excluded.updated_utc_ns
)sql";

constexpr const char* kUpsertGap = R"sql(
INSERT INTO gaps (device_id, session_id, stream_id, first_sample_index, lost_count, utc_ns,
                  updated_utc_ns)
VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)
ON CONFLICT (device_id, session_id, stream_id, first_sample_index) DO UPDATE SET
  lost_count = excluded.lost_count, utc_ns = excluded.utc_ns, updated_utc_ns = excluded.updated_utc_ns
)sql";

constexpr const char* kUpsertQuality = R"sql(
INSERT INTO signal_quality (device_id, minute_utc_ns, lost_samples, bad_frames, updated_utc_ns)
VALUES (?1, ?2, ?3, ?4, ?5)
ON CONFLICT (device_id, minute_utc_ns) DO UPDATE SET
  lost_samples = lost_samples + excluded.lost_samples, bad_frames = bad_frames + excluded.bad_frames,
  updated_utc_ns = excluded.updated_utc_ns
)sql";

}  // namespace

Store Store::open(const std::filesystem::path& path, const Clock& clock, Options options) {
  if (path.empty()) throw StoreError("store: empty database path");
  if (options.read_only) {
    std::error_code error;
    if (!std::filesystem::is_regular_file(path, error)) {
      throw StoreError("store " + path.string() + ": no such database file");
    }
  } else {
    prepare_owner_only_database(path);
    repair_owner_only_companions(path);
  }
  const int flags = (options.read_only ? SQLITE_OPEN_READONLY : SQLITE_OPEN_READWRITE) | SQLITE_OPEN_NOMUTEX;
  sqlite::Connection db(path.string(), flags);
  configure_connection(db, options.read_only, options.busy_timeout_ms);
  const int version = check_and_migrate(db, options.read_only);
  Store store(path, std::move(db), clock, options.read_only);
  store.schema_version_ = version;
  return store;
}

Store::Store(std::filesystem::path path, sqlite::Connection db, const Clock& clock, bool read_only)
    : path_(std::move(path)), db_(std::move(db)), clock_(&clock), read_only_(read_only) {}

void Store::require_writable() const {
  if (read_only_) throw StoreError("store " + path_.string() + ": opened read-only");
}

void Store::write(const std::function<void()>& body) {
  require_writable();
  if (db_.in_transaction()) {
    sqlite::Savepoint savepoint(db_);
    body();
    savepoint.release();
  } else {
    sqlite::Transaction transaction(db_, sqlite::Transaction::Mode::kImmediate);
    body();
    transaction.commit();
  }
}

void Store::read(const std::function<void()>& body) {
  if (db_.in_transaction()) {
    body();
    return;
  }
  sqlite::Transaction transaction(db_, sqlite::Transaction::Mode::kDeferred);
  body();
  transaction.commit();
}

void Store::require_event(const std::string& field, const std::string& event_id) {
  auto q = db_.query("SELECT 1 FROM events WHERE id = ?1");
  if (!q.bind(1, event_id).step()) {
    throw ValidationError(field, printable(event_id), "no stored event has this id");
  }
}

std::string Store::put_event(proto::Event event) {
  validate_event(event);
  event.set_id(event.id().empty() ? generate_uuid_v4() : canonical_id("id", event.id()));
  const std::int64_t now = clock_->utc_ns();
  write([&] {
    auto q = db_.query(kUpsertEvent);
    q.bind(1, event.id()).bind(2, event.device()).bind(3, event.device_id());
    q.bind(4, event.site()).bind(5, event.side()).bind(6, event.type()).bind(7, event.state());
    q.bind(8, event.start_utc_ns()).bind(9, event.end_utc_ns()).bind(10, event.duration_s());
    q.bind(11, event.peak_uv()).bind(12, event.mean_uv()).bind(13, event.snr());
    q.bind(14, event.baseline_uv()).bind(15, event.acc_peak_g()).bind(16, event.confidence());
    q.bind(17, event.context()).bind(18, event.posture());
    q.bind(19, static_cast<std::int64_t>(event.channel_mask()));
    q.bind(20, as_int64(event.start_sample_index())).bind(21, as_int64(event.end_sample_index()));
    q.bind(22, event.device_start_s()).bind(23, event.device_end_s());
    q.bind(24, as_int64(event.session_id())).bind(25, event.rhythm_hz()).bind(26, now);
    q.bind(27, event.rise_s()).bind(28, event.fill()).bind(29, std::int64_t{event.voluntary_pattern() ? 1 : 0});
    q.run();
  });
  return event.id();
}

bool Store::retract_event(const std::string& id) {
  const std::string canonical = canonical_id("id", id);
  bool deleted = false;
  write([&] {
    db_.query("DELETE FROM events WHERE id = ?1 AND state = 1 AND NOT EXISTS "
              "(SELECT 1 FROM annotations WHERE event_id = ?1)")
        .bind(1, canonical)
        .run();
    deleted = db_.changes() > 0;
    if (!deleted) return;
    auto q = db_.query(
        "INSERT INTO tombstones (id, table_name, deleted_utc_ns) VALUES (?1, 'events', ?2) "
        "ON CONFLICT (id) DO UPDATE SET deleted_utc_ns = excluded.deleted_utc_ns");
    q.bind(1, canonical).bind(2, clock_->utc_ns()).run();
  });
  return deleted;
}

std::string Store::put_annotation(proto::Annotation annotation) {
  store_annotation(annotation, false);
  return annotation.id();
}

void Store::update_annotation(proto::Annotation annotation) {
  if (annotation.id().empty()) throw ValidationError("id", "\"\"", "an update needs the annotation's id");
  store_annotation(annotation, true);
}

void Store::store_annotation(proto::Annotation& a, bool must_exist) {
  const std::int64_t now = clock_->utc_ns();
  if (a.start_utc_ns() == 0) a.set_start_utc_ns(now);
  validate_annotation(a);
  a.set_id(a.id().empty() ? generate_uuid_v4() : canonical_id("id", a.id()));
  if (!a.event_id().empty()) a.set_event_id(canonical_id("event_id", a.event_id()));
  a.set_updated_utc_ns(now);
  if (a.created_utc_ns() <= 0) a.set_created_utc_ns(now);

  write([&] {
    if (must_exist) {
      auto q = db_.query("SELECT created_utc_ns FROM annotations WHERE id = ?1");
      if (!q.bind(1, a.id()).step()) throw NotFoundError("annotation", a.id());
    }
    if (!a.event_id().empty()) require_event("event_id", a.event_id());
    {
      const proto::Symptom& symptom = a.symptom();  // default instance when not a symptom
      auto q = db_.query(kUpsertAnnotation);
      q.bind(1, a.id()).bind(2, a.kind()).bind(3, a.start_utc_ns()).bind(4, a.end_utc_ns());
      if (a.event_id().empty()) {
        q.bind_null(5);
      } else {
        q.bind(5, a.event_id());
      }
      q.bind(6, a.text());
      if (symptom.has_pain()) {
        q.bind(7, symptom.pain());
      } else {
        q.bind_null(7);
      }
      q.bind(8, symptom.site()).bind(9, symptom.side()).bind(10, symptom.description());
      q.bind(11, a.trigger().type()).bind(12, a.treatment().type());
      q.bind(13, a.treatment().medication()).bind(14, a.treatment().dose());
      q.bind(15, a.created_utc_ns()).bind(16, now);
      q.run();
    }
    if (a.kind() == proto::Annotation::FEEDBACK) {
      const proto::EventFeedback& f = a.feedback();
      auto q = db_.query(kUpsertFeedback);
      q.bind(1, a.id()).bind(2, a.event_id()).bind(3, f.verdict()).bind(4, f.relabel_type());
      q.bind(5, f.relabel_site()).bind(6, f.relabel_side()).bind(7, now).run();
    } else {
      db_.query("DELETE FROM event_feedback WHERE annotation_id = ?1").bind(1, a.id()).run();
    }
    db_.query("DELETE FROM tombstones WHERE id = ?1").bind(1, a.id()).run();
  });
}

bool Store::delete_annotation(const std::string& id) {
  const std::string canonical = canonical_id("id", id);
  bool deleted = false;
  write([&] {
    db_.query("DELETE FROM annotations WHERE id = ?1").bind(1, canonical).run();
    deleted = db_.changes() > 0;
    if (!deleted) return;
    auto q = db_.query(
        "INSERT INTO tombstones (id, table_name, deleted_utc_ns) VALUES (?1, 'annotations', ?2) "
        "ON CONFLICT (id) DO UPDATE SET deleted_utc_ns = excluded.deleted_utc_ns");
    q.bind(1, canonical).bind(2, clock_->utc_ns()).run();
  });
  return deleted;
}

void Store::put_device(const DeviceRecord& device) {
  validate_device_id(device.device_id);
  validate_text("name", device.name);
  validate_text("firmware", device.firmware);
  if (!proto::BodySite_IsValid(device.site))
    throw ValidationError("site", std::to_string(device.site), "unknown body site");
  if (!proto::Side_IsValid(device.side))
    throw ValidationError("side", std::to_string(device.side), "unknown side");
  const std::int64_t now = clock_->utc_ns();
  write([&] {
    auto q = db_.query(kUpsertDevice);
    q.bind(1, device.device_id).bind(2, device.name).bind(3, device.firmware).bind(4, device.site);
    q.bind(5, device.side).bind(6, device.seen_utc_ns != 0 ? device.seen_utc_ns : now).bind(7, now).run();
  });
}

void Store::put_session(const SessionRecord& session) {
  validate_device_id(session.device_id);
  const std::int64_t now = clock_->utc_ns();
  write([&] {
    auto q = db_.query(kUpsertSession);
    q.bind(1, session.device_id).bind(2, as_int64(session.session_id));
    q.bind(3, session.seen_utc_ns != 0 ? session.seen_utc_ns : now).bind(4, now).run();
  });
}

void Store::put_gap(const GapRecord& gap) {
  validate_device_id(gap.device_id);
  if (gap.lost_count > static_cast<std::uint64_t>(std::numeric_limits<std::int64_t>::max())) {
    throw ValidationError("lost_count", std::to_string(gap.lost_count), "is too large");
  }
  const std::int64_t now = clock_->utc_ns();
  write([&] {
    auto q = db_.query(kUpsertGap);
    q.bind(1, gap.device_id)
        .bind(2, as_int64(gap.session_id))
        .bind(3, static_cast<std::int64_t>(gap.stream_id));
    q.bind(4, as_int64(gap.first_sample_index)).bind(5, as_int64(gap.lost_count)).bind(6, gap.utc_ns);
    q.bind(7, now).run();
  });
}

void Store::put_signal_quality(const SignalQualityRecord& quality) {
  validate_device_id(quality.device_id);
  constexpr auto kMax = static_cast<std::uint64_t>(std::numeric_limits<std::int64_t>::max());
  if (quality.lost_samples > kMax)
    throw ValidationError("lost_samples", std::to_string(quality.lost_samples), "is too large");
  if (quality.bad_frames > kMax)
    throw ValidationError("bad_frames", std::to_string(quality.bad_frames), "is too large");
  // Round down to the minute (towards minus infinity for times before 1970).
  std::int64_t minute = quality.minute_utc_ns - quality.minute_utc_ns % kMinuteNs;
  if (quality.minute_utc_ns % kMinuteNs < 0) minute -= kMinuteNs;
  const std::int64_t now = clock_->utc_ns();
  write([&] {
    auto q = db_.query(kUpsertQuality);
    q.bind(1, quality.device_id).bind(2, minute).bind(3, as_int64(quality.lost_samples));
    q.bind(4, as_int64(quality.bad_frames)).bind(5, now).run();
  });
}

}  // namespace spasmwatch::store
