// Checks of what the store is asked to keep, before any SQL runs. Pure functions: no database, no
// clock. Each failure throws ValidationError naming the field (JSON name, e.g. "symptom.pain") and
// the bad value. Checks that need the database (does the linked event exist?) are the store's.
#pragma once

#include <cstddef>
#include <string>
#include <string_view>

#include "annotations.pb.h"
#include "events.pb.h"

namespace spasmwatch::store {

// Free-text limit, in Unicode characters (code points), for every text field.
inline constexpr std::size_t kMaxTextCharacters = 2000;

struct Utf8Check {
  bool valid = true;
  std::size_t characters = 0;  // code points, when valid
  std::size_t bad_offset = 0;  // byte offset of the first bad sequence, when not valid
};

// Strict UTF-8: no overlong forms, no surrogates, nothing above U+10FFFF.
[[nodiscard]] Utf8Check check_utf8(std::string_view text);

// Quoted, with non-printable bytes escaped (\xNN) and long texts cut, for error messages.
[[nodiscard]] std::string printable(std::string_view text);

// Throws unless `text` is valid UTF-8 of at most kMaxTextCharacters characters.
void validate_text(const char* field, std::string_view text);

// The canonical (lower-case) form of an id given as UUID text; throws naming `field` otherwise.
[[nodiscard]] std::string canonical_id(const char* field, std::string_view id);

// Expects start_utc_ns already defaulted (> 0). Does not check that event_id exists.
void validate_annotation(const proto::Annotation& annotation);

void validate_event(const proto::Event& event);

}  // namespace spasmwatch::store
