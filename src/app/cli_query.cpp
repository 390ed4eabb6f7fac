// `spasmwatch events`, `annotations` and `export`: read-only queries on the database file (a
// read-only Store: WAL lets them read while spasmwatchd writes). Times are shown in UTC.
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <fstream>
#include <iostream>
#include <sstream>

#include "app/cli_commands.hpp"
#include "app/cli_common.hpp"
#include "app/cli_export_edf.hpp"
#include "app/daemon_config.hpp"
#include "app/data_source.hpp"
#include "app/status_text.hpp"
#include "common/body_site.hpp"
#include "common/proto_json.hpp"

namespace spasmwatch::app {

namespace {

std::string number(double value, int decimals) {
  char text[48];
  std::snprintf(text, sizeof text, "%.*f", decimals, value);
  return text;
}

std::string place(proto::BodySite site, proto::Side side) {
  std::string text(site_name(site));
  if (side != proto::SIDE_UNSPECIFIED) text += "/" + std::string(side_name(side));
  return text;
}

std::string pad(std::string text, std::size_t width) {
  if (text.size() < width) text.append(width - text.size(), ' ');
  return text;
}

std::string pad_left(const std::string& text, std::size_t width) {
  return text.size() < width ? std::string(width - text.size(), ' ') + text : text;
}

// The file that --output names, created owner-only (health data), or stdout.
class Output {
 public:
  explicit Output(const std::string& path) : path_(path) {
    if (path.empty()) return;
    const int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
    if (fd < 0 || ::fchmod(fd, 0600) != 0) {
      const std::string why = std::strerror(errno);
      if (fd >= 0) ::close(fd);
      throw InputError("--output", "cannot write " + path + ": " + why);
    }
    ::close(fd);
    file_.open(path, std::ios::binary | std::ios::trunc);
    if (!file_) throw InputError("--output", "cannot write " + path);
  }
  std::ostream& stream() { return path_.empty() ? std::cout : file_; }
  void close() {
    if (path_.empty()) return;
    file_.close();
    if (!file_) throw InputError("--output", "writing " + path_ + " failed");
  }

