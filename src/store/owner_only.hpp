// Owner-only files for health data. The database file is created here, before SQLite opens it,
// with mode 0600 set by fchmod (so no umask can widen or narrow it), and its directory entry is
// fsync'ed. SQLite then creates -wal, -shm and -journal with the database file's mode, so they
// are 0600 too. The process umask is never changed (it is process-wide, not thread-safe).
//
// Missing parent directories are created 0700. An existing directory is left as it is (it may be
// the user's home); an existing database, -wal, -shm or -journal file with group or other bits is
// repaired to 0600; a path that is not a regular file, or a file that cannot be made owner-only,
// is refused with a StoreError naming it.
//
// Limitation: create the database once (e.g. by the store writer) before other connections of the
// same process open it; two threads creating the same new file at once is not supported.
#pragma once

#include <filesystem>

namespace spasmwatch::store {

// Makes sure `database` exists as an owner-only regular file (see above).
void prepare_owner_only_database(const std::filesystem::path& database);

// Repairs group/other permission bits of `database` and its SQLite companion files that exist.
void repair_owner_only_companions(const std::filesystem::path& database);

}  // namespace spasmwatch::store
