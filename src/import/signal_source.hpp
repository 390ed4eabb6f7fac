// What every foreign file becomes before it is mapped onto spasmwatch streams: a set of signals
// (label, unit, rate, integer samples and their scale) with annotations, read chunk by chunk.
// EDF/BDF (edf_file.hpp) and CSV / BioSPPy text (csv_source.hpp) implement it; the importer
// (importer.hpp) maps its signals to EMG and accelerometer streams and turns chunks into the
// SampleBlocks replay feeds to the stream assembler.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "import/import_error.hpp"

namespace spasmwatch::import {

struct SignalInfo {
  std::size_t index = 0;  // how a user names it by number: EDF signal (annotations excluded) or CSV column
  std::string label;
  std::string transducer;
  std::string unit;  // as the file spells it ("uV", "µV", "mV", "g", "m/s^2", ...); may be empty
  double rate_hz = 0;
  double gain = 1;  // physical = digital * gain + offset, in `unit`
  double offset = 0;
  std::uint64_t samples = 0;  // in the file (0 when unknown before reading, as in CSV)
};

struct Annotation {
  std::int64_t onset_ticks = 0;      // 100 ns ticks from the first sample (the file's start time)
  std::int64_t duration_ticks = -1;  // -1: none
  std::string text;                  // UTF-8
};

// The UTC (ns) of `ticks` (100 ns) after `start_utc_ns`, overflow-checked: throws ImportError
// when it does not fit 64 bits (sources keep times within 100 years, so only a corrupt file or
// an absurd --start gets there).
[[nodiscard]] inline std::int64_t utc_ns_after(std::int64_t start_utc_ns, std::int64_t ticks) {
  std::int64_t ns = 0, utc_ns = 0;
  if (__builtin_mul_overflow(ticks, std::int64_t{100}, &ns) ||
      __builtin_add_overflow(start_utc_ns, ns, &utc_ns)) {
    throw ImportError("time " + std::to_string(ticks / 10'000'000) + " s after " +
                      std::to_string(start_utc_ns / 1'000'000'000) + " s since 1970 is out of range");
  }
  return utc_ns;
}

// One piece of the file: for each signal, digital values starting at its own sample index
// (indices count samples from the file's start at the signal's rate; a jump is a gap).
struct Chunk {
  std::vector<std::uint64_t> first_index;
  std::vector<std::vector<std::int32_t>> values;  // capacity is reused from chunk to chunk
};

class SignalSource {
 public:
  virtual ~SignalSource() = default;
  [[nodiscard]] virtual const std::vector<SignalInfo>& signals() const = 0;
  [[nodiscard]] virtual const std::vector<Annotation>& annotations() const = 0;
  [[nodiscard]] virtual std::int64_t start_utc_ns() const = 0;  // 0 when the file has no start time
  [[nodiscard]] virtual std::string format_name() const = 0;    // "EDF+C", "BDF", "CSV", ...
  // A short text that identifies this file's content (for stable session ids).
  [[nodiscard]] virtual std::string identity() const = 0;
  // Which signals the caller will use (one flag per signal); the others may be skipped unread
  // and come back empty. Call before the first next().
  virtual void select(const std::vector<bool>& used) = 0;
  // Fills the next chunk; false at the end. Throws ImportError on unreadable data.
  virtual bool next(Chunk& chunk) = 0;
  // Share of the file read so far, 0..1.
  [[nodiscard]] virtual double progress() const = 0;
};

}  // namespace spasmwatch::import
