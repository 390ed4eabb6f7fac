#include "import/edf_exporter.hpp"

#include <gtest/gtest.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmath>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <random>
#include <sstream>

#include "detect/device_pipeline.hpp"
#include "import/edf_file.hpp"
#include "import/import_error.hpp"
#include "import/import_test_support.hpp"
#include "import/importer.hpp"

namespace spasmwatch::import {
namespace {

using test::TempDir;
using test::TestFile;
using test::TestSignal;

// Forwards the assembler's samples to the exporter and, when given, to a detector.
class Tee final : public ingest::SampleSink {
 public:
  Tee(ingest::SampleSink* a, ingest::SampleSink* b) : a_(a), b_(b) {}
  void on_hello(const proto::Hello& h, bool n) override {
    a_->on_hello(h, n);
    if (b_) b_->on_hello(h, n);
  }
  void on_samples(const ingest::StreamView& s, std::uint64_t i, std::uint64_t t,
                  std::span<const std::int32_t> v) override {
    a_->on_samples(s, i, t, v);
    if (b_) b_->on_samples(s, i, t, v);
  }
  void on_gap(const ingest::StreamView& s, std::uint64_t i, std::uint64_t n) override {
    a_->on_gap(s, i, n);
    if (b_) b_->on_gap(s, i, n);
  }

