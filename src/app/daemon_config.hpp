// spasmwatchd configuration: a TOML file (documented in README "Configuration") with command-line
// flags overriding it. Parsing is pure (text in, config or a precise error out).
#pragma once

#include <cstdint>
#include <optional>
#include <stdexcept>
#include <string>
#include <string_view>
#include <vector>

#include "detect/detector_config.hpp"
#include "io/link.hpp"

namespace spasmwatch::app {

class ConfigError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

enum class DeviceTransport : std::uint8_t { serial, tcp_connect };

struct DeviceConfig {
  std::string name;
  DeviceTransport transport = DeviceTransport::serial;
  io::SerialSettings serial;  // transport == serial
  io::Endpoint endpoint;      // transport == tcp_connect
};

inline constexpr std::uint16_t kDefaultApiPort = 8757;

struct DaemonConfig {
  std::string config_file;             // the TOML file read, if any (SIGHUP reads it again)
  std::vector<DeviceConfig> devices;
  std::optional<io::Endpoint> listen;  // accept devices that dial in (BLE gateway, simulator)
  std::string record_dir;              // empty: the default data directory
  bool record = true;
  std::string db;                      // the event store; empty: default_db_path()
  bool store = true;                   // false (--no-db): store nothing
  std::string stats_json;              // written at exit when set
  std::string events_jsonl;            // every event (provisional, final, retracted) as JSON lines
  detect::DetectorConfig detector;
  double status_interval_s = 2.0;      // 0: no periodic status lines
  double ping_interval_s = 2.0;        // time-sync pings per connection
  // Local API (src/api/API.md): a Unix socket (owner-only, no token) and a loopback TCP port
  // (bearer token from token_file). api_unix false / api_listen unset: that side is off.
  bool api = true;
  bool api_unix = true;
  std::string api_socket;              // empty: default_api_socket()
  std::optional<io::Endpoint> api_listen = io::Endpoint{"127.0.0.1", kDefaultApiPort};
  std::string api_token_file;          // empty: default_token_file()
};

// "NAME=serial:PATH[@BAUD]" or "NAME=tcp:HOST:PORT". Throws ConfigError naming the spec.
[[nodiscard]] DeviceConfig parse_device_spec(std::string_view spec);

// Parses TOML text (`source` names it in errors). Unknown keys are errors.
[[nodiscard]] DaemonConfig parse_config_toml(std::string_view text, const std::string& source);
[[nodiscard]] DaemonConfig load_config_file(const std::string& path);

// Adds or replaces (by name) a device. Throws ConfigError on a duplicate in `extra`.
void merge_devices(DaemonConfig& config, const std::vector<DeviceConfig>& extra);

// $XDG_DATA_HOME/spasmwatch/recordings, else ~/.local/share/spasmwatch/recordings.
[[nodiscard]] std::string default_record_dir();

// $XDG_DATA_HOME/spasmwatch/spasmwatch.db, else ~/.local/share/spasmwatch/spasmwatch.db.
[[nodiscard]] std::string default_db_path();

// $XDG_RUNTIME_DIR/spasmwatch/api.sock, else the data directory's api.sock.
[[nodiscard]] std::string default_api_socket();

// The data directory's api-token.
[[nodiscard]] std::string default_token_file();

}  // namespace spasmwatch::app
