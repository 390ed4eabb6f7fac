// Delimited text as a SignalSource: CSV with a header row, headerless numeric CSV (as many
// research datasets ship, e.g. the Myo armband files), and BioSPPy's "Simple Text Format"
// ('#' header lines with "Sampling Rate (Hz):=", "Labels:=", "Units:=", then one time point a
// line, tab separated).
//
// Every column is a signal (labels from the header row, the BioSPPy labels, or "col0", "col1",
// ... without a header). Only the columns select() names are parsed, so text columns elsewhere do
// no harm. Numbers keep their decimal resolution: a column's digital unit is 10^-d of its value,
// d being the most decimals seen in the first 1000 rows (at most 9, fewer for large values); a
// later value that does not fit that int32 is an error naming it.
//
// Time: a time column in seconds (its name or index in CsvOptions::time_column; by default a
// column named time, t, time_s, seconds or timestamp) or a fixed rate (CsvOptions::rate_hz, or
// the BioSPPy header). With a time column the rate is the given one or 1 / the median step of the
// first 1000 rows, each row's sample index is round((t - t0) * rate), and a jump is a gap. Times
// must increase.
//
// Errors (ImportError) name the file, the line and the column: "x.csv:17: column 3 (index 2,
// 'emg2'): 'abc' is not a number".
//
// Thread rules: one thread per source.
#pragma once

#include <istream>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "import/signal_source.hpp"

namespace spasmwatch::import {

enum class CsvHeader { detect, yes, no };

struct CsvOptions {
  std::optional<double> rate_hz;
  std::string time_column;  // name or 0-based index; empty: find one by name
  CsvHeader header = CsvHeader::detect;
  char delimiter = 0;  // 0: detect (',', ';', tab, or runs of spaces)
  std::size_t chunk_rows = 4096;
};

class CsvSource final : public SignalSource {
 public:
  // `in` must be seekable (the first rows are read twice). `name` is used in messages.
  // Throws ImportError.
  CsvSource(std::unique_ptr<std::istream> in, std::string name, const CsvOptions& options);
  static std::unique_ptr<CsvSource> open(const std::string& path, const CsvOptions& options);

  [[nodiscard]] const std::vector<SignalInfo>& signals() const override { return signals_; }
  [[nodiscard]] const std::vector<Annotation>& annotations() const override { return annotations_; }
  [[nodiscard]] std::int64_t start_utc_ns() const override { return 0; }
  [[nodiscard]] std::string format_name() const override { return biosppy_ ? "BioSPPy text" : "CSV"; }
  [[nodiscard]] std::string identity() const override { return identity_; }
  // Which signals to parse (the others are skipped unread). Must be called before next();
  // throws ImportError when a selected column is the time column.
  void select(const std::vector<bool>& used) override;
  bool next(Chunk& chunk) override;
  [[nodiscard]] double progress() const override;

  [[nodiscard]] std::optional<std::size_t> time_column() const { return time_column_; }

 private:
  bool read_line(std::string& line);
  void split(const std::string& line);
  [[nodiscard]] std::string where(std::size_t column) const;
  void analyse();

  std::unique_ptr<std::istream> in_;
  std::string name_;
  CsvOptions options_;
  bool biosppy_ = false;
  std::vector<SignalInfo> signals_;     // every column except the time column
  std::vector<std::size_t> column_of_;  // signal -> column
  std::vector<int> decimals_;           // per signal
  std::vector<bool> used_;
  std::vector<Annotation> annotations_;
  std::optional<std::size_t> time_column_;
  std::size_t columns_ = 0;
  double rate_hz_ = 0;
  std::string identity_;
  std::uint64_t size_ = 0;
  std::streampos data_start_{};
  std::uint64_t data_start_line_ = 0;
  std::uint64_t line_no_ = 0;
  std::string line_;
  std::vector<std::string_view> cells_;
  bool first_row_ = true;
  double t0_ = 0;
  std::int64_t last_index_ = -1;
  double last_time_ = 0;
  bool pending_ = false;  // line_ holds a row not yet consumed (it starts the next chunk)
  std::uint64_t consumed_bytes_ = 0;
};

// Parses a decimal number ("12", "-0.25", "1e-3"); false when the cell is not one.
[[nodiscard]] bool parse_number(std::string_view cell, double& value);

}  // namespace spasmwatch::import
