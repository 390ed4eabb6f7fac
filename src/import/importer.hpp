// Import: a foreign recording (EDF/EDF+/BDF/BDF+, CSV, BioSPPy text) as the FrameEvents a
// device would have produced, so `spasmwatch replay` (and export, and eval) run it through the
// very same DeviceAssembler and DevicePipeline as spasmwatchd runs a live device or a native
// recording. The next(FrameEvent&) loop mirrors record::RecordingReader.
//
// What comes out (src/import/IMPORT.md has the reasons):
//  - one Hello: device name and id from the options (default: the file name without extension),
//    body site from --site, a session id hashed from the file's content (replaying the same file
//    twice gives the same event ids), one StreamInfo per group of mapped signals;
//  - SampleBlocks of at most 0.25 s per stream, interleaved in time across streams, sample
//    indices counted from the file's first sample (EDF+D gaps and CSV time jumps are gaps);
//    device time = sample index / rate, host time = the file's start time + device time of the
//    block's last sample, so the clock fit maps device time to the file's own clock exactly.
// Signals are mapped to streams by the options (--emg, --acc: labels or indices) or, without
// them, by label, transducer and unit. EMG values become integer counts of a common quantum in µV,
// accelerometer values counts of a quantum in g (the smallest of the channels' resolutions, so
// nothing is lost); the notes() say every decision taken.
//
// Thread rules: one thread per ImportedFile.
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "device.pb.h"
#include "import/csv_source.hpp"
#include "import/signal_source.hpp"
#include "protocol/message_codec.hpp"

namespace spasmwatch::import {

enum class FileFormat { detect, recording, edf, csv };

struct ImportOptions {
  FileFormat format = FileFormat::detect;
  std::vector<std::string> emg;    // signal labels or indices (EDF: signal number from 0; CSV: column from 0)
  std::vector<std::string> acc;    // x, y, z in this order
  std::string site;                // "calf", "calf-left", "neck/right"
  std::string device;              // device name (default: file name without extension)
  std::string emg_unit, acc_unit;  // override the file's units ("uV", "mV", "V"; "g", "mg", "m/s^2")
  double emg_scale = 1, acc_scale = 1;       // physical = file value * scale (e.g. ADC counts to µV)
  std::optional<std::int64_t> start_utc_ns;  // override the file's start (CSV has none)
  CsvOptions csv;
};

// The format from the first bytes: a native recording (magic), EDF/BDF (version field), else
// text (CSV or BioSPPy text). Throws ImportError when the file cannot be read.
[[nodiscard]] FileFormat detect_format(const std::string& path);
[[nodiscard]] FileFormat parse_format(const std::string& name);  // "edf", "bdf", "csv", "text", "swr"; throws

class ImportedFile {
 public:
  // Opens, checks and maps the file. Throws ImportError naming the file and the problem.
  static std::unique_ptr<ImportedFile> open(const std::string& path, const ImportOptions& options);
  // The same on an already opened source (tests, fuzzing). `file_name` names it in messages.
  static std::unique_ptr<ImportedFile> from_source(std::unique_ptr<SignalSource> source,
                                                   const std::string& file_name,
                                                   const ImportOptions& options);

  [[nodiscard]] const std::string& device_name() const { return device_name_; }
  [[nodiscard]] const proto::Hello& hello() const { return hello_; }
  [[nodiscard]] const SignalSource& source() const { return *source_; }
  [[nodiscard]] const std::vector<std::string>& notes() const { return notes_; }
  [[nodiscard]] std::int64_t start_utc_ns() const { return start_utc_ns_; }
  // Annotations of the file with their host UTC times.
  [[nodiscard]] const std::vector<Annotation>& annotations() const { return source_->annotations(); }

  // The next FrameEvent (a Hello first, then sample blocks); false at the end. `event.message`
  // points into this object and stays valid until the next call. Throws ImportError.
  bool next(protocol::FrameEvent& event);
  [[nodiscard]] double progress() const { return source_->progress(); }
  [[nodiscard]] std::uint64_t samples() const { return samples_; }  // values handed out so far

 private:
  struct Channel {
    std::size_t signal = 0;
    double factor = 1;  // file digital value -> stream counts
    double add = 0;
    bool exact = false;  // factor 1 and add integral: counts = digital + add
  };
  struct Stream {
    std::uint32_t stream_id = 0;
    double rate_hz = 0;
    std::vector<Channel> channels;
    std::uint32_t sequence = 0;
    std::size_t position = 0;  // time points of the current chunk already sent
  };

  ImportedFile() = default;
  void plan(const ImportOptions& options, const std::string& file_name);
  bool next_window();

  std::unique_ptr<SignalSource> source_;
  std::string name_;
  std::string device_name_;
  proto::Hello hello_;
  std::vector<Stream> streams_;
  std::vector<std::string> notes_;
  std::int64_t start_utc_ns_ = 0;
  Chunk chunk_;
  bool hello_sent_ = false;
  bool chunk_valid_ = false;
  bool done_ = false;
  std::uint64_t window_ = 0;     // index of the current 0.25 s window within the chunk
  std::size_t next_stream_ = 0;  // next stream to send in the current window
  proto::DeviceMessage message_;
  std::uint64_t samples_ = 0;
};

}  // namespace spasmwatch::import
