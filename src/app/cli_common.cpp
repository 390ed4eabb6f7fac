#include "app/cli_common.hpp"

#include <cctype>
#include <charconv>
#include <ctime>
#include <filesystem>

#include "common/body_site.hpp"

namespace spasmwatch::app {

std::int64_t parse_time(std::string_view text, std::int64_t now_utc_ns, const std::string& option) {
  if (const auto t = parse_time_text(text, now_utc_ns)) return *t;
  throw InputError(option, "cannot read time '" + std::string(text) +
                               "' (expected now, -30m, -2h, -1d, or UTC like 2026-11-24T08:00:00Z)");
}

std::vector<std::string> join_negative_times(int argc, char** argv) {
  std::vector<std::string> args(argv, argv + argc);
  std::vector<std::string> out;
  for (std::size_t i = 0; i < args.size(); ++i) {
    const std::string& a = args[i];
    const bool takes_time = a == "--at" || a == "--until" || a == "--from" || a == "--to";
    if (takes_time && i + 1 < args.size() && args[i + 1].size() > 1 && args[i + 1][0] == '-' &&
        std::isdigit(static_cast<unsigned char>(args[i + 1][1])) != 0) {
      out.push_back(a + "=" + args[i + 1]);
      ++i;
    } else {
      out.push_back(a);
    }
  }
  return out;
}

std::string csv_field(std::string_view text) {
  // A spreadsheet runs a cell that starts with = + @ (or - not followed by a digit, or a tab or
  // CR) as a formula; such text is kept as text by a leading apostrophe. Numbers are untouched.
  std::string guarded;
  if (!text.empty()) {
    const char c = text[0];
    const bool negative_number = c == '-' && text.size() > 1 && std::isdigit(static_cast<unsigned char>(text[1])) != 0;
    if (c == '=' || c == '+' || c == '@' || c == '\t' || c == '\r' || (c == '-' && !negative_number)) {
      guarded = "'" + std::string(text);
      text = guarded;
    }
  }
  if (text.find_first_of(",\"\r\n") == std::string_view::npos) return std::string(text);
  std::string out = "\"";
  for (const char c : text) {
    if (c == '"') out += '"';
    out += c;
  }
  return out + "\"";
}

store::Store open_store_for_reading(const std::string& path, const Clock& clock) {
  if (!std::filesystem::exists(path)) {
    throw store::StoreError("no database " + path + " (spasmwatchd creates it; or give --db FILE)");
  }
  store::Store::Options options;
  options.read_only = true;
  return store::Store::open(path, clock, options);
}

std::vector<proto::StoredEvent> all_events(store::Store& store, store::EventQuery query) {
  constexpr int kPage = 1000;
  query.limit = kPage;
  std::vector<proto::StoredEvent> out;
  for (query.offset = 0;; query.offset += kPage) {
    auto page = store.find_events(query);
    out.insert(out.end(), std::make_move_iterator(page.begin()), std::make_move_iterator(page.end()));
    if (page.size() < static_cast<std::size_t>(kPage)) return out;
  }
}

std::vector<proto::Annotation> all_annotations(store::Store& store, store::AnnotationQuery query) {
  constexpr int kPage = 1000;
  query.limit = kPage;
  std::vector<proto::Annotation> out;
  for (query.offset = 0;; query.offset += kPage) {
    auto page = store.find_annotations(query);
    out.insert(out.end(), std::make_move_iterator(page.begin()), std::make_move_iterator(page.end()));
    if (page.size() < static_cast<std::size_t>(kPage)) return out;
  }
}

namespace {

std::string place(proto::BodySite site, proto::Side side) {
  std::string text(site_name(site));
  if (side != proto::SIDE_UNSPECIFIED) text += "/" + std::string(side_name(side));
  return text;
}

}  // namespace

std::string feedback_summary(const proto::EventFeedback& f) {
  std::string text = display_name(proto::EventFeedback::Verdict_Name(f.verdict()));
  if (f.verdict() == proto::EventFeedback::RELABEL) {
    if (f.relabel_type() != proto::EVENT_TYPE_UNSPECIFIED) text += " as " + display_name(proto::EventType_Name(f.relabel_type()));
    if (f.relabel_site() != proto::SITE_UNSPECIFIED) text += " at " + place(f.relabel_site(), f.relabel_side());
  }
  return text;
}

std::string annotation_summary(const proto::Annotation& a) {
  switch (a.kind()) {
    case proto::Annotation::SYMPTOM: {
      std::string text;
      if (a.symptom().has_pain()) text = "pain " + std::to_string(a.symptom().pain());
      if (a.symptom().site() != proto::SITE_UNSPECIFIED) {
        text += (text.empty() ? "" : ", ") + place(a.symptom().site(), a.symptom().side());
      }
      if (!a.symptom().description().empty()) text += (text.empty() ? "" : ", ") + a.symptom().description();
      return text;
    }
    case proto::Annotation::TRIGGER:
      return display_name(proto::Trigger::Type_Name(a.trigger().type()));
    case proto::Annotation::TREATMENT: {
      std::string text = display_name(proto::Treatment::Type_Name(a.treatment().type()));
      if (!a.treatment().medication().empty()) text += " " + a.treatment().medication();
      if (!a.treatment().dose().empty()) text += " " + a.treatment().dose();
      return text;
    }
    case proto::Annotation::FEEDBACK:
      return feedback_summary(a.feedback());
    default:
      return {};
  }
}

}  // namespace spasmwatch::app
