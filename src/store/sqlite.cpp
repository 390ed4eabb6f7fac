#include "store/sqlite.hpp"

#include <sqlite3.h>

#include <utility>

#include "store/store_error.hpp"

namespace spasmwatch::store::sqlite {

namespace {

// SQLITE_TRANSIENT without the C-style cast of its macro: SQLite copies the bound bytes.
// NOLINTNEXTLINE(performance-no-int-to-ptr): this sentinel is SQLite's documented API.
const sqlite3_destructor_type kCopyBytes = reinterpret_cast<sqlite3_destructor_type>(std::intptr_t{-1});

}  // namespace

Query::~Query() {
  sqlite3_reset(stmt_);
  sqlite3_clear_bindings(stmt_);
}

Query& Query::bind(int index, std::int64_t value) {
  const int rc = sqlite3_bind_int64(stmt_, index, value);
  if (rc != SQLITE_OK) connection_->fail("bind parameter", rc);
  return *this;
}

Query& Query::bind(int index, double value) {
  const int rc = sqlite3_bind_double(stmt_, index, value);
  if (rc != SQLITE_OK) connection_->fail("bind parameter", rc);
  return *this;
}

Query& Query::bind(int index, std::string_view text) {
  // A null data pointer would bind SQL NULL; an empty string must stay ''.
  const char* data = text.data() != nullptr ? text.data() : "";
  const int rc = sqlite3_bind_text64(stmt_, index, data, text.size(), kCopyBytes, SQLITE_UTF8);
  if (rc != SQLITE_OK) connection_->fail("bind parameter", rc);
  return *this;
}

Query& Query::bind_null(int index) {
  const int rc = sqlite3_bind_null(stmt_, index);
  if (rc != SQLITE_OK) connection_->fail("bind parameter", rc);
  return *this;
}

bool Query::step() {
  const int rc = sqlite3_step(stmt_);
  if (rc == SQLITE_ROW) return true;
  if (rc == SQLITE_DONE) return false;
  connection_->fail(sqlite3_sql(stmt_), rc);
}

void Query::run() {
  while (step()) {
  }
}

bool Query::is_null(int column) const {
  return sqlite3_column_type(stmt_, column) == SQLITE_NULL;
}

std::int64_t Query::int64(int column) const {
  return sqlite3_column_int64(stmt_, column);
}

double Query::real(int column) const {
  return sqlite3_column_double(stmt_, column);
}

std::string Query::text(int column) const {
  const auto* data = sqlite3_column_text(stmt_, column);
  const int size = sqlite3_column_bytes(stmt_, column);
  if (data == nullptr) return {};
  return std::string(reinterpret_cast<const char*>(data), static_cast<std::size_t>(size));
}

void Connection::StatementDeleter::operator()(sqlite3_stmt* statement) const {
  sqlite3_finalize(statement);
}

Connection::Connection(std::string path, int flags) : path_(std::move(path)) {
  const int rc = sqlite3_open_v2(path_.c_str(), &db_, flags | SQLITE_OPEN_EXRESCODE, nullptr);
  if (rc != SQLITE_OK) {
    const std::string message = db_ != nullptr ? sqlite3_errmsg(db_) : sqlite3_errstr(rc);
    sqlite3_close_v2(db_);
    db_ = nullptr;
    throw StoreError("store " + path_ + ": cannot open: " + message);
  }
}

Connection::Connection(Connection&& other) noexcept
    : path_(std::move(other.path_)),
      db_(std::exchange(other.db_, nullptr)),
      statements_(std::move(other.statements_)) {}

Connection::~Connection() {
  statements_.clear();  // finalize before closing
  if (db_ != nullptr) sqlite3_close_v2(db_);
}

void Connection::exec(const char* sql) {
  char* message = nullptr;
  const int rc = sqlite3_exec(db_, sql, nullptr, nullptr, &message);
  if (rc != SQLITE_OK) {
    const std::string text = message != nullptr ? message : sqlite3_errstr(rc);
    sqlite3_free(message);
    throw StoreError("store " + path_ + ": " + sql + ": " + text + " (" + std::to_string(rc) + ")");
  }
}

Query Connection::query(const char* sql) {
  auto& slot = statements_[sql];
  if (!slot) {
    sqlite3_stmt* statement = nullptr;
    const int rc = sqlite3_prepare_v3(db_, sql, -1, SQLITE_PREPARE_PERSISTENT, &statement, nullptr);
    if (rc != SQLITE_OK) {
      statements_.erase(sql);
      fail(std::string("prepare ") + sql, rc);
    }
    slot.reset(statement);
  }
  return Query(*this, slot.get());
}

std::int64_t Connection::query_int(const char* sql) {
  Query q = query(sql);
  if (!q.step()) fail(std::string(sql) + " returned no row", SQLITE_ERROR);
  return q.int64(0);
}

std::string Connection::query_text(const char* sql) {
  Query q = query(sql);
  if (!q.step()) fail(std::string(sql) + " returned no row", SQLITE_ERROR);
  return q.text(0);
}

bool Connection::in_transaction() const {
  return sqlite3_get_autocommit(db_) == 0;
}

int Connection::changes() const {
  return sqlite3_changes(db_);
}

void Connection::fail(std::string_view what, int result_code) const {
  std::string message = "store " + path_ + ": " + std::string(what) + ": ";
  // The connection's message belongs to the last failed call; fall back to the code's text.
  message += (db_ != nullptr && sqlite3_extended_errcode(db_) == result_code) ? sqlite3_errmsg(db_)
                                                                              : sqlite3_errstr(result_code);
  message += " (" + std::to_string(result_code) + ")";
  throw StoreError(message);
}

Transaction::Transaction(Connection& db, Mode mode) : db_(&db) {
  db.exec(mode == Mode::kImmediate ? "BEGIN IMMEDIATE" : "BEGIN");
}

Transaction::~Transaction() {
  if (!open_) return;
  // After a failed COMMIT SQLite may already have rolled back; nothing more to do then.
  if (db_->in_transaction()) sqlite3_exec(db_->handle(), "ROLLBACK", nullptr, nullptr, nullptr);
}

void Transaction::commit() {
  db_->exec("COMMIT");
  open_ = false;
}

Savepoint::Savepoint(Connection& db) : db_(&db) {
  db.exec("SAVEPOINT sw_op");
}

Savepoint::~Savepoint() {
  if (!open_ || !db_->in_transaction()) return;
  sqlite3_exec(db_->handle(), "ROLLBACK TO sw_op", nullptr, nullptr, nullptr);
  sqlite3_exec(db_->handle(), "RELEASE sw_op", nullptr, nullptr, nullptr);
}

void Savepoint::release() {
  db_->exec("RELEASE sw_op");
  open_ = false;
}

}  // namespace spasmwatch::store::sqlite
