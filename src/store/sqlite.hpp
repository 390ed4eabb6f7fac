// A thin RAII layer over the SQLite C API: a connection with a cache of prepared statements, and
// a Query handle that binds, steps and reads one cached statement. There is deliberately no way to
// run SQL with values spliced in: values only travel as bound parameters. Errors throw StoreError
// naming the database file, the operation and SQLite's message.
//
// Thread rules: a Connection and its statements are used by one thread at a time.
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>

struct sqlite3;
struct sqlite3_stmt;

namespace spasmwatch::store::sqlite {

class Connection;

// One use of a cached prepared statement. Resets it (and clears its bindings) on destruction, so a
// finished or abandoned SELECT never keeps a read snapshot open.
class Query {
 public:
  Query(Connection& connection, sqlite3_stmt* statement) : connection_(&connection), stmt_(statement) {}
  Query(const Query&) = delete;
  Query& operator=(const Query&) = delete;
  ~Query();

  // Parameters are numbered from 1, as in "?1".
  Query& bind(int index, std::int64_t value);
  Query& bind(int index, int value) { return bind(index, static_cast<std::int64_t>(value)); }
  Query& bind(int index, double value);
  Query& bind(int index, std::string_view text);  // copied; an empty view binds '' (not NULL)
  Query& bind_null(int index);
  template <class T>
  Query& bind(int index, const std::optional<T>& value) {
    return value ? bind(index, *value) : bind_null(index);
  }

  bool step();  // true: a row is ready; false: done
  void run();   // steps a statement that returns no rows

  [[nodiscard]] bool is_null(int column) const;
  [[nodiscard]] std::int64_t int64(int column) const;
  [[nodiscard]] double real(int column) const;
  [[nodiscard]] std::string text(int column) const;

 private:
  Connection* connection_;
  sqlite3_stmt* stmt_;
};

class Connection {
 public:
  // flags: SQLITE_OPEN_* (read-write or read-only); never creates the file (see owner_only.hpp).
  Connection(std::string path, int flags);
  Connection(Connection&& other) noexcept;
  Connection& operator=(Connection&&) = delete;
  Connection(const Connection&) = delete;
  ~Connection();

  // Runs constant SQL (schema, pragmas, transaction control). Never pass text built from values.
  void exec(const char* sql);
  // A statement from the cache (prepared on first use). `sql` must be a constant.
  [[nodiscard]] Query query(const char* sql);
  // PRAGMA or SELECT returning one integer / text value.
  [[nodiscard]] std::int64_t query_int(const char* sql);
  [[nodiscard]] std::string query_text(const char* sql);

  [[nodiscard]] bool in_transaction() const;
  [[nodiscard]] int changes() const;
  [[nodiscard]] const std::string& path() const { return path_; }
  [[nodiscard]] sqlite3* handle() const { return db_; }

  // Throws StoreError "store <path>: <what>: <sqlite message> (<code>)".
  [[noreturn]] void fail(std::string_view what, int result_code) const;

 private:
  struct StatementDeleter {
    void operator()(sqlite3_stmt* statement) const;
  };
  std::string path_;
  sqlite3* db_ = nullptr;
  // Keyed by SQL text; finalized before the connection closes.
  std::unordered_map<std::string, std::unique_ptr<sqlite3_stmt, StatementDeleter>> statements_;
};

// BEGIN ... COMMIT; rolls back on destruction unless committed. kImmediate takes the write lock
// at BEGIN, so the busy timeout applies (a deferred read-then-write could fail at once with
// SQLITE_BUSY_SNAPSHOT).
class Transaction {
 public:
  enum class Mode { kDeferred, kImmediate };
  Transaction(Connection& db, Mode mode);
  Transaction(const Transaction&) = delete;
  Transaction& operator=(const Transaction&) = delete;
  ~Transaction();
  void commit();

 private:
  Connection* db_;
  bool open_ = true;
};

// SAVEPOINT inside a transaction: one operation of a batch that can fail alone.
class Savepoint {
 public:
  explicit Savepoint(Connection& db);
  Savepoint(const Savepoint&) = delete;
  Savepoint& operator=(const Savepoint&) = delete;
  ~Savepoint();  // ROLLBACK TO + RELEASE unless released
  void release();

 private:
  Connection* db_;
  bool open_ = true;
};

}  // namespace spasmwatch::store::sqlite
