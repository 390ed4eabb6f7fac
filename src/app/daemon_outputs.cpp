// Daemon: what it hands on — events, devices, gaps and signal quality to the store (through the
// StoreWriter, acknowledgements collected on the flush timer), live events and the status
// snapshot to the local API. Thread rules: daemon.hpp.
#include <spdlog/spdlog.h>

#include "api/api_handler.hpp"
#include "api/api_server.hpp"
#include "api/api_token.hpp"
#include "app/daemon.hpp"
#include "app/daemon_device.hpp"
#include "app/status_text.hpp"
#include "common/proto_json.hpp"
#include "store/store_writer.hpp"

namespace spasmwatch::app {

void Daemon::on_detected(DeviceState& device, const proto::Event& event) {
  if (event.state() == proto::FINAL) ++device.final_events;
  if (events_file_) {
    *events_file_ << to_json_line(event) << '\n';
    events_file_->flush();
  }
  spdlog::info("{}", event_line(event));
  if (!store_) {
    publish(event);
    return;
  }
  if (event.state() == proto::RETRACTED) {
    store_write("retraction of event " + event.id(),
                [id = event.id()](store::Store& s) { (void)s.retract_event(id); });
    publish(event);
  } else {
    store_write(std::string(proto::EventState_Name(event.state())) + " event " + event.id(),
                [event](store::Store& s) { (void)s.put_event(event); });
    if (event.state() == proto::FINAL) {
      pending_writes_.back().publish_when_stored = event;  // published once acknowledged
    } else {
      publish(event);
    }
  }
}

void Daemon::publish(const proto::Event& event) {
  if (api_server_) api_server_->publish(event);
}

void Daemon::on_hello(DeviceState& device, const proto::Hello& hello) {
  if (hello.device_id().empty()) return;
  device.device_id = hello.device_id();
  if (!store_) return;
  store::DeviceRecord record;
  record.device_id = hello.device_id();
  record.name = device.name;
  record.firmware = hello.firmware();
  record.site = hello.site();
  record.side = hello.side();
  record.seen_utc_ns = clock_.utc_ns();
  store::SessionRecord session{hello.device_id(), hello.session_id(), record.seen_utc_ns};
  store_write("device " + record.device_id, [record, session](store::Store& s) {
    s.put_device(record);
    s.put_session(session);
  });
}

template <class Body>
void Daemon::store_write(std::string what, Body body) {
  pending_writes_.push_back({std::move(what), store_->submit(std::move(body)), std::nullopt});
}

void Daemon::collect_store_acks(bool all) {
  while (!pending_writes_.empty()) {
    auto& front = pending_writes_.front();
    if (!all && front.acknowledged.wait_for(std::chrono::seconds(0)) != std::future_status::ready) break;
    try {
      front.acknowledged.get();
      ++stored_;
      if (front.publish_when_stored) publish(*front.publish_when_stored);
    } catch (const std::exception& e) {
      ++store_failures_;
      spdlog::error("store: {} not stored: {}", front.what, e.what());
    }
    pending_writes_.pop_front();
  }
  if (pending_writes_.size() > 1000) {
    spdlog::warn("store: {} writes waiting for the disk", pending_writes_.size());
  }
}

void Daemon::start_api() {
  api::ServerOptions options;
  if (config_.api_unix)
    options.unix_socket = config_.api_socket.empty() ? default_api_socket() : config_.api_socket;
  std::string token;
  if (config_.api_listen) {
    options.tcp_host = config_.api_listen->host;
    options.tcp_port = config_.api_listen->port;
    const std::string token_file =
        config_.api_token_file.empty() ? default_token_file() : config_.api_token_file;
    try {
      token = api::load_or_create_token(token_file);
    } catch (const std::exception& e) {
      throw ConfigError(std::string("API: ") + e.what());
    }
  }
  if (store_) {
    store::Store::Options read_only;
    read_only.read_only = true;
    api_reader_ = std::make_unique<store::Store>(store::Store::open(db_path_, clock_, read_only));
  }
  api_handler_ = std::make_unique<api::Handler>(api::Handler::Context{
      api_reader_.get(), store_.get(), [this] { return api_status(); }, token, &clock_});
  api_server_ = std::make_unique<api::Server>(options, *api_handler_);
  try {
    api_server_->start();
  } catch (const std::exception& e) {
    // The TCP side is a convenience (the CLI uses the socket): a port taken by another user's
    // daemon must not stop ingest. The Unix socket is this user's and must work.
    if (options.tcp_host.empty()) throw ConfigError(std::string("API: ") + e.what());
    spdlog::error("API: {}; trying without TCP", e.what());
    options.tcp_host.clear();
    api_server_ = std::make_unique<api::Server>(options, *api_handler_);
    try {
      api_server_->start();
    } catch (const std::exception& again) {
      throw ConfigError(std::string("API: ") + again.what());
    }
  }
  if (!options.unix_socket.empty()) spdlog::info("API on {}", options.unix_socket);
  if (!options.tcp_host.empty())
    spdlog::info("API on {}:{} (bearer token required)", options.tcp_host, api_server_->tcp_port());
}

void Daemon::store_gaps_and_quality(bool final_flush) {
  constexpr std::int64_t kMinuteNs = 60'000'000'000;
  const std::int64_t now = clock_.utc_ns();
  const std::int64_t minute = now - now % kMinuteNs;
  for (const auto& [name, device] : devices_) {
    if (device->device_id.empty()) {
      device->gap_sink.gaps.clear();  // nothing to key them by before the first Hello
      continue;
    }
    if (!device->gap_sink.gaps.empty()) {
      std::vector<store::GapRecord> gaps;
      for (const auto& g : device->gap_sink.gaps) {
        gaps.push_back(
            {device->device_id, g.session_id, g.stream_id, g.first_index, g.time_points, g.utc_ns});
      }
      device->gap_sink.gaps.clear();
      store_write(name + ": " + std::to_string(gaps.size()) + " gaps",
                  [gaps = std::move(gaps)](store::Store& s) {
                    for (const auto& g : gaps) s.put_gap(g);
                  });
    }
    // One row per device and minute: the samples lost and frames rejected in it. The current
    // minute is written when it ends (and at shutdown, partly).
    const proto::DeviceStats stats = device->assembler.stats();
    const std::uint64_t lost = DeviceState::lost_samples(stats);
    const std::uint64_t bad = stats.bad_frames();
    if (device->quality_minute_ns == 0) {
      device->quality_minute_ns = minute;
      device->lost_at_minute_start = 0;
      device->bad_frames_at_minute_start = 0;
    }
    if (minute != device->quality_minute_ns || final_flush) {
      store::SignalQualityRecord q{device->device_id, device->quality_minute_ns,
                                   lost - device->lost_at_minute_start,
                                   bad - device->bad_frames_at_minute_start};
      store_write(name + ": signal quality", [q](store::Store& s) { s.put_signal_quality(q); });
      device->quality_minute_ns = minute;
      device->lost_at_minute_start = lost;
      device->bad_frames_at_minute_start = bad;
    }
  }
}

void Daemon::refresh_snapshot() {
  proto::ApiStatus s;
  s.set_version(SPASMWATCH_VERSION);
  s.set_started_utc_ns(started_utc_ns_);
  s.set_db(db_path_);
  *s.mutable_ingest() = stats();
  s.set_store_writes_acknowledged(stored_);
  s.set_store_writes_failed(store_failures_);
  s.set_config(config_.config_file);
  s.set_reloads(reloads_);
  const std::lock_guard lock(snapshot_mutex_);
  snapshot_ = std::move(s);
}

proto::ApiStatus Daemon::api_status() const {
  proto::ApiStatus s;
  {
    const std::lock_guard lock(snapshot_mutex_);
    s = snapshot_;
  }
  s.set_uptime_s(static_cast<double>(clock_.utc_ns() - s.started_utc_ns()) / 1e9);
  if (api_server_) {
    s.set_api_connections(api_server_->connections());
    s.set_stream_clients(api_server_->stream_clients());
  }
  return s;
}

}  // namespace spasmwatch::app
