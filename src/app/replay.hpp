// Replay: runs recordings through the same ingest code as live (FrameEvents into a
// DeviceAssembler per device), as fast as possible or paced by the recorded host times. Files
// from other devices (EDF/EDF+/BDF/BDF+, CSV, BioSPPy text) are imported on the fly
// (import/importer.hpp) into the same FrameEvents, so they run the very same path.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "annotations.pb.h"
#include "common/clock.hpp"
#include "detect/detector_config.hpp"
#include "events.pb.h"
#include "import/importer.hpp"
#include "record/recording_reader.hpp"
#include "stats.pb.h"

namespace spasmwatch::app {

struct ReplayOptions {
  std::vector<std::string> files;
  double speed = 0;  // 0: as fast as possible; 1: real time; 10: ten times real time
  // Called now and then with (bytes read, total bytes, samples so far) for a progress display.
  std::function<void(std::uint64_t, std::uint64_t, std::uint64_t)> progress;
  // Receives every detected event (provisional, final, retracted), in order.
  std::function<void(const proto::Event&)> on_event;
  // Receives the annotations of imported files (EDF+ annotations), as NOTE annotations with
  // stable ids, before their file's samples.
  std::function<void(const proto::Annotation&)> on_annotation;
  // Receives the importer's notes (how signals were mapped, what was left out), per file.
  std::function<void(const std::string&)> on_note;
  detect::DetectorConfig detector;
  import::ImportOptions import;  // how foreign files are read and mapped
};

struct ReplayResult {
  proto::IngestStats stats;
  std::vector<std::string> problems;  // unreadable files, corrupt or truncated records
  bool any_unreadable = false;        // a file could not be opened as a recording or imported
  bool any_corrupt = false;           // a file had a corrupt record (read up to it), or bad data
  std::uint64_t samples = 0;          // values decoded
  std::uint64_t events = 0;
  std::uint64_t annotations = 0;  // imported annotations handed to on_annotation
};

[[nodiscard]] ReplayResult replay(const ReplayOptions& options, const Clock& clock);

// One input of replay or export: a native recording, or a file imported on the fly.
class ReplayInput {
 public:
  // Throws record::RecordingError or import::ImportError naming the file.
  static std::unique_ptr<ReplayInput> open(const std::string& path, const import::ImportOptions& options);

  [[nodiscard]] const std::string& device_name() const { return device_name_; }
  // The next event; false at the end (see problem()). Throws import::ImportError on bad data.
  bool next(protocol::FrameEvent& event);
  [[nodiscard]] std::uint64_t file_size() const { return file_size_; }
  [[nodiscard]] std::uint64_t bytes_read() const;
  // After the end: a truncated tail or a corrupt record of a recording ("" when clean).
  [[nodiscard]] std::string problem() const;
  [[nodiscard]] bool corrupt() const;
  [[nodiscard]] const import::ImportedFile* imported() const { return imported_.get(); }

 private:
  std::unique_ptr<record::RecordingReader> recording_;
  std::unique_ptr<import::ImportedFile> imported_;
  std::string device_name_;
  std::uint64_t file_size_ = 0;
};

// An imported file's annotation as the store keeps it: a NOTE at the file's start + onset, with
// an id derived from the file's session and the annotation (replaying again upserts it).
[[nodiscard]] proto::Annotation stored_annotation(const import::ImportedFile& file,
                                                  const import::Annotation& a);

}  // namespace spasmwatch::app
