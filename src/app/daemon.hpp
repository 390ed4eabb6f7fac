// spasmwatchd's core: owns the device links, and for each device the ingest state (stream
// assembler) and its recording. Data flow per connection:
//   Link bytes -> FrameDecoder -> FrameEvent -> { RecordingWriter, DeviceAssembler }
// A configured device (serial or outgoing TCP) is known by its configured name from the start;
// a device that dials in (--listen) is known by the device id in its Hello; its events wait in a
// short queue until then.
//
// Protocol duties: on a Hello from an idle device, send Start; every ping_interval_s send a
// TimeSyncPing (recorded, so replay sees the same clock inputs).
//
// Storage (unless --no-db): every detected event, each device and session from its Hello, every
// gap (on the 250 ms flush) and each device's lost samples and bad frames per minute are handed
// to a store::StoreWriter (its own thread, batched, durable once acknowledged).
// PROVISIONAL and FINAL events are upserted by id; RETRACTED deletes the provisional row
// (Store::retract_event). The I/O thread never waits for a write: acknowledgements are collected
// on the flush timer (errors logged). StoreWriter::submit blocks only when its queue (4096
// operations) is full, i.e. after the disk has stalled for a long time at event rates.
// shutdown() stops the writer after everything queued is written and acknowledged.
//
// Local API (unless --no-api): api::Server runs on its own thread with a read-only Store
// connection; writes it takes go through the same StoreWriter. Live events are published to it:
// PROVISIONAL and RETRACTED at once, FINAL only once the store acknowledged the write (so a client
// that saw an event final can rely on it being stored). The API reads the daemon's state from a
// snapshot (ApiStatus) refreshed on the 250 ms flush timer under a mutex.
//
// SIGHUP (reload_devices): configured devices that are gone or changed are closed, new ones
// opened; the others are not touched (no reconnect, no gap).
//
// Thread rules: everything runs on the one io_context thread that calls run(), except the API
// thread, which touches only the snapshot (mutex), the StoreWriter (thread-safe) and its own Store.
#pragma once

#include <boost/asio.hpp>

#include <deque>
#include <fstream>
#include <future>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

#include "app/daemon_config.hpp"
#include "common/clock.hpp"
#include "api.pb.h"
#include "events.pb.h"
#include "stats.pb.h"

namespace spasmwatch::store {
class Store;
class StoreWriter;
}  // namespace spasmwatch::store

namespace spasmwatch::api {
class Handler;
class Server;
}  // namespace spasmwatch::api

namespace spasmwatch::app {

class Daemon {
 public:
  Daemon(boost::asio::io_context& io, DaemonConfig config, const Clock& clock);
  ~Daemon();
  Daemon(const Daemon&) = delete;
  Daemon& operator=(const Daemon&) = delete;

  // Opens links and the listener. Throws ConfigError/std::runtime_error naming what failed
  // (record directory not creatable, listen address in use, ...).
  void start();
  // Stops links, flushes and syncs recordings, writes --stats-json. Idempotent.
  void shutdown();

  [[nodiscard]] proto::IngestStats stats() const;

  // Applies a new device list (SIGHUP): closes removed or changed devices, opens new ones, leaves
  // the rest alone. Returns a one-line summary for the log.
  std::string reload_devices(const std::vector<DeviceConfig>& devices);

  // What the API's status endpoint shows (any thread).
  [[nodiscard]] proto::ApiStatus api_status() const;

 private:
  struct DeviceState;
  class Connection;

  DeviceState& device_named(const std::string& name);
  void on_detected(DeviceState& device, const proto::Event& event);
  void on_hello(DeviceState& device, const proto::Hello& hello);
  // Queues the gaps seen since the last call, and each device's signal quality of the minute
  // that ended (or, at shutdown, of the current one).
  void store_gaps_and_quality(bool final_flush);
  // Queues a write; its acknowledgement is checked later (collect_store_acks).
  template <class Body>
  void store_write(std::string what, Body body);
  void collect_store_acks(bool all);
  void accept_next();
  void on_status_timer();
  void on_flush_timer();
  void remove_connection(Connection* connection);
  void open_device(const DeviceConfig& device);
  void start_recording(DeviceState& device);
  void start_api();
  void publish(const proto::Event& event);
  void refresh_snapshot();

  boost::asio::io_context& io_;
  DaemonConfig config_;
  const Clock& clock_;
  std::map<std::string, std::unique_ptr<DeviceState>> devices_;
  std::vector<std::shared_ptr<Connection>> connections_;
  std::unique_ptr<boost::asio::ip::tcp::acceptor> acceptor_;
  boost::asio::steady_timer status_timer_;
  boost::asio::steady_timer flush_timer_;
  std::unique_ptr<std::ofstream> events_file_;
  struct PendingWrite {
    std::string what;
    std::future<void> acknowledged;
    std::optional<proto::Event> publish_when_stored;
  };
  std::unique_ptr<store::StoreWriter> store_;
  std::deque<PendingWrite> pending_writes_;
  std::uint64_t stored_ = 0;
  std::uint64_t store_failures_ = 0;
  std::map<std::string, std::pair<DeviceConfig, std::shared_ptr<Connection>>> configured_;
  std::unique_ptr<store::Store> api_reader_;
  std::unique_ptr<api::Handler> api_handler_;
  std::unique_ptr<api::Server> api_server_;
  mutable std::mutex snapshot_mutex_;
  proto::ApiStatus snapshot_;  // guarded by snapshot_mutex_
  std::int64_t started_utc_ns_ = 0;
  std::uint64_t reloads_ = 0;
  std::string db_path_;
  bool stopped_ = false;
};

}  // namespace spasmwatch::app
