#include "app/daemon_config.hpp"

#include <toml++/toml.h>

#include <charconv>
#include <cstdlib>
#include <fstream>
#include <set>
#include <sstream>

namespace spasmwatch::app {

namespace {

bool valid_name(std::string_view name) {
  if (name.empty() || name.size() > 64) return false;
  for (const char c : name) {
    const bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
                    c == '-' || c == '_' || c == '.';
    if (!ok) return false;
  }
  return name != "." && name != "..";
}

unsigned parse_baud(std::string_view text, std::string_view spec) {
  unsigned baud = 0;
  const auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), baud);
  if (ec != std::errc{} || end != text.data() + text.size() || baud < 50 || baud > 4'000'000) {
    throw ConfigError("bad baud rate '" + std::string(text) + "' in device '" + std::string(spec) +
                      "' (expected 50-4000000)");
  }
  return baud;
}

}  // namespace

DeviceConfig parse_device_spec(std::string_view spec) {
  const auto eq = spec.find('=');
  if (eq == std::string_view::npos) {
    throw ConfigError("bad device '" + std::string(spec) +
                      "': expected NAME=serial:PATH[@BAUD] or NAME=tcp:HOST:PORT");
  }
  DeviceConfig d;
  d.name = std::string(spec.substr(0, eq));
  if (!valid_name(d.name)) {
    throw ConfigError("bad device name '" + d.name + "' in '" + std::string(spec) +
                      "': use 1-64 letters, digits, '-', '_' or '.'");
  }
  const std::string_view target = spec.substr(eq + 1);
  if (target.starts_with("serial:")) {
    std::string_view rest = target.substr(7);
    d.transport = DeviceTransport::serial;
    const auto at = rest.rfind('@');
    if (at != std::string_view::npos) {
      d.serial.baud = parse_baud(rest.substr(at + 1), spec);
      rest = rest.substr(0, at);
    }
    if (rest.empty()) throw ConfigError("device '" + std::string(spec) + "' has an empty serial path");
    d.serial.path = std::string(rest);
  } else if (target.starts_with("tcp:")) {
    d.transport = DeviceTransport::tcp_connect;
    try {
      d.endpoint = io::parse_endpoint(target.substr(4));
    } catch (const std::invalid_argument& e) {
      throw ConfigError("bad device '" + std::string(spec) + "': " + e.what());
    }
  } else {
    throw ConfigError("bad device '" + std::string(spec) +
                      "': transport must be serial: or tcp: (e.g. dev1=serial:/dev/rfcomm0@115200)");
  }
  return d;
}

void merge_devices(DaemonConfig& config, const std::vector<DeviceConfig>& extra) {
  std::set<std::string> seen;
  for (const auto& d : extra) {
    if (!seen.insert(d.name).second) throw ConfigError("device '" + d.name + "' given twice");
    bool replaced = false;
    for (auto& existing : config.devices) {
      if (existing.name == d.name) {
        existing = d;
        replaced = true;
      }
    }
    if (!replaced) config.devices.push_back(d);
  }
}

