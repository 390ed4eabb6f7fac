#include "import/importer.hpp"

#include <sys/stat.h>
#include <algorithm>
#include <cmath>
#include <cstdio>
#include <cstring>
#include <fstream>
#include <limits>
#include <map>

#include "common/body_site.hpp"
#include "import/edf_file.hpp"
#include "import/edf_header.hpp"
#include "import/import_error.hpp"

namespace spasmwatch::import {

namespace {

constexpr double kWindowS = 0.25;     // longest sample block handed out per stream
constexpr int kMaxEmgChannels = 8;    // what the detector takes from one stream
constexpr double kMinEmgRateHz = 50;  // below this, surface EMG carries nothing useful
constexpr double kMinAccRateHz = 10;  // dsp::AccProcessor's lower limit
// Any imported rate: below 1 mHz times are absurd (1e-300 Hz gives infinite ones), above 1 MHz
// no wearable samples (a 1e-7 s EDF record gave 2e10 Hz).
constexpr double kMinRateHz = 0.001;
constexpr double kMaxRateHz = 1e6;
constexpr std::uint8_t kRecordingMagic[] = {0x89, 'S', 'W', 'R', '\r', '\n', 0x1A, '\n'};

std::string lower(std::string_view text) {
  std::string out(text);
  for (auto& c : out) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return out;
}

// Factor from a voltage unit to µV.
std::optional<double> to_uv(const std::string& unit) {
  if (unit == "uV" || unit == "uv" || unit == "\xC2\xB5V" || unit == "\xB5V" || unit == "microV" ||
      unit == "\xCE\xBCV")
    return 1.0;
  if (unit == "mV" || unit == "mv") return 1e3;
  if (unit == "V" || unit == "v") return 1e6;
  if (unit == "nV" || unit == "nv") return 1e-3;
  return std::nullopt;
}

// Factor from an acceleration unit to g.
std::optional<double> to_g(const std::string& unit) {
  if (unit == "g" || unit == "G") return 1.0;
  if (unit == "mg" || unit == "mG") return 1e-3;
  if (unit == "m/s^2" || unit == "m/s2" || unit == "m/s\xC2\xB2" || unit == "m/s\xB2" || unit == "m*s^-2" ||
      unit == "ms^-2")
    return 1.0 / 9.80665;
  return std::nullopt;
}

std::uint64_t fnv1a(std::string_view text) {
  std::uint64_t h = 0xcbf29ce484222325ull;
  for (const char c : text) {
    h ^= static_cast<unsigned char>(c);
    h *= 0x100000001b3ull;
  }
  return h;
}

std::string stem_of(const std::string& path) {
  auto name = path.substr(path.find_last_of('/') + 1);
  const auto dot = name.find_last_of('.');
  if (dot != std::string::npos && dot > 0) name.resize(dot);
  return name.empty() ? "import" : name;
}

std::string number(double value) {
  char text[32];
  std::snprintf(text, sizeof text, "%g", value);
  return text;
}

std::string join_labels(const std::vector<SignalInfo>& signals) {
  std::string out;
  for (const auto& s : signals) {
    out += (out.empty() ? "" : ", ") + std::to_string(s.index) + " '" + s.label + "'";
    if (out.size() > 300) return out + ", ...";
  }
  return out;
}

}  // namespace

FileFormat parse_format(const std::string& name) {
  const auto n = lower(name);
  if (n == "edf" || n == "bdf" || n == "edf+" || n == "bdf+") return FileFormat::edf;
  if (n == "csv" || n == "text" || n == "txt") return FileFormat::csv;
  if (n == "swr" || n == "recording") return FileFormat::recording;
  if (n == "auto" || n.empty()) return FileFormat::detect;
  throw ImportError("unknown format '" + name + "' (expected edf, bdf, csv, text, swr or auto)");
}

FileFormat detect_format(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) throw ImportError(path + ": cannot open");
  char head[8] = {};
  in.read(head, sizeof head);
  const auto got = static_cast<std::size_t>(in.gcount());
  if (got == 8 && std::memcmp(head, kRecordingMagic, 8) == 0) return FileFormat::recording;
  if (got == 8 && (std::memcmp(head, "0       ", 8) == 0 || std::memcmp(head,
                                                                        "\xFF"
                                                                        "BIOSEMI",
                                                                        8) == 0)) {
    return FileFormat::edf;
  }
  return FileFormat::csv;
}

