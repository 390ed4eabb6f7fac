// Store: reads. Every filter is a bound parameter ("?3 IS NULL OR site = ?3"), never SQL text.
#include <utility>

#include "store/store.hpp"
#include "store/validation.hpp"

namespace spasmwatch::store {

namespace {

// Queries are these constant column lists plus constant WHERE clauses. Lookups by id or event use
// their own statement, so that SQLite uses the primary key or the event index (an
// "?1 IS NULL OR id = ?1" filter would scan).
constexpr const char* kEventColumns = R"sql(
SELECT id, device, device_id, site, side, type, state, start_utc_ns, end_utc_ns, duration_s,
       peak_uv, mean_uv, snr, baseline_uv, acc_peak_g, confidence, context, posture, channel_mask,
       start_sample_index, end_sample_index, device_start_s, device_end_s, session_id, rhythm_hz,
       created_utc_ns, updated_utc_ns, rise_s, fill, voluntary_pattern
FROM events )sql";

const std::string kSelectEvents = std::string(kEventColumns) + R"sql(
WHERE start_utc_ns >= ?1 AND start_utc_ns < ?2
  AND (?3 IS NULL OR site = ?3) AND (?4 IS NULL OR type = ?4)
  AND (?5 IS NULL OR confidence >= ?5) AND (?6 IS NULL OR state = ?6)
  AND (?7 IS NULL OR device = ?7)
ORDER BY start_utc_ns, id
LIMIT ?8 OFFSET ?9
)sql";

const std::string kSelectEventById = std::string(kEventColumns) + "WHERE id = ?1";

constexpr const char* kAnnotationColumns = R"sql(
SELECT a.id, a.kind, a.start_utc_ns, a.end_utc_ns, a.event_id, a.text, a.pain, a.site, a.side,
       a.description, a.trigger_type, a.treatment_type, a.medication, a.dose, a.created_utc_ns,
       a.updated_utc_ns, f.verdict, f.relabel_type, f.relabel_site, f.relabel_side
FROM annotations a LEFT JOIN event_feedback f ON f.annotation_id = a.id )sql";

// ?1 from, ?2 to, ?3 kind or NULL, ?4 limit, ?5 offset.
const std::string kSelectAnnotations = std::string(kAnnotationColumns) + R"sql(
WHERE a.start_utc_ns >= ?1 AND a.start_utc_ns < ?2 AND (?3 IS NULL OR a.kind = ?3)
ORDER BY a.start_utc_ns, a.id LIMIT ?4 OFFSET ?5
)sql";

// The same, for the annotations linked to event ?6.
const std::string kSelectEventAnnotations = std::string(kAnnotationColumns) + R"sql(
WHERE a.event_id = ?6 AND a.start_utc_ns >= ?1 AND a.start_utc_ns < ?2 AND (?3 IS NULL OR a.kind = ?3)
ORDER BY a.start_utc_ns, a.id LIMIT ?4 OFFSET ?5
)sql";

const std::string kSelectAnnotationById = std::string(kAnnotationColumns) + "WHERE a.id = ?1";

constexpr const char* kLatestFeedback = R"sql(
SELECT verdict, relabel_type, relabel_site, relabel_side FROM event_feedback
WHERE event_id = ?1 ORDER BY updated_utc_ns DESC, annotation_id DESC LIMIT 1
)sql";

constexpr const char* kCounts = R"sql(
SELECT (SELECT count(*) FROM devices), (SELECT count(*) FROM sessions), (SELECT count(*) FROM gaps),
       (SELECT coalesce(sum(lost_count), 0) FROM gaps), (SELECT count(*) FROM events),
       (SELECT count(*) FROM events WHERE state = 1), (SELECT count(*) FROM events WHERE state = 2),
       (SELECT count(*) FROM annotations), (SELECT count(*) FROM event_feedback),
       (SELECT coalesce(max(start_utc_ns), 0) FROM events), (SELECT count(*) FROM signal_quality),
       (SELECT coalesce(sum(lost_samples), 0) FROM signal_quality),
       (SELECT coalesce(sum(bad_frames), 0) FROM signal_quality)
)sql";

template <class Enum>
Enum as_enum(std::int64_t value) {
  return static_cast<Enum>(static_cast<int>(value));
}

