// UUIDs for rows that must stay unique across machines (events, annotations), so that a later
// sync to a central database is an idempotent upsert keyed by id.
#pragma once

#include <optional>
#include <string>
#include <string_view>

namespace spasmwatch::store {

// A random (version 4) UUID in lower-case text form, from the kernel's CSPRNG (getrandom(2)).
[[nodiscard]] std::string generate_uuid_v4();

// The canonical lower-case form of a UUID text ("8-4-4-4-12" hex digits, any case), or nullopt.
[[nodiscard]] std::optional<std::string> canonical_uuid(std::string_view text);

}  // namespace spasmwatch::store
