// An EDF, EDF+, BDF or BDF+ file as a SignalSource.
//
// The header is first checked by our own parser (edf_header.hpp: sizes, record count against the
// file size, every numeric field), then:
//  - continuous files (EDF, EDF+C, BDF, BDF+C) are read through EDFlib (libedf): header, samples
//    and annotations; EDFlib's view is cross-checked against ours;
//  - discontinuous files (EDF+D, BDF+D), which EDFlib refuses, are read by our own record reader:
//    each data record's time-keeping TAL gives its onset, so the gaps between records become
//    gaps in the sample indices.
// Annotation onsets are given from the first sample (the EDF+ sub-second start is part of
// start_utc_ns). Annotation signals are not signals here.
//
// Thread rules: one thread per file (EDFlib's open and close are not thread-safe at all: open
// files from one thread).
#pragma once

#include <cstdio>
#include <memory>
#include <string>
#include <vector>

#include "import/edf_header.hpp"
#include "import/signal_source.hpp"

namespace spasmwatch::import {

// Where EDFlib's view of a data signal disagrees with our header parser's ("" when they agree):
// the cross-check open() makes on continuous files (a disagreement is an error, never a silent
// wrong read).
[[nodiscard]] std::string edflib_disagreement(const EdfSignal& ours, long long edflib_samples_per_record,
                                              long long edflib_dig_min, long long edflib_dig_max);

// At most this many samples of one signal in a chunk (unless one data record holds more).
inline constexpr std::int64_t kEdfMaxChunkSamples = std::int64_t{1} << 20;

class EdfFile final : public SignalSource {
 public:
  // Throws ImportError naming the file and the problem.
  static std::unique_ptr<EdfFile> open(const std::string& path);
  ~EdfFile() override;
  EdfFile(const EdfFile&) = delete;
  EdfFile& operator=(const EdfFile&) = delete;

  [[nodiscard]] const EdfHeader& header() const { return header_; }
  [[nodiscard]] const std::vector<SignalInfo>& signals() const override { return signals_; }
  [[nodiscard]] const std::vector<Annotation>& annotations() const override { return annotations_; }
  [[nodiscard]] std::int64_t start_utc_ns() const override { return start_utc_ns_; }
  [[nodiscard]] std::string format_name() const override { return header_.type_name(); }
  [[nodiscard]] std::string identity() const override { return identity_; }
  void select(const std::vector<bool>& used) override { used_ = used; }
  bool next(Chunk& chunk) override;
  [[nodiscard]] double progress() const override;

  // Records read per chunk: about 1 s of data, at most kEdfMaxChunkSamples of any signal, at
  // least one record.
  [[nodiscard]] std::int64_t records_per_chunk() const { return records_per_chunk_; }

 private:
  explicit EdfFile(std::string path);
  void open_with_edflib();
  void scan_discontinuous();
  void read_records_directly(std::int64_t first, std::int64_t count, Chunk& chunk);
  void read_record(std::int64_t r);  // data record r (from 0) into record_buffer_, or throws

  std::string path_;
  EdfHeader header_;
  std::vector<std::size_t> data_signals_;  // indices into header_.signals
  std::vector<bool> used_;                 // per data signal; empty: all
  std::vector<SignalInfo> signals_;
  std::vector<Annotation> annotations_;
  std::int64_t start_utc_ns_ = 0;
  std::string identity_;
  int handle_ = -1;                          // EDFlib handle (continuous files)
  std::FILE* file_ = nullptr;                // own reader (discontinuous files)
  std::vector<std::int64_t> record_onsets_;  // ticks from the first sample (discontinuous files)
  std::vector<std::uint8_t> record_buffer_;
  std::int64_t next_record_ = 0;
  std::int64_t records_per_chunk_ = 1;
};

}  // namespace spasmwatch::import
