#include "import/edf_header.hpp"

#include <algorithm>
#include <charconv>
#include <cmath>
#include <limits>

#include "import/import_error.hpp"

namespace spasmwatch::import {

namespace {

constexpr std::size_t kFixedHeader = 256;

[[noreturn]] void fail(const std::string& name, const std::string& problem) {
  throw ImportError(name + ": " + problem);
}

std::string_view field(std::span<const std::uint8_t> bytes, std::size_t offset, std::size_t size) {
  return {reinterpret_cast<const char*>(bytes.data()) + offset, size};
}

std::string_view trim(std::string_view text) {
  while (!text.empty() && (text.back() == ' ' || text.back() == '\0')) text.remove_suffix(1);
  while (!text.empty() && text.front() == ' ') text.remove_prefix(1);
  return text;
}

// Printable form of a raw field for error messages (control bytes shown as '?').
std::string shown(std::string_view text) {
  std::string out(trim(text));
  for (auto& c : out) {
    if (static_cast<unsigned char>(c) < 32 || c == 127) c = '?';
  }
  return "'" + out + "'";
}

bool to_int(std::string_view text, std::int64_t& value) {
  text = trim(text);
  if (!text.empty() && text.front() == '+') text.remove_prefix(1);
  if (text.empty()) return false;
  const auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), value);
  return ec == std::errc{} && end == text.data() + text.size();
}

bool to_double(std::string_view text, double& value) {
  text = trim(text);
  if (!text.empty() && text.front() == '+') text.remove_prefix(1);
  if (text.empty()) return false;
  const auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), value);
  return ec == std::errc{} && end == text.data() + text.size() && std::isfinite(value);
}

std::int64_t int_field(const std::string& name, std::string_view text, const std::string& what) {
  std::int64_t v = 0;
  if (!to_int(text, v)) fail(name, what + " " + shown(text) + " is not an integer");
  return v;
}

double double_field(const std::string& name, std::string_view text, const std::string& what) {
  double v = 0;
  if (!to_double(text, v)) fail(name, what + " " + shown(text) + " is not a number");
  return v;
}

// Days since 1970-01-01 of a proleptic Gregorian date (Howard Hinnant's days_from_civil).
std::int64_t days_from_civil(int y, int m, int d) {
  y -= m <= 2 ? 1 : 0;
  const int era = (y >= 0 ? y : y - 399) / 400;
  const int yoe = y - era * 400;
  const int doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
  const int doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
  return static_cast<std::int64_t>(era) * 146097 + doe - 719468;
}

bool two_digits(std::string_view text, std::size_t at, int& value) {
  const char a = text[at], b = text[at + 1];
  if (a < '0' || a > '9' || b < '0' || b > '9') return false;
  value = (a - '0') * 10 + (b - '0');
  return true;
}

// EDF+ keeps the 4-digit year in the recording field: "Startdate 02-MAR-2002 ...".
int year_from_recording(std::string_view recording) {
  if (!recording.starts_with("Startdate ") || recording.size() < 21) return 0;
  const auto date = recording.substr(10, 11);
  if (date[2] != '-' || date[6] != '-') return 0;
  std::int64_t year = 0;
  if (!to_int(date.substr(7, 4), year) || year < 1985 || year > 9999) return 0;
  return static_cast<int>(year);
}

}  // namespace

std::string EdfHeader::type_name() const {
  std::string s = bdf ? "BDF" : "EDF";
  if (plus) s += discontinuous ? "+D" : "+C";
  return s;
}

double EdfHeader::rate_hz(std::size_t i) const {
  if (record_ticks <= 0 || i >= signals.size()) return 0;
  return static_cast<double>(signals[i].samples_per_record) * static_cast<double>(kTicksPerSecond) /
         static_cast<double>(record_ticks);
}

