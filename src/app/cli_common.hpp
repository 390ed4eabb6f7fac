// Helpers shared by the spasmwatch subcommands that work on a database file: times as people
// type them, enum names, opening the store, CSV quoting. Time parsing and formatting are pure.
//
// Exit codes of those subcommands (README "Exit codes"): 0 success, 1 bad command line (CLI11),
// 2 input refused (the message names the option and the problem), 3 the database could not be
// opened, read or written.
#pragma once

#include <cstdint>
#include <optional>
#include <stdexcept>
#include <string>
#include <string_view>
#include <vector>

#include "annotations.pb.h"
#include "common/clock.hpp"
#include "common/text.hpp"
#include "events.pb.h"
#include "store/store.hpp"

namespace spasmwatch::app {

inline constexpr int kExitOk = 0;
inline constexpr int kExitBadInput = 2;
inline constexpr int kExitStoreError = 3;

// Input the user gave that cannot be used; `option` names it ("--at").
class InputError : public std::runtime_error {
 public:
  InputError(const std::string& option, const std::string& problem) : std::runtime_error(option + ": " + problem) {}
};

// parse_time_text (common/text.hpp), throwing InputError naming `option` when unreadable.
[[nodiscard]] std::int64_t parse_time(std::string_view text, std::int64_t now_utc_ns, const std::string& option);

using ::spasmwatch::display_name;
using ::spasmwatch::enum_key;
using ::spasmwatch::format_utc;

// CLI11 reads "--at -30m" as two options; this joins such pairs into "--at=-30m" for the
// options that take a time.
[[nodiscard]] std::vector<std::string> join_negative_times(int argc, char** argv);


// RFC 4180 field: quoted when it holds a comma, quote, CR or LF (quotes doubled); text a
// spreadsheet would run as a formula (= + @ -) gets a leading apostrophe.
[[nodiscard]] std::string csv_field(std::string_view text);

// Read-only store on an existing file; throws store::StoreError naming the file otherwise.
[[nodiscard]] store::Store open_store_for_reading(const std::string& path, const Clock& clock);

// Every event matching `query` (all pages), oldest first.
[[nodiscard]] std::vector<proto::StoredEvent> all_events(store::Store& store, store::EventQuery query);
[[nodiscard]] std::vector<proto::Annotation> all_annotations(store::Store& store, store::AnnotationQuery query);

// One line describing an annotation's details: "pain 7, neck/left", "stress", "reject".
[[nodiscard]] std::string annotation_summary(const proto::Annotation& annotation);
[[nodiscard]] std::string feedback_summary(const proto::EventFeedback& feedback);

}  // namespace spasmwatch::app
