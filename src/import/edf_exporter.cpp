#include "import/edf_exporter.hpp"

#include <edflib.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cmath>
#include <cstring>
#include <ctime>
#include <fstream>
#include <optional>

#include "import/import_error.hpp"

namespace spasmwatch::import {

namespace {

constexpr std::size_t kMaxAnnotationBytes = 40;  // what EDFlib's writer keeps of a text
constexpr int kMaxAnnotationSignals = 64;        // EDFlib's limit

// The longest prefix of `text` of at most `bytes` bytes that does not cut a UTF-8 character.
std::string utf8_prefix(const std::string& text, std::size_t bytes) {
  if (text.size() <= bytes) return text;
  std::size_t end = bytes;
  while (end > 0 && (static_cast<unsigned char>(text[end]) & 0xC0) == 0x80) --end;
  return text.substr(0, end);
}

double unit_to_uv(const std::string& unit) {
  if (unit == "mV") return 1e3;
  if (unit == "V") return 1e6;
  return 1.0;
}

double unit_to_g(const std::string& unit) {
  if (unit == "mg") return 1e-3;
  if (unit == "m/s2" || unit == "m/s^2") return 1.0 / 9.80665;
  return 1.0;
}

// The shortest text of at most 8 characters that reads back as `value` (to 1e-10), if any.
std::optional<std::string> exact_field(double value) {
  char text[64];
  for (int precision = 1; precision <= 8; ++precision) {
    std::snprintf(text, sizeof text, "%.*g", precision, value);
    const std::string s(text);
    if (s.size() <= 8 && s.find('e') == std::string::npos &&
        std::abs(std::strtod(text, nullptr) - value) <= 1e-10 * std::max(1.0, std::abs(value))) {
      return s;
    }
  }
  return std::nullopt;
}

// A digital limit at or beyond `start` (towards `limit`, never past it) whose physical value has
// an exact 8-character form, so a reader computes exactly our scale from the header. Tries
// `start` rounded outwards to multiples of powers of 10 and of 2. Returns the limit with the text
// of its physical value, so the header gets exactly the text that was checked.
struct ExactLimit {
  std::int32_t digital = 0;
  std::string physical;  // at most 8 characters, reads back as digital * scale + offset
};

std::optional<ExactLimit> exact_limit(std::int64_t start, std::int64_t limit, double scale, double offset) {
  const bool up = limit >= start;
  std::vector<std::int64_t> steps;
  for (std::int64_t p = 1; p <= 10'000'000; p *= 10) steps.push_back(p);
  for (std::int64_t p = 2; p <= (1 << 22); p *= 2) steps.push_back(p);
  std::optional<ExactLimit> best;
  for (const auto step : steps) {
    std::int64_t d = start / step * step;
    if (up && d < start) d += step;
    if (!up && d > start) d -= step;
    if (up ? d > limit : d < limit) continue;
    // The candidate closest to `start` keeps the most of the format's range for the data.
    if (best && (up ? d >= best->digital : d <= best->digital)) continue;
    auto text = exact_field(static_cast<double>(d) * scale + offset);
    if (!text) continue;
    best = ExactLimit{static_cast<std::int32_t>(d), std::move(*text)};
  }
  return best;
}

// A scale at least `scale` with at most 4 significant digits (for streams whose own scale has no
// exact 8-character range).
double nice_scale(double scale) {
  const double magnitude = std::pow(10.0, std::floor(std::log10(scale)) - 3);
  return std::ceil(scale / magnitude - 1e-9) * magnitude;
}

}  // namespace

EdfExporter::EdfExporter(std::string path) : path_(std::move(path)), part_path_(path_ + ".part") {}

EdfExporter::~EdfExporter() {
  discard();
}

void EdfExporter::discard() noexcept {
  if (handle_ >= 0) edfclose_file(handle_);
  handle_ = -1;
  if (part_created_) ::unlink(part_path_.c_str());
  part_created_ = false;
}

void EdfExporter::set_range_utc(std::int64_t from_utc_ns, std::int64_t to_utc_ns) {
  from_utc_ns_ = from_utc_ns;
  to_utc_ns_ = to_utc_ns;
}

EdfExporter::Stream* EdfExporter::find(std::uint32_t stream_id) {
  for (auto& s : streams_) {
    if (s.stream_id == stream_id) return &s;
  }
  return nullptr;
}

void EdfExporter::on_hello(const proto::Hello& hello, bool new_session) {
  if (new_session || sessions_ == 0) ++sessions_;
  if (sessions_ > 1) {
    if (!session_ended_ && !writing_) {
      notes_.push_back("a second device session follows; the export holds the first session only");
    }
    session_ended_ = true;
    return;
  }
  if (have_session_) return;
  have_session_ = true;
  hello_ = hello;
  for (const auto& info : hello.streams()) {
    if (info.channels_size() == 0 || !(info.rate_hz() > 0)) continue;
    Stream s;
    s.stream_id = info.stream_id();
    s.name = info.name();
    s.rate_hz = info.rate_hz();
    int n = 0;
    for (const auto& ch : info.channels()) {
      Channel c;
      c.emg = ch.kind() == proto::EMG;
      const bool acc =
          ch.kind() == proto::ACCEL_X || ch.kind() == proto::ACCEL_Y || ch.kind() == proto::ACCEL_Z;
      const double scale = ch.scale() != 0 ? ch.scale() : 1.0;
      // EMG in µV and acceleration in g, as the detector reads them.
      if (c.emg) {
        c.unit = "uV";
        c.scale = scale * unit_to_uv(ch.unit());
        c.offset = ch.offset() * unit_to_uv(ch.unit());
      } else if (acc) {
        c.unit = "g";
        c.scale = scale * unit_to_g(ch.unit());
        c.offset = ch.offset() * unit_to_g(ch.unit());
      } else {
        c.unit = ch.unit();
        c.scale = scale;
        c.offset = ch.offset();
      }
      c.label = !ch.label().empty() ? ch.label() : info.name() + std::to_string(++n);
      s.channels.push_back(c);
    }
    streams_.push_back(std::move(s));
  }
}

void EdfExporter::on_samples(const ingest::StreamView& stream, std::uint64_t first_index,
                             std::uint64_t device_time_us, std::span<const std::int32_t> interleaved) {
  if (session_ended_) return;
  Stream* s = find(stream.stream_id);
  if (s == nullptr || stream.channels != s->channels.size() || s->channels.empty()) return;
  const std::size_t channels = s->channels.size();
  const std::uint64_t time_points = interleaved.size() / channels;
  if (writing_) {
    append(*s, first_index, interleaved, false, time_points);
    flush(false);
    return;
  }
  if (!s->seen) {
    s->seen = true;
    s->first_index = first_index;
    // Device time of the session's sample 0 (as the detector computes it), from the EMG stream.
    const bool emg = s->channels.front().emg;
    if (!session_start_known_ || (emg && !session_start_from_emg_)) {
      const double offset_us = static_cast<double>(first_index) * 1e6 / s->rate_hz;
      session_start_device_us_ =
          device_time_us > offset_us ? device_time_us - static_cast<std::uint64_t>(offset_us) : 0;
      session_start_known_ = true;
      session_start_from_emg_ = emg;
    }
  }
  s->end_index = std::max(s->end_index, first_index + time_points);
  for (std::size_t t = 0; t < time_points; ++t) {
    for (std::size_t c = 0; c < channels; ++c) {
      const std::int64_t v = interleaved[t * channels + c];
      auto& ch = s->channels[c];
      ch.min = std::min(ch.min, v);
      ch.max = std::max(ch.max, v);
    }
  }
}

void EdfExporter::on_gap(const ingest::StreamView& stream, std::uint64_t first_index,
                         std::uint64_t time_points) {
  if (session_ended_) return;
  Stream* s = find(stream.stream_id);
  if (s == nullptr) return;
  if (writing_) {
    append(*s, first_index, {}, true, time_points);
    flush(false);
  } else if (s == &streams_.front()) {
    gaps_s_.emplace_back(static_cast<double>(first_index) / s->rate_hz,
                         static_cast<double>(time_points) / s->rate_hz);
  }
}

void EdfExporter::plan(const ingest::ClockEstimator& clock) {
  auto fail = [&](const std::string& problem) { throw ImportError(path_ + ": " + problem); };
  std::erase_if(streams_, [](const Stream& s) { return !s.seen; });
  if (streams_.empty()) fail("nothing to export: the input has no samples");
  if (!clock.has_estimate()) fail("the input's clock cannot be mapped to UTC");
  // The reference stream (EMG when there is one) sets the file's time 0 on one of its samples.
  const Stream* ref = &streams_.front();
  for (const auto& s : streams_) {
    if (s.channels.front().emg) {
      ref = &s;
      break;
    }
  }
  double first_s = 1e300, end_s = 0;
  for (const auto& s : streams_) {
    first_s = std::min(first_s, static_cast<double>(s.first_index) / s.rate_hz);
    end_s = std::max(end_s, static_cast<double>(s.end_index) / s.rate_hz);
  }
  auto utc_of = [&](double device_s) {
    return clock.to_host_ns(session_start_device_us_ +
                            static_cast<std::uint64_t>(std::llround(std::max(0.0, device_s) * 1e6)));
  };
  auto device_of = [&](std::int64_t utc) {
    double d = first_s;
    for (int k = 0; k < 3; ++k) d += static_cast<double>(utc - utc_of(d)) / 1e9;
    return d;
  };
  double from_s = first_s, to_s = end_s;
  if (from_utc_ns_ != std::numeric_limits<std::int64_t>::min())
    from_s = std::max(from_s, device_of(from_utc_ns_));
  if (to_utc_ns_ != std::numeric_limits<std::int64_t>::max()) to_s = std::min(to_s, device_of(to_utc_ns_));
  from_s = std::ceil(from_s * ref->rate_hz - 1e-6) / ref->rate_hz;
  if (!(to_s > from_s)) fail("no samples in the chosen time range");

  static constexpr double kDurations[] = {1,    0.5,  0.25, 0.2, 0.125, 0.1, 0.05, 0.04, 0.025,
                                          0.02, 0.01, 2,    4,   5,     10,  20,   60};
  // Prefer a duration that also divides the range (no padding), else the first that fits the rates.
  record_s_ = 0;
  for (const bool whole_range : {true, false}) {
    for (const double d : kDurations) {
      bool whole = true;
      for (const auto& s : streams_) {
        const double n = s.rate_hz * d;
        whole = whole && n >= 1 && std::abs(n - std::round(n)) < 1e-6 * std::max(1.0, n);
      }
      const double records = (to_s - from_s) / d;
      // (records shorter than 0.1 s only when nothing else fits: readers handle them slowly)
      if (whole_range) {
        whole =
            whole && d >= 0.1 && std::abs(records - std::round(records)) < 1e-6 && std::round(records) >= 1;
      }
      if (whole) {
        record_s_ = d;
        break;
      }
    }
    if (record_s_ != 0) break;
  }
  if (record_s_ == 0) {
    std::string rates;
    for (const auto& s : streams_) rates += (rates.empty() ? "" : ", ") + std::to_string(s.rate_hz);
    fail("the sample rates (" + rates +
         " Hz) fit no EDF data record duration (a whole number of samples of each)");
  }
  records_ = static_cast<std::int64_t>(std::ceil((to_s - from_s) / record_s_ - 1e-9));
  start_device_s_ = from_s;
  std::int64_t total_bytes_per_record = 0;
  for (auto& s : streams_) {
    s.start_index = static_cast<std::uint64_t>(std::llround(from_s * s.rate_hz));
    s.per_record = static_cast<std::uint32_t>(std::llround(s.rate_hz * record_s_));
    total_bytes_per_record += static_cast<std::int64_t>(s.per_record * s.channels.size());
    for (const auto& c : s.channels) {
      if (c.min < -32768 || c.max > 32767) bdf_ = true;
    }
  }
  for (auto& s : streams_) {
    std::int64_t lo = 0, hi = 0;
    for (const auto& c : s.channels) {
      lo = std::min(lo, c.min);
      hi = std::max(hi, c.max);
    }
    while ((lo >> s.shift) < -(1 << 23) || (hi >> s.shift) > (1 << 23) - 1) ++s.shift;
    if (s.shift > 0) {
      notes_.push_back("stream '" + s.name + "' needs more than 24 bits: written at 1/" +
                       std::to_string(1 << s.shift) + " of its resolution");
    }
  }
  if (total_bytes_per_record * (bdf_ ? 3 : 2) > 10 * 1024 * 1024)
    fail("data records would exceed EDFlib's 10 MB limit");

  const std::int64_t exact = utc_of(from_s);
  start_utc_ns_ = exact - (((exact % 100'000) + 100'000) % 100'000);  // EDFlib: 100 µs steps
  start_rounding_s_ = static_cast<double>(exact - start_utc_ns_) / 1e9;
  const std::time_t seconds = static_cast<std::time_t>(start_utc_ns_ / 1'000'000'000);
  std::tm tm{};
  gmtime_r(&seconds, &tm);
  if (tm.tm_year + 1900 < 1985 || tm.tm_year + 1900 > 2084) {
    fail("start year " + std::to_string(tm.tm_year + 1900) + " is outside EDF's 1985-2084");
  }
  for (const auto& [gap_start, gap_duration] : gaps_s_) {
    add_annotation({file_seconds_of_device(gap_start), gap_duration, "gap"});
  }
}

double EdfExporter::file_seconds_of_device(double device_s) const {
  return device_s - start_device_s_ + start_rounding_s_;
}

double EdfExporter::file_seconds_of_utc(std::int64_t utc_ns) const {
  return static_cast<double>(utc_ns - start_utc_ns_) / 1e9;
}

void EdfExporter::add_annotation(ExportAnnotation annotation) {
  if (annotation.onset_s < 0 || annotation.onset_s > duration_s()) return;
  if (annotation.text.size() > kMaxAnnotationBytes) {
    annotation.text = utf8_prefix(annotation.text, kMaxAnnotationBytes);
  }
  annotations_.push_back(std::move(annotation));
}

void EdfExporter::open() {
  auto fail = [&](const std::string& problem) { throw ImportError(path_ + ": " + problem); };
  // Written to "<output>.part", renamed by finish(): the output is never a half-written file,
  // and an existing one stays as it was until the export is complete. Health data: the file is
  // created owner-only before EDFlib opens it.
  const int fd = ::open(part_path_.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC | O_NOFOLLOW, 0600);
  if (fd < 0 || ::fchmod(fd, 0600) != 0) {
    const std::string why = std::strerror(errno);
    if (fd >= 0) ::close(fd);
    fail("cannot write " + part_path_ + ": " + why);
  }
  ::close(fd);
  part_created_ = true;
  int signals = 0;
  for (const auto& s : streams_) signals += static_cast<int>(s.channels.size());
  handle_ = edfopen_file_writeonly(part_path_.c_str(),
                                   bdf_ ? EDFLIB_FILETYPE_BDFPLUS : EDFLIB_FILETYPE_EDFPLUS, signals);
  if (handle_ < 0) fail("EDFlib cannot create it (error " + std::to_string(handle_) + ")");
  bool ok = edf_set_datarecord_duration(handle_, static_cast<int>(std::llround(record_s_ * 100'000))) == 0;
  const std::time_t seconds = static_cast<std::time_t>(start_utc_ns_ / 1'000'000'000);
  std::tm tm{};
  gmtime_r(&seconds, &tm);
  ok = ok && edf_set_startdatetime(handle_, tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday, tm.tm_hour,
                                   tm.tm_min, tm.tm_sec) == 0;
  ok = ok &&
       edf_set_subsecond_starttime(handle_, static_cast<int>((start_utc_ns_ % 1'000'000'000) / 100)) == 0;
  ok = ok && edf_set_equipment(handle_, ("spasmwatch " + hello_.device_id()).substr(0, 40).c_str()) == 0;
  const std::int64_t format_max = bdf_ ? (1 << 23) - 1 : 32767;
  const std::int64_t format_min = bdf_ ? -(1 << 23) : -32768;
  int k = 0;
  bool rounded = false;
  for (auto& s : streams_) {
    for (auto& c : s.channels) {
      const double scale = c.scale * static_cast<double>(std::int64_t{1} << s.shift);
      // The data's own range (with 0, written for gaps), widened to limits with exact physical text.
      std::int64_t lo = std::min<std::int64_t>(c.min >> s.shift, 0);
      std::int64_t hi = std::max<std::int64_t>(c.max >> s.shift, lo + 1);
      auto dmin = exact_limit(lo, format_min, scale, c.offset);
      auto dmax = exact_limit(hi, format_max, scale, c.offset);
      double written_scale = scale;
      if (!dmin || !dmax) {
        // No exact header for this scale: requantize to a slightly coarser one that has one.
        written_scale = nice_scale(scale);
        c.requantize = scale / written_scale;
        lo = std::llround(static_cast<double>(lo) * c.requantize);
        hi = std::max<std::int64_t>(std::llround(static_cast<double>(hi) * c.requantize), lo + 1);
        dmin = exact_limit(lo, format_min, written_scale, c.offset);
        dmax = exact_limit(hi, format_max, written_scale, c.offset);
        rounded = true;
      }
      if (!dmin || !dmax) fail("no EDF physical range can describe the scale of '" + c.label + "'");
      c.dig_min = dmin->digital;
      c.dig_max = dmax->digital;
      c.phys_min = std::move(dmin->physical);
      c.phys_max = std::move(dmax->physical);
      // (EDFlib writes these truncated; finish() puts the exact texts above in their place.)
      const double pmin = c.dig_min * written_scale + c.offset, pmax = c.dig_max * written_scale + c.offset;
      ok = ok && edf_set_samplefrequency(handle_, k, static_cast<int>(s.per_record)) == 0;
      ok = ok && edf_set_digital_maximum(handle_, k, c.dig_max) == 0 &&
           edf_set_digital_minimum(handle_, k, c.dig_min) == 0;
      ok = ok && edf_set_physical_maximum(handle_, k, pmax) == 0 &&
           edf_set_physical_minimum(handle_, k, pmin) == 0;
      ok = ok && edf_set_label(handle_, k, c.label.substr(0, 16).c_str()) == 0;
      ok = ok && edf_set_physical_dimension(handle_, k, c.unit.substr(0, 8).c_str()) == 0;
      ok = ok && edf_set_transducer(handle_, k,
                                    c.emg           ? "EMG electrode"
                                    : c.unit == "g" ? "accelerometer"
                                                    : "") == 0;
      ++k;
    }
    s.buffer.assign(s.channels.size(), {});
    s.buffered_from = s.start_index;
    s.read = 0;
  }
  // EDFlib stores annotations in the data records' annotation signals: enough of them for all.
  // In time order first, so what does not fit is the latest, not the last added.
  std::stable_sort(
      annotations_.begin(), annotations_.end(),
      [](const ExportAnnotation& a, const ExportAnnotation& b) { return a.onset_s < b.onset_s; });
  const auto needed =
      records_ > 0 ? (static_cast<std::int64_t>(annotations_.size()) + records_ - 1) / records_ : 1;
  if (needed > kMaxAnnotationSignals) {
    notes_.push_back(std::to_string(annotations_.size()) + " annotations do not fit " +
                     std::to_string(records_) + " data records; the last ones are left out");
    annotations_.resize(static_cast<std::size_t>(kMaxAnnotationSignals * records_));
  }
  ok = ok && edf_set_number_of_annotation_signals(
                 handle_, static_cast<int>(std::clamp<std::int64_t>(needed, 1, kMaxAnnotationSignals))) == 0;
  if (!ok) fail("EDFlib refused the header (a label, unit or physical range it cannot write?)");
  if (rounded) {
    notes_.push_back(
        "a scale has no exact 8-character EDF physical range: those samples are requantized to a "
        "scale up to 0.1% coarser");
  }
  writing_ = true;
  session_ended_ = false;
  sessions_ = 0;  // pass 2 sees the input's sessions again from the start
}

void EdfExporter::append(Stream& s, std::uint64_t first_index, std::span<const std::int32_t> interleaved,
                         bool zeros, std::uint64_t time_points) {
  const std::size_t channels = s.channels.size();
  const std::uint64_t end = s.start_index + static_cast<std::uint64_t>(records_) * s.per_record;
  std::uint64_t expected = s.buffered_from + s.buffer.front().size();
  for (std::uint64_t t = 0; t < time_points; ++t) {
    const std::uint64_t index = first_index + t;
    if (index < expected) continue;  // before the range (or already written)
    if (index >= end) break;
    for (; expected < index; ++expected) {
      for (auto& b : s.buffer) b.push_back(0);  // a gap no one reported (a stream starting late)
    }
    for (std::size_t c = 0; c < channels; ++c) {
      const auto& ch = s.channels[c];
      std::int32_t v = zeros ? 0 : interleaved[t * channels + c] >> s.shift;
      if (ch.requantize != 1.0) v = static_cast<std::int32_t>(std::llround(v * ch.requantize));
      s.buffer[c].push_back(std::clamp(v, ch.dig_min, ch.dig_max));
    }
    ++expected;
  }
}

void EdfExporter::flush(bool pad) {
  while (written_records_ < records_) {
    for (auto& s : streams_) {
      const std::size_t available = s.buffer.front().size() - s.read;
      if (available >= s.per_record) continue;
      if (!pad) return;
      for (auto& b : s.buffer) b.resize(b.size() + (s.per_record - available), 0);
    }
    for (auto& s : streams_) {
      for (auto& b : s.buffer) {
        record_buffer_.assign(b.begin() + static_cast<std::ptrdiff_t>(s.read),
                              b.begin() + static_cast<std::ptrdiff_t>(s.read + s.per_record));
        if (edfwrite_digital_samples(handle_, record_buffer_.data()) != 0) {
          throw ImportError(path_ + ": EDFlib failed writing data record " +
                            std::to_string(written_records_ + 1));
        }
      }
      s.read += s.per_record;
      if (s.read > 65536 && s.read * 2 > s.buffer.front().size()) {
        for (auto& b : s.buffer) b.erase(b.begin(), b.begin() + static_cast<std::ptrdiff_t>(s.read));
        s.buffered_from += s.read;
        s.read = 0;
      }
    }
    ++written_records_;
  }
}

void EdfExporter::finish() {
  if (handle_ < 0) throw ImportError(path_ + ": not open");
  try {
    flush(true);
    for (const auto& a : annotations_) {                      // in time order (open() sorted them)
      const long long onset = std::llround(a.onset_s * 1e4);  // EDFlib: units of 100 µs
      const long long duration = a.duration_s < 0 ? -1 : std::llround(a.duration_s * 1e4);
      if (edfwrite_annotation_utf8(handle_, onset, duration, a.text.c_str()) != 0) {
        throw ImportError(path_ + ": EDFlib failed writing the annotation '" + a.text + "'");
      }
    }
    const int rc = edfclose_file(handle_);
    handle_ = -1;
    if (rc != 0) throw ImportError(path_ + ": EDFlib failed closing the file (disk full?)");
    patch_physical_ranges();
    // On disk before it takes the output's name.
    const int fd = ::open(part_path_.c_str(), O_RDONLY | O_CLOEXEC);
    const bool synced = fd >= 0 && ::fsync(fd) == 0;
    const std::string why = std::strerror(errno);
    if (fd >= 0) ::close(fd);
    if (!synced) throw ImportError(path_ + ": cannot sync " + part_path_ + ": " + why);
    if (std::rename(part_path_.c_str(), path_.c_str()) != 0) {
      throw ImportError(path_ + ": cannot rename " + part_path_ + " to it: " + std::strerror(errno));
    }
    part_created_ = false;
  } catch (const ImportError&) {
    discard();  // a failed export leaves neither a truncated output nor its .part
    throw;
  }
}

void EdfExporter::patch_physical_ranges() {
  std::fstream file(part_path_, std::ios::in | std::ios::out | std::ios::binary);
  char count[5] = {};
  file.seekg(252);
  file.read(count, 4);
  const int ns = std::atoi(count);
  int k = 0;
  for (const auto& s : streams_) {
    for (const auto& c : s.channels) {
      auto put = [&](std::size_t offset, std::string text) {
        text.resize(8, ' ');
        file.seekp(static_cast<std::streamoff>(offset));
        file.write(text.data(), 8);
      };
      const std::size_t base = 256 + static_cast<std::size_t>(ns) * (16 + 80 + 8);
      put(base + 8 * static_cast<std::size_t>(k), c.phys_min);
      put(base + 8 * static_cast<std::size_t>(ns + k), c.phys_max);
      ++k;
    }
  }
  if (!file.flush()) throw ImportError(path_ + ": cannot finish the header");
}

}  // namespace spasmwatch::import