 private:
  ingest::SampleSink* a_;
  ingest::SampleSink* b_;
};

// One pass of `input` into the exporter (and the detector, if any); the first pass ends with plan().
void pass(const std::string& input, const ImportOptions& options, EdfExporter& exporter, bool first,
          detect::DevicePipeline* pipeline = nullptr) {
  auto file = ImportedFile::open(input, options);
  Tee tee(&exporter, pipeline);
  ingest::DeviceAssembler assembler(file->device_name(), &tee);
  if (pipeline) pipeline->set_clock(&assembler.clock());
  protocol::FrameEvent event;
  while (file->next(event)) assembler.on_event(event);
  if (pipeline) pipeline->finish();
  if (first) exporter.plan(assembler.clock());
}

// Exports `input` with its own annotations (and `extra`) to `output`.
void export_file(const std::string& input, const std::string& output, const ImportOptions& options = {},
                 std::vector<ExportAnnotation> extra = {}) {
  EdfExporter exporter(output);
  pass(input, options, exporter, true);
  {
    auto file = ImportedFile::open(input, options);
    for (const auto& a : file->annotations()) {
      exporter.add_annotation({exporter.file_seconds_of_utc(file->start_utc_ns() + a.onset_ticks * 100),
                               a.duration_ticks < 0 ? -1 : static_cast<double>(a.duration_ticks) / 1e7,
                               a.text});
    }
  }
  for (auto& a : extra) exporter.add_annotation(std::move(a));
  exporter.open();
  pass(input, options, exporter, false);
  exporter.finish();
}

std::vector<std::vector<double>> physical(SignalSource& s) {
  std::vector<std::vector<double>> out(s.signals().size());
  s.select(std::vector<bool>(s.signals().size(), true));
  Chunk chunk;
  while (s.next(chunk)) {
    for (std::size_t k = 0; k < out.size(); ++k) {
      for (const auto v : chunk.values[k]) out[k].push_back(v * s.signals()[k].gain + s.signals()[k].offset);
    }
  }
  return out;
}

TestFile two_streams(int records) {
  TestFile f;
  f.records = records;
  f.subsecond_100ns = 1230000;  // 0.123 s
  TestSignal e1;
  e1.label = "EMG calf";
  e1.samples_per_record = 1000;
  e1.value = [](std::int64_t i) { return static_cast<int>((i * 37) % 20001) - 10000; };
  TestSignal e2 = e1;
  e2.label = "EMG shin";
  e2.value = [](std::int64_t i) { return static_cast<int>((i * 11) % 501) - 250; };
  f.signals = {e1, e2};
  for (int a = 0; a < 3; ++a) {
    TestSignal acc;
    acc.label = std::string("ACC ") + static_cast<char>('X' + a);
    acc.unit = "mg";
    acc.samples_per_record = 50;
    acc.phys_min = -32768;
    acc.phys_max = 32767;
    acc.value = [a](std::int64_t i) { return a == 1 ? 1000 : static_cast<int>(i % 40) - 20; };
    f.signals.push_back(acc);
  }
  f.annotations = {
      {12340, -1, "took magnesium"}, {56780, 25000, "pain 7 neck"}, {100000, -1, "\xE4\xB8\xAD\xE6\x96\x87"}};
  return f;
}

TEST(EdfExporter, RoundTripKeepsSamplesAndAnnotations) {
  TempDir dir;
  const auto input = dir.file("in.edf"), output = dir.file("out.edf");
  ASSERT_TRUE(test::write_edf(input, two_streams(12)));
  export_file(input, output);

  struct stat st {};
  ASSERT_EQ(::stat(output.c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 0777, 0600u);  // health data: owner-only

  auto a = EdfFile::open(input);
  auto b = EdfFile::open(output);
  EXPECT_EQ(b->format_name(), "EDF+C");
  EXPECT_EQ(b->start_utc_ns(), a->start_utc_ns());
  ASSERT_EQ(b->signals().size(), 5u);
  const auto pa = physical(*a), pb = physical(*b);
  for (std::size_t k = 0; k < 5; ++k) {
    EXPECT_DOUBLE_EQ(b->signals()[k].rate_hz, a->signals()[k].rate_hz);
    EXPECT_EQ(b->signals()[k].label, a->signals()[k].label);
    ASSERT_EQ(pb[k].size(), pa[k].size()) << k;
    // Same samples within the resolution; accelerometer now in g instead of mg.
    const double unit = k >= 2 ? 1000.0 : 1.0;
    const double resolution = std::abs(a->signals()[k].gain);
    for (std::size_t i = 0; i < pa[k].size(); ++i) {
      ASSERT_NEAR(pb[k][i] * unit, pa[k][i], resolution * 0.5 + 1e-9) << k << " " << i;
    }
  }
  EXPECT_EQ(b->signals()[2].unit, "g");
  ASSERT_EQ(b->annotations().size(), a->annotations().size());
  for (std::size_t i = 0; i < a->annotations().size(); ++i) {
    EXPECT_EQ(b->annotations()[i].text, a->annotations()[i].text);
    EXPECT_NEAR(b->annotations()[i].onset_ticks, a->annotations()[i].onset_ticks, 1000) << i;  // 100 µs
    EXPECT_EQ(b->annotations()[i].duration_ticks, a->annotations()[i].duration_ticks);
  }
}

TEST(EdfExporter, WideValuesGiveBdfAndOddRatesShortRecords) {
  TempDir dir;
  const auto input = dir.file("in.bdf"), output = dir.file("out.edf");
  TestFile f;
  f.filetype = EDFLIB_FILETYPE_BDFPLUS;
  f.record_duration_10us = 50000;
  f.records = 6;
  TestSignal emg = test::bdf_signal("EMG", 975, 0.1);  // 1950 Hz
  emg.value = [](std::int64_t i) { return static_cast<int>((i * 7919) % 8000001) - 4000000; };
  f.signals = {emg};
  ASSERT_TRUE(test::write_edf(input, f));
  export_file(input, output);
  auto b = EdfFile::open(output);
  EXPECT_EQ(b->format_name(), "BDF+C");
  EXPECT_DOUBLE_EQ(b->signals()[0].rate_hz, 1950.0);
  EXPECT_EQ(b->header().record_ticks, kTicksPerSecond);  // 1950 samples: 1 s records hold them
  auto a = EdfFile::open(input);
  const auto pa = physical(*a), pb = physical(*b);
  ASSERT_EQ(pb[0].size(), pa[0].size());
  // EDFlib wrote the input's physical range truncated to 8 characters: its scale has no exact
  // header form, so the export requantizes (at most 0.1% coarser): within one output step.
  const double step = std::abs(b->signals()[0].gain);
  EXPECT_LT(step, std::abs(a->signals()[0].gain) * 1.001);
  for (std::size_t i = 0; i < pa[0].size(); ++i) ASSERT_NEAR(pb[0][i], pa[0][i], step) << i;
}

TEST(EdfExporter, RateWithHalfHertzGetsTwoSecondRecords) {
  TempDir dir;
  const auto input = dir.file("in.edf"), output = dir.file("out.edf");
  TestFile f;
  f.record_duration_10us = 200000;  // 2 s
  f.records = 3;
  f.signals[0].samples_per_record = 3901;  // 1950.5 Hz
  ASSERT_TRUE(test::write_edf(input, f));
  export_file(input, output);
  auto b = EdfFile::open(output);
  EXPECT_DOUBLE_EQ(b->signals()[0].rate_hz, 1950.5);
  EXPECT_EQ(b->header().record_ticks, 2 * kTicksPerSecond);
  EXPECT_EQ(b->signals()[0].samples, 3u * 3901);
}

TEST(EdfExporter, TimeRangeAndGapsFromCsv) {
  TempDir dir;
  const auto input = dir.file("in.csv"), output = dir.file("out.edf");
  {
    std::ofstream out(input);
    out << "time,emg\n";
    for (int i = 0; i < 3000; ++i) {
      if (i >= 1000 && i < 1500) continue;  // 0.5 s missing at 1 s
      out << i / 1000.0 << "," << (i % 100) << "\n";
    }
  }
  ImportOptions o;
  o.start_utc_ns = 1'800'000'000'000'000'000;
  export_file(input, output, o);
  auto b = EdfFile::open(output);
  const auto pb = physical(*b);
  ASSERT_EQ(pb[0].size(), 3000u);
  EXPECT_DOUBLE_EQ(pb[0][999], 99);
  EXPECT_DOUBLE_EQ(pb[0][1200], 0);  // the gap, written as zeros
  EXPECT_DOUBLE_EQ(pb[0][1501], 1);
  ASSERT_EQ(b->annotations().size(), 1u);
  EXPECT_EQ(b->annotations()[0].text, "gap");
  EXPECT_EQ(b->annotations()[0].onset_ticks, kTicksPerSecond);
  EXPECT_EQ(b->annotations()[0].duration_ticks, kTicksPerSecond / 2);
  EXPECT_EQ(b->start_utc_ns(), 1'800'000'000'000'000'000);

  // Only 2.0 .. 2.5 s.
  EdfExporter ranged(dir.file("ranged.edf"));
  ranged.set_range_utc(1'800'000'002'000'000'000, 1'800'000'002'500'000'000);
  pass(input, o, ranged, true);
  ranged.open();
  pass(input, o, ranged, false);
  ranged.finish();
  auto r = EdfFile::open(dir.file("ranged.edf"));
  EXPECT_EQ(r->start_utc_ns(), 1'800'000'002'000'000'000);
  const auto pr = physical(*r);
  EXPECT_EQ(r->header().record_ticks, kTicksPerSecond / 2);  // divides the 0.5 s range: no padding
  ASSERT_EQ(pr[0].size(), 500u);
  EXPECT_DOUBLE_EQ(pr[0][0], 0);  // sample 2000
  EXPECT_DOUBLE_EQ(pr[0][57], 57);
}

// 1 s of 100 Hz EMG in a CSV: one 1 s data record, so room for 64 annotations.
std::string one_second_csv(const TempDir& dir) {
  const auto input = dir.file("short.csv");
  std::ofstream out(input);
  out << "time,emg\n";
  for (int i = 0; i < 100; ++i) out << i / 100.0 << "," << (i % 10) << "\n";
  return input;
}

ImportOptions short_options() {
  ImportOptions o;
  o.start_utc_ns = 1'800'000'000'000'000'000;
  return o;
}

// More annotations than the annotation signals hold: the latest in time are left out, not the
// last added (the file's own annotations come last).
TEST(EdfExporter, TooManyAnnotationsDropTheLatestInTime) {
  TempDir dir;
  const auto input = one_second_csv(dir), output = dir.file("many.edf");
  const auto o = short_options();
  EdfExporter exporter(output);
  pass(input, o, exporter, true);
  ASSERT_EQ(exporter.records(), 1);
  exporter.add_annotation({0.9, -1, "latest"});
  for (int i = 0; i < 64; ++i) exporter.add_annotation({i / 100.0, -1, "n" + std::to_string(i)});
  exporter.open();
  pass(input, o, exporter, false);
  exporter.finish();
  ASSERT_EQ(exporter.notes().size(), 1u);
  EXPECT_NE(exporter.notes()[0].find("65 annotations do not fit 1 data records"), std::string::npos);
  auto b = EdfFile::open(output);
  ASSERT_EQ(b->annotations().size(), 64u);
  for (const auto& a : b->annotations()) EXPECT_NE(a.text, "latest");
  EXPECT_EQ(b->annotations().back().text, "n63");
}

// The export is written to "<output>.part" and renamed at the end: until then (and after a
// failure) the output keeps what it held, and no .part is left behind.
TEST(EdfExporter, OutputIsReplacedOnlyWhenTheExportIsComplete) {
  TempDir dir;
  const auto input = one_second_csv(dir), output = dir.file("out.edf");
  const auto o = short_options();
  std::ofstream(output) << "previous export";
  {
    EdfExporter exporter(output);
    pass(input, o, exporter, true);
    exporter.open();
    EXPECT_TRUE(std::filesystem::exists(output + ".part"));
    pass(input, o, exporter, false);
    EXPECT_EQ(test::read_bytes(output).size(), 15u);  // untouched while writing
    // destroyed without finish(): a failed export
  }
  EXPECT_EQ(test::read_bytes(output).size(), 15u);
  EXPECT_FALSE(std::filesystem::exists(output + ".part"));

  EdfExporter exporter(output);
  pass(input, o, exporter, true);
  exporter.open();
  pass(input, o, exporter, false);
  exporter.finish();
  EXPECT_FALSE(std::filesystem::exists(output + ".part"));
  struct stat st {};
  ASSERT_EQ(::stat(output.c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 0777, 0600u);
  auto b = EdfFile::open(output);
  EXPECT_EQ(physical(*b)[0].size(), 100u);
}

TEST(EdfExporter, NothingToExportIsAnError) {
  TempDir dir;
  EdfExporter exporter(dir.file("x.edf"));
  try {
    exporter.plan(ingest::ClockEstimator{});
    ADD_FAILURE() << "no error";
  } catch (const ImportError& e) {
    EXPECT_NE(std::string(e.what()).find("nothing to export"), std::string::npos);
  }
}

// The independent reader: MNE (python3-mne) opens the export and shows the detected events as
// annotations at their onsets (within one sample) on signals with the same values.
TEST(EdfExporter, MneShowsTheDetectedEvents) {
  TempDir dir;
  const auto input = dir.file("burst.edf"), output = dir.file("events.edf");
  TestFile f;
  f.records = 30;
  TestSignal emg;
  emg.samples_per_record = 2000;
  std::mt19937 rng(11);
  std::normal_distribution<double> gauss(0, 1);
  auto noise = std::make_shared<std::vector<int>>(2000 * 30);
  for (std::size_t i = 0; i < noise->size(); ++i) {
    const double t = static_cast<double>(i) / 2000;
    const double sd = (t >= 12.0 && t < 14.5) || (t >= 21.0 && t < 22.0) ? 150 : 3;
    (*noise)[i] = static_cast<int>(std::lround(gauss(rng) * sd * 10));
  }
  emg.value = [noise](std::int64_t i) { return (*noise)[static_cast<std::size_t>(i)]; };
  f.signals = {emg};
  ASSERT_TRUE(test::write_edf(input, f));

  ImportOptions o;
  o.site = "calf-left";
  std::vector<proto::Event> events;
  detect::DevicePipeline pipeline("burst", {}, [&](const proto::Event& e) {
    if (e.state() == proto::FINAL) events.push_back(e);
  });
  EdfExporter exporter(output);
  pass(input, o, exporter, true, &pipeline);
  ASSERT_EQ(events.size(), 2u);
  std::vector<double> onsets;
  for (const auto& e : events) {
    char text[64];
    std::snprintf(text, sizeof text, "spasm calf-left conf=%.2f", e.confidence());
    onsets.push_back(exporter.file_seconds_of_device(e.device_start_s()));
    exporter.add_annotation({onsets.back(), e.duration_s(), text});
  }
  exporter.open();
  pass(input, o, exporter, false);
  exporter.finish();

  const std::string script =
      "import mne, sys\n"
      "raw = mne.io.read_raw_edf(sys.argv[1], preload=True, verbose='error')\n"
      "print(raw.info['sfreq'])\n"
      "print(repr(raw.get_data()[0][24000] * 1e6))\n"
      "for a in raw.annotations:\n"
      "    print(repr(a['onset']), repr(a['duration']), a['description'])\n";
  const auto script_path = dir.file("check.py");
  std::ofstream(script_path) << script;
  // Debian's python3 (where python3-mne lives), not whatever python3 comes first on PATH.
  const std::string python = ::access("/usr/bin/python3", X_OK) == 0 ? "/usr/bin/python3" : "python3";
  const std::string command = "MPLBACKEND=Agg " + python + " " + script_path + " " + output + " 2>&1";
  FILE* pipe = ::popen(command.c_str(), "r");
  ASSERT_NE(pipe, nullptr);
  std::string out;
  char buffer[512];
  while (std::fgets(buffer, sizeof buffer, pipe) != nullptr) out += buffer;
  const int rc = ::pclose(pipe);
  ASSERT_EQ(rc, 0) << "python3 with MNE failed (tools/setup.sh installs python3-mne):\n" << out;
  std::istringstream lines(out);
  double rate = 0, value = 0;
  lines >> rate >> value;
  EXPECT_DOUBLE_EQ(rate, 2000);
  EXPECT_NEAR(value, (*noise)[24000] * 0.1, 0.051) << out;  // sample 24000 in µV
  std::vector<std::pair<double, std::string>> seen;
  std::string line;
  std::getline(lines, line);
  while (std::getline(lines, line)) {
    std::istringstream l(line);
    double onset = 0, duration = 0;
    std::string description;
    l >> onset >> duration;
    std::getline(l, description);
    seen.emplace_back(onset, description.substr(description.find_first_not_of(' ')));
  }
  ASSERT_EQ(seen.size(), 2u) << out;
  for (std::size_t i = 0; i < 2; ++i) {
    EXPECT_NEAR(seen[i].first, onsets[i], 1.0 / 2000) << out;
    EXPECT_TRUE(seen[i].second.starts_with("spasm calf-left conf=")) << seen[i].second;
  }
  EXPECT_NEAR(seen[0].first, 12.0, 0.05);
  EXPECT_NEAR(seen[1].first, 21.0, 0.05);
}

}  // namespace
}  // namespace spasmwatch::import