std::size_t edf_header_size(std::span<const std::uint8_t> first_256, const std::string& name) {
  if (first_256.size() < kFixedHeader) {
    fail(name, "file is " + std::to_string(first_256.size()) +
                   " bytes, shorter than the 256-byte EDF/BDF header (truncated?)");
  }
  const auto version = field(first_256, 0, 8);
  const bool bdf = first_256[0] == 0xFF && field(first_256, 1, 7) == "BIOSEMI";
  if (!bdf && version != "0       ") {
    fail(name,
         "not an EDF or BDF file (version field " + shown(version) + ", expected '0' or 0xFF 'BIOSEMI')");
  }
  const auto ns = int_field(name, field(first_256, 252, 4), "number of signals");
  if (ns < 1 || static_cast<std::size_t>(ns) > kEdfMaxSignals) {
    fail(name, "number of signals " + std::to_string(ns) + " is out of range (1.." +
                   std::to_string(kEdfMaxSignals) + ")");
  }
  return kFixedHeader * (static_cast<std::size_t>(ns) + 1);
}

EdfHeader parse_edf_header(std::span<const std::uint8_t> header, std::uint64_t file_size,
                           const std::string& name) {
  const std::size_t size = edf_header_size(header, name);
  EdfHeader h;
  h.bdf = header[0] == 0xFF;
  h.bytes_per_sample = h.bdf ? 3 : 2;
  if (header.size() < size || file_size < size) {
    fail(name, "header of " + std::to_string(size) + " bytes announced, but the file has only " +
                   std::to_string(std::min<std::uint64_t>(file_size, header.size())) + " (truncated?)");
  }
  const auto header_bytes = int_field(name, field(header, 184, 8), "header size");
  if (header_bytes != static_cast<std::int64_t>(size)) {
    fail(name, "header size field says " + std::to_string(header_bytes) + " bytes, but " +
                   std::to_string(size / kFixedHeader - 1) + " signals need " + std::to_string(size));
  }
  h.header_bytes = size;
  h.patient = std::string(trim(field(header, 8, 80)));
  h.recording = std::string(trim(field(header, 88, 80)));

  const auto date = field(header, 168, 8), time = field(header, 176, 8);
  int yy = 0;
  if (date[2] != '.' || date[5] != '.' || !two_digits(date, 0, h.day) || !two_digits(date, 3, h.month) ||
      !two_digits(date, 6, yy) || h.month < 1 || h.month > 12 || h.day < 1 || h.day > 31) {
    fail(name, "start date " + shown(date) + " is not dd.mm.yy");
  }
  if (time[2] != '.' || time[5] != '.' || !two_digits(time, 0, h.hour) || !two_digits(time, 3, h.minute) ||
      !two_digits(time, 6, h.second) || h.hour > 23 || h.minute > 59 || h.second > 59) {
    fail(name, "start time " + shown(time) + " is not hh.mm.ss");
  }
  h.year = yy >= 85 ? 1900 + yy : 2000 + yy;  // the EDF "clipping date" rule

  const auto reserved = trim(field(header, 192, 44));
  if (reserved.starts_with("EDF+C") || reserved.starts_with("EDF+D") || reserved.starts_with("BDF+C") ||
      reserved.starts_with("BDF+D")) {
    h.plus = true;
    h.discontinuous = reserved[4] == 'D';
    if ((reserved[0] == 'B') != h.bdf) {
      fail(name, "reserved field says " + shown(reserved.substr(0, 5)) + " but the version field says " +
                     (h.bdf ? "BDF" : "EDF"));
    }
    if (const int year = year_from_recording(h.recording); year != 0 && year % 100 == yy) h.year = year;
  }
  h.start_utc_s = days_from_civil(h.year, h.month, h.day) * 86400 + h.hour * 3600 + h.minute * 60 + h.second;

  const auto records = int_field(name, field(header, 236, 8), "number of data records");
  if (records < -1) fail(name, "number of data records " + std::to_string(records) + " is negative");
  double duration_s = double_field(name, field(header, 244, 8), "data record duration");
  if (duration_s < 0 || duration_s > 1e6) {
    fail(name, "data record duration " + shown(field(header, 244, 8)) + " s is out of range (0..1e6)");
  }
  h.record_ticks = std::llround(duration_s * static_cast<double>(kTicksPerSecond));

  const std::size_t ns = size / kFixedHeader - 1;
  h.signals.resize(ns);
  const std::span<const std::uint8_t> per_signal = header.subspan(kFixedHeader);
  std::size_t at = 0;
  auto column = [&](std::size_t width) {
    std::vector<std::string_view> out(ns);
    for (std::size_t i = 0; i < ns; ++i) out[i] = field(per_signal, at + i * width, width);
    at += ns * width;
    return out;
  };
  const auto labels = column(16), transducers = column(80), units = column(8), phys_mins = column(8),
             phys_maxs = column(8), dig_mins = column(8), dig_maxs = column(8), prefilters = column(80),
             sprs = column(8);
  const std::int64_t format_min = h.bdf ? -(1 << 23) : -32768;
  const std::int64_t format_max = h.bdf ? (1 << 23) - 1 : 32767;
  const std::string annotation_label = h.bdf ? "BDF Annotations" : "EDF Annotations";
  std::size_t offset = 0;
  std::size_t annotation_signals = 0;
  for (std::size_t i = 0; i < ns; ++i) {
    auto& s = h.signals[i];
    const std::string which = "signal " + std::to_string(i + 1);
    s.label = std::string(trim(labels[i]));
    s.transducer = std::string(trim(transducers[i]));
    s.unit = std::string(trim(units[i]));
    s.prefilter = std::string(trim(prefilters[i]));
    s.annotation = h.plus && s.label == annotation_label;
    annotation_signals += s.annotation ? 1 : 0;
    const auto spr = int_field(name, sprs[i], which + " samples per record");
    if (spr < 1 || static_cast<std::uint64_t>(spr) > kEdfMaxRecordBytes) {
      fail(name, which + " (" + shown(labels[i]) + "): samples per data record " + std::to_string(spr) +
                     " is out of range (1.." + std::to_string(kEdfMaxRecordBytes) + ")");
    }
    s.samples_per_record = static_cast<std::uint32_t>(spr);
    const auto dmin = int_field(name, dig_mins[i], which + " digital minimum");
    const auto dmax = int_field(name, dig_maxs[i], which + " digital maximum");
    if (dmin < format_min || dmax > format_max || dmin >= dmax) {
      fail(name, which + " (" + shown(labels[i]) + "): digital range " + std::to_string(dmin) + ".." +
                     std::to_string(dmax) + " is invalid (needs min < max within " +
                     std::to_string(format_min) + ".." + std::to_string(format_max) + ")");
    }
    s.dig_min = static_cast<std::int32_t>(dmin);
    s.dig_max = static_cast<std::int32_t>(dmax);
    s.phys_min = double_field(name, phys_mins[i], which + " physical minimum");
    s.phys_max = double_field(name, phys_maxs[i], which + " physical maximum");
    if (s.phys_min == s.phys_max && !s.annotation) {
      fail(name, which + " (" + shown(labels[i]) + "): physical minimum equals physical maximum (" +
                     shown(phys_mins[i]) + "): no scale");
    }
    s.offset_in_record = offset;
    offset += s.samples_per_record * h.bytes_per_sample;
    if (offset > kEdfMaxRecordBytes) {
      fail(name,
           "data record size exceeds " + std::to_string(kEdfMaxRecordBytes) + " bytes (at " + which + ")");
    }
  }
  if (h.plus && annotation_signals == 0) {
    fail(name, h.type_name() + " file without an '" + annotation_label + "' signal");
  }
  if (h.record_ticks == 0 && annotation_signals != ns) {
    fail(name, "data record duration is 0, allowed only for files holding annotations alone");
  }
  h.record_bytes = offset;

  const std::uint64_t data_bytes = file_size - size;
  const std::uint64_t whole = data_bytes / h.record_bytes;
  const std::uint64_t rest = data_bytes % h.record_bytes;
  if (records == -1) {
    if (rest != 0) {
      fail(name, "number of data records unknown (-1) and the " + std::to_string(data_bytes) +
                     " data bytes are not a whole number of " + std::to_string(h.record_bytes) +
                     "-byte records (truncated?)");
    }
    h.records = static_cast<std::int64_t>(whole);
  } else {
    h.records = records;
    const auto expected = static_cast<std::uint64_t>(records) * h.record_bytes;
    if (data_bytes < expected) {
      fail(name, "truncated: the header says " + std::to_string(records) + " data records of " +
                     std::to_string(h.record_bytes) + " bytes (" + std::to_string(expected) +
                     " bytes), but only " + std::to_string(data_bytes) + " bytes follow the header (" +
                     std::to_string(whole) + " whole records)");
    }
    if (data_bytes > expected) {
      fail(name, "the header says " + std::to_string(records) + " data records of " +
                     std::to_string(h.record_bytes) + " bytes, but " + std::to_string(data_bytes) +
                     " bytes follow the header (" + std::to_string(data_bytes - expected) +
                     " bytes too many: wrong record count or signal sizes)");
    }
  }
  return h;
}