void read_event(const sqlite::Query& q, proto::StoredEvent& stored) {
  proto::Event& e = *stored.mutable_event();
  e.set_id(q.text(0));
  e.set_device(q.text(1));
  e.set_device_id(q.text(2));
  e.set_site(as_enum<proto::BodySite>(q.int64(3)));
  e.set_side(as_enum<proto::Side>(q.int64(4)));
  e.set_type(as_enum<proto::EventType>(q.int64(5)));
  e.set_state(as_enum<proto::EventState>(q.int64(6)));
  e.set_start_utc_ns(q.int64(7));
  e.set_end_utc_ns(q.int64(8));
  e.set_duration_s(q.real(9));
  e.set_peak_uv(q.real(10));
  e.set_mean_uv(q.real(11));
  e.set_snr(q.real(12));
  e.set_baseline_uv(q.real(13));
  e.set_acc_peak_g(q.real(14));
  e.set_confidence(q.real(15));
  e.set_context(as_enum<proto::ActivityContext>(q.int64(16)));
  e.set_posture(as_enum<proto::Posture>(q.int64(17)));
  e.set_channel_mask(static_cast<std::uint32_t>(q.int64(18)));
  e.set_start_sample_index(static_cast<std::uint64_t>(q.int64(19)));
  e.set_end_sample_index(static_cast<std::uint64_t>(q.int64(20)));
  e.set_device_start_s(q.real(21));
  e.set_device_end_s(q.real(22));
  e.set_session_id(static_cast<std::uint64_t>(q.int64(23)));
  e.set_rhythm_hz(q.real(24));
  stored.set_created_utc_ns(q.int64(25));
  stored.set_updated_utc_ns(q.int64(26));
  e.set_rise_s(q.real(27));
  e.set_fill(q.real(28));
  e.set_voluntary_pattern(q.int64(29) != 0);
}

void read_feedback(const sqlite::Query& q, int first_column, proto::EventFeedback& f) {
  f.set_verdict(as_enum<proto::EventFeedback::Verdict>(q.int64(first_column)));
  f.set_relabel_type(as_enum<proto::EventType>(q.int64(first_column + 1)));
  f.set_relabel_site(as_enum<proto::BodySite>(q.int64(first_column + 2)));
  f.set_relabel_side(as_enum<proto::Side>(q.int64(first_column + 3)));
}

proto::Annotation read_annotation(const sqlite::Query& q) {
  proto::Annotation a;
  a.set_id(q.text(0));
  a.set_kind(as_enum<proto::Annotation::Kind>(q.int64(1)));
  a.set_start_utc_ns(q.int64(2));
  a.set_end_utc_ns(q.int64(3));
  if (!q.is_null(4)) a.set_event_id(q.text(4));
  a.set_text(q.text(5));
  switch (a.kind()) {
    case proto::Annotation::SYMPTOM: {
      proto::Symptom& s = *a.mutable_symptom();
      if (!q.is_null(6)) s.set_pain(static_cast<std::int32_t>(q.int64(6)));
      s.set_site(as_enum<proto::BodySite>(q.int64(7)));
      s.set_side(as_enum<proto::Side>(q.int64(8)));
      s.set_description(q.text(9));
      break;
    }
    case proto::Annotation::TRIGGER:
      a.mutable_trigger()->set_type(as_enum<proto::Trigger::Type>(q.int64(10)));
      break;
    case proto::Annotation::TREATMENT: {
      proto::Treatment& t = *a.mutable_treatment();
      t.set_type(as_enum<proto::Treatment::Type>(q.int64(11)));
      t.set_medication(q.text(12));
      t.set_dose(q.text(13));
      break;
    }
    case proto::Annotation::FEEDBACK:
      if (!q.is_null(16)) read_feedback(q, 16, *a.mutable_feedback());
      break;
    default:
      break;
  }
  a.set_created_utc_ns(q.int64(14));
  a.set_updated_utc_ns(q.int64(15));
  return a;
}

void check_page(int limit, int offset) {
  if (limit < 1 || limit > kMaxQueryLimit) {
    throw ValidationError("limit", std::to_string(limit), "must be 1.." + std::to_string(kMaxQueryLimit));
  }
  if (offset < 0) throw ValidationError("offset", std::to_string(offset), "must not be negative");
}

void check_range(std::int64_t from_utc_ns, std::int64_t to_utc_ns) {
  if (to_utc_ns < from_utc_ns) {
    throw ValidationError("to_utc_ns", std::to_string(to_utc_ns),
                          "is before from_utc_ns " + std::to_string(from_utc_ns));
  }
}

}  // namespace

void Store::load_event_details(proto::StoredEvent& stored) {
  auto q = db_.query(kSelectEventAnnotations.c_str());
  q.bind(1, std::numeric_limits<std::int64_t>::min()).bind(2, std::numeric_limits<std::int64_t>::max());
  q.bind_null(3).bind(4, kMaxQueryLimit).bind(5, 0).bind(6, stored.event().id());
  while (q.step()) *stored.add_annotations() = read_annotation(q);
  auto f = db_.query(kLatestFeedback);
  if (f.bind(1, stored.event().id()).step()) read_feedback(f, 0, *stored.mutable_feedback());
}

