// spasmwatchd: the background service. Foreground by default (systemd runs it); logs to stderr.
// Exit codes: 0 clean shutdown (SIGTERM/SIGINT), 1 bad command line, 2 bad configuration or
// start-up failure (e.g. listen address in use).
#include <CLI/CLI.hpp>
#include <spdlog/sinks/stdout_color_sinks.h>
#include <spdlog/spdlog.h>

#include <boost/asio.hpp>

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
  try {
    if (!config_path.empty()) config = app::load_config_file(config_path);
    std::vector<app::DeviceConfig> devices;
    for (const auto& spec : device_specs) devices.push_back(app::parse_device_spec(spec));
    app::merge_devices(config, devices);
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
  } catch (const std::exception& e) {
    spdlog::error("{}", e.what());
    return 2;
  }

  boost::asio::io_context io;
  SystemClock clock;
  app::Daemon daemon(io, config, clock);
  try {
    daemon.start();
  } catch (const std::exception& e) {
    spdlog::error("{}", e.what());
    return 2;
  }
  boost::asio::signal_set signals(io, SIGINT, SIGTERM);
  signals.async_wait([&](const boost::system::error_code& ec, int signal) {
    if (ec) return;
    spdlog::info("received {}, shutting down", signal == SIGTERM ? "SIGTERM" : "SIGINT");
    daemon.shutdown();
    io.stop();
  });
  spdlog::info("spasmwatchd {} running", SPASMWATCH_VERSION);
  io.run();
  daemon.shutdown();
  return 0;
}
