#include "import/edf_file.hpp"

#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>

#include "import/import_error.hpp"
#include "import/import_test_support.hpp"

namespace spasmwatch::import {
namespace {

using test::TempDir;
using test::TestFile;
using test::TestSignal;

struct ReadBack {
  std::vector<std::vector<std::int32_t>> values;    // per signal, in index order (gaps not filled)
  std::vector<std::vector<std::uint64_t>> indices;  // per signal, sample index of each value
};

ReadBack read_all(SignalSource& source) {
  ReadBack r;
  r.values.resize(source.signals().size());
  r.indices.resize(source.signals().size());
  Chunk chunk;
  while (source.next(chunk)) {
    for (std::size_t s = 0; s < chunk.values.size(); ++s) {
      for (std::size_t i = 0; i < chunk.values[s].size(); ++i) {
        r.values[s].push_back(chunk.values[s][i]);
        r.indices[s].push_back(chunk.first_index[s] + i);
      }
    }
  }
  return r;
}

std::string open_error(const std::string& path) {
  try {
    (void)EdfFile::open(path);
  } catch (const ImportError& e) {
    return e.what();
  }
  return "";
}

// What pyEDFlib's tests and the data README document for the EDFbrowser generator files.
TEST(EdfFile, GeneratorEdfImportsAsDocumented) {
  auto f = EdfFile::open(test::shared_data() + "/edf/test_generator.edf");
  ASSERT_EQ(f->signals().size(), 11u);
  for (const auto& s : f->signals()) {
    EXPECT_DOUBLE_EQ(s.rate_hz, 200.0);
    EXPECT_EQ(s.samples, 120000u);
  }
  ASSERT_EQ(f->annotations().size(), 2u);
  EXPECT_EQ(f->annotations()[0].onset_ticks, 0);
  EXPECT_EQ(f->annotations()[0].text, "Recording starts");
  EXPECT_EQ(f->annotations()[1].onset_ticks, 600 * kTicksPerSecond);
  EXPECT_EQ(f->annotations()[1].text, "Recording ends");
  EXPECT_EQ(f->start_utc_ns(), 1301921822LL * 1'000'000'000);
  const auto all = read_all(*f);
  const auto s5 = f->signals()[5];
  f.reset();  // EDFlib opens a file only once at a time
  for (const auto& v : all.values) EXPECT_EQ(v.size(), 120000u);
  // Values against EDFlib's own physical conversion.
  edf_hdr_struct hdr{};
  ASSERT_EQ(edfopen_file_readonly((test::shared_data() + "/edf/test_generator.edf").c_str(), &hdr,
                                  EDFLIB_DO_NOT_READ_ANNOTATIONS),
            0);
  std::vector<double> physical(120000);
  ASSERT_EQ(edfread_physical_samples(hdr.handle, 5, 120000, physical.data()), 120000);
  edfclose_file(hdr.handle);
  EXPECT_EQ(s5.label, "sine 8 Hz");
  double max_abs = 0;
  for (std::size_t i = 0; i < physical.size(); ++i) {
    EXPECT_NEAR(all.values[5][i] * s5.gain + s5.offset, physical[i], 1e-9) << i;
    max_abs = std::max(max_abs, std::abs(physical[i]));
  }
  EXPECT_GT(max_abs, 50);  // a real sine, not zeros
}

TEST(EdfFile, GeneratorBdfHasOddRatesAndExactCounts) {
  auto f = EdfFile::open(test::shared_data() + "/edf/test_generator.bdf");
  EXPECT_EQ(f->format_name(), "BDF+C");
  const double rates[] = {1000, 800, 500, 975, 999};
  ASSERT_EQ(f->signals().size(), 5u);
  const auto all = read_all(*f);
  for (std::size_t s = 0; s < 5; ++s) {
    EXPECT_DOUBLE_EQ(f->signals()[s].rate_hz, rates[s]);
    EXPECT_EQ(f->signals()[s].samples, static_cast<std::uint64_t>(rates[s] * 30));
    EXPECT_EQ(all.values[s].size(), static_cast<std::size_t>(rates[s] * 30));
    EXPECT_EQ(all.indices[s].back(), static_cast<std::uint64_t>(rates[s] * 30) - 1);
  }
  EXPECT_TRUE(f->annotations().empty());
  EXPECT_NEAR(f->signals()[0].gain, 6000.0 / 16777215.0, 1e-15);
}

TEST(EdfFile, Utf8AnnotationsSurvive) {
  auto f = EdfFile::open(test::shared_data() + "/edf/test_utf8.edf");
  ASSERT_EQ(f->signals().size(), 1u);
  EXPECT_EQ(f->signals()[0].label, "Fp1");
  EXPECT_DOUBLE_EQ(f->signals()[0].rate_hz, 128.0);
  EXPECT_EQ(f->signals()[0].samples, 89344u);  // 698 records of 128
  ASSERT_EQ(f->annotations().size(), 5u);
  EXPECT_EQ(f->annotations()[2].text,
            "\xE4\xB8\xAD\xE6\x96\x87\xE6\xB5\x8B\xE8\xAF\x95\xE5\x85\xAB\xE4\xB8\xAA\xE5\xAD\x97");
  // TAL onset +120 s in a file starting 0.3945312 s after its header second.
  EXPECT_EQ(f->annotations()[2].onset_ticks, 120 * kTicksPerSecond - 3945312);
  EXPECT_EQ(read_all(*f).values[0].size(), 89344u);
}

TEST(EdfFile, SubSecondStartIsPartOfTheStartTime) {
  auto f = EdfFile::open(test::shared_data() + "/edf/test_subsecond.edf");
  // 2020-01-24T04:05:56.3945312 (the header's date says 24.01.20 04.05.56, the first record +0.3945312)
  EXPECT_EQ(f->start_utc_ns(), 1579838756LL * 1'000'000'000 + 394531200);
  ASSERT_EQ(f->annotations().size(), 4u);
  EXPECT_EQ(f->annotations()[0].text, "XLSpike");
  EXPECT_EQ(f->annotations()[0].onset_ticks, 23457031 - 3945312);  // TAL +2.3457031
  EXPECT_EQ(f->annotations()[1].text, "Clip Note");
  // Physical minimum above maximum: a negative gain, honoured.
  EXPECT_LT(f->signals()[0].gain, 0);
}

TEST(EdfFile, BdfWithHalfSecondRecordsAnd1950Hz) {
  TempDir dir;
  TestFile spec;
  spec.filetype = EDFLIB_FILETYPE_BDFPLUS;
  spec.record_duration_10us = 50000;  // 0.5 s
  spec.records = 7;
  TestSignal emg = test::bdf_signal("EMG calf", 975, 0.001);  // 1950 Hz; 1 nV a count, in mV
  emg.unit = "mV";
  emg.value = [](std::int64_t i) { return static_cast<int>((i * 7919) % 16000000) - 8000000; };
  TestSignal acc;
  acc.label = "ACC x";
  acc.unit = "mg";
  acc.samples_per_record = 25;  // 50 Hz
  spec.signals = {emg, acc};
  spec.annotations = {{12345, 5000, "spasm calf-left conf=0.93"}};
  const auto path = dir.file("half.bdf");
  ASSERT_TRUE(test::write_edf(path, spec));

  auto f = EdfFile::open(path);
  ASSERT_EQ(f->signals().size(), 2u);
  EXPECT_DOUBLE_EQ(f->signals()[0].rate_hz, 1950.0);
  EXPECT_DOUBLE_EQ(f->signals()[1].rate_hz, 50.0);
  EXPECT_EQ(f->header().record_ticks, 5'000'000);
  EXPECT_EQ(f->signals()[0].unit, "mV");
  const auto all = read_all(*f);
  ASSERT_EQ(all.values[0].size(), 975u * 7);
  for (std::size_t i = 0; i < all.values[0].size(); ++i) {
    ASSERT_EQ(all.values[0][i], emg.value(static_cast<std::int64_t>(i))) << i;
  }
  ASSERT_EQ(all.values[1].size(), 25u * 7);
  ASSERT_EQ(f->annotations().size(), 1u);
  EXPECT_EQ(f->annotations()[0].onset_ticks, 12345000);
  EXPECT_EQ(f->annotations()[0].duration_ticks, 5000000);
  EXPECT_EQ(f->annotations()[0].text, "spasm calf-left conf=0.93");
}

// An EDF+D made from an EDF+C: the same bytes with 'D' in the reserved field, and optionally
// later records moved in time by editing their time-keeping TALs.
class Discontinuous : public ::testing::Test {
 protected:
  void SetUp() override {
    spec.records = 12;
    spec.signals[0].samples_per_record = 100;
    spec.annotations = {{25000, -1, "before gap"}, {95000, 20000, "after gap"}};
    ASSERT_TRUE(test::write_edf(continuous, spec));
    bytes = test::read_bytes(continuous);
    test::patch(bytes, 192, "EDF+D", 44);
  }
  // Moves records first..last by `shift_s` seconds (the onset text must keep its length).
  void shift_records(int first, int last, int shift_s) {
    const EdfHeader h = parse_edf_header(bytes, bytes.size(), "x");
    const auto& annot = h.signals[1];
    for (int r = first; r <= last; ++r) {
      auto* p = bytes.data() + h.header_bytes + static_cast<std::size_t>(r) * h.record_bytes +
                annot.offset_in_record;
      const std::string old_onset = "+" + std::to_string(r) + "\x14\x14";
      const std::string new_onset = "+" + std::to_string(r + shift_s) + "\x14\x14";
      ASSERT_EQ(old_onset.size(), new_onset.size());
      ASSERT_TRUE(std::equal(old_onset.begin(), old_onset.end(), p)) << "record " << r;
      std::copy(new_onset.begin(), new_onset.end(), p);
    }
  }
  // Rewrites record `record`'s time-keeping TAL to start at `onset` ("+3000000000"); the TAL may
  // grow into the zero bytes after it.
  void set_onset(int record, const std::string& onset) {
    const EdfHeader h = parse_edf_header(bytes, bytes.size(), "x");
    const auto& annot = h.signals[1];
    auto* p = bytes.data() + h.header_bytes + static_cast<std::size_t>(record) * h.record_bytes +
              annot.offset_in_record;
    const std::string old_tal = "+" + std::to_string(record) + "\x14\x14";
    ASSERT_TRUE(std::equal(old_tal.begin(), old_tal.end(), p)) << "record " << record;
    const std::string tal = onset + "\x14\x14";
    const std::size_t room = annot.samples_per_record * h.bytes_per_sample;
    ASSERT_LT(tal.size(), room);
    ASSERT_TRUE(std::all_of(p + old_tal.size(), p + tal.size() + 1, [](std::uint8_t b) { return b == 0; }));
    std::copy(tal.begin(), tal.end(), p);
  }
  TempDir dir;
  TestFile spec;
  std::string continuous = dir.file("c.edf"), discontinuous = dir.file("d.edf");
  std::vector<std::uint8_t> bytes;
};

TEST_F(Discontinuous, OwnReaderMatchesEdflibOnTheSameRecords) {
  test::write_bytes(discontinuous, bytes);
  auto c = EdfFile::open(continuous);
  auto d = EdfFile::open(discontinuous);
  EXPECT_EQ(d->format_name(), "EDF+D");
  const auto a = read_all(*c), b = read_all(*d);
  EXPECT_EQ(a.values, b.values);
  EXPECT_EQ(a.indices, b.indices);
  ASSERT_EQ(c->annotations().size(), 2u);
  ASSERT_EQ(d->annotations().size(), 2u);
  for (std::size_t i = 0; i < 2; ++i) {
    EXPECT_EQ(c->annotations()[i].onset_ticks, d->annotations()[i].onset_ticks);
    EXPECT_EQ(c->annotations()[i].duration_ticks, d->annotations()[i].duration_ticks);
    EXPECT_EQ(c->annotations()[i].text, d->annotations()[i].text);
  }
  EXPECT_EQ(c->start_utc_ns(), d->start_utc_ns());
}

TEST_F(Discontinuous, GapsBetweenRecordsBecomeIndexJumps) {
  shift_records(10, 11, 4);  // records 10 and 11 start 4 s later: a 4 s gap after record 9
  test::write_bytes(discontinuous, bytes);
  auto d = EdfFile::open(discontinuous);
  const auto b = read_all(*d);
  ASSERT_EQ(b.values[0].size(), 1200u);
  EXPECT_EQ(b.indices[0][999], 999u);
  EXPECT_EQ(b.indices[0][1000], 1400u);  // 4 s x 100 Hz later
  EXPECT_EQ(b.values[0][1000], spec.signals[0].value(1000));
}

TEST_F(Discontinuous, RecordsOutOfOrderAreRefused) {
  shift_records(5, 9, -2);  // "+5" -> "+3": record 5 would start inside record 4
  test::write_bytes(discontinuous, bytes);
  const auto e = open_error(discontinuous);
  EXPECT_NE(e.find("data record 6 starts at 3"), std::string::npos) << e;
}

// +99999999999 s (3170 years) used to overflow the sample index (onset x samples per record)
// and replay reported ~1.8e19 lost samples; an onset beyond 100 years is refused by record.
TEST_F(Discontinuous, OnsetBeyondAHundredYearsIsRefusedNamingTheRecord) {
  set_onset(11, "+99999999999");
  test::write_bytes(discontinuous, bytes);
  const auto e = open_error(discontinuous);
  EXPECT_NE(e.find("data record 12"), std::string::npos) << e;
  EXPECT_NE(e.find("100 years"), std::string::npos) << e;
}

// 95 years at 1000 Hz: onset ticks x samples per record is 3e19, beyond int64; the index is
// still exact (3e12).
TEST_F(Discontinuous, LateRecordGetsAnExactSampleIndex) {
  spec.signals[0].samples_per_record = 1000;
  ASSERT_TRUE(test::write_edf(continuous, spec));
  bytes = test::read_bytes(continuous);
  test::patch(bytes, 192, "EDF+D", 44);
  set_onset(11, "+3000000000");
  test::write_bytes(discontinuous, bytes);
  auto d = EdfFile::open(discontinuous);
  const auto b = read_all(*d);
  ASSERT_EQ(b.values[0].size(), 12000u);
  EXPECT_EQ(b.indices[0][10999], 10999u);
  EXPECT_EQ(b.indices[0][11000], 3'000'000'000'000u);
}

// A tiny record duration (10 us, 100 samples: 10 MHz) once made one chunk of 1e5 records,
// the whole file here; a chunk holds at most 2^20 samples of a signal.
TEST(EdfFile, ChunksHoldAtMostAMillionSamplesPerSignal) {
  TempDir dir;
  const auto path = dir.file("fast.edf");
  TestFile spec;
  spec.records = 20000;
  ASSERT_TRUE(test::write_edf(path, spec));
  // EDFlib writes EDF+ only: made plain EDF (read through EDFlib; its annotation signal becomes
  // a second data signal), with 10 us records.
  test::patch_file(path, {{192, "", 44}, {244, "0.00001", 8}});
  auto f = EdfFile::open(path);
  EXPECT_GE(f->records_per_chunk(), 1);
  EXPECT_LE(f->records_per_chunk() * 100, 1 << 20);
  Chunk chunk;
  std::uint64_t total = 0;
  std::size_t largest = 0;
  while (f->next(chunk)) {
    ASSERT_EQ(chunk.first_index[0], total);
    ASSERT_EQ(chunk.values[0].front(), spec.signals[0].value(static_cast<std::int64_t>(total)));
    largest = std::max(largest, chunk.values[0].size());
    total += chunk.values[0].size();
  }
  EXPECT_EQ(total, 2'000'000u);
  EXPECT_LE(largest, std::size_t{1} << 20);
}

TEST(EdfFile, EdflibDisagreementNamesTheField) {
  EdfSignal ours;
  ours.label = "EMG";
  ours.samples_per_record = 100;
  ours.dig_min = -32768;
  ours.dig_max = 32767;
  EXPECT_EQ(edflib_disagreement(ours, 100, -32768, 32767), "");
  const auto min = edflib_disagreement(ours, 100, -32767, 32767);
  EXPECT_NE(min.find("digital minimum of 'EMG': header parser says -32768, EDFlib says -32767"),
            std::string::npos)
      << min;
  const auto max = edflib_disagreement(ours, 100, -32768, 32766);
  EXPECT_NE(max.find("digital maximum of 'EMG': header parser says 32767, EDFlib says 32766"),
            std::string::npos)
      << max;
  EXPECT_NE(edflib_disagreement(ours, 50, -32768, 32767).find("samples per record of 'EMG'"),
            std::string::npos);
}

TEST(EdfFile, EdflibRefusalIsExplained) {
  TempDir dir;
  const auto path = dir.file("bad.edf");
  TestFile spec;
  ASSERT_TRUE(test::write_edf(path, spec));
  auto bytes = test::read_bytes(path);
  // A time-keeping TAL that contradicts the record duration: our header check passes, EDFlib refuses.
  const EdfHeader h = parse_edf_header(bytes, bytes.size(), "x");
  auto* p = bytes.data() + h.header_bytes + 3 * h.record_bytes + h.signals[1].offset_in_record;
  ASSERT_EQ(std::string(reinterpret_cast<char*>(p), 2), "+3");
  p[1] = '7';
  test::write_bytes(path, bytes);
  const auto e = open_error(path);
  EXPECT_NE(e.find("bad.edf: EDFlib cannot open it: EDFlib found format errors"), std::string::npos) << e;
  EXPECT_NE(open_error(dir.file("missing.edf")).find("missing.edf"), std::string::npos);
}

}  // namespace
}  // namespace spasmwatch::import