DaemonConfig parse_config_toml(std::string_view text, const std::string& source) {
  toml::table root;
  try {
    root = toml::parse(text, source);
  } catch (const toml::parse_error& e) {
    std::ostringstream msg;
    msg << source << ":" << e.source().begin.line << ":" << e.source().begin.column << ": "
        << e.description();
    throw ConfigError(msg.str());
  }
  DaemonConfig config;
  auto where = [&](const toml::node& node) {
    return source + ":" + std::to_string(node.source().begin.line);
  };
  for (const auto& [key, node] : root) {
    const std::string k(key.str());
    if (k == "record_dir") {
      const auto v = node.value<std::string>();
      if (!v) throw ConfigError(where(node) + ": record_dir must be a string");
      config.record_dir = *v;
    } else if (k == "record") {
      const auto v = node.value<bool>();
      if (!v) throw ConfigError(where(node) + ": record must be true or false");
      config.record = *v;
    } else if (k == "db") {
      const auto v = node.value<std::string>();
      if (!v || v->empty()) throw ConfigError(where(node) + ": db must be a file name (a string)");
      config.db = *v;
    } else if (k == "store") {
      const auto v = node.value<bool>();
      if (!v) throw ConfigError(where(node) + ": store must be true or false");
      config.store = *v;
    } else if (k == "stats_json") {
      const auto v = node.value<std::string>();
      if (!v) throw ConfigError(where(node) + ": stats_json must be a string");
      config.stats_json = *v;
    } else if (k == "events") {
      const auto v = node.value<std::string>();
      if (!v) throw ConfigError(where(node) + ": events must be a string (a JSON-lines file)");
      config.events_jsonl = *v;
    } else if (k == "listen") {
      const auto v = node.value<std::string>();
      if (!v) throw ConfigError(where(node) + ": listen must be a string HOST:PORT");
      try {
        config.listen = io::parse_endpoint(*v);
      } catch (const std::invalid_argument& e) {
        throw ConfigError(where(node) + ": listen: " + e.what());
      }
    } else if (k == "status_interval_s" || k == "ping_interval_s") {
      const auto v = node.value<double>();
      if (!v || *v < 0 || *v > 3600) throw ConfigError(where(node) + ": " + k + " must be 0-3600 seconds");
      (k == "status_interval_s" ? config.status_interval_s : config.ping_interval_s) = *v;
    } else if (k == "api") {
      const auto* table = node.as_table();
      if (table == nullptr) throw ConfigError(where(node) + ": api must be a table [api]");
      for (const auto& [akey, anode] : *table) {
        const std::string ak(akey.str());
        if (ak == "enabled") {
          const auto v = anode.value<bool>();
          if (!v) throw ConfigError(where(anode) + ": api.enabled must be true or false");
          config.api = *v;
        } else if (ak == "socket" || ak == "token_file") {
          const auto v = anode.value<std::string>();
          if (!v) throw ConfigError(where(anode) + ": api." + ak + " must be a string (a path; \"\" turns the socket off)");
          (ak == "socket" ? config.api_socket : config.api_token_file) = *v;
          if (ak == "socket") config.api_unix = !v->empty();
        } else if (ak == "listen") {
          const auto v = anode.value<std::string>();
          if (!v) throw ConfigError(where(anode) + ": api.listen must be a string HOST:PORT (\"\" turns TCP off)");
          if (v->empty()) {
            config.api_listen.reset();
          } else {
            try {
              config.api_listen = io::parse_endpoint(*v);
            } catch (const std::invalid_argument& e) {
              throw ConfigError(where(anode) + ": api.listen: " + e.what());
            }
          }
        } else {
          throw ConfigError(where(anode) + ": unknown key api." + ak + " (expected enabled, socket, listen, token_file)");
        }
      }
    } else if (k == "detector") {
      const auto* table = node.as_table();
      if (table == nullptr) throw ConfigError(where(node) + ": detector must be a table [detector]");
      for (const auto& [dkey, dnode] : *table) {
        const auto v = dnode.value<double>();
        if (!v) throw ConfigError(where(dnode) + ": detector." + std::string(dkey.str()) + " must be a number");
        try {
          detect::set_detector_option(config.detector, dkey.str(), *v);
        } catch (const std::invalid_argument& e) {
          throw ConfigError(where(dnode) + ": " + e.what());
        }
      }
    } else if (k == "devices") {
      const auto* list = node.as_array();
      if (list == nullptr) throw ConfigError(where(node) + ": devices must be an array of tables [[devices]]");
      std::vector<DeviceConfig> devices;
      for (const auto& item : *list) {
        const auto* t = item.as_table();
        if (t == nullptr) throw ConfigError(where(item) + ": each [[devices]] entry must be a table");
        std::string name, serial, tcp;
        std::optional<std::int64_t> baud;
        for (const auto& [dkey, dnode] : *t) {
          const std::string dk(dkey.str());
          if (dk == "name" || dk == "serial" || dk == "tcp") {
            const auto v = dnode.value<std::string>();
            if (!v) throw ConfigError(where(dnode) + ": devices." + dk + " must be a string");
            (dk == "name" ? name : dk == "serial" ? serial : tcp) = *v;
          } else if (dk == "baud") {
            baud = dnode.value<std::int64_t>();
            if (!baud) throw ConfigError(where(dnode) + ": devices.baud must be an integer");
          } else {
            throw ConfigError(where(dnode) + ": unknown key devices." + dk +
                              " (expected name, serial, baud, tcp)");
          }
        }
        if (serial.empty() == tcp.empty()) {
          throw ConfigError(where(item) + ": device '" + name + "' needs exactly one of serial or tcp");
        }
        std::string spec = name + "=" + (serial.empty() ? "tcp:" + tcp : "serial:" + serial);
        if (baud) spec += "@" + std::to_string(*baud);
        try {
          devices.push_back(parse_device_spec(spec));
        } catch (const ConfigError& e) {
          throw ConfigError(where(item) + ": " + e.what());
        }
      }
      try {
        merge_devices(config, devices);
      } catch (const ConfigError& e) {
        throw ConfigError(source + ": " + e.what());
      }
    } else {
      throw ConfigError(where(node) + ": unknown key '" + k +
                        "' (expected record_dir, record, db, store, stats_json, events, listen, "
                        "status_interval_s, ping_interval_s, api, detector, devices)");
    }
  }
  return config;
}

DaemonConfig load_config_file(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) throw ConfigError("cannot read config file " + path);
  std::ostringstream text;
  text << in.rdbuf();
  return parse_config_toml(text.str(), path);
}

namespace {

std::string data_dir() {
  if (const char* xdg = std::getenv("XDG_DATA_HOME"); xdg != nullptr && *xdg != '\0') {
    return std::string(xdg) + "/spasmwatch";
  }
  if (const char* home = std::getenv("HOME"); home != nullptr && *home != '\0') {
    return std::string(home) + "/.local/share/spasmwatch";
  }
  return {};
}

}  // namespace

std::string default_record_dir() {
  const std::string dir = data_dir();
  return dir.empty() ? "spasmwatch-recordings" : dir + "/recordings";
}

std::string default_db_path() {
  const std::string dir = data_dir();
  return dir.empty() ? "spasmwatch.db" : dir + "/spasmwatch.db";
}

std::string default_api_socket() {
  if (const char* run = std::getenv("XDG_RUNTIME_DIR"); run != nullptr && *run != '\0') {
    return std::string(run) + "/spasmwatch/api.sock";
  }
  const std::string dir = data_dir();
  return dir.empty() ? "spasmwatch-api.sock" : dir + "/api.sock";
}

std::string default_token_file() {
  const std::string dir = data_dir();
  return dir.empty() ? "spasmwatch-api-token" : dir + "/api-token";
}

}  // namespace spasmwatch::app
