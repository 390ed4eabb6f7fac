// The database schema as an ordered list of migrations, and the per-connection settings.
//
// The schema version is `PRAGMA user_version`; `PRAGMA application_id` marks the file as ours.
// A migration runs in its own IMMEDIATE transaction that re-reads the version first, so two
// processes opening a new file at once migrate it once. Migrations are append-only: never edit
// one that has shipped; add the next.
#pragma once

#include <cstdint>
#include <span>

#include "store/sqlite.hpp"

namespace spasmwatch::store {

struct Migration {
  int version;  // user_version after it ran (1, 2, ...)
  const char* description;
  const char* sql;  // constant DDL
};

inline constexpr std::int64_t kApplicationId = 0x53505754;  // "SPWT"

[[nodiscard]] std::span<const Migration> migrations();
[[nodiscard]] int latest_schema_version();

// Busy timeout, defensive mode, foreign keys; for read-write connections also WAL and
// synchronous=FULL (see store.hpp "Durability").
void configure_connection(sqlite::Connection& db, bool read_only, int busy_timeout_ms);

// Refuses files that are not spasmwatch databases or are newer than this build (naming the file
// and both versions); applies missing migrations (read-write) or refuses an old file (read-only).
// Returns the schema version now in use.
int check_and_migrate(sqlite::Connection& db, bool read_only);

}  // namespace spasmwatch::store
