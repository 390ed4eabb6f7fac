#include "import/edf_file.hpp"

#include <edflib.h>
#include <sys/stat.h>

#include <algorithm>
#include <cerrno>
#include <cmath>
#include <cstring>
#include <limits>

#include "import/import_error.hpp"

namespace spasmwatch::import {

namespace {

std::string edflib_error(int code) {
  switch (code) {
    case EDFLIB_MALLOC_ERROR:
      return "out of memory";
    case EDFLIB_NO_SUCH_FILE_OR_DIRECTORY:
      return "no such file or directory";
    case EDFLIB_FILE_CONTAINS_FORMAT_ERRORS:
      return "EDFlib found format errors (e.g. a malformed EDF+ recording/patient field, time-keeping "
             "annotations that do not follow the record duration, or a non-ASCII header)";
    case EDFLIB_MAXFILES_REACHED:
      return "too many files open in EDFlib";
    case EDFLIB_FILE_READ_ERROR:
      return "read error";
    case EDFLIB_FILE_ALREADY_OPENED:
      return "the file is already open in this program (EDFlib opens a file once at a time)";
    case EDFLIB_FILETYPE_ERROR:
      return "not an EDF(+) or BDF(+) file";
    case EDFLIB_FILE_IS_DISCONTINUOUS:
      return "discontinuous file";
    default:
      return "EDFlib error " + std::to_string(code);
  }
}

std::uint64_t file_size_of(const std::string& path) {
  struct stat st {};
  if (::stat(path.c_str(), &st) != 0) throw ImportError(path + ": " + std::strerror(errno));
  if (!S_ISREG(st.st_mode)) throw ImportError(path + ": not a regular file");
  return static_cast<std::uint64_t>(st.st_size);
}

}  // namespace

std::string edflib_disagreement(const EdfSignal& ours, long long edflib_samples_per_record,
                                long long edflib_dig_min, long long edflib_dig_max) {
  auto says = [&](const std::string& what, long long our_value, long long their_value) {
    return what + " of '" + ours.label + "': header parser says " + std::to_string(our_value) +
           ", EDFlib says " + std::to_string(their_value);
  };
  if (edflib_samples_per_record != static_cast<long long>(ours.samples_per_record))
    return says("samples per record", ours.samples_per_record, edflib_samples_per_record);
  if (edflib_dig_min != ours.dig_min) return says("digital minimum", ours.dig_min, edflib_dig_min);
  if (edflib_dig_max != ours.dig_max) return says("digital maximum", ours.dig_max, edflib_dig_max);
  return "";
}

EdfFile::EdfFile(std::string path) : path_(std::move(path)) {}

EdfFile::~EdfFile() {
  if (handle_ >= 0) edfclose_file(handle_);
  if (file_ != nullptr) std::fclose(file_);
}

std::unique_ptr<EdfFile> EdfFile::open(const std::string& path) {
  std::unique_ptr<EdfFile> f(new EdfFile(path));
  const std::uint64_t size = file_size_of(path);
  f->file_ = std::fopen(path.c_str(), "rb");
  if (f->file_ == nullptr) throw ImportError(path + ": cannot open: " + std::strerror(errno));
  std::vector<std::uint8_t> bytes(256);
  bytes.resize(std::fread(bytes.data(), 1, bytes.size(), f->file_));
  const std::size_t header_size = edf_header_size(bytes, path);
  bytes.resize(header_size);
  if (size >= header_size) {
    std::fseek(f->file_, 0, SEEK_SET);
    bytes.resize(std::fread(bytes.data(), 1, header_size, f->file_));
  }
  f->header_ = parse_edf_header(bytes, size, path);
  const auto& h = f->header_;
  f->identity_ =
      std::string(reinterpret_cast<const char*>(bytes.data()), std::min<std::size_t>(bytes.size(), 4096)) +
      "/" + std::to_string(size);
  for (std::size_t i = 0; i < h.signals.size(); ++i) {
    if (h.signals[i].annotation) continue;
    f->data_signals_.push_back(i);
    const auto& s = h.signals[i];
    SignalInfo info;
    info.index = f->signals_.size();
    info.label = s.label;
    info.transducer = s.transducer;
    info.unit = s.unit;
    info.rate_hz = h.rate_hz(i);
    info.gain = s.gain();
    info.offset = s.offset();
    info.samples = static_cast<std::uint64_t>(h.records) * s.samples_per_record;
    f->signals_.push_back(info);
  }
  if (h.record_ticks > 0) {
    // About 1 s, but never more than kEdfMaxChunkSamples of a signal (tiny records at a huge rate
    // would make the whole file one chunk and overflow EDFlib's int sample count).
    std::int64_t widest = 1;
    for (const auto i : f->data_signals_)
      widest = std::max<std::int64_t>(widest, h.signals[i].samples_per_record);
    f->records_per_chunk_ = std::clamp<std::int64_t>(
        std::min(kTicksPerSecond / h.record_ticks, kEdfMaxChunkSamples / widest), 1, kEdfMaxChunkSamples);
  }
  f->start_utc_ns_ = h.start_utc_s * 1'000'000'000;
  if (h.discontinuous) {
    f->scan_discontinuous();
  } else {
    std::fclose(f->file_);
    f->file_ = nullptr;
    f->open_with_edflib();
  }
  return f;
}

void EdfFile::open_with_edflib() {
  auto hdr = std::make_unique<edf_hdr_struct>();
  if (edfopen_file_readonly(path_.c_str(), hdr.get(), EDFLIB_READ_ALL_ANNOTATIONS) != 0) {
    throw ImportError(path_ + ": EDFlib cannot open it: " + edflib_error(hdr->filetype));
  }
  handle_ = hdr->handle;
  // EDFlib and our parser must agree on what the file holds; disagreement means one of us
  // misreads it, and reading on would be a silent wrong read.
  auto disagree = [&](const std::string& what, long long ours, long long theirs) {
    throw ImportError(path_ + ": " + what + ": header parser says " + std::to_string(ours) +
                      ", EDFlib says " + std::to_string(theirs));
  };
  if (static_cast<std::size_t>(hdr->edfsignals) != data_signals_.size()) {
    disagree("signal count", static_cast<long long>(data_signals_.size()), hdr->edfsignals);
  }
  if (hdr->datarecords_in_file != header_.records)
    disagree("data records", header_.records, hdr->datarecords_in_file);
  for (std::size_t k = 0; k < data_signals_.size(); ++k) {
    const auto& theirs = hdr->signalparam[k];
    const auto problem = edflib_disagreement(header_.signals[data_signals_[k]], theirs.smp_in_datarecord,
                                             theirs.dig_min, theirs.dig_max);
    if (!problem.empty()) throw ImportError(path_ + ": " + problem);
  }
  const std::int64_t subsecond = header_.plus ? hdr->starttime_subsecond : 0;
  start_utc_ns_ += subsecond * 100;
  for (long long n = 0; n < hdr->annotations_in_file; ++n) {
    edf_annotation_struct a{};
    if (edf_get_annotation(handle_, static_cast<int>(n), &a) != 0) {
      throw ImportError(path_ + ": EDFlib cannot read annotation " + std::to_string(n + 1));
    }
    a.annotation[EDFLIB_MAX_ANNOTATION_LEN] = '\0';
    // EDFlib gives onsets from the file's start (sub-second start already taken off) and
    // -1 s (in ticks) for "no duration".
    annotations_.push_back({a.onset, a.duration_l < 0 ? -1 : a.duration_l, std::string(a.annotation)});
  }
}

void EdfFile::scan_discontinuous() {
  // Every record's time-keeping TAL says when it starts; collect onsets and annotations.
  std::vector<EdfAnnotation> raw;
  record_onsets_.resize(static_cast<std::size_t>(header_.records));
  record_buffer_.resize(header_.record_bytes);
  std::vector<const EdfSignal*> annotation_signals;
  for (const auto& s : header_.signals) {
    if (s.annotation) annotation_signals.push_back(&s);
  }
  const EdfSignal* annotation_signal = annotation_signals.front();  // its first TAL keeps time
  for (std::int64_t r = 0; r < header_.records; ++r) {
    read_record(r);
    std::int64_t onset = 0;
    for (const auto* s : annotation_signals) {
      const std::span<const std::uint8_t> bytes(record_buffer_.data() + s->offset_in_record,
                                                s->samples_per_record * header_.bytes_per_sample);
      const auto o = parse_tals(bytes, raw, path_, r);
      if (s == annotation_signal) onset = o;
    }
    if (onset < 0) {
      throw ImportError(path_ + ": data record " + std::to_string(r + 1) + " has a negative onset");
    }
    if (onset > kEdfMaxOnsetTicks) {
      throw ImportError(path_ + ": data record " + std::to_string(r + 1) + " starts " +
                        std::to_string(onset / kTicksPerSecond) +
                        " s after the start, more than 100 years (a corrupt time-keeping TAL?)");
    }
    if (r > 0 && onset < record_onsets_[static_cast<std::size_t>(r - 1)] + header_.record_ticks) {
      throw ImportError(path_ + ": data record " + std::to_string(r + 1) + " starts at " +
                        std::to_string(static_cast<double>(onset) / kTicksPerSecond) +
                        " s, before the end of the record before it (records must be in time order)");
    }
    record_onsets_[static_cast<std::size_t>(r)] = onset;
  }
  const std::int64_t first = record_onsets_.empty() ? 0 : record_onsets_.front();
  start_utc_ns_ = utc_ns_after(start_utc_ns_, first);
  for (auto& onset : record_onsets_) onset -= first;
  for (auto& a : raw) annotations_.push_back({a.onset_ticks - first, a.duration_ticks, std::move(a.text)});
}

void EdfFile::read_record(std::int64_t r) {
  if (std::fseek(file_,
                 static_cast<long>(header_.header_bytes + static_cast<std::size_t>(r) * header_.record_bytes),
                 SEEK_SET) != 0 ||
      std::fread(record_buffer_.data(), 1, header_.record_bytes, file_) != header_.record_bytes) {
    throw ImportError(path_ + ": cannot read data record " + std::to_string(r + 1));
  }
}

void EdfFile::read_records_directly(std::int64_t first, std::int64_t count, Chunk& chunk) {
  const auto ns = data_signals_.size();
  for (std::int64_t r = first; r < first + count; ++r) {
    read_record(r);
    for (std::size_t k = 0; k < ns; ++k) {
      if (!used_.empty() && !used_[k]) continue;
      const auto& s = header_.signals[data_signals_[k]];
      const std::uint8_t* p = record_buffer_.data() + s.offset_in_record;
      auto& out = chunk.values[k];
      const std::size_t base = out.size();
      out.resize(base + s.samples_per_record);
      if (header_.bdf) {
        for (std::uint32_t i = 0; i < s.samples_per_record; ++i, p += 3) {
          const std::uint32_t u = p[0] | (p[1] << 8) | (static_cast<std::uint32_t>(p[2]) << 16);
          out[base + i] = static_cast<std::int32_t>(u << 8) >> 8;
        }
      } else {
        for (std::uint32_t i = 0; i < s.samples_per_record; ++i, p += 2) {
          out[base + i] = static_cast<std::int16_t>(static_cast<std::uint16_t>(p[0] | (p[1] << 8)));
        }
      }
    }
  }
}

bool EdfFile::next(Chunk& chunk) {
  const auto ns = data_signals_.size();
  chunk.first_index.assign(ns, 0);
  chunk.values.resize(ns);
  for (auto& v : chunk.values) v.clear();
  if (next_record_ >= header_.records || ns == 0) return false;
  if (header_.discontinuous) {
    // One record at a time: each may start after a gap.
    const auto r = next_record_++;
    const auto onset = record_onsets_[static_cast<std::size_t>(r)];
    for (std::size_t k = 0; k < ns; ++k) {
      const auto spr = header_.signals[data_signals_[k]].samples_per_record;
      // Onsets are whole multiples of the sample period in a sane file; round otherwise. Onset
      // ticks x samples per record exceed 64 bits for late records (3e16 x 1000): 128-bit
      // arithmetic (the onset is >= 0, so the division rounds down).
      __extension__ using Int128 = __int128;
      const Int128 index = (static_cast<Int128>(onset) * spr + header_.record_ticks / 2) /
                           static_cast<Int128>(header_.record_ticks);
      if (index > static_cast<Int128>(std::numeric_limits<std::int64_t>::max())) {
        throw ImportError(path_ + ": data record " + std::to_string(r + 1) + " of '" + signals_[k].label +
                          "' starts beyond sample 2^63 (record duration too short for its onset)");
      }
      chunk.first_index[k] = static_cast<std::uint64_t>(index);
    }
    read_records_directly(r, 1, chunk);
    return true;
  }
  const auto count = std::min(records_per_chunk_, header_.records - next_record_);
  for (std::size_t k = 0; k < ns; ++k) {
    const auto spr = header_.signals[data_signals_[k]].samples_per_record;
    chunk.first_index[k] = static_cast<std::uint64_t>(next_record_) * spr;
    if (!used_.empty() && !used_[k]) {
      // Not wanted: keep EDFlib's position of this signal in step with the others.
      if (edfseek(handle_, static_cast<int>(k), (next_record_ + count) * spr, EDFSEEK_SET) < 0) {
        throw ImportError(path_ + ": EDFlib cannot seek in '" + signals_[k].label + "'");
      }
      continue;
    }
    const auto n = static_cast<std::size_t>(count) * spr;
    auto& out = chunk.values[k];
    out.resize(n);
    const int got = edfread_digital_samples(handle_, static_cast<int>(k), static_cast<int>(n), out.data());
    if (got != static_cast<int>(n)) {
      throw ImportError(path_ + ": EDFlib read " + std::to_string(got) + " of " + std::to_string(n) +
                        " samples of '" + signals_[k].label + "' at data record " +
                        std::to_string(next_record_ + 1));
    }
  }
  next_record_ += count;
  return true;
}

double EdfFile::progress() const {
  return header_.records > 0 ? static_cast<double>(next_record_) / static_cast<double>(header_.records) : 1.0;
}

}  // namespace spasmwatch::import
