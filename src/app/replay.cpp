#include "app/replay.hpp"

#include <map>
#include <memory>
#include <thread>

#include "detect/device_pipeline.hpp"
#include "ingest/stream_assembler.hpp"
#include "record/recording_reader.hpp"

namespace spasmwatch::app {

ReplayResult replay(const ReplayOptions& options, const Clock& clock) {
  ReplayResult result;
  struct Device {
    Device(const std::string& name, const ReplayOptions& options)
        : pipeline(name, options.detector,
                   [this, &options](const proto::Event& e) {
                     if (e.state() == proto::FINAL) ++final_events;
                     if (options.on_event) options.on_event(e);
                   }),
          assembler(name, &pipeline) {
      pipeline.set_clock(&assembler.clock());
    }
    detect::DevicePipeline pipeline;
    ingest::DeviceAssembler assembler;
    std::uint64_t final_events = 0;
  };
  std::map<std::string, std::unique_ptr<Device>> devices;

  std::vector<std::unique_ptr<record::RecordingReader>> readers;
  std::uint64_t total_bytes = 0;
  for (const auto& path : options.files) {
    try {
      readers.push_back(record::RecordingReader::open(path));
      total_bytes += readers.back()->file_size();
    } catch (const record::RecordingError& e) {
      result.problems.push_back(e.what());
      result.any_unreadable = true;
    }
  }

  std::uint64_t bytes_before = 0;
  bool paced_started = false;
  std::int64_t first_host_ns = 0;
  std::int64_t start_steady_ns = 0;
  for (auto& reader : readers) {
    auto& slot = devices[reader->info().device_name];
    if (!slot) slot = std::make_unique<Device>(reader->info().device_name, options);
    ingest::DeviceAssembler& assembler = slot->assembler;
    protocol::FrameEvent event;
    while (reader->next(event)) {
      if (options.speed > 0) {
        if (!paced_started) {
          paced_started = true;
          first_host_ns = event.host_time_ns;
          start_steady_ns = clock.steady_ns();
        }
        const auto due_ns = start_steady_ns + static_cast<std::int64_t>(
                                                  static_cast<double>(event.host_time_ns - first_host_ns) /
                                                  options.speed);
        const auto ahead_ns = due_ns - clock.steady_ns();
        if (ahead_ns > 1'000'000) std::this_thread::sleep_for(std::chrono::nanoseconds(ahead_ns));
      }
      if (event.message != nullptr && event.message->has_samples()) {
        result.samples += static_cast<std::uint64_t>(event.message->samples().samples_size());
      }
      assembler.on_event(event);
      if ((++result.events & 0x3FFF) == 0 && options.progress) {
        options.progress(bytes_before + reader->bytes_read(), total_bytes, result.samples);
      }
    }
    bytes_before += reader->file_size();
    if (reader->end() == record::ReadEnd::corrupt) {
      result.any_corrupt = true;
      result.problems.push_back(reader->end_message());
    } else if (reader->end() == record::ReadEnd::truncated) {
      result.problems.push_back(reader->end_message());
    }
  }
  if (options.progress) options.progress(total_bytes, total_bytes, result.samples);
  for (const auto& [name, device] : devices) {
    device->pipeline.finish();
    auto stats = device->assembler.stats();
    stats.set_events(device->final_events);
    stats.set_mains_hz(device->pipeline.mains_hz());
    (*result.stats.mutable_devices())[name] = stats;
  }
  return result;
}

}  // namespace spasmwatch::app