bool parse_tal_time(std::string_view text, bool sign_required, std::int64_t& ticks) {
  if (text.empty()) return false;
  bool negative = false;
  if (text.front() == '+' || text.front() == '-') {
    negative = text.front() == '-';
    text.remove_prefix(1);
  } else if (sign_required) {
    return false;
  }
  const auto dot = text.find('.');
  const auto whole = text.substr(0, dot);
  const auto frac = dot == std::string_view::npos ? std::string_view{} : text.substr(dot + 1);
  // 11 digits: 99999999999 s is 1e18 ticks; 12 would overflow int64 (9.2e18).
  if (whole.empty() || whole.size() > 11) return false;
  if (dot != std::string_view::npos && frac.empty()) return false;
  std::int64_t value = 0;
  for (const char c : whole) {
    if (c < '0' || c > '9') return false;
    value = value * 10 + (c - '0');
  }
  value *= kTicksPerSecond;
  std::int64_t scale = kTicksPerSecond / 10;
  for (const char c : frac) {
    if (c < '0' || c > '9') return false;
    value += (c - '0') * scale;  // digits beyond 100 ns are dropped
    scale /= 10;
  }
  ticks = negative ? -value : value;
  return true;
}

std::int64_t parse_tals(std::span<const std::uint8_t> bytes, std::vector<EdfAnnotation>& out,
                        const std::string& name, std::int64_t record) {
  const std::string_view all(reinterpret_cast<const char*>(bytes.data()), bytes.size());
  auto bad = [&](const std::string& problem) {
    fail(name, "data record " + std::to_string(record + 1) + ": annotation signal: " + problem);
  };
  std::int64_t record_onset = 0;
  bool first = true;
  std::size_t pos = 0;
  while (pos < all.size() && all[pos] != '\0') {
    const auto end = all.find('\0', pos);
    if (end == std::string_view::npos) bad("TAL not ended by a 0 byte");
    const auto tal = all.substr(pos, end - pos);
    pos = end + 1;
    // onset [0x15 duration] 0x14 (text 0x14)*
    const auto head_end = tal.find('\x14');
    if (head_end == std::string_view::npos) bad("TAL without 0x14 after its onset");
    const auto head = tal.substr(0, head_end);
    const auto dur_mark = head.find('\x15');
    std::int64_t onset = 0, duration = -1;
    if (!parse_tal_time(head.substr(0, dur_mark), true, onset)) {
      bad("onset " + shown(head.substr(0, dur_mark)) + " is not +seconds or -seconds");
    }
    if (dur_mark != std::string_view::npos &&
        (!parse_tal_time(head.substr(dur_mark + 1), false, duration) || duration < 0)) {
      bad("duration " + shown(head.substr(dur_mark + 1)) + " is not a number of seconds");
    }
    auto rest = tal.substr(head_end + 1);  // (text 0x14)*
    const bool time_keeping = first;
    if (first) {
      first = false;
      record_onset = onset;
    }
    for (std::size_t k = 0; !rest.empty(); ++k) {
      const auto cut = rest.find('\x14');
      if (cut == std::string_view::npos) bad("TAL text not ended by 0x14");
      const auto text = rest.substr(0, cut);
      rest = rest.substr(cut + 1);
      // The record's first TAL keeps time: its first text is empty (EDF+ spec 2.2.4).
      if (time_keeping && k == 0) {
        if (!text.empty()) bad("the first TAL of a record must keep time (an empty first annotation)");
        continue;
      }
      if (!text.empty()) out.push_back({onset, duration, std::string(text)});
    }
  }
  if (first) bad("no time-keeping TAL");
  return record_onset;
}

}  // namespace spasmwatch::import
