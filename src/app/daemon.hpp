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
// Storage (unless --no-db): every detected event, and each device and session from its Hello, is
// handed to a store::StoreWriter (its own thread, batched, durable once acknowledged).
// PROVISIONAL and FINAL events are upserted by id; RETRACTED deletes the provisional row
// (Store::retract_event). The I/O thread never waits for a write: acknowledgements are collected
// on the flush timer (errors logged). StoreWriter::submit blocks only when its queue (4096
// operations) is full, i.e. after the disk has stalled for a long time at event rates.
// shutdown() stops the writer after everything queued is written and acknowledged.
//
// Thread rules: everything runs on the one io_context thread that calls run(); no locks.
#pragma once

#include <boost/asio.hpp>

#include <deque>
#include <fstream>
#include <future>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "app/daemon_config.hpp"
#include "common/clock.hpp"
#include "events.pb.h"
#include "stats.pb.h"

namespace spasmwatch::store {
class StoreWriter;
}

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

 private:
  struct DeviceState;
  class Connection;

  DeviceState& device_named(const std::string& name);
  void on_detected(DeviceState& device, const proto::Event& event);
  void on_hello(const DeviceState& device, const proto::Hello& hello);
  // Queues a write; its acknowledgement is checked later (collect_store_acks).
  template <class Body>
  void store_write(std::string what, Body body);
  void collect_store_acks(bool all);
  void accept_next();
  void on_status_timer();
  void on_flush_timer();
  void remove_connection(Connection* connection);

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
  };
  std::unique_ptr<store::StoreWriter> store_;
  std::deque<PendingWrite> pending_writes_;
  std::uint64_t stored_ = 0;
  std::uint64_t store_failures_ = 0;
  bool stopped_ = false;
};

}  // namespace spasmwatch::app