std::unique_ptr<ImportedFile> ImportedFile::open(const std::string& path, const ImportOptions& options) {
  FileFormat format = options.format == FileFormat::detect ? detect_format(path) : options.format;
  std::unique_ptr<SignalSource> source;
  switch (format) {
    case FileFormat::edf:
      source = EdfFile::open(path);
      break;
    case FileFormat::csv:
      source = CsvSource::open(path, options.csv);
      break;
    case FileFormat::recording:
      throw ImportError(path + ": a spasmwatch recording, not a file to import (replay reads it directly)");
    case FileFormat::detect:
      break;
  }
  return from_source(std::move(source), path, options);
}

std::unique_ptr<ImportedFile> ImportedFile::from_source(std::unique_ptr<SignalSource> source,
                                                        const std::string& file_name,
                                                        const ImportOptions& options) {
  std::unique_ptr<ImportedFile> f(new ImportedFile());
  f->source_ = std::move(source);
  f->name_ = file_name;
  f->plan(options, file_name);
  return f;
}

void ImportedFile::plan(const ImportOptions& options, const std::string& file_name) {
  const auto& signals = source_->signals();
  auto fail = [&](const std::string& problem) { throw ImportError(file_name + ": " + problem); };
  if (signals.empty()) fail("no signals");

  auto resolve = [&](const std::string& spec, const char* flag) -> std::size_t {
    for (std::size_t i = 0; i < signals.size(); ++i) {
      if (signals[i].label == spec) return i;
    }
    for (std::size_t i = 0; i < signals.size(); ++i) {
      if (lower(signals[i].label) == lower(spec)) return i;
    }
    if (!spec.empty() && std::all_of(spec.begin(), spec.end(), [](char c) { return c >= '0' && c <= '9'; }) &&
        spec.size() < 6) {
      const auto index = static_cast<std::size_t>(std::stoul(spec));
      for (std::size_t i = 0; i < signals.size(); ++i) {
        if (signals[i].index == index) return i;
      }
    }
    fail(std::string(flag) + " " + spec + ": no such signal (signals: " + join_labels(signals) + ")");
    return 0;
  };
  std::vector<std::size_t> emg, acc;
  for (const auto& spec : options.emg) emg.push_back(resolve(spec, "--emg"));
  for (const auto& spec : options.acc) acc.push_back(resolve(spec, "--acc"));
  for (const auto e : emg) {
    if (std::count(emg.begin(), emg.end(), e) > 1) fail("--emg names '" + signals[e].label + "' twice");
    if (std::find(acc.begin(), acc.end(), e) != acc.end()) {
      fail("'" + signals[e].label + "' is given both as --emg and as --acc");
    }
  }
  for (const auto a : acc) {
    if (std::count(acc.begin(), acc.end(), a) > 1) fail("--acc names '" + signals[a].label + "' twice");
  }
  if (options.emg.empty() && options.acc.empty()) {
    // By label, transducer and unit.
    for (std::size_t i = 0; i < signals.size(); ++i) {
      const auto label = lower(signals[i].label);
      const auto transducer = lower(signals[i].transducer);
      const bool voltage = to_uv(signals[i].unit).has_value();
      if ((label.find("emg") != std::string::npos || transducer.find("emg") != std::string::npos ||
           transducer.find("electromyo") != std::string::npos) &&
          (voltage || signals[i].unit.empty())) {
        emg.push_back(i);
      } else if (label.starts_with("acc") || label.find("accel") != std::string::npos ||
                 (to_g(signals[i].unit).has_value() && !voltage)) {
        acc.push_back(i);
      }
    }
    if (emg.empty()) {
      for (std::size_t i = 0; i < signals.size(); ++i) {
        if (to_uv(signals[i].unit) && std::find(acc.begin(), acc.end(), i) == acc.end()) emg.push_back(i);
      }
      if (!emg.empty()) {
        notes_.push_back("no signal is labelled EMG: the " + std::to_string(emg.size()) +
                         " signals in a voltage unit are taken as EMG (choose with --emg)");
      }
    }
    if (emg.empty() && acc.empty()) {
      fail("cannot tell which signals are EMG or accelerometer (signals: " + join_labels(signals) +
           "): name them with --emg and --acc (labels or indices)");
    }
  }

  // Body site and names.
  device_name_ = options.device.empty() ? stem_of(file_name) : options.device;
  hello_.set_protocol_version(1);
  hello_.set_device_id(device_name_);
  hello_.set_firmware("import " + source_->format_name());
  if (!options.site.empty()) {
    std::string site = options.site, side;
    if (const auto cut = site.find_last_of("-/"); cut != std::string::npos) {
      side = site.substr(cut + 1);
      site.resize(cut);
    }
    const auto parsed = parse_site(site);
    if (!parsed) fail("--site: unknown body site '" + site + "'");
    hello_.set_site(*parsed);
    if (!side.empty()) {
      const auto parsed_side = parse_side(side);
      if (!parsed_side) fail("--site: unknown side '" + side + "' (left, right, midline)");
      hello_.set_side(*parsed_side);
    }
  }
  hello_.set_session_id(fnv1a(source_->identity()));
  hello_.set_streaming(true);

  std::vector<bool> used(signals.size(), false);
  auto add_streams = [&](const std::vector<std::size_t>& chosen, bool is_emg) {
    for (const auto i : chosen) {
      const double rate = signals[i].rate_hz;
      if (!(rate >= kMinRateHz && rate <= kMaxRateHz)) {
        fail("signal " + std::to_string(signals[i].index) + " '" + signals[i].label + "': sample rate " +
             number(rate) + " Hz is outside " + number(kMinRateHz) + ".." + number(kMaxRateHz) +
             " Hz (a wrong record duration or rate?)");
      }
    }
    // Group by rate, keeping the order given; the first group is the one the detector uses.
    std::vector<std::vector<std::size_t>> groups;
    for (const auto i : chosen) {
      auto it = std::find_if(groups.begin(), groups.end(), [&](const auto& g) {
        return std::abs(signals[g.front()].rate_hz - signals[i].rate_hz) < 1e-9 * signals[i].rate_hz;
      });
      if (it == groups.end()) {
        groups.push_back({i});
      } else {
        it->push_back(i);
      }
    }
    std::vector<std::vector<std::size_t>> split;
    const std::size_t limit = is_emg ? kMaxEmgChannels : 3;
    for (const auto& g : groups) {
      for (std::size_t k = 0; k < g.size(); k += limit) {
        split.emplace_back(g.begin() + static_cast<std::ptrdiff_t>(k),
                           g.begin() + static_cast<std::ptrdiff_t>(std::min(g.size(), k + limit)));
      }
    }
    if (split.size() > 1) {
      notes_.push_back(std::string(is_emg ? "EMG" : "accelerometer") + " signals form " +
                       std::to_string(split.size()) + " streams (different rates, or more than " +
                       std::to_string(limit) + " channels); the detector uses the first");
    }
    int n = 0;
    for (const auto& g : split) {
      const auto& first = signals[g.front()];
      auto* info = hello_.add_streams();
      info->set_stream_id(static_cast<std::uint32_t>(hello_.streams_size() - 1));
      info->set_name(std::string(is_emg ? "emg" : "acc") + (n++ > 0 ? std::to_string(n) : ""));
      info->set_rate_hz(first.rate_hz);
      info->set_bits(32);
      // A common quantum for the stream: the finest channel resolution, in µV or g.
      std::vector<double> unit_factor(g.size());
      double quantum = std::numeric_limits<double>::infinity();
      for (std::size_t c = 0; c < g.size(); ++c) {
        const auto& s = signals[g[c]];
        const std::string& unit = is_emg ? (options.emg_unit.empty() ? s.unit : options.emg_unit)
                                         : (options.acc_unit.empty() ? s.unit : options.acc_unit);
        auto factor = is_emg ? to_uv(unit) : to_g(unit);
        if (!factor && unit.empty()) {
          factor = 1.0;
          notes_.push_back("'" + s.label + "' has no unit: taken as " + (is_emg ? "µV" : "g") + " (give " +
                           (is_emg ? "--emg-unit" : "--acc-unit") + ")");
        }
        if (!factor) {
          fail("'" + s.label + "' has unit '" + unit + "', not " +
               (is_emg ? "a voltage (uV, mV, V)" : "an acceleration (g, mg, m/s^2)") + ": give " +
               (is_emg ? "--emg-unit" : "--acc-unit"));
        }
        unit_factor[c] = *factor * (is_emg ? options.emg_scale : options.acc_scale);
        if (!(std::abs(s.gain * unit_factor[c]) > 0) || !std::isfinite(s.gain * unit_factor[c])) {
          fail("'" + s.label + "' has no usable scale");
        }
        quantum = std::min(quantum, std::abs(s.gain * unit_factor[c]));
      }
      Stream stream;
      stream.stream_id = info->stream_id();
      stream.rate_hz = first.rate_hz;
      for (std::size_t c = 0; c < g.size(); ++c) {
        const auto& s = signals[g[c]];
        used[g[c]] = true;
        Channel ch;
        ch.signal = g[c];
        ch.factor = s.gain * unit_factor[c] / quantum;
        ch.add = s.offset * unit_factor[c] / quantum;
        ch.exact = ch.factor == 1.0 && ch.add == std::round(ch.add);
        stream.channels.push_back(ch);
        auto* channel = info->add_channels();
        channel->set_label(s.label);
        channel->set_unit(is_emg ? "uV" : "g");
        channel->set_scale(quantum);
        channel->set_kind(is_emg ? proto::EMG
                                 : static_cast<proto::ChannelKind>(proto::ACCEL_X + static_cast<int>(c)));
      }
      // Streams the detector cannot take are still imported (and counted), with no kind.
      const bool usable =
          is_emg ? first.rate_hz >= kMinEmgRateHz : (g.size() == 3 && first.rate_hz >= kMinAccRateHz);
      if (!usable) {
        for (auto& channel : *info->mutable_channels()) channel.set_kind(proto::KIND_UNSPECIFIED);
        notes_.push_back(
            "stream '" + info->name() + "' (" + std::to_string(g.size()) + " channel(s) at " +
            std::to_string(first.rate_hz) + " Hz) is imported but not used by the detector (" +
            (is_emg ? "EMG needs at least 50 Hz" : "the accelerometer needs 3 axes at >= 10 Hz") + ")");
      }
      streams_.push_back(std::move(stream));
    }
  };
  add_streams(emg, true);
  add_streams(acc, false);
  for (std::size_t i = 0; i < signals.size(); ++i) {
    if (!used[i])
      notes_.push_back("signal " + std::to_string(signals[i].index) + " '" + signals[i].label +
                       "' not imported");
  }
  for (auto& s : *hello_.mutable_streams()) {
    if (!(s.rate_hz() > 0) || !std::isfinite(s.rate_hz()))
      fail("stream '" + s.name() + "' has no sample rate");
  }
  source_->select(used);

  if (options.start_utc_ns) {
    start_utc_ns_ = *options.start_utc_ns;
  } else if (source_->start_utc_ns() != 0) {
    start_utc_ns_ = source_->start_utc_ns();
  } else {
    struct stat st {};
    if (::stat(file_name.c_str(), &st) == 0) {
      start_utc_ns_ = static_cast<std::int64_t>(st.st_mtim.tv_sec) * 1'000'000'000 + st.st_mtim.tv_nsec;
    }
    notes_.push_back(source_->format_name() +
                     " has no start time: taken from the file's modification time (give --start)");
  }
  if (start_utc_ns_ <= 0) fail("start time before 1970 (give --start)");
  // Annotation times become UTC nanoseconds downstream (replay, export): refuse absurd ones here
  // (an 11-digit EDF+ onset is 3170 years) rather than overflow there.
  for (const auto& a : source_->annotations()) {
    const std::string which = "annotation '" + a.text.substr(0, 40) + "'";
    if (a.onset_ticks > kEdfMaxOnsetTicks || a.onset_ticks < -kEdfMaxOnsetTicks ||
        a.duration_ticks > kEdfMaxOnsetTicks) {
      fail(which + " at " + std::to_string(a.onset_ticks / kTicksPerSecond) + " s lasting " +
           std::to_string(a.duration_ticks / kTicksPerSecond) +
           " s reaches more than 100 years from the start (a corrupt annotation?)");
    }
    try {
      (void)utc_ns_after(start_utc_ns_, a.onset_ticks + std::max<std::int64_t>(a.duration_ticks, 0));
    } catch (const ImportError& e) {
      fail(which + ": " + e.what() + " (give another --start)");
    }
  }
}

