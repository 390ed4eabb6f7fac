#include "import/importer.hpp"

#include <gtest/gtest.h>

#include <cmath>
#include <limits>
#include <random>
#include <sstream>

#include "detect/device_pipeline.hpp"
#include "import/edf_header.hpp"
#include "import/import_error.hpp"
#include "import/import_test_support.hpp"
#include "ingest/stream_assembler.hpp"

namespace spasmwatch::import {
namespace {

using test::TempDir;
using test::TestFile;
using test::TestSignal;

std::string open_error(const std::string& path, const ImportOptions& options) {
  try {
    (void)ImportedFile::open(path, options);
  } catch (const ImportError& e) {
    return e.what();
  }
  return "";
}

struct Replayed {
  proto::DeviceStats stats;
  std::vector<proto::Event> events;  // FINAL
  std::uint64_t blocks = 0;
};

Replayed replay(ImportedFile& file, const detect::DetectorConfig& config = {}) {
  Replayed r;
  detect::DevicePipeline pipeline(file.device_name(), config, [&](const proto::Event& e) {
    if (e.state() == proto::FINAL) r.events.push_back(e);
  });
  ingest::DeviceAssembler assembler(file.device_name(), &pipeline);
  pipeline.set_clock(&assembler.clock());
  protocol::FrameEvent event;
  while (file.next(event)) {
    if (event.message != nullptr && event.message->has_samples()) ++r.blocks;
    assembler.on_event(event);
  }
  pipeline.finish();
  r.stats = assembler.stats();
  return r;
}

std::uint64_t stream_samples(const proto::DeviceStats& stats, const std::string& name) {
  const auto it = stats.streams().find(name);
  return it == stats.streams().end() ? 0 : it->second.samples();
}

TestFile mixed_units_file() {
  TestFile f;
  f.records = 4;
  TestSignal emg1;
  emg1.label = "EMG calf";
  emg1.samples_per_record = 1000;
  TestSignal emg2 = emg1;
  emg2.label = "EMG 2";
  emg2.unit = "mV";
  emg2.phys_min = -6.5536;  // 0.2 uV a count, in mV
  emg2.phys_max = 6.5534;
  TestSignal accs[3];
  for (int a = 0; a < 3; ++a) {
    accs[a].label = std::string("ACC ") + static_cast<char>('X' + a);
    accs[a].unit = "mg";
    accs[a].samples_per_record = 100;
    accs[a].phys_min = -32768;
    accs[a].phys_max = 32767;
    accs[a].value = [a](std::int64_t i) { return a == 1 ? 1000 : static_cast<int>(i % 50); };
  }
  TestSignal temp;
  temp.label = "Temp";
  temp.unit = "degC";
  temp.samples_per_record = 1;
  f.signals = {emg1, emg2, accs[0], accs[1], accs[2], temp};
  return f;
}

TEST(Importer, MapsByLabelAndUnitToMicrovoltsAndG) {
  TempDir dir;
  const auto path = dir.file("mixed.edf");
  ASSERT_TRUE(test::write_edf(path, mixed_units_file()));
  auto f = ImportedFile::open(path, {});
  const auto& hello = f->hello();
  ASSERT_EQ(hello.streams_size(), 2);
  const auto& emg = hello.streams(0);
  EXPECT_EQ(emg.name(), "emg");
  EXPECT_DOUBLE_EQ(emg.rate_hz(), 1000);
  ASSERT_EQ(emg.channels_size(), 2);
  EXPECT_EQ(emg.channels(0).kind(), proto::EMG);
  EXPECT_EQ(emg.channels(0).unit(), "uV");
  EXPECT_NEAR(emg.channels(0).scale(), 0.1, 1e-6);  // the finer of 0.1 uV and 0.2 uV
  const auto& acc = hello.streams(1);
  EXPECT_EQ(acc.name(), "acc");
  ASSERT_EQ(acc.channels_size(), 3);
  EXPECT_EQ(acc.channels(2).kind(), proto::ACCEL_Z);
  EXPECT_EQ(acc.channels(0).unit(), "g");
  EXPECT_NEAR(acc.channels(0).scale(), 0.001, 1e-12);
  bool noted_temp = false;
  for (const auto& n : f->notes()) noted_temp |= n.find("'Temp' not imported") != std::string::npos;
  EXPECT_TRUE(noted_temp);
  EXPECT_EQ(f->device_name(), "mixed");

  // Values: counts x scale are the file's physical values in uV and g.
  const auto spec = mixed_units_file();
  protocol::FrameEvent event;
  ASSERT_TRUE(f->next(event));
  ASSERT_TRUE(event.message->has_hello());
  std::size_t checked = 0;
  while (f->next(event)) {
    const auto& b = event.message->samples();
    const auto& info = hello.streams(static_cast<int>(b.stream_id()));
    const auto channels = static_cast<std::size_t>(info.channels_size());
    ASSERT_EQ(static_cast<std::size_t>(b.samples_size()), b.time_points() * channels);
    for (std::size_t t = 0; t < b.time_points(); ++t) {
      const auto index = static_cast<std::int64_t>(b.first_sample_index() + t);
      for (std::size_t c = 0; c < channels; ++c) {
        const auto& sig = spec.signals[b.stream_id() == 0 ? c : 2 + c];
        const double gain = (sig.phys_max - sig.phys_min) / (sig.dig_max - sig.dig_min);
        const double offset = sig.phys_max - gain * sig.dig_max;
        const double unit = sig.unit == "mV" ? 1000 : sig.unit == "mg" ? 0.001 : 1;
        const double expected = (sig.value(index) * gain + offset) * unit;
        const double got = b.samples(static_cast<int>(t * channels + c)) * info.channels(0).scale();
        ASSERT_NEAR(got, expected, info.channels(0).scale() * 0.51) << sig.label << " at " << index;
        ++checked;
      }
    }
  }
  EXPECT_EQ(checked, 4u * (2 * 1000 + 3 * 100));
}

TEST(Importer, FlagsChooseSignalsByLabelOrIndex) {
  TempDir dir;
  const auto path = dir.file("mixed.edf");
  ASSERT_TRUE(test::write_edf(path, mixed_units_file()));
  ImportOptions o;
  o.emg = {"1"};
  o.acc = {"acc x", "ACC Y", "4"};
  o.site = "calf-left";
  o.device = "lab";
  {
    auto f = ImportedFile::open(path, o);
    ASSERT_EQ(f->hello().streams_size(), 2);
    EXPECT_EQ(f->hello().streams(0).channels(0).label(), "EMG 2");
    EXPECT_EQ(f->hello().streams(1).channels(2).label(), "ACC Z");
    EXPECT_EQ(f->hello().site(), proto::CALF);
    EXPECT_EQ(f->hello().side(), proto::LEFT);
    EXPECT_EQ(f->device_name(), "lab");
  }

  o.emg = {"EMG 9"};
  auto e = open_error(path, o);
  EXPECT_NE(e.find("--emg EMG 9: no such signal (signals: 0 'EMG calf', 1 'EMG 2'"), std::string::npos) << e;
  o.emg = {"Temp"};
  e = open_error(path, o);
  EXPECT_NE(e.find("'Temp' has unit 'degC', not a voltage"), std::string::npos) << e;
  o.emg_unit = "uV";
  EXPECT_EQ(open_error(path, o), "");
  o.emg = {"0"};
  o.emg_unit.clear();
  o.acc = {"0"};
  EXPECT_NE(open_error(path, o).find("both as --emg and as --acc"), std::string::npos);
  o.acc.clear();
  o.site = "elbow";
  EXPECT_NE(open_error(path, o).find("unknown body site 'elbow'"), std::string::npos);
}

TEST(Importer, EverySharedEdfFileReplaysThroughTheDetector) {
  const auto dir = test::shared_data() + "/edf/";
  struct Expected {
    const char* file;
    std::uint64_t samples;
  };
  for (const auto& x :
       {Expected{"test_generator.edf", 11 * 120000}, Expected{"test_generator.bdf", 30 * 4274},
        Expected{"test_utf8.edf", 89344}, Expected{"test_subsecond.edf", 89344}}) {
    auto f = ImportedFile::open(dir + x.file, {});
    const auto r = replay(*f);
    std::uint64_t total = 0;
    for (const auto& [name, s] : r.stats.streams()) {
      total += s.samples();
      EXPECT_EQ(s.lost_samples(), 0u) << x.file << " " << name;
    }
    EXPECT_EQ(total, x.samples) << x.file;
    EXPECT_EQ(f->samples(), x.samples) << x.file;
  }
}

TEST(Importer, SameFileGivesTheSameSessionAndDifferentFilesDiffer) {
  const auto dir = test::shared_data() + "/edf/";
  auto session = [&](const char* file) { return ImportedFile::open(dir + file, {})->hello().session_id(); };
  EXPECT_EQ(session("test_utf8.edf"), session("test_utf8.edf"));
  EXPECT_NE(session("test_utf8.edf"), session("test_subsecond.edf"));
}

// A synthetic recording with one clear burst: the detector finds it where the file has it, and
// the event's UTC time comes from the file's start time.
TEST(Importer, DetectsABurstAtItsFileTime) {
  TempDir dir;
  TestFile f;
  f.records = 40;
  f.subsecond_100ns = 2500000;  // starts at .25 s
  TestSignal emg;
  emg.label = "EMG";
  emg.samples_per_record = 2000;
  emg.phys_min = -3276.8;
  emg.phys_max = 3276.7;  // 0.1 uV a count
  auto noise = std::make_shared<std::vector<int>>(2000 * 40);
  std::mt19937 rng(7);
  std::normal_distribution<double> gauss(0, 1);
  for (std::size_t i = 0; i < noise->size(); ++i) {
    const double t = static_cast<double>(i) / 2000;
    const double sd_uv = (t >= 20.0 && t < 22.0) ? 150 : 3;
    (*noise)[i] = static_cast<int>(std::lround(gauss(rng) * sd_uv * 10));
  }
  emg.value = [noise](std::int64_t i) { return (*noise)[static_cast<std::size_t>(i)]; };
  TestSignal acc;
  acc.unit = "mg";
  acc.samples_per_record = 100;
  acc.phys_min = -32768;
  acc.phys_max = 32767;
  TestSignal ax = acc, ay = acc, az = acc;
  ax.label = "ACC X";
  ay.label = "ACC Y";
  az.label = "ACC Z";
  ax.value = [](std::int64_t) { return 0; };
  ay.value = [](std::int64_t) { return 1000; };
  az.value = [](std::int64_t) { return 0; };
  f.signals = {emg, ax, ay, az};
  const auto path = dir.file("burst.edf");
  ASSERT_TRUE(test::write_edf(path, f));
  ImportOptions o;
  o.site = "calf";
  auto file = ImportedFile::open(path, o);
  const auto r = replay(*file);
  ASSERT_EQ(r.events.size(), 1u);
  const auto& e = r.events[0];
  EXPECT_NEAR(e.device_start_s(), 20.0, 0.05);
  EXPECT_NEAR(e.duration_s(), 2.0, 0.3);
  EXPECT_EQ(e.site(), proto::CALF);
  const std::int64_t start_ns = file->start_utc_ns();
  EXPECT_EQ(start_ns % 1'000'000'000, 250'000'000);
  EXPECT_NEAR(static_cast<double>(e.start_utc_ns() - start_ns) / 1e9, e.device_start_s(), 0.002);
  EXPECT_EQ(stream_samples(r.stats, "emg"), 80000u);
  EXPECT_EQ(stream_samples(r.stats, "acc"), 3u * 4000);
}

TEST(Importer, CsvWithoutHeaderMapsByIndex) {
  TempDir dir;
  const auto path = dir.file("myo.csv");
  std::string text;
  for (int i = 0; i < 400; ++i) text += std::to_string(i % 7) + "," + std::to_string(-(i % 5)) + ",0\n";
  std::ofstream(path) << text;
  ImportOptions o;
  o.csv.rate_hz = 200;
  auto e = open_error(path, o);
  EXPECT_NE(e.find("cannot tell which signals are EMG"), std::string::npos) << e;
  o.emg = {"0", "1"};
  o.start_utc_ns = 1'800'000'000'000'000'000;
  auto f = ImportedFile::open(path, o);
  EXPECT_EQ(f->start_utc_ns(), 1'800'000'000'000'000'000);
  ASSERT_EQ(f->hello().streams_size(), 1);
  EXPECT_EQ(f->hello().streams(0).channels_size(), 2);
  const auto r = replay(*f);
  EXPECT_EQ(stream_samples(r.stats, "emg"), 800u);
}

// A source with one EMG signal of `rate_hz` and the given annotations, no samples.
class FakeSource final : public SignalSource {
 public:
  FakeSource(double rate_hz, std::vector<Annotation> annotations) : annotations_(std::move(annotations)) {
    SignalInfo s;
    s.label = "EMG";
    s.unit = "uV";
    s.rate_hz = rate_hz;
    signals_.push_back(s);
  }
  [[nodiscard]] const std::vector<SignalInfo>& signals() const override { return signals_; }
  [[nodiscard]] const std::vector<Annotation>& annotations() const override { return annotations_; }
  [[nodiscard]] std::int64_t start_utc_ns() const override { return 1'800'000'000'000'000'000; }
  [[nodiscard]] std::string format_name() const override { return "fake"; }
  [[nodiscard]] std::string identity() const override { return "fake"; }
  void select(const std::vector<bool>&) override {}
  bool next(Chunk&) override { return false; }
  [[nodiscard]] double progress() const override { return 1; }

 private:
  std::vector<SignalInfo> signals_;
  std::vector<Annotation> annotations_;
};

std::string source_error(double rate_hz, std::vector<Annotation> annotations = {}) {
  try {
    (void)ImportedFile::from_source(std::make_unique<FakeSource>(rate_hz, std::move(annotations)), "f.edf",
                                    {});
  } catch (const ImportError& e) {
    return e.what();
  }
  return "";
}

// A record duration of 1e-7 s made a 1 GHz stream; a BioSPPy rate of 1e-300 Hz infinite times.
TEST(Importer, RatesOutsideAMillihertzToAMegahertzAreRefused) {
  EXPECT_EQ(source_error(0.001), "");
  EXPECT_EQ(source_error(1e6), "");
  const auto slow = source_error(0.0009);
  EXPECT_NE(slow.find("f.edf: signal 0 'EMG': sample rate 0.0009 Hz is outside 0.001..1e+06 Hz"),
            std::string::npos)
      << slow;
  EXPECT_NE(source_error(1.1e6).find("sample rate 1.1e+06 Hz"), std::string::npos);

  auto text = std::make_unique<CsvSource>(
      std::make_unique<std::istringstream>("# Simple Text Format\n# Sampling Rate (Hz):= 1e-300\n"
                                           "# Units:= mV\n# Labels:= EMG\n1.5\n2.5\n"),
      "bio.txt", CsvOptions{});
  ImportOptions o;
  o.start_utc_ns = 1'800'000'000'000'000'000;
  try {
    (void)ImportedFile::from_source(std::move(text), "bio.txt", o);
    ADD_FAILURE() << "1e-300 Hz accepted";
  } catch (const ImportError& e) {
    EXPECT_NE(std::string(e.what()).find("sample rate 1e-300 Hz"), std::string::npos) << e.what();
  }

  // EDF+D (our own reader) with 1e-7 s records of 100 samples: 1e9 Hz.
  TempDir dir;
  const auto path = dir.file("tiny.edf");
  TestFile spec;
  spec.records = 3;
  ASSERT_TRUE(test::write_edf(path, spec));
  test::patch_file(path, {{192, "EDF+D", 44}, {244, "1e-7", 8}});
  const auto e = open_error(path, {});
  EXPECT_NE(e.find("signal 0 'EMG': sample rate 1e+09 Hz is outside"), std::string::npos) << e;
}

TEST(Importer, TickConversionsAreOverflowChecked) {
  EXPECT_EQ(utc_ns_after(5, 3), 305);
  EXPECT_EQ(utc_ns_after(1'800'000'000'000'000'000, -kTicksPerSecond), 1'799'999'999'000'000'000);
  EXPECT_THROW((void)utc_ns_after(0, std::numeric_limits<std::int64_t>::max() / 50), ImportError);
  EXPECT_THROW((void)utc_ns_after(std::numeric_limits<std::int64_t>::max() - 10, 1), ImportError);
}

// EDF+ TAL onsets of up to 11 digits (3170 years) are ticks that overflow as nanoseconds.
TEST(Importer, AnnotationsBeyondAHundredYearsAreRefusedNamingThem) {
  const std::int64_t century = 3'155'760'000 * kTicksPerSecond;
  EXPECT_EQ(source_error(1000, {{century, -1, "late"}, {-century, century, "early"}}), "");
  const auto e = source_error(1000, {{999'999'999'990'000'000, -1, "far"}});
  EXPECT_NE(e.find("f.edf: annotation 'far'"), std::string::npos) << e;
  EXPECT_NE(e.find("100 years"), std::string::npos) << e;
  EXPECT_NE(source_error(1000, {{0, century + 1, "long"}}).find("annotation 'long'"), std::string::npos);
}

}  // namespace
}  // namespace spasmwatch::import
