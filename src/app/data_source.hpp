// Where the CLI's data commands (annotate, events, annotations, export, status) get their data:
// the running daemon through its local API (Unix socket), or a database file directly when no
// daemon runs or --db names one. Both give the same results (the daemon reads the same file).
//
// Choice (open_data_source): --db FILE -> that file. Otherwise the API socket (--api-socket, else
// $SPASMWATCH_API_SOCKET, else default_api_socket()) if a daemon answers on it; else the default
// database file. Writes through the daemon are acknowledged after commit, like the daemon's own.
//
// Errors: InputError (exit 2) for input the daemon or store refused (the message names the field),
// store::StoreError (exit 3) when neither the daemon nor the file can be used.
#pragma once

#include <memory>
#include <string>
#include <vector>

#include "annotations.pb.h"
#include "api.pb.h"
#include "common/clock.hpp"
#include "store/store.hpp"

namespace spasmwatch::app {

class DataSource {
 public:
  virtual ~DataSource() = default;
  // Every match (all pages), oldest first.
  [[nodiscard]] virtual std::vector<proto::StoredEvent> events(store::EventQuery query) = 0;
  [[nodiscard]] virtual std::vector<proto::Annotation> annotations(store::AnnotationQuery query) = 0;
  // Stores it; returns its id.
  virtual std::string add_annotation(const proto::Annotation& annotation) = 0;
  // The daemon's status, or for a file only the store counts (version/ingest empty).
  [[nodiscard]] virtual proto::ApiStatus status() = 0;
  [[nodiscard]] virtual bool is_daemon() const = 0;
  // "spasmwatchd at /run/user/1000/spasmwatch/api.sock" or "database file ~/.../spasmwatch.db".
  [[nodiscard]] virtual std::string describe() const = 0;
};

struct DataSourceOptions {
  std::string db;          // --db
  std::string api_socket;  // --api-socket
  bool writable = false;   // a file opened for writing (annotate) rather than read-only
};

[[nodiscard]] std::unique_ptr<DataSource> open_data_source(const DataSourceOptions& options, const Clock& clock);

}  // namespace spasmwatch::app