 private:
  std::string path_;
  std::ofstream file_;
};

void write_csv(std::ostream& out, const std::vector<proto::StoredEvent>& events) {
  out << "id,device,state,type,site,side,start_utc,end_utc,duration_s,peak_uv,mean_uv,snr,baseline_uv,"
         "confidence,context,posture,feedback,annotation_ids,annotation_texts\n";
  for (const auto& stored : events) {
    const proto::Event& e = stored.event();
    std::string ids, texts;
    for (const auto& a : stored.annotations()) {
      ids += (ids.empty() ? "" : ";") + a.id();
      std::string text = display_name(proto::Annotation::Kind_Name(a.kind()));
      const std::string summary = annotation_summary(a);
      if (!summary.empty()) text += " " + summary;
      if (!a.text().empty()) text += ": " + a.text();
      texts += (texts.empty() ? "" : " | ") + text;
    }
    const std::string fields[] = {
        e.id(),
        e.device(),
        display_name(proto::EventState_Name(e.state())),
        display_name(proto::EventType_Name(e.type())),
        std::string(site_name(e.site())),
        std::string(side_name(e.side())),
        format_utc(e.start_utc_ns()),
        e.end_utc_ns() != 0 ? format_utc(e.end_utc_ns()) : "",
        number(e.duration_s(), 3),
        number(e.peak_uv(), 1),
        number(e.mean_uv(), 1),
        number(e.snr(), 1),
        number(e.baseline_uv(), 2),
        number(e.confidence(), 3),
        display_name(proto::ActivityContext_Name(e.context())),
        display_name(proto::Posture_Name(e.posture())),
        stored.has_feedback() ? feedback_summary(stored.feedback()) : "",
        ids,
        texts};
    bool first = true;
    for (const auto& f : fields) {
      out << (first ? "" : ",") << csv_field(f);
      first = false;
    }
    out << "\n";
  }
}

}  // namespace

QueryCommands::QueryCommands(CLI::App& cli) {
  const auto common = [this](CLI::App* app) {
    app->add_option("--db", db_, "Read this database file instead of asking the running daemon");
    app->add_option("--api-socket", api_socket_, "The daemon's API socket (default: its default path)")->excludes("--db");
    app->add_option("--from", from_, "From this time: -2h, -1d, or UTC 2026-11-24T08:00:00Z (default: all)");
    app->add_option("--to", to_, "Up to this time (same forms; default: now and later)");
  };
  events_ = cli.add_subcommand("events", "List stored events (a table, or --json lines with their annotations)");
  common(events_);
  events_->add_option("--site", site_, "Only this body site (neck, calf, ...)");
  events_->add_option("--type", type_, "Only this type: twitch, spasm, cramp, clonus, jaw_phasic, jaw_tonic");
  events_->add_option("--state", state_, "Only this state: final, provisional");
  events_->add_option("--min-confidence", min_confidence_, "Only events with at least this confidence")
      ->check(CLI::Range(0.0, 1.0));
  events_->add_flag("--json", json_, "One JSON object per line (StoredEvent: event, annotations, feedback)");

  annotations_ = cli.add_subcommand("annotations", "List annotations");
  common(annotations_);
  annotations_->add_option("--kind", kind_, "Only this kind: symptom, trigger, treatment, feedback, note");
  annotations_->add_flag("--json", json_, "One JSON object per line (Annotation)");

  export_ = cli.add_subcommand("export", "Export events with their annotations as CSV or JSON lines");
  common(export_);
  export_
      ->add_option("--format", format_, "csv (default), json (JSON lines) or edf (EDF+ with signals and events)")
      ->check(CLI::IsMember({"csv", "json", "edf"}));
  export_->add_option("--output", output_, "Write to this file (created owner-only) instead of stdout");
  export_->add_option("--input", inputs_,
                      "edf: the recordings (.swr) or files (EDF, BDF, CSV) whose signals to export");
  add_import_options(export_, import_, "--input-format");

  status_ = cli.add_subcommand("status", "The running daemon's devices and store (or a database file's counts)");
  status_->add_option("--db", db_, "Count this database file instead of asking the running daemon");
  status_->add_option("--api-socket", api_socket_, "The daemon's API socket (default: its default path)")->excludes("--db");
  status_->add_flag("--json", json_, "Print the status as one JSON object (ApiStatus)");
}

int QueryCommands::run(const Clock& clock) const {
  const char* name = events_->parsed()        ? "events"
                     : annotations_->parsed() ? "annotations"
                     : status_->parsed()      ? "status"
                                              : "export";
  try {
    if (events_->parsed()) return run_events(clock);
    if (annotations_->parsed()) return run_annotations(clock);
    if (status_->parsed()) return run_status(clock);
    return run_export(clock);
  } catch (const InputError& e) {
    std::cerr << "spasmwatch " << name << ": " << e.what() << "\n";
    return kExitBadInput;
  } catch (const store::ValidationError& e) {
    std::cerr << "spasmwatch " << name << ": " << e.what() << "\n";
    return kExitBadInput;
  } catch (const store::StoreError& e) {
    std::cerr << "spasmwatch " << name << ": " << e.what() << "\n";
    return kExitStoreError;
  }
}

namespace {

store::EventQuery event_query(const std::string& from, const std::string& to, std::int64_t now) {
  store::EventQuery q;
  if (!from.empty()) q.from_utc_ns = parse_time(from, now, "--from");
  if (!to.empty()) q.to_utc_ns = parse_time(to, now, "--to");
  if (q.to_utc_ns < q.from_utc_ns) throw InputError("--to", "is before --from");
  return q;
}

}  // namespace

int QueryCommands::run_events(const Clock& clock) const {
  store::EventQuery q = event_query(from_, to_, clock.utc_ns());
  if (!site_.empty()) {
    const auto site = parse_site(display_name(enum_key(site_)));
    if (!site) throw InputError("--site", "unknown body site '" + site_ + "'");
    q.site = *site;
  }
  if (!type_.empty()) {
    proto::EventType type{};
    if (!proto::EventType_Parse(enum_key(type_), &type) || type == proto::EVENT_TYPE_UNSPECIFIED) {
      throw InputError("--type", "unknown event type '" + type_ + "' (twitch, spasm, cramp, clonus, jaw_phasic, jaw_tonic)");
    }
    q.type = type;
  }
  if (!state_.empty()) {
    proto::EventState state{};
    if (!proto::EventState_Parse(enum_key(state_), &state) || state == proto::EVENT_STATE_UNSPECIFIED ||
        state == proto::RETRACTED) {
      throw InputError("--state", "unknown state '" + state_ + "' (final or provisional)");
    }
    q.state = state;
  }
  q.min_confidence = min_confidence_;
  const auto source = open_data_source({db_, api_socket_, false}, clock);
  const auto events = source->events(q);
  if (json_) {
    for (const auto& e : events) std::cout << to_json_line(e) << "\n";
    return kExitOk;
  }
  // For people: a timeline. Each event row is followed by the annotations linked to it; the
  // user's other annotations of the same period (symptoms, triggers, treatments, notes) sit between
  // the events at their times, so what they noted shows beside what was detected.
  store::AnnotationQuery around;
  around.from_utc_ns = q.from_utc_ns;
  around.to_utc_ns = q.to_utc_ns;
  std::vector<proto::Annotation> unlinked;
  for (auto& a : source->annotations(around)) {
    if (a.event_id().empty()) unlinked.push_back(std::move(a));
  }
  const auto annotation_row = [](const proto::Annotation& a, const char* indent) {
    std::cout << indent << pad(format_utc(a.start_utc_ns()), 26) << pad(display_name(proto::Annotation::Kind_Name(a.kind())), 10)
              << annotation_summary(a) << (a.text().empty() ? "" : (annotation_summary(a).empty() ? "" : ", ") + a.text())
              << "  " << a.id() << "\n";
  };
  std::size_t next_note = 0;
  std::cout << "START (UTC)               END           TYPE        SITE            DUR s   PEAK uV  MEAN uV  CONF  STATE        ANN  ID\n";
  for (const auto& stored : events) {
    const proto::Event& e = stored.event();
    for (; next_note < unlinked.size() && unlinked[next_note].start_utc_ns() < e.start_utc_ns(); ++next_note) {
      annotation_row(unlinked[next_note], "  + ");
    }
    const std::string end = e.end_utc_ns() != 0 ? format_utc(e.end_utc_ns()).substr(11) : "...";
    std::cout << pad(format_utc(e.start_utc_ns()), 26) << pad(end, 14)
              << pad(display_name(proto::EventType_Name(e.type())), 12) << pad(place(e.site(), e.side()), 14)
              << pad_left(number(e.duration_s(), 2), 7) << pad_left(number(e.peak_uv(), 1), 10)
              << pad_left(number(e.mean_uv(), 1), 9) << pad_left(number(e.confidence(), 2), 6) << "  "
              << pad(display_name(proto::EventState_Name(e.state())), 11)
              << pad_left(std::to_string(stored.annotations_size()), 5) << "  " << e.id() << "\n";
    for (const auto& a : stored.annotations()) annotation_row(a, "    └ ");
  }
  for (; next_note < unlinked.size(); ++next_note) annotation_row(unlinked[next_note], "  + ");
  std::cout << events.size() << " event" << (events.size() == 1 ? "" : "s") << "\n";
  return kExitOk;
}

int QueryCommands::run_annotations(const Clock& clock) const {
  const std::int64_t now = clock.utc_ns();
  store::AnnotationQuery q;
  if (!from_.empty()) q.from_utc_ns = parse_time(from_, now, "--from");
  if (!to_.empty()) q.to_utc_ns = parse_time(to_, now, "--to");
  if (q.to_utc_ns < q.from_utc_ns) throw InputError("--to", "is before --from");
  if (!kind_.empty()) {
    proto::Annotation::Kind kind{};
    if (!proto::Annotation::Kind_Parse(enum_key(kind_), &kind) || kind == proto::Annotation::ANNOTATION_KIND_UNSPECIFIED) {
      throw InputError("--kind", "unknown kind '" + kind_ + "' (symptom, trigger, treatment, feedback, note)");
    }
    q.kind = kind;
  }
  const auto source = open_data_source({db_, api_socket_, false}, clock);
  const auto annotations = source->annotations(q);
  if (json_) {
    for (const auto& a : annotations) std::cout << to_json_line(a) << "\n";
    return kExitOk;
  }
  std::cout << "START (UTC)               UNTIL         KIND       DETAILS                    TEXT  [EVENT]  ID\n";
  for (const auto& a : annotations) {
    const std::string until = a.end_utc_ns() != 0 ? format_utc(a.end_utc_ns()).substr(11) : "";
    std::cout << pad(format_utc(a.start_utc_ns()), 26) << pad(until, 14)
              << pad(display_name(proto::Annotation::Kind_Name(a.kind())), 11) << pad(annotation_summary(a), 27)
              << a.text() << (a.event_id().empty() ? "" : "  [event " + a.event_id() + "]") << "  " << a.id()
              << "\n";
  }
  std::cout << annotations.size() << " annotation" << (annotations.size() == 1 ? "" : "s") << "\n";
  return kExitOk;
}

int QueryCommands::run_export(const Clock& clock) const {
  if (format_ == "edf") {
    const auto import_options = to_import_options(import_, clock.utc_ns());
    return run_export_edf({inputs_, import_options, db_, from_, to_, output_}, clock);
  }
  const store::EventQuery q = event_query(from_, to_, clock.utc_ns());
  const auto source = open_data_source({db_, api_socket_, false}, clock);
  const auto events = source->events(q);
  Output output(output_);
  if (format_ == "json") {
    for (const auto& e : events) output.stream() << to_json_line(e) << "\n";
  } else {
    write_csv(output.stream(), events);
  }
  output.close();
  if (!output_.empty()) std::cerr << "exported " << events.size() << " events to " << output_ << "\n";
  return kExitOk;
}

int QueryCommands::run_status(const Clock& clock) const {
  const auto source = open_data_source({db_, api_socket_, false}, clock);
  const proto::ApiStatus status = source->status();
  if (json_) {
    std::cout << to_json(status);
    return kExitOk;
  }
  if (source->is_daemon()) {
    std::cout << "spasmwatchd " << status.version() << " running for " << number(status.uptime_s(), 0) << " s ("
              << source->describe() << ")\n";
    if (!status.config().empty()) std::cout << "config: " << status.config() << " (" << status.reloads() << " reloads)\n";
    for (const auto& [name, device] : status.ingest().devices()) std::cout << "  " << status_line(device) << "\n";
    if (status.ingest().devices().empty()) std::cout << "  no devices yet\n";
    std::cout << "API: " << status.api_connections() << " connections, " << status.stream_clients()
              << " live-stream clients\n";
  } else {
    std::cout << "spasmwatchd: not running; reading " << source->describe() << "\n";
  }
  const auto& c = status.store();
  if (!status.db().empty()) {
    std::cout << "store: " << status.db() << " (schema " << c.schema_version() << ")\n";
    std::cout << "  " << c.final_events() << " final events, " << c.provisional_events() << " provisional, "
              << c.annotations() << " annotations (" << c.feedback() << " feedback), " << c.devices()
              << " devices, " << c.sessions() << " sessions, " << c.gaps() << " gaps (" << c.lost_samples()
              << " time points lost)\n";
    std::cout << "  signal quality: " << c.quality_minutes() << " device-minutes, " << c.quality_lost_samples()
              << " samples lost, " << c.quality_bad_frames() << " bad frames\n";
    if (c.last_event_utc_ns() != 0) std::cout << "  last event " << format_utc(c.last_event_utc_ns()) << "\n";
  } else {
    std::cout << "store: none (the daemon runs with --no-db)\n";
  }
  return kExitOk;
}

}  // namespace spasmwatch::app