bool ImportedFile::next(protocol::FrameEvent& event) {
  event = protocol::FrameEvent{};
  if (!hello_sent_) {
    hello_sent_ = true;
    *message_.mutable_hello() = hello_;
    message_.mutable_hello()->set_device_time_us(0);
    event.host_time_ns = start_utc_ns_;
    event.message = &message_;
    return true;
  }
  if (done_) return false;
  while (true) {
    if (!chunk_valid_) {
      if (!source_->next(chunk_)) {
        done_ = true;
        return false;
      }
      for (auto& s : streams_) {
        s.position = 0;
        const auto n = chunk_.values[s.channels.front().signal].size();
        for (const auto& c : s.channels) {
          if (chunk_.values[c.signal].size() != n) {
            throw ImportError(name_ + ": signals of one stream came with different sample counts");
          }
        }
      }
      chunk_valid_ = true;
      window_ = 0;
      next_stream_ = 0;
    }
    while (next_stream_ < streams_.size()) {
      auto& s = streams_[next_stream_++];
      const auto& first_values = chunk_.values[s.channels.front().signal];
      const std::size_t n = first_values.size();
      // At least one time point a window, so slow streams cannot stall the loop.
      const auto end = std::min<std::size_t>(
          n, std::max<std::size_t>(
                 s.position + 1, static_cast<std::size_t>(
                                     std::llround(static_cast<double>(window_ + 1) * kWindowS * s.rate_hz))));
      if (end <= s.position) continue;
      const std::size_t time_points = end - s.position;
      const std::size_t channels = s.channels.size();
      const std::uint64_t first_index = chunk_.first_index[s.channels.front().signal] + s.position;
      auto* block = message_.mutable_samples();
      block->set_stream_id(s.stream_id);
      block->set_sequence(s.sequence++);
      block->set_first_sample_index(first_index);
      block->set_device_time_us(
          static_cast<std::uint64_t>(std::llround(static_cast<double>(first_index) * 1e6 / s.rate_hz)));
      block->set_time_points(static_cast<std::uint32_t>(time_points));
      auto* samples = block->mutable_samples();
      samples->Resize(static_cast<int>(time_points * channels), 0);
      std::int32_t* out = samples->mutable_data();
      for (std::size_t c = 0; c < channels; ++c) {
        const auto& ch = s.channels[c];
        const std::int32_t* in = chunk_.values[ch.signal].data() + s.position;
        if (ch.exact) {
          const auto add = static_cast<std::int64_t>(ch.add);
          for (std::size_t t = 0; t < time_points; ++t) {
            const std::int64_t v = in[t] + add;
            if (v < std::numeric_limits<std::int32_t>::min() ||
                v > std::numeric_limits<std::int32_t>::max()) {
              throw ImportError(name_ + ": a value of '" + source_->signals()[ch.signal].label +
                                "' overflows 32 bits after scaling");
            }
            out[t * channels + c] = static_cast<std::int32_t>(v);
          }
        } else {
          for (std::size_t t = 0; t < time_points; ++t) {
            const double v = std::round(static_cast<double>(in[t]) * ch.factor + ch.add);
            if (!(std::abs(v) <= std::numeric_limits<std::int32_t>::max())) {
              throw ImportError(name_ + ": a value of '" + source_->signals()[ch.signal].label +
                                "' overflows 32 bits after scaling");
            }
            out[t * channels + c] = static_cast<std::int32_t>(v);
          }
        }
      }
      s.position = end;
      samples_ += time_points * channels;
      const double last_ns = static_cast<double>(first_index + time_points - 1) / s.rate_hz * 1e9;
      if (!(last_ns < 9e18) ||
          __builtin_add_overflow(start_utc_ns_, std::llround(last_ns), &event.host_time_ns)) {
        throw ImportError(name_ + ": sample " + std::to_string(first_index + time_points - 1) +
                          " is too far from the start for 64-bit times");
      }
      event.message = &message_;
      return true;
    }
    next_stream_ = 0;
    ++window_;
    bool finished = true;
    for (const auto& s : streams_) {
      finished = finished && s.position >= chunk_.values[s.channels.front().signal].size();
    }
    if (finished) chunk_valid_ = false;
  }
}

}  // namespace spasmwatch::import
