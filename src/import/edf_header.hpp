// EDF / EDF+ / BDF / BDF+ header and annotation (TAL) parsing: pure functions on bytes, no files.
// They check every field against the specification and against the file's size, so a truncated
// file, a lying record count or a bad size is refused with an error naming the field, before
// EDFlib or our own record reader touches the data (and they are fuzzed on their own:
// tests/fuzz/fuzz_edf_header.cpp).
//
// Times are kept as integers in EDFlib's unit of 100 ns, so onsets written with 7 decimals
// survive exactly.
#pragma once

#include <cstddef>
#include <cstdint>
#include <span>
#include <string>
#include <string_view>
#include <vector>

namespace spasmwatch::import {

inline constexpr std::int64_t kTicksPerSecond = 10'000'000;  // 100 ns ticks, as EDFlib
inline constexpr std::size_t kEdfMaxSignals = 640;           // EDFlib's limit
inline constexpr std::size_t kEdfMaxRecordBytes = 15 * 1024 * 1024;
// Record onsets and annotation times are refused beyond this (100 years of 365.25 days): far
// enough for any recording, near enough that ticks x samples per record and ticks x 100 (ns)
// plus a start time stay inside 64 bits when computed with overflow checks.
inline constexpr std::int64_t kEdfMaxOnsetTicks = 3'155'760'000 * kTicksPerSecond;

struct EdfSignal {
  std::string label;  // trailing spaces removed
  std::string transducer;
  std::string unit;  // "physical dimension"
  std::string prefilter;
  double phys_min = 0, phys_max = 0;
  std::int32_t dig_min = 0, dig_max = 0;
  std::uint32_t samples_per_record = 0;
  bool annotation = false;           // an "EDF Annotations" / "BDF Annotations" signal
  std::size_t offset_in_record = 0;  // bytes from the start of a data record

  // physical = digital * gain() + offset()
  [[nodiscard]] double gain() const {
    return (phys_max - phys_min) / (static_cast<double>(dig_max) - dig_min);
  }
  [[nodiscard]] double offset() const { return phys_max - gain() * dig_max; }
};

struct EdfHeader {
  bool bdf = false;            // 24-bit samples
  bool plus = false;           // EDF+ / BDF+
  bool discontinuous = false;  // EDF+D / BDF+D
  std::string patient, recording;
  int year = 0, month = 0, day = 0, hour = 0, minute = 0, second = 0;
  std::int64_t start_utc_s = 0;  // the header's start date and time, read as UTC, whole seconds
  std::size_t header_bytes = 0;
  std::int64_t records = 0;       // data records in the file (from the size when the header says -1)
  std::int64_t record_ticks = 0;  // duration of a data record, 100 ns ticks (0 for annotation-only files)
  std::size_t record_bytes = 0;
  std::size_t bytes_per_sample = 2;
  std::vector<EdfSignal> signals;  // every signal, annotation signals included, in file order

  [[nodiscard]] std::string type_name() const;  // "EDF+C", "BDF", ...
  // Sample rate of signal i (samples per record / record duration); 0 for annotation-only files.
  [[nodiscard]] double rate_hz(std::size_t i) const;
};

// Size of the header the first 256 bytes announce (256 * (signals + 1)); throws ImportError
// naming `name` when those bytes are not an EDF/BDF header start.
[[nodiscard]] std::size_t edf_header_size(std::span<const std::uint8_t> first_256, const std::string& name);

// Parses and checks the whole header (`header` holds at least edf_header_size() bytes) against
// `file_size`. Throws ImportError naming `name` and the problem.
[[nodiscard]] EdfHeader parse_edf_header(std::span<const std::uint8_t> header, std::uint64_t file_size,
                                         const std::string& name);

struct EdfAnnotation {
  std::int64_t onset_ticks = 0;      // from the header's start second (raw TAL onset)
  std::int64_t duration_ticks = -1;  // -1: none given
  std::string text;                  // UTF-8
};

// One data record's annotation signal bytes: appends its annotations to `out` and returns the
// record's time-keeping onset (the first TAL's onset, in ticks from the header's start second).
// Throws ImportError (naming `name` and `record`) on a malformed TAL.
std::int64_t parse_tals(std::span<const std::uint8_t> bytes, std::vector<EdfAnnotation>& out,
                        const std::string& name, std::int64_t record);

// "+12.3456789" / "-0.5" / "600" (TAL onset and duration syntax) to ticks; false when malformed
// or longer than 11 integer digits (12 would overflow 64-bit ticks).
[[nodiscard]] bool parse_tal_time(std::string_view text, bool sign_required, std::int64_t& ticks);

}  // namespace spasmwatch::import
