// spasmwatchd: the background service. Foreground by default (systemd runs it); logs to stderr.
// Exit codes: 0 clean shutdown (SIGTERM/SIGINT), 1 bad command line, 2 bad configuration or
// start-up failure (e.g. listen address in use).
// Signals: SIGTERM/SIGINT flush everything and exit 0; SIGHUP re-reads --config and applies its
// device list (plus --device flags) without touching unchanged devices.
// systemd (Type=notify): READY=1 once devices, store and API are up; STOPPING=1 on shutdown;
// RELOADING=1 ... READY=1 around a reload; WATCHDOG=1 at half of WatchdogSec from the I/O thread,
// so a stuck event loop gets the service restarted.
#include <CLI/CLI.hpp>
#include <spdlog/sinks/stdout_color_sinks.h>
#include <spdlog/spdlog.h>
#include <systemd/sd-daemon.h>

#include <boost/asio.hpp>

#include <chrono>

#include "app/daemon.hpp"

using namespace spasmwatch;

int main(int argc, char** argv) {
  CLI::App cli{"spasmwatchd: ingest muscle-activity wearables over serial and TCP, record every "
               "stream, report what arrives"};
  std::string config_path;
  std::vector<std::string> device_specs;
  std::string listen;
  std::string record_dir;
  std::string stats_json;
  std::string events;
  bool no_record = false;
  std::string db;
  bool no_db = false;
  double status_interval_s = -1;
  double ping_interval_s = -1;
  std::string log_level = "info";
  std::string api_socket, api_listen, api_token_file;
  bool no_api = false;
  cli.add_option("--config", config_path, "TOML configuration file")->check(CLI::ExistingFile);
  cli.add_option("--device", device_specs,
                 "Device to open: NAME=serial:PATH[@BAUD] or NAME=tcp:HOST:PORT (repeatable)");
  cli.add_option("--listen", listen, "Accept devices that dial in on HOST:PORT");
  cli.add_option("--record-dir", record_dir,
                 "Directory for recordings (default $XDG_DATA_HOME/spasmwatch/recordings)");
  cli.add_flag("--no-record", no_record, "Do not record streams");
  cli.add_option("--db", db,
                 "Event store, an SQLite file (default $XDG_DATA_HOME/spasmwatch/spasmwatch.db)");
  cli.add_flag("--no-db", no_db, "Do not store events")->excludes("--db");
  cli.add_option("--events", events, "Append every detected event to this JSON-lines file");
  std::vector<std::string> detector_options;
  cli.add_option("--detector", detector_options,
                 "Detector setting NAME=VALUE (repeatable; names in src/detect/detector_config.hpp)");
  cli.add_option("--stats-json", stats_json, "Write per-device and per-stream statistics here at exit");
  cli.add_option("--status-interval", status_interval_s, "Seconds between status lines (0: none)")
      ->check(CLI::Range(0.0, 3600.0));
  cli.add_option("--ping-interval", ping_interval_s, "Seconds between time-sync pings (0: none)")
      ->check(CLI::Range(0.0, 3600.0));
  cli.add_option("--api-socket", api_socket,
                 "Unix socket of the local API (default $XDG_RUNTIME_DIR/spasmwatch/api.sock; none: off)");
  cli.add_option("--api-listen", api_listen,
                 "Loopback HOST:PORT of the token-protected TCP API (default 127.0.0.1:8757; none: off)");
  cli.add_option("--api-token-file", api_token_file,
                 "Bearer token file for the TCP API (default $XDG_DATA_HOME/spasmwatch/api-token)");
  cli.add_flag("--no-api", no_api, "Serve no local API");
  cli.add_option("--log-level", log_level, "trace, debug, info, warn, error")
      ->check(CLI::IsMember({"trace", "debug", "info", "warn", "error"}));
  try {
    cli.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    return cli.exit(e) == 0 ? 0 : 1;
  }

  auto logger = spdlog::stderr_color_mt("spasmwatchd");
  spdlog::set_default_logger(logger);
  spdlog::set_pattern("%Y-%m-%dT%H:%M:%S.%e %^%l%$ %v");
  spdlog::set_level(spdlog::level::from_str(log_level));

  app::DaemonConfig config;
  std::vector<app::DeviceConfig> flag_devices;
  try {
    if (!config_path.empty()) config = app::load_config_file(config_path);
    config.config_file = config_path;
    for (const auto& spec : device_specs) flag_devices.push_back(app::parse_device_spec(spec));
    app::merge_devices(config, flag_devices);
    if (!listen.empty()) config.listen = io::parse_endpoint(listen);
    if (!record_dir.empty()) config.record_dir = record_dir;
    if (no_record) config.record = false;
    if (!db.empty()) {
      config.db = db;
      config.store = true;
    }
    if (no_db) config.store = false;
    if (!stats_json.empty()) config.stats_json = stats_json;
    if (!events.empty()) config.events_jsonl = events;
    for (const auto& option : detector_options) detect::set_detector_option(config.detector, option);
    if (status_interval_s >= 0) config.status_interval_s = status_interval_s;
    if (ping_interval_s >= 0) config.ping_interval_s = ping_interval_s;
    if (no_api) config.api = false;
    if (!api_socket.empty()) {
      config.api_unix = api_socket != "none";
      config.api_socket = config.api_unix ? api_socket : "";
    }
    if (api_listen == "none") {
      config.api_listen.reset();
    } else if (!api_listen.empty()) {
      config.api_listen = io::parse_endpoint(api_listen);
    }
    if (!api_token_file.empty()) config.api_token_file = api_token_file;
  } catch (const std::exception& e) {
    spdlog::error("{}", e.what());
    return 2;
  }

  boost::asio::io_context io;
  SystemClock clock;
  app::Daemon daemon(io, config, clock);
  boost::asio::signal_set signals(io, SIGINT, SIGTERM);
  signals.async_wait([&](const boost::system::error_code& ec, int signal) {
    if (ec) return;
    spdlog::info("received {}, shutting down", signal == SIGTERM ? "SIGTERM" : "SIGINT");
    sd_notify(0, "STOPPING=1");
    daemon.shutdown();
    io.stop();
  });

  boost::asio::signal_set hangup(io, SIGHUP);
  std::function<void()> wait_for_hangup = [&] {
    hangup.async_wait([&](const boost::system::error_code& ec, int) {
      if (ec) return;
      if (config_path.empty()) {
        spdlog::warn("SIGHUP: no --config file to reload; devices unchanged");
      } else {
        sd_notify(0, "RELOADING=1");
        try {
          app::DaemonConfig reloaded = app::load_config_file(config_path);
          app::merge_devices(reloaded, flag_devices);
          spdlog::info("SIGHUP: {}", daemon.reload_devices(reloaded.devices));
        } catch (const std::exception& e) {
          spdlog::error("SIGHUP: {}; devices unchanged", e.what());
        }
        sd_notify(0, "READY=1");
      }
      wait_for_hangup();
    });
  };
  wait_for_hangup();

  // The watchdog is fed from the I/O thread: if the event loop stalls, systemd notices.
  boost::asio::steady_timer watchdog(io);
  std::uint64_t watchdog_usec = 0;
  std::function<void()> feed_watchdog = [&] {
    sd_notify(0, "WATCHDOG=1");
    watchdog.expires_after(std::chrono::microseconds(watchdog_usec / 2));
    watchdog.async_wait([&](const boost::system::error_code& ec) {
      if (!ec) feed_watchdog();
    });
  };
  if (sd_watchdog_enabled(0, &watchdog_usec) > 0 && watchdog_usec > 0) feed_watchdog();

  // Signals are caught from here on (a SIGHUP or SIGTERM during start-up waits for io.run()).
  try {
    daemon.start();
  } catch (const std::exception& e) {
    spdlog::error("{}", e.what());
    return 2;
  }
  spdlog::info("spasmwatchd {} running", SPASMWATCH_VERSION);
  sd_notify(0, "READY=1\nSTATUS=ingesting");
  io.run();
  daemon.shutdown();
  return 0;
}
