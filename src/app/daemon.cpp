#include "app/daemon.hpp"

#include <spdlog/spdlog.h>
#include <sys/stat.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <deque>
#include <filesystem>

#include "api/api_server.hpp"
#include "app/daemon_device.hpp"
#include "app/status_text.hpp"
#include "common/proto_json.hpp"
#include "detect/device_pipeline.hpp"
#include "ingest/stream_assembler.hpp"
#include "io/link.hpp"
#include "protocol/frame_decoder.hpp"
#include "protocol/message_codec.hpp"
#include "record/recording_reader.hpp"
#include "record/recording_writer.hpp"
#include "store/store_writer.hpp"

namespace spasmwatch::app {

namespace asio = boost::asio;
using protocol::FrameEvent;
using protocol::FrameEventKind;

namespace {

std::chrono::milliseconds seconds_to_ms(double s) {
  return std::chrono::milliseconds(static_cast<std::int64_t>(s * 1000.0));
}

// Owner-only directory (recordings are health data), created with parents.
void make_private_dir(const std::string& dir) {
  std::error_code ec;
  std::filesystem::create_directories(dir, ec);
  if (ec) throw std::runtime_error("cannot create record directory " + dir + ": " + ec.message());
  if (::chmod(dir.c_str(), 0700) != 0) {
    throw std::runtime_error("cannot make record directory " + dir + " owner-only: " +
                             std::strerror(errno));
  }
}

std::string recording_path(const std::string& dir, const std::string& name, std::int64_t utc_ns) {
  const std::time_t t = static_cast<std::time_t>(utc_ns / 1'000'000'000);
  std::tm tm{};
  gmtime_r(&t, &tm);
  char stamp[32];
  std::strftime(stamp, sizeof stamp, "%Y%m%dT%H%M%SZ", &tm);
  std::string base = dir + "/" + name + "-" + stamp;
  std::string path = base + ".swr";
  for (int i = 1; std::filesystem::exists(path); ++i) path = base + "-" + std::to_string(i) + ".swr";
  return path;
}

}  // namespace

// ---- per connection -----------------------------------------------------------------------

class Daemon::Connection final : public io::LinkHandler,
                                 public std::enable_shared_from_this<Connection> {
 public:
  Connection(Daemon& daemon, DeviceState* device)
      : daemon_(daemon), device_(device), ping_timer_(daemon.io_) {}

  void attach_link(std::shared_ptr<io::Link> link) { link_ = std::move(link); }
  void start() { link_->start(); }
  void stop() {
    ping_timer_.cancel();
    if (link_) link_->stop();
  }
  [[nodiscard]] std::string describe() const { return link_ ? link_->describe() : "?"; }

  void on_link_up() override {
    decoder_.reset();
    FrameEvent e;
    e.kind = FrameEventKind::connected;
    e.host_time_ns = daemon_.clock_.utc_ns();
    emit(e);
    spdlog::info("{}: connected ({})", label(), describe());
    schedule_ping();
  }

  void on_bytes(std::span<const std::uint8_t> bytes, std::int64_t host_time_ns) override {
    while (!bytes.empty()) {
      const auto r = decoder_.next(bytes);
      if (r.status == protocol::FrameDecoder::Status::need_more) break;
      FrameEvent e;
      e.host_time_ns = host_time_ns;
      if (r.status == protocol::FrameDecoder::Status::frame) {
        const auto error = protocol::parse_device_message(r.payload, message_);
        if (error == protocol::FrameError::none) {
          e.kind = FrameEventKind::message;
          e.message = &message_;
        } else {
          e.kind = FrameEventKind::bad_frame;
          e.error = error;
          e.bad_bytes = static_cast<std::uint32_t>(r.payload.size());
        }
      } else {
        e.kind = FrameEventKind::bad_frame;
        e.error = r.error;
        e.bad_bytes = static_cast<std::uint32_t>(r.bad_bytes);
      }
      emit(e);
    }
  }

  void on_link_down(const boost::system::error_code& error) override {
    ping_timer_.cancel();
    FrameEvent e;
    e.kind = FrameEventKind::disconnected;
    e.host_time_ns = daemon_.clock_.utc_ns();
    e.bad_bytes = static_cast<std::uint32_t>(decoder_.reset());
    emit(e);
    spdlog::info("{}: disconnected ({}): {}", label(), describe(), error.message());
    if (accepted_) {
      asio::post(daemon_.io_, [self = shared_from_this()] { self->daemon_.remove_connection(self.get()); });
    }
  }

  void set_accepted() { accepted_ = true; }

  // Closed for good (device removed by a reload): the device sees a disconnection.
  void retire() {
    const bool was_up = link_ && link_->is_up();
    stop();
    if (was_up) {
      FrameEvent e;
      e.kind = FrameEventKind::disconnected;
      e.host_time_ns = daemon_.clock_.utc_ns();
      e.bad_bytes = static_cast<std::uint32_t>(decoder_.reset());
      emit(e);
    }
  }

 private:
  [[nodiscard]] std::string label() const { return device_ ? device_->name : describe(); }

  void emit(const FrameEvent& event) {
    if (event.kind == FrameEventKind::message && event.message->has_hello()) on_hello(event.message->hello());
    if (device_ == nullptr) {
      // A dialled-in device before its Hello: keep a bounded backlog.
      if (pending_.size() >= 4096) pending_.pop_front();
      Pending p{event, {}};
      if (event.message != nullptr) p.message = *event.message;
      pending_.push_back(std::move(p));
      return;
    }
    device_->on_event(event);
  }

  void on_hello(const proto::Hello& hello) {
    if (device_ == nullptr) {
      std::string name = hello.device_id();
      for (char& c : name) {
        const bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
                        c == '-' || c == '_' || c == '.';
        if (!ok) c = '_';
      }
      if (name.empty() || name == "." || name == "..") name = "device";
      device_ = &daemon_.device_named(name);
      spdlog::info("{}: identified device on {}", device_->name, describe());
      for (auto& p : pending_) {
        if (p.event.message != nullptr) p.event.message = &p.message;
        device_->on_event(p.event);
      }
      pending_.clear();
    }
    daemon_.on_hello(*device_, hello);
    if (!hello.streaming()) send_host_message([](proto::HostMessage& m) { m.mutable_start(); });
  }

 private:
  template <class Fill>
  void send_host_message(Fill fill) {
    proto::HostMessage m;
    fill(m);
    std::vector<std::uint8_t> bytes;
    protocol::encode_message(m, bytes);
    link_->send(std::move(bytes));
  }

  void schedule_ping() {
    if (daemon_.config_.ping_interval_s <= 0) return;
    ping_timer_.expires_after(seconds_to_ms(daemon_.config_.ping_interval_s));
    ping_timer_.async_wait([self = shared_from_this(), this](const boost::system::error_code& ec) {
      if (ec || !link_->is_up()) return;
      const std::uint32_t id = ++next_ping_id_;
      FrameEvent e;
      e.kind = FrameEventKind::ping_sent;
      e.ping_id = id;
      e.host_time_ns = daemon_.clock_.utc_ns();
      emit(e);
      send_host_message([id](proto::HostMessage& m) { m.mutable_ping()->set_ping_id(id); });
      schedule_ping();
    });
  }

  struct Pending {
    FrameEvent event;
    proto::DeviceMessage message;
  };

  Daemon& daemon_;
  DeviceState* device_;
  std::shared_ptr<io::Link> link_;
  protocol::FrameDecoder decoder_;
  proto::DeviceMessage message_;
  asio::steady_timer ping_timer_;
  std::uint32_t next_ping_id_ = 0;
  bool accepted_ = false;
  std::deque<Pending> pending_;
};

// ---- daemon ---------------------------------------------------------------------------------

Daemon::Daemon(asio::io_context& io, DaemonConfig config, const Clock& clock)
    : io_(io), config_(std::move(config)), clock_(clock), status_timer_(io), flush_timer_(io) {
  if (config_.record && config_.record_dir.empty()) config_.record_dir = default_record_dir();
}

Daemon::~Daemon() { shutdown(); }

Daemon::DeviceState& Daemon::device_named(const std::string& name) {
  auto it = devices_.find(name);
  if (it != devices_.end()) return *it->second;
  auto state = std::make_unique<DeviceState>(name, *this);
  start_recording(*state);
  return *devices_.emplace(name, std::move(state)).first->second;
}

void Daemon::start_recording(DeviceState& state) {
  if (!config_.record) return;
  state.recording_path = recording_path(config_.record_dir, state.name, clock_.utc_ns());
  record::RecordingInfo info;
  info.device_name = state.name;
  info.created_utc_ns = clock_.utc_ns();
  info.software = "spasmwatchd " SPASMWATCH_VERSION;
  try {
    state.recorder = record::RecordingWriter::create(state.recording_path, info);
    spdlog::info("{}: recording to {}", state.name, state.recording_path);
  } catch (const record::RecordingError& e) {
    spdlog::error("{}: not recording: {}", state.name, e.what());
  }
}

void Daemon::start() {
  started_utc_ns_ = clock_.utc_ns();
  if (config_.record) make_private_dir(config_.record_dir);
  if (config_.store) {
    db_path_ = config_.db.empty() ? default_db_path() : config_.db;
    try {
      store_ = std::make_unique<store::StoreWriter>(db_path_, clock_);
    } catch (const store::StoreError& e) {
      throw ConfigError(std::string("cannot open the event store: ") + e.what());
    }
    spdlog::info("storing events in {}", db_path_);
  }
  if (!config_.events_jsonl.empty()) {
    events_file_ = std::make_unique<std::ofstream>(config_.events_jsonl, std::ios::app);
    if (!*events_file_) throw ConfigError("cannot write events file " + config_.events_jsonl);
    ::chmod(config_.events_jsonl.c_str(), 0600);
  }
  for (const auto& d : config_.devices) open_device(d);
  if (config_.listen) {
    asio::ip::tcp::resolver resolver(io_);
    boost::system::error_code ec;
    const auto results = resolver.resolve(config_.listen->host, std::to_string(config_.listen->port), ec);
    if (ec || results.empty()) {
      throw ConfigError("cannot resolve listen address " + config_.listen->host + ": " + ec.message());
    }
    const auto endpoint = results.begin()->endpoint();
    acceptor_ = std::make_unique<asio::ip::tcp::acceptor>(io_);
    acceptor_->open(endpoint.protocol());
    acceptor_->set_option(asio::ip::tcp::acceptor::reuse_address(true));
    acceptor_->bind(endpoint, ec);
    if (ec) {
      throw ConfigError("cannot listen on " + config_.listen->host + ":" +
                        std::to_string(config_.listen->port) + ": " + ec.message());
    }
    acceptor_->listen();
    spdlog::info("listening for devices on {}:{}", endpoint.address().to_string(), endpoint.port());
    accept_next();
  }
  if (config_.devices.empty() && !config_.listen) {
    spdlog::warn("no devices configured: give --device NAME=serial:PATH or --listen HOST:PORT");
  }
  if (config_.status_interval_s > 0) {
    status_timer_.expires_after(seconds_to_ms(config_.status_interval_s));
    status_timer_.async_wait([this](const boost::system::error_code& ec) {
      if (!ec) on_status_timer();
    });
  }
  refresh_snapshot();
  if (config_.api) start_api();
  flush_timer_.expires_after(std::chrono::milliseconds(250));
  flush_timer_.async_wait([this](const boost::system::error_code& ec) {
    if (!ec) on_flush_timer();
  });
}

void Daemon::open_device(const DeviceConfig& d) {
  DeviceState& state = device_named(d.name);
  if (!state.recorder && state.retired) start_recording(state);  // back after a reload removed it
  state.retired = false;
  auto connection = std::make_shared<Connection>(*this, &state);
  if (d.transport == DeviceTransport::serial) {
    connection->attach_link(io::make_serial_link(io_, d.serial, *connection, clock_));
  } else {
    connection->attach_link(io::make_tcp_client_link(io_, d.endpoint, *connection, clock_));
  }
  spdlog::info("{}: opening {}", d.name, connection->describe());
  connections_.push_back(connection);
  configured_[d.name] = {d, connection};
  connection->start();
}

namespace {

bool same_device(const DeviceConfig& a, const DeviceConfig& b) {
  return a.transport == b.transport && a.serial.path == b.serial.path && a.serial.baud == b.serial.baud &&
         a.endpoint.host == b.endpoint.host && a.endpoint.port == b.endpoint.port;
}

}  // namespace

std::string Daemon::reload_devices(const std::vector<DeviceConfig>& devices) {
  std::vector<std::string> closed, opened;
  for (auto it = configured_.begin(); it != configured_.end();) {
    const auto wanted = std::find_if(devices.begin(), devices.end(), [&](const auto& d) { return d.name == it->first; });
    if (wanted != devices.end() && same_device(*wanted, it->second.first)) {
      ++it;
      continue;
    }
    it->second.second->retire();
    std::erase(connections_, it->second.second);
    // Its recording is complete: synced and closed (a later reload that brings the device back
    // starts a new file). Its statistics stay in the status.
    DeviceState& device = *devices_.at(it->first);
    device.retired = true;
    if (device.recorder) {
      try {
        device.recorder->sync();
      } catch (const record::RecordingError& e) {
        spdlog::error("{}: {}", it->first, e.what());
      }
      device.recorder.reset();
      spdlog::info("{}: recording {} closed", it->first, device.recording_path);
    }
    closed.push_back(it->first);
    it = configured_.erase(it);
  }
  for (const auto& d : devices) {
    if (configured_.contains(d.name)) continue;
    open_device(d);
    opened.push_back(d.name);
  }
  config_.devices = devices;
  ++reloads_;
  const auto join = [](const std::vector<std::string>& names) {
    std::string text;
    for (const auto& n : names) text += (text.empty() ? "" : ", ") + n;
    return text.empty() ? std::string("none") : text;
  };
  return "devices reloaded: closed " + join(closed) + "; opened " + join(opened) + "; " +
         std::to_string(configured_.size() - opened.size()) + " untouched";
}

void Daemon::accept_next() {
  acceptor_->async_accept([this](const boost::system::error_code& ec, asio::ip::tcp::socket socket) {
    if (stopped_) return;
    if (!ec) {
      auto connection = std::make_shared<Connection>(*this, nullptr);
      connection->set_accepted();
      connection->attach_link(io::make_accepted_link(std::move(socket), *connection, clock_));
      connections_.push_back(connection);
      connection->start();
    } else if (ec != asio::error::operation_aborted) {
      spdlog::warn("accept failed: {}", ec.message());
    }
    accept_next();
  });
}

void Daemon::remove_connection(Connection* connection) {
  connection->stop();
  std::erase_if(connections_, [connection](const auto& c) { return c.get() == connection; });
}

void Daemon::on_status_timer() {
  for (const auto& [name, device] : devices_) spdlog::info("{}", status_line(device->stats()));
  status_timer_.expires_after(seconds_to_ms(config_.status_interval_s));
  status_timer_.async_wait([this](const boost::system::error_code& ec) {
    if (!ec) on_status_timer();
  });
}

void Daemon::on_flush_timer() {
  // Recordings are flushed four times a second: a crash loses at most the last 250 ms, and the
  // file stays readable up to its last complete record.
  for (const auto& [name, device] : devices_) {
    if (!device->recorder) continue;
    try {
      device->recorder->flush();
    } catch (const record::RecordingError& e) {
      spdlog::error("{}: recording stopped: {}", name, e.what());
      device->recorder.reset();
    }
  }
  if (store_) {
    store_gaps_and_quality(false);
    collect_store_acks(false);
  }
  refresh_snapshot();
  flush_timer_.expires_after(std::chrono::milliseconds(250));
  flush_timer_.async_wait([this](const boost::system::error_code& ec) {
    if (!ec) on_flush_timer();
  });
}

proto::IngestStats Daemon::stats() const {
  proto::IngestStats out;
  for (const auto& [name, device] : devices_) (*out.mutable_devices())[name] = device->stats();
  return out;
}

void Daemon::shutdown() {
  if (stopped_) return;
  stopped_ = true;
  status_timer_.cancel();
  flush_timer_.cancel();
  if (acceptor_) {
    boost::system::error_code ignored;
    acceptor_->close(ignored);
  }
  for (auto& c : connections_) c->stop();
  for (const auto& [name, device] : devices_) {
    if (!device->recorder) continue;
    try {
      device->recorder->sync();
    } catch (const record::RecordingError& e) {
      spdlog::error("{}: {}", name, e.what());
    }
  }
  for (const auto& [name, device] : devices_) device->pipeline.finish();
  if (api_server_) api_server_->stop();  // its writes are acknowledged before it answers
  if (store_) {
    store_gaps_and_quality(true);
    // Events the pipeline finished just now are queued; stop() writes and acknowledges them all.
    store_->stop();
    collect_store_acks(true);
    spdlog::info("store: {} writes acknowledged, {} failed ({})", stored_, store_failures_,
                 store_->path().string());
    api_handler_.reset();
    api_reader_.reset();
    store_.reset();
  }
  for (const auto& [name, device] : devices_) spdlog::info("final: {}", status_line(device->stats()));
  if (!config_.stats_json.empty()) {
    const auto error = write_json_file(config_.stats_json, stats());
    if (!error.empty()) spdlog::error("{}", error);
  }
}

}  // namespace spasmwatch::app
