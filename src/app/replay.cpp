#include "app/replay.hpp"

#include <sys/stat.h>

#include <cstdio>
#include <map>
#include <memory>
#include <thread>

#include "detect/device_pipeline.hpp"
#include "import/import_error.hpp"
#include "ingest/stream_assembler.hpp"

namespace spasmwatch::app {

std::unique_ptr<ReplayInput> ReplayInput::open(const std::string& path,
                                               const import::ImportOptions& options) {
  auto input = std::make_unique<ReplayInput>();
  const auto format =
      options.format == import::FileFormat::detect ? import::detect_format(path) : options.format;
  if (format == import::FileFormat::recording) {
    input->recording_ = record::RecordingReader::open(path);
    input->device_name_ = input->recording_->info().device_name;
    input->file_size_ = input->recording_->file_size();
  } else {
    input->imported_ = import::ImportedFile::open(path, options);
    input->device_name_ = input->imported_->device_name();
    struct stat st {};
    if (::stat(path.c_str(), &st) == 0) input->file_size_ = static_cast<std::uint64_t>(st.st_size);
  }
  return input;
}

bool ReplayInput::next(protocol::FrameEvent& event) {
  return recording_ ? recording_->next(event) : imported_->next(event);
}

std::uint64_t ReplayInput::bytes_read() const {
  if (recording_) return recording_->bytes_read();
  return static_cast<std::uint64_t>(imported_->progress() * static_cast<double>(file_size_));
}

std::string ReplayInput::problem() const {
  if (!recording_ || recording_->end() == record::ReadEnd::clean) return "";
  return recording_->end_message();
}

bool ReplayInput::corrupt() const {
  return recording_ && recording_->end() == record::ReadEnd::corrupt;
}

proto::Annotation stored_annotation(const import::ImportedFile& file, const import::Annotation& a) {
  proto::Annotation out;
  out.set_kind(proto::Annotation::NOTE);
  // Overflow-checked (ImportedFile refuses annotations whose times do not fit at open).
  out.set_start_utc_ns(import::utc_ns_after(file.start_utc_ns(), a.onset_ticks));
  if (a.duration_ticks > 0) out.set_end_utc_ns(import::utc_ns_after(out.start_utc_ns(), a.duration_ticks));
  out.set_text(a.text);
  char key[96];
  std::snprintf(key, sizeof key, "import/%016llx/%lld/",
                static_cast<unsigned long long>(file.hello().session_id()),
                static_cast<long long>(a.onset_ticks));
  out.set_id(detect::hashed_uuid(key + a.text));
  return out;
}

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

  // Every file is checked before any is replayed, so a bad file is reported at once. Imported
  // files stay open (EDFlib opens each once) and are read in the order given.
  std::vector<std::unique_ptr<ReplayInput>> inputs;
  std::uint64_t total_bytes = 0;
  for (const auto& path : options.files) {
    try {
      inputs.push_back(ReplayInput::open(path, options.import));
      total_bytes += inputs.back()->file_size();
      if (const auto* imported = inputs.back()->imported(); imported != nullptr && options.on_note) {
        for (const auto& note : imported->notes()) options.on_note(path + ": " + note);
      }
    } catch (const record::RecordingError& e) {
      result.problems.push_back(e.what());
      result.any_unreadable = true;
    } catch (const import::ImportError& e) {
      result.problems.push_back(e.what());
      result.any_unreadable = true;
    }
  }

  std::uint64_t bytes_before = 0;
  bool paced_started = false;
  std::int64_t first_host_ns = 0;
  std::int64_t start_steady_ns = 0;
  for (auto& input : inputs) {
    auto& slot = devices[input->device_name()];
    if (!slot) slot = std::make_unique<Device>(input->device_name(), options);
    ingest::DeviceAssembler& assembler = slot->assembler;
    if (const auto* imported = input->imported(); imported != nullptr) {
      for (const auto& a : imported->annotations()) {
        ++result.annotations;
        if (options.on_annotation) options.on_annotation(stored_annotation(*imported, a));
      }
    }
    protocol::FrameEvent event;
    try {
      while (input->next(event)) {
        if (options.speed > 0) {
          if (!paced_started) {
            paced_started = true;
            first_host_ns = event.host_time_ns;
            start_steady_ns = clock.steady_ns();
          }
          const auto due_ns =
              start_steady_ns + static_cast<std::int64_t>(
                                    static_cast<double>(event.host_time_ns - first_host_ns) / options.speed);
          const auto ahead_ns = due_ns - clock.steady_ns();
          if (ahead_ns > 1'000'000) std::this_thread::sleep_for(std::chrono::nanoseconds(ahead_ns));
        }
        if (event.message != nullptr && event.message->has_samples()) {
          result.samples += static_cast<std::uint64_t>(event.message->samples().samples_size());
        }
        assembler.on_event(event);
        if ((++result.events & 0x3FFF) == 0 && options.progress) {
          options.progress(bytes_before + input->bytes_read(), total_bytes, result.samples);
        }
      }
    } catch (const import::ImportError& e) {
      // Bad data inside an imported file: what came before it has been replayed.
      result.any_corrupt = true;
      result.problems.push_back(std::string(e.what()) + " (the replay of this file stopped there)");
    }
    bytes_before += input->file_size();
    if (input->corrupt()) result.any_corrupt = true;
    if (const auto problem = input->problem(); !problem.empty()) result.problems.push_back(problem);
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