std::vector<proto::StoredEvent> Store::find_events(const EventQuery& query) {
  check_range(query.from_utc_ns, query.to_utc_ns);
  check_page(query.limit, query.offset);
  std::vector<proto::StoredEvent> events;
  read([&] {
    {
      auto q = db_.query(kSelectEvents.c_str());
      q.bind(1, query.from_utc_ns).bind(2, query.to_utc_ns);
      if (query.site) {
        q.bind(3, *query.site);
      } else {
        q.bind_null(3);
      }
      if (query.type) {
        q.bind(4, *query.type);
      } else {
        q.bind_null(4);
      }
      q.bind(5, query.min_confidence);
      if (query.state) {
        q.bind(6, *query.state);
      } else {
        q.bind_null(6);
      }
      q.bind(7, query.device).bind(8, query.limit).bind(9, query.offset);
      while (q.step()) read_event(q, events.emplace_back());
    }
    for (auto& stored : events) load_event_details(stored);
  });
  return events;
}

std::optional<proto::StoredEvent> Store::get_event(const std::string& id) {
  const std::string canonical = canonical_id("id", id);
  std::optional<proto::StoredEvent> stored;
  read([&] {
    {
      auto q = db_.query(kSelectEventById.c_str());
      if (!q.bind(1, canonical).step()) return;
      read_event(q, stored.emplace());
    }
    load_event_details(*stored);
  });
  return stored;
}

std::vector<proto::Annotation> Store::find_annotations(const AnnotationQuery& query) {
  check_range(query.from_utc_ns, query.to_utc_ns);
  check_page(query.limit, query.offset);
  std::optional<std::string> event_id;
  if (query.event_id) event_id = canonical_id("event_id", *query.event_id);
  std::vector<proto::Annotation> annotations;
  read([&] {
    auto q = db_.query(event_id ? kSelectEventAnnotations.c_str() : kSelectAnnotations.c_str());
    q.bind(1, query.from_utc_ns).bind(2, query.to_utc_ns);
    if (query.kind) {
      q.bind(3, *query.kind);
    } else {
      q.bind_null(3);
    }
    q.bind(4, query.limit).bind(5, query.offset);
    if (event_id) q.bind(6, *event_id);
    while (q.step()) annotations.push_back(read_annotation(q));
  });
  return annotations;
}

std::optional<proto::Annotation> Store::get_annotation(const std::string& id) {
  const std::string canonical = canonical_id("id", id);
  std::optional<proto::Annotation> annotation;
  read([&] {
    auto q = db_.query(kSelectAnnotationById.c_str());
    if (q.bind(1, canonical).step()) annotation = read_annotation(q);
  });
  return annotation;
}

proto::StoreCounts Store::counts() {
  proto::StoreCounts counts;
  read([&] {
    auto q = db_.query(kCounts);
    if (!q.step()) return;
    counts.set_devices(static_cast<std::uint64_t>(q.int64(0)));
    counts.set_sessions(static_cast<std::uint64_t>(q.int64(1)));
    counts.set_gaps(static_cast<std::uint64_t>(q.int64(2)));
    counts.set_lost_samples(static_cast<std::uint64_t>(q.int64(3)));
    counts.set_events(static_cast<std::uint64_t>(q.int64(4)));
    counts.set_provisional_events(static_cast<std::uint64_t>(q.int64(5)));
    counts.set_final_events(static_cast<std::uint64_t>(q.int64(6)));
    counts.set_annotations(static_cast<std::uint64_t>(q.int64(7)));
    counts.set_feedback(static_cast<std::uint64_t>(q.int64(8)));
    counts.set_last_event_utc_ns(q.int64(9));
    counts.set_quality_minutes(static_cast<std::uint64_t>(q.int64(10)));
    counts.set_quality_lost_samples(static_cast<std::uint64_t>(q.int64(11)));
    counts.set_quality_bad_frames(static_cast<std::uint64_t>(q.int64(12)));
  });
  counts.set_schema_version(static_cast<std::uint32_t>(schema_version_));
  return counts;
}

std::string Store::integrity_check() {
  std::string report;
  auto q = db_.query("PRAGMA integrity_check");
  while (q.step()) {
    if (!report.empty()) report += '\n';
    report += q.text(0);
  }
  return report;
}

Store::Settings Store::settings() {
  Settings settings;
  settings.journal_mode = db_.query_text("PRAGMA journal_mode");
  settings.synchronous = static_cast<int>(db_.query_int("PRAGMA synchronous"));
  settings.foreign_keys = db_.query_int("PRAGMA foreign_keys") != 0;
  settings.busy_timeout_ms = static_cast<int>(db_.query_int("PRAGMA busy_timeout"));
  return settings;
}

}  // namespace spasmwatch::store
