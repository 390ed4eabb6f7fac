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
// Thread rules: everything runs on the one io_context thread that calls run(); no locks.
#pragma once

#include <boost/asio.hpp>

#include <fstream>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "app/daemon_config.hpp"
#include "common/clock.hpp"
#include "events.pb.h"
#include "stats.pb.h"

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
  bool stopped_ = false;
};

}  // namespace spasmwatch::app
