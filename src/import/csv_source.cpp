#include "import/csv_source.hpp"

#include <algorithm>
#include <charconv>
#include <cmath>
#include <fstream>
#include <limits>
#include <sstream>

#include "import/import_error.hpp"

namespace spasmwatch::import {

namespace {

constexpr std::size_t kAnalysedRows = 1000;
constexpr int kMaxDecimals = 9;
constexpr double kPow10[] = {1, 1e1, 1e2, 1e3, 1e4, 1e5, 1e6, 1e7, 1e8, 1e9};

std::string_view trim(std::string_view text) {
  while (!text.empty() && (text.back() == ' ' || text.back() == '\t' || text.back() == '\r'))
    text.remove_suffix(1);
  while (!text.empty() && (text.front() == ' ' || text.front() == '\t')) text.remove_prefix(1);
  if (text.size() >= 2 && text.front() == '"' && text.back() == '"') text = text.substr(1, text.size() - 2);
  return text;
}

std::string lower(std::string_view text) {
  std::string out(text);
  for (auto& c : out) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return out;
}

// Decimals a cell needs to be kept exactly ("0.125" 3, "1e-3" 3, "12" 0).
int decimals_of(std::string_view cell) {
  const auto e = cell.find_first_of("eE");
  const auto mantissa = cell.substr(0, e);
  const auto dot = mantissa.find('.');
  int d = dot == std::string_view::npos ? 0 : static_cast<int>(mantissa.size() - dot - 1);
  if (e != std::string_view::npos) {
    int exponent = 0;
    auto exp_text = cell.substr(e + 1);
    if (!exp_text.empty() && exp_text.front() == '+') exp_text.remove_prefix(1);
    std::from_chars(exp_text.data(), exp_text.data() + exp_text.size(), exponent);
    d -= std::clamp(exponent, -100, 100);
  }
  return std::clamp(d, 0, kMaxDecimals);
}

std::string shown(std::string_view text) {
  std::string out(text.substr(0, 40));
  for (auto& c : out) {
    if (static_cast<unsigned char>(c) < 32) c = '?';
  }
  return "'" + out + (text.size() > 40 ? "...'" : "'");
}

}  // namespace

bool parse_number(std::string_view cell, double& value) {
  if (!cell.empty() && cell.front() == '+') cell.remove_prefix(1);
  if (cell.empty()) return false;
  const auto [end, ec] = std::from_chars(cell.data(), cell.data() + cell.size(), value);
  return ec == std::errc{} && end == cell.data() + cell.size() && std::isfinite(value);
}

std::unique_ptr<CsvSource> CsvSource::open(const std::string& path, const CsvOptions& options) {
  auto in = std::make_unique<std::ifstream>(path, std::ios::binary);
  if (!*in) throw ImportError(path + ": cannot open");
  return std::make_unique<CsvSource>(std::move(in), path, options);
}

CsvSource::CsvSource(std::unique_ptr<std::istream> in, std::string name, const CsvOptions& options)
    : in_(std::move(in)), name_(std::move(name)), options_(options) {
  in_->seekg(0, std::ios::end);
  const auto end = in_->tellg();
  size_ = end > 0 ? static_cast<std::uint64_t>(end) : 0;
  in_->seekg(0);
  if (options_.chunk_rows == 0) options_.chunk_rows = 1;

  // '#' lines before the data: comments, or BioSPPy's "# Key:= value" metadata.
  std::vector<std::string> labels;
  std::string units;
  std::optional<double> header_rate;
  std::string line;
  std::streampos at = in_->tellg();
  while (true) {
    at = in_->tellg();
    if (!read_line(line)) throw ImportError(name_ + ": no data rows");
    if (line_no_ == 1 && line.starts_with("\xEF\xBB\xBF")) {
      // A UTF-8 BOM: skipped here and, should this line be data, when it is read again.
      line.erase(0, 3);
      at += 3;
    }
    const auto text = trim(line);
    if (text.empty()) continue;
    if (text.front() != '#') break;
    if (line_no_ == 1 && text.find("Simple Text Format") != std::string_view::npos) biosppy_ = true;
    const auto mark = text.find(":=");
    if (mark == std::string_view::npos) continue;
    const auto key = lower(trim(text.substr(1, mark - 1)));
    const auto value = trim(text.substr(mark + 2));
    if (key.starts_with("sampling rate")) {
      double rate = 0;
      if (!parse_number(value, rate) || !(rate > 0)) {
        throw ImportError(name_ + ":" + std::to_string(line_no_) + ": sampling rate " + shown(value) +
                          " is not a positive number");
      }
      header_rate = rate;
    } else if (key == "labels") {
      std::string_view rest = value;
      while (!rest.empty()) {
        const auto cut = rest.find_first_of("\t,");
        labels.emplace_back(trim(rest.substr(0, cut)));
        if (cut == std::string_view::npos) break;
        rest = rest.substr(cut + 1);
      }
    } else if (key == "units") {
      units = std::string(value);
    }
  }
  identity_ = name_.substr(name_.find_last_of('/') + 1) + "/" + std::to_string(size_) + "/" + line;

  // Delimiter: the most frequent of , ; tab in the first data (or header) line, else blanks.
  char delimiter = options_.delimiter;
  if (delimiter == 0) {
    std::size_t best = 0;
    delimiter = ' ';
    for (const char c : {',', ';', '\t'}) {
      const auto n = static_cast<std::size_t>(std::count(line.begin(), line.end(), c));
      if (n > best) {
        best = n;
        delimiter = c;
      }
    }
  }
  options_.delimiter = delimiter;
  split(line);
  columns_ = cells_.size();
  bool has_header = options_.header == CsvHeader::yes;
  if (options_.header == CsvHeader::detect) {
    double v = 0;
    has_header =
        std::any_of(cells_.begin(), cells_.end(), [&](std::string_view c) { return !parse_number(c, v); });
  }
  std::vector<std::string> names(columns_);
  for (std::size_t c = 0; c < columns_; ++c) {
    if (has_header) {
      names[c] = std::string(cells_[c]);
    } else if (labels.size() == columns_) {
      names[c] = labels[c];
    } else {
      names[c] = "col" + std::to_string(c);
    }
  }
  if (has_header) {
    data_start_ = in_->tellg();
    data_start_line_ = line_no_ + 1;
  } else {
    data_start_ = at;
    data_start_line_ = line_no_;
  }

  // The time column.
  if (!options_.time_column.empty()) {
    std::size_t index = 0;
    const auto& tc = options_.time_column;
    const auto [p, ec] = std::from_chars(tc.data(), tc.data() + tc.size(), index);
    if (ec == std::errc{} && p == tc.data() + tc.size()) {
      if (index >= columns_) {
        throw ImportError(name_ + ": time column index " + tc + " is out of range (the file has " +
                          std::to_string(columns_) + " columns, indices 0.." + std::to_string(columns_ - 1) +
                          ")");
      }
      time_column_ = index;
    } else {
      for (std::size_t c = 0; c < columns_; ++c) {
        if (lower(names[c]) == lower(tc)) time_column_ = c;
      }
      if (!time_column_) throw ImportError(name_ + ": no column named '" + tc + "' for the time");
    }
  } else if (has_header) {
    for (std::size_t c = 0; c < columns_ && !time_column_; ++c) {
      const auto n = lower(names[c]);
      if (n == "time" || n == "t" || n == "time_s" || n == "time (s)" || n == "seconds" || n == "timestamp") {
        time_column_ = c;
      }
    }
  }
  for (std::size_t c = 0; c < columns_; ++c) {
    if (time_column_ && c == *time_column_) continue;
    SignalInfo info;
    info.index = c;
    info.label = names[c];
    info.unit = units;
    signals_.push_back(info);
    column_of_.push_back(c);
  }
  decimals_.assign(signals_.size(), 0);
  used_.assign(signals_.size(), false);
  if (options_.rate_hz) rate_hz_ = *options_.rate_hz;
  if (rate_hz_ == 0 && header_rate) rate_hz_ = *header_rate;
  analyse();
  for (std::size_t s = 0; s < signals_.size(); ++s) {
    signals_[s].rate_hz = rate_hz_;
    signals_[s].gain = 1.0 / kPow10[decimals_[s]];
  }
}

bool CsvSource::read_line(std::string& line) {
  if (!std::getline(*in_, line)) return false;
  ++line_no_;
  if (!line.empty() && line.back() == '\r') line.pop_back();
  return true;
}

void CsvSource::split(const std::string& line) {
  cells_.clear();
  std::string_view rest = line;
  if (options_.delimiter == ' ') {
    // Runs of blanks separate cells.
    rest = trim(rest);
    while (!rest.empty()) {
      const auto cut = rest.find_first_of(" \t");
      cells_.push_back(rest.substr(0, cut));
      if (cut == std::string_view::npos) break;
      rest = trim(rest.substr(cut));
    }
    return;
  }
  while (true) {
    const auto cut = rest.find(options_.delimiter);
    cells_.push_back(trim(rest.substr(0, cut)));
    if (cut == std::string_view::npos) break;
    rest = rest.substr(cut + 1);
  }
}

std::string CsvSource::where(std::size_t column) const {
  std::string text = name_ + ":" + std::to_string(line_no_) + ": column " + std::to_string(column + 1) +
                     " (index " + std::to_string(column);
  for (std::size_t s = 0; s < column_of_.size(); ++s) {
    if (column_of_[s] == column) text += ", '" + signals_[s].label + "'";
  }
  if (time_column_ && column == *time_column_) text += ", time";
  return text + ")";
}

void CsvSource::analyse() {
  // The first rows fix each column's decimals (and, with a time column, the rate).
  std::vector<double> max_abs(signals_.size(), 0);
  std::vector<double> steps;
  double last_t = 0;
  std::size_t rows = 0;
  std::string line;
  while (rows < kAnalysedRows && read_line(line)) {
    split(line);
    if (cells_.size() == 1 && cells_[0].empty()) continue;
    if (cells_.size() != columns_) continue;  // reported with its line when read
    ++rows;
    for (std::size_t s = 0; s < signals_.size(); ++s) {
      const auto cell = cells_[column_of_[s]];
      double v = 0;
      if (!parse_number(cell, v)) continue;
      decimals_[s] = std::max(decimals_[s], decimals_of(cell));
      max_abs[s] = std::max(max_abs[s], std::abs(v));
    }
    if (time_column_) {
      double t = 0;
      if (parse_number(cells_[*time_column_], t)) {
        if (rows > 1 && t > last_t) steps.push_back(t - last_t);
        last_t = t;
      }
    }
  }
  for (std::size_t s = 0; s < signals_.size(); ++s) {
    // Leave headroom (x4) above the largest value seen for what comes later.
    while (decimals_[s] > 0 &&
           max_abs[s] * 4 * kPow10[decimals_[s]] > std::numeric_limits<std::int32_t>::max()) {
      --decimals_[s];
    }
  }
  if (rate_hz_ == 0 && time_column_) {
    if (steps.empty())
      throw ImportError(
          name_ + ": cannot tell the rate from the time column (no increasing times in the first rows)");
    std::nth_element(steps.begin(), steps.begin() + static_cast<std::ptrdiff_t>(steps.size() / 2),
                     steps.end());
    rate_hz_ = 1.0 / steps[steps.size() / 2];
  }
  if (!(rate_hz_ > 0) || !std::isfinite(rate_hz_) || rate_hz_ > 1e6) {
    if (rate_hz_ == 0) {
      throw ImportError(name_ +
                        ": no time column and no sample rate: give the rate (--rate HZ) or the time column "
                        "(--time-column NAME)");
    }
    throw ImportError(name_ + ": sample rate " + std::to_string(rate_hz_) + " Hz is out of range");
  }
  in_->clear();
  in_->seekg(data_start_);
  line_no_ = data_start_line_ - 1;
}

void CsvSource::select(const std::vector<bool>& used) {
  used_ = used;
  used_.resize(signals_.size(), false);
}

bool CsvSource::next(Chunk& chunk) {
  const auto ns = signals_.size();
  chunk.first_index.assign(ns, 0);
  chunk.values.resize(ns);
  for (auto& v : chunk.values) v.clear();
  std::size_t rows = 0;
  std::int64_t first_index = 0;
  while (rows < options_.chunk_rows) {
    if (!pending_) {
      if (!read_line(line_)) break;
      consumed_bytes_ += line_.size() + 1;
      split(line_);
      if (cells_.size() == 1 && cells_[0].empty()) continue;
      if (!cells_.empty() && cells_[0].starts_with("#")) continue;
      if (cells_.size() != columns_) {
        throw ImportError(name_ + ":" + std::to_string(line_no_) + ": " + std::to_string(cells_.size()) +
                          " columns, expected " + std::to_string(columns_) + " as in the first row");
      }
    }
    std::int64_t index = last_index_ + 1;
    if (time_column_) {
      double t = 0;
      if (!parse_number(cells_[*time_column_], t)) {
        throw ImportError(where(*time_column_) + ": time " + shown(cells_[*time_column_]) +
                          " is not a number");
      }
      if (first_row_) {
        t0_ = t;
        first_row_ = false;
        index = 0;
      } else {
        const double rel = (t - t0_) * rate_hz_;
        if (!(rel < 9e15))
          throw ImportError(where(*time_column_) + ": time " + shown(cells_[*time_column_]) +
                            " is out of range");
        index = std::llround(rel);
        if (index <= last_index_) {
          throw ImportError(where(*time_column_) + ": time " + shown(cells_[*time_column_]) +
                            " s is not one sample after the previous row's (" + std::to_string(last_time_) +
                            " s at " + std::to_string(rate_hz_) + " Hz): times must increase");
        }
      }
      last_time_ = t;
      if (rows > 0 && index != last_index_ + 1) {
        pending_ = true;  // a gap: this row starts the next chunk
        break;
      }
    }
    pending_ = false;
    if (rows == 0) first_index = index;
    last_index_ = index;
    ++rows;
    for (std::size_t s = 0; s < ns; ++s) {
      if (!used_[s]) continue;
      const auto column = column_of_[s];
      const auto cell = cells_[column];
      double v = 0;
      if (!parse_number(cell, v)) throw ImportError(where(column) + ": " + shown(cell) + " is not a number");
      const double digital = std::round(v * kPow10[decimals_[s]]);
      if (std::abs(digital) > std::numeric_limits<std::int32_t>::max()) {
        throw ImportError(where(column) + ": " + shown(cell) + " is too large for the column's resolution (" +
                          std::to_string(decimals_[s]) + " decimals, chosen from the first rows)");
      }
      chunk.values[s].push_back(static_cast<std::int32_t>(digital));
    }
  }
  if (rows == 0) return false;
  chunk.first_index.assign(ns, static_cast<std::uint64_t>(first_index));
  return true;
}

double CsvSource::progress() const {
  return size_ > 0 ? std::min(1.0, static_cast<double>(consumed_bytes_) / static_cast<double>(size_)) : 1.0;
}

}  // namespace spasmwatch::import
