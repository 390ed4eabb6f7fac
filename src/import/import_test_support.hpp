// Test helpers for the import tests: files written by EDFlib into a temporary directory, byte
// patching, and the shared data folder (../shared/data, via SW_SHARED_DATA).
#pragma once

#include <edflib.h>
#include <gtest/gtest.h>
#include <unistd.h>

#include <cstdint>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <functional>
#include <initializer_list>
#include <iterator>
#include <string>
#include <vector>

namespace spasmwatch::import::test {

// The shared data folder. Tests that need it fail (they do not skip) when it is missing: CI has
// ../shared beside the clone, and a silently skipped import test proves nothing.
inline std::string shared_data() {
  const char* dir = std::getenv("SW_SHARED_DATA");
  if (dir == nullptr || !std::filesystem::is_directory(std::string(dir) + "/edf")) {
    ADD_FAILURE() << "shared test data not found: SW_SHARED_DATA=" << (dir ? dir : "(unset)")
                  << " must name ../shared/data with edf/ and real/ (run through ctest)";
    return "/nonexistent";
  }
  return dir;
}

class TempDir {
 public:
  TempDir() {
    std::string pattern = (std::filesystem::temp_directory_path() / "sw-import-XXXXXX").string();
    path_ = ::mkdtemp(pattern.data()) ? pattern : "";
  }
  ~TempDir() {
    std::error_code ec;
    std::filesystem::remove_all(path_, ec);
  }
  [[nodiscard]] std::string file(const std::string& name) const { return path_ + "/" + name; }

 private:
  std::string path_;
};

inline std::vector<std::uint8_t> read_bytes(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  return {std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
}

inline void write_bytes(const std::string& path, const std::vector<std::uint8_t>& bytes) {
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  out.write(reinterpret_cast<const char*>(bytes.data()), static_cast<std::streamsize>(bytes.size()));
}

// Overwrites `text.size()` bytes at `offset` (a header field, padded with spaces to `width`).
inline void patch(std::vector<std::uint8_t>& bytes, std::size_t offset, std::string text, std::size_t width) {
  text.resize(width, ' ');
  std::copy(text.begin(), text.end(), bytes.begin() + static_cast<std::ptrdiff_t>(offset));
}

// One header field to overwrite: `text` padded with spaces to `width` at `offset`.
struct HeaderEdit {
  std::size_t offset;
  std::string text;
  std::size_t width;
};

// Rewrites header fields of the file at `path` in place (e.g. to make EDFlib's EDF+ output plain
// EDF or EDF+D, or give it another record duration).
inline void patch_file(const std::string& path, std::initializer_list<HeaderEdit> edits) {
  auto bytes = read_bytes(path);
  for (const auto& e : edits) patch(bytes, e.offset, e.text, e.width);
  write_bytes(path, bytes);
}

struct TestSignal {
  std::string label = "EMG";
  std::string unit = "uV";
  std::string transducer;
  int samples_per_record = 100;
  double phys_min = -3276.8, phys_max = 3276.7;
  int dig_min = -32768, dig_max = 32767;
  std::function<int(std::int64_t)> value = [](std::int64_t i) { return static_cast<int>(i % 2000) - 1000; };
};

// A BDF signal over the whole 24-bit range, `units_per_count` physical units a count.
inline TestSignal bdf_signal(std::string label, int samples_per_record, double units_per_count) {
  TestSignal s;
  s.label = std::move(label);
  s.samples_per_record = samples_per_record;
  s.dig_min = -8388608;
  s.dig_max = 8388607;
  s.phys_min = s.dig_min * units_per_count;
  s.phys_max = s.dig_max * units_per_count;
  return s;
}

struct TestAnnotation {
  long long onset_100us = 0;
  long long duration_100us = -1;
  std::string text;
};

struct TestFile {
  int filetype = EDFLIB_FILETYPE_EDFPLUS;
  int record_duration_10us = 100000;  // 1 s
  int records = 10;
  int subsecond_100ns = 0;
  std::vector<TestSignal> signals{TestSignal{}};
  std::vector<TestAnnotation> annotations;
};

// Writes `f` with EDFlib's writer; returns false (with a test failure) when EDFlib refuses.
inline bool write_edf(const std::string& path, const TestFile& f) {
  const int h = edfopen_file_writeonly(path.c_str(), f.filetype, static_cast<int>(f.signals.size()));
  if (h < 0) {
    ADD_FAILURE() << "EDFlib cannot create " << path << ": " << h;
    return false;
  }
  bool ok = edf_set_datarecord_duration(h, f.record_duration_10us) == 0;
  ok = ok && edf_set_startdatetime(h, 2026, 3, 14, 15, 9, 26) == 0;
  if (f.subsecond_100ns != 0) ok = ok && edf_set_subsecond_starttime(h, f.subsecond_100ns) == 0;
  for (int s = 0; s < static_cast<int>(f.signals.size()); ++s) {
    const auto& sig = f.signals[static_cast<std::size_t>(s)];
    ok = ok && edf_set_samplefrequency(h, s, sig.samples_per_record) == 0;
    ok = ok && edf_set_physical_maximum(h, s, sig.phys_max) == 0 &&
         edf_set_physical_minimum(h, s, sig.phys_min) == 0;
    ok = ok && edf_set_digital_maximum(h, s, sig.dig_max) == 0 &&
         edf_set_digital_minimum(h, s, sig.dig_min) == 0;
    ok = ok && edf_set_label(h, s, sig.label.c_str()) == 0 &&
         edf_set_physical_dimension(h, s, sig.unit.c_str()) == 0;
    ok = ok && edf_set_transducer(h, s, sig.transducer.c_str()) == 0;
  }
  std::vector<int> buffer;
  for (int r = 0; r < f.records && ok; ++r) {
    for (const auto& sig : f.signals) {
      buffer.resize(static_cast<std::size_t>(sig.samples_per_record));
      for (int i = 0; i < sig.samples_per_record; ++i) {
        buffer[static_cast<std::size_t>(i)] =
            sig.value(static_cast<std::int64_t>(r) * sig.samples_per_record + i);
      }
      ok = ok && edfwrite_digital_samples(h, buffer.data()) == 0;
    }
  }
  for (const auto& a : f.annotations) {
    ok = ok && edfwrite_annotation_utf8(h, a.onset_100us, a.duration_100us, a.text.c_str()) == 0;
  }
  ok = edfclose_file(h) == 0 && ok;
  if (!ok) ADD_FAILURE() << "EDFlib failed writing " << path;
  return ok;
}

}  // namespace spasmwatch::import::test
