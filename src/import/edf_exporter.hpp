// EDF+ / BDF+ export: a SampleSink that writes the streams a DeviceAssembler hands out (from a
// native recording or an imported file) into an EDF+ file through EDFlib, with annotations
// (detected events, the user's annotations, gaps) as EDF+ annotations that EDFbrowser and MNE
// show on the signals.
//
// Two passes over the same input, because an EDF header must know everything before the first
// sample: pass 1 (scan) learns the streams, their extent and value range; plan() then fixes the
// time range, EDF or BDF (BDF+ when a value needs more than 16 bits), the data record duration
// (the shortest of 1, 0.5, 0.25, 0.2, 0.1, ... s or 2, 4, 5, 10 s that holds a whole number of
// samples of every stream), and the file's start (the first EMG sample in the range, its UTC from
// the assembler's clock fit, rounded to 100 µs); pass 2 (write) writes data records as samples
// arrive. Gaps are written as zeros and marked by a "gap" annotation; the last record is padded
// with zeros.
//
// File time: an event's onset in the file is its device time minus the file's start device time
// (exact to the sample), or, for annotations that only have UTC, UTC minus the file's start UTC.
//
// Thread rules: one thread. EDFlib's open and close are not thread-safe.
#pragma once

#include <cstdint>
#include <limits>
#include <string>
#include <vector>

#include "device.pb.h"
#include "ingest/clock_estimator.hpp"
#include "ingest/stream_assembler.hpp"

namespace spasmwatch::import {

struct ExportAnnotation {
  double onset_s = 0;      // seconds from the file's start
  double duration_s = -1;  // -1: none
  std::string text;        // UTF-8; EDFlib keeps at most 40 bytes of it
};

class EdfExporter final : public ingest::SampleSink {
 public:
  explicit EdfExporter(std::string path);
  ~EdfExporter() override;
  EdfExporter(const EdfExporter&) = delete;
  EdfExporter& operator=(const EdfExporter&) = delete;

  // Host UTC range to export (default: everything).
  void set_range_utc(std::int64_t from_utc_ns, std::int64_t to_utc_ns);

  void on_hello(const proto::Hello& hello, bool new_session) override;
  void on_samples(const ingest::StreamView& stream, std::uint64_t first_index, std::uint64_t device_time_us,
                  std::span<const std::int32_t> interleaved) override;
  void on_gap(const ingest::StreamView& stream, std::uint64_t first_index,
              std::uint64_t time_points) override;

  // After pass 1, with the clock fit of pass 1's assembler (device time to UTC): decides the
  // layout. Throws ImportError naming the output and the problem.
  void plan(const ingest::ClockEstimator& clock);
  [[nodiscard]] bool bdf() const { return bdf_; }
  [[nodiscard]] double record_duration_s() const { return record_s_; }
  [[nodiscard]] std::int64_t records() const { return records_; }
  [[nodiscard]] std::int64_t start_utc_ns() const { return start_utc_ns_; }
  [[nodiscard]] double duration_s() const { return static_cast<double>(records_) * record_s_; }
  // Seconds from the file's start of a device time (seconds since the session start) or a UTC time.
  [[nodiscard]] double file_seconds_of_device(double device_s) const;
  [[nodiscard]] double file_seconds_of_utc(std::int64_t utc_ns) const;
  [[nodiscard]] const proto::Hello& hello() const { return hello_; }
  [[nodiscard]] const std::vector<std::string>& notes() const { return notes_; }

  // Annotations to write (outside [0, duration] they are dropped). Before open().
  void add_annotation(ExportAnnotation annotation);
  // Starts pass 2: creates "<output>.part" (owner-only) and sets its header; the output itself is
  // not touched before finish().
  void open();
  // End of pass 2: pads, writes the annotations, closes, writes the physical ranges into the
  // header exactly (EDFlib's writer truncates them to 8 characters), syncs and renames the .part
  // to the output. Throws ImportError; the .part is removed when finish() fails or is never
  // called (the exporter destroyed after a failure in pass 2).
  void finish();

 private:
  struct Channel {
    std::string label;
    std::string unit;
    double scale = 1, offset = 0;
    bool emg = false;
    std::int64_t min = std::numeric_limits<std::int64_t>::max(),
                 max = std::numeric_limits<std::int64_t>::min();
    // pass 2: the header's digital range and its physical values as written
    std::int32_t dig_min = 0, dig_max = 0;
    double requantize = 1;  // values x this (when the scale had no exact header)
    std::string phys_min, phys_max;
  };
  struct Stream {
    std::uint32_t stream_id = 0;
    std::string name;
    double rate_hz = 0;
    std::vector<Channel> channels;
    bool seen = false;
    std::uint64_t first_index = 0, end_index = 0;  // pass 1: extent
    // pass 2
    std::uint64_t start_index = 0;         // sample index at the file's time 0
    std::uint32_t per_record = 0;          // samples a data record
    int shift = 0;                         // right shift of values that do not fit 24 bits (lossy)
    std::vector<std::vector<int>> buffer;  // per channel, values from `buffered_from`
    std::uint64_t buffered_from = 0;       // sample index of buffer[c][0]
    std::size_t read = 0;
  };
  Stream* find(std::uint32_t stream_id);
  void append(Stream& s, std::uint64_t first_index, std::span<const std::int32_t> interleaved, bool zeros,
              std::uint64_t time_points);
  void flush(bool pad);
  [[nodiscard]] std::uint64_t utc_to_index(std::int64_t utc_ns, const Stream& s) const;

  void patch_physical_ranges();
  void discard() noexcept;  // closes and removes an unfinished .part

  std::string path_;
  std::string part_path_;      // path_ + ".part", written by pass 2
  bool part_created_ = false;  // the .part exists and is not yet renamed
  std::int64_t from_utc_ns_ = std::numeric_limits<std::int64_t>::min();
  std::int64_t to_utc_ns_ = std::numeric_limits<std::int64_t>::max();
  proto::Hello hello_;
  bool have_session_ = false;
  bool session_ended_ = false;
  bool writing_ = false;
  std::vector<Stream> streams_;
  std::uint64_t session_start_device_us_ = 0;
  bool session_start_known_ = false;
  bool session_start_from_emg_ = false;
  int sessions_ = 0;
  std::vector<std::pair<double, double>> gaps_s_;  // device seconds: start, duration
  std::vector<ExportAnnotation> annotations_;
  std::vector<std::string> notes_;
  bool bdf_ = false;
  double record_s_ = 1;
  std::int64_t records_ = 0;
  std::int64_t written_records_ = 0;
  double start_device_s_ = 0;
  std::int64_t start_utc_ns_ = 0;
  double start_rounding_s_ = 0;  // exact UTC of the start device time minus the rounded start
  int handle_ = -1;
  std::vector<int> record_buffer_;
};

}  // namespace spasmwatch::import
