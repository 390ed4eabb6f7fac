#include "import/csv_source.hpp"

#include <gtest/gtest.h>

#include <sstream>

#include "import/import_error.hpp"
#include "import/import_test_support.hpp"

namespace spasmwatch::import {
namespace {

std::unique_ptr<CsvSource> from_text(const std::string& text, CsvOptions options = {}) {
  return std::make_unique<CsvSource>(std::make_unique<std::istringstream>(text), "t.csv", options);
}

struct Rows {
  std::vector<std::vector<double>> physical;  // per signal
  std::vector<std::vector<std::uint64_t>> index;
};

Rows read_all(CsvSource& s) {
  s.select(std::vector<bool>(s.signals().size(), true));
  Rows r;
  r.physical.resize(s.signals().size());
  r.index.resize(s.signals().size());
  Chunk chunk;
  while (s.next(chunk)) {
    for (std::size_t c = 0; c < chunk.values.size(); ++c) {
      for (std::size_t i = 0; i < chunk.values[c].size(); ++i) {
        r.physical[c].push_back(chunk.values[c][i] * s.signals()[c].gain + s.signals()[c].offset);
        r.index[c].push_back(chunk.first_index[c] + i);
      }
    }
  }
  return r;
}

std::string error_of(const std::string& text, CsvOptions options = {}) {
  try {
    auto s = from_text(text, options);
    (void)read_all(*s);
  } catch (const ImportError& e) {
    return e.what();
  }
  return "";
}

TEST(CsvSource, HeaderAndTimeColumnGiveRateNamesAndExactDecimals) {
  auto s = from_text("time,emg_left,acc_x\n0.000,1.25,-0.5\n0.001,2.5,0.125\n0.002,-3.75,1\n0.003,0,0\n");
  ASSERT_EQ(s->signals().size(), 2u);
  EXPECT_EQ(s->time_column(), 0u);
  EXPECT_EQ(s->signals()[0].label, "emg_left");
  EXPECT_EQ(s->signals()[0].index, 1u);
  EXPECT_NEAR(s->signals()[0].rate_hz, 1000.0, 1e-6);
  EXPECT_DOUBLE_EQ(s->signals()[0].gain, 0.01);
  EXPECT_DOUBLE_EQ(s->signals()[1].gain, 0.001);
  const auto r = read_all(*s);
  EXPECT_EQ(r.physical[0], (std::vector<double>{1.25, 2.5, -3.75, 0}));
  EXPECT_EQ(r.physical[1], (std::vector<double>{-0.5, 0.125, 1, 0}));
  EXPECT_EQ(r.index[0], (std::vector<std::uint64_t>{0, 1, 2, 3}));
}

TEST(CsvSource, TimeJumpIsAGap) {
  CsvOptions o;
  o.chunk_rows = 100;
  auto s = from_text("t;emg\n10.0;1\n10.5;2\n11.0;3\n13.0;4\n13.5;5\n", o);
  EXPECT_DOUBLE_EQ(s->signals()[0].rate_hz, 2.0);
  const auto r = read_all(*s);
  EXPECT_EQ(r.index[0], (std::vector<std::uint64_t>{0, 1, 2, 6, 7}));
  EXPECT_EQ(r.physical[0], (std::vector<double>{1, 2, 3, 4, 5}));
}

TEST(CsvSource, HeaderlessNeedsARateAndNamesColumnsByIndex) {
  EXPECT_NE(error_of("1,2\n3,4\n").find("no time column and no sample rate"), std::string::npos);
  CsvOptions o;
  o.rate_hz = 200;
  auto s = from_text("1,2,0\n3,4,1\n", o);
  ASSERT_EQ(s->signals().size(), 3u);
  EXPECT_EQ(s->signals()[2].label, "col2");
  const auto r = read_all(*s);
  EXPECT_EQ(r.physical[1], (std::vector<double>{2, 4}));
}

// The BOM used to be stripped only from the line the header detection saw: without a header the
// first data row was read again with it ("\ufeff1.5" is not a number).
TEST(CsvSource, ByteOrderMarkIsSkippedWithAndWithoutHeader) {
  const std::string bom = "\xEF\xBB\xBF";
  CsvOptions o;
  o.rate_hz = 100;
  auto headerless = from_text(bom + "1.5,2\n2.5,3\n", o);
  ASSERT_EQ(headerless->signals().size(), 2u);
  EXPECT_EQ(headerless->signals()[0].label, "col0");
  const auto r = read_all(*headerless);
  EXPECT_EQ(r.physical[0], (std::vector<double>{1.5, 2.5}));
  EXPECT_EQ(r.physical[1], (std::vector<double>{2, 3}));

  auto with_header = from_text(bom + "emg,acc\n1.5,2\n2.5,3\n", o);
  EXPECT_EQ(with_header->signals()[0].label, "emg");
  EXPECT_EQ(read_all(*with_header).physical[0], (std::vector<double>{1.5, 2.5}));

  o.header = CsvHeader::no;
  auto forced = from_text(bom + "1.5;2\n2.5;3\n", o);
  EXPECT_EQ(read_all(*forced).physical[1], (std::vector<double>{2, 3}));
}

TEST(CsvSource, ErrorsNameFileLineAndColumn) {
  CsvOptions o;
  o.rate_hz = 100;
  auto e = error_of("a,b\n1,2\n3,x4\n", o);
  EXPECT_NE(e.find("t.csv:3: column 2 (index 1, 'b'): 'x4' is not a number"), std::string::npos) << e;
  e = error_of("a,b\n1,2\n3\n", o);
  EXPECT_NE(e.find("t.csv:3: 1 columns, expected 2"), std::string::npos) << e;
  e = error_of("time,a\n0,1\n1,2\n0.5,3\n");
  EXPECT_NE(e.find("t.csv:4: column 1 (index 0, time)"), std::string::npos) << e;
  EXPECT_NE(e.find("times must increase"), std::string::npos) << e;
  e = error_of("time,a\n0,1\n1,2\nnope,2\n");
  EXPECT_NE(e.find("t.csv:4: column 1 (index 0, time): time 'nope' is not a number"), std::string::npos) << e;
  o.time_column = "clock";
  EXPECT_NE(error_of("time,a\n0,1\n", o).find("no column named 'clock'"), std::string::npos);
  EXPECT_NE(error_of("").find("no data rows"), std::string::npos);
  EXPECT_NE(error_of("# only a comment\n").find("no data rows"), std::string::npos);
}

TEST(CsvSource, UnselectedTextColumnsAreNotParsed) {
  CsvOptions o;
  o.rate_hz = 10;
  auto s = from_text("emg,label\n1,rest\n2,fist\n", o);
  s->select({true, false});
  Chunk chunk;
  ASSERT_TRUE(s->next(chunk));
  EXPECT_EQ(chunk.values[0], (std::vector<std::int32_t>{1, 2}));
  EXPECT_TRUE(chunk.values[1].empty());
}

TEST(CsvSource, ValueBeyondTheChosenResolutionIsAnError) {
  CsvOptions o;
  o.rate_hz = 10;
  std::string text = "a\n";
  for (int i = 0; i < 1000; ++i) text += "0.000001\n";
  text += "999999\n";  // 1e6 at 6 decimals does not fit 32 bits
  const auto e = error_of(text, o);
  EXPECT_NE(e.find("t.csv:1002: column 1 (index 0, 'a'): '999999' is too large"), std::string::npos) << e;
}

TEST(CsvSource, BiosppyTextFilesImportWithTheirHeaderRates) {
  const auto dir = test::shared_data() + "/real/biosppy/";
  struct Expected {
    const char* file;
    std::size_t columns;
    double rate_hz;
    std::size_t rows;  // README: 100 s, 63.9 s (63,880 lines), 20 s
    const char* label;
  };
  for (const auto& x :
       {Expected{"emg.txt", 1, 1000, 100000, "EMG"}, Expected{"emg_1.txt", 1, 1000, 63880, "EMG"},
        Expected{"acc.txt", 3, 100, 2000, "acc_x"}}) {
    auto s = CsvSource::open(dir + x.file, {});
    EXPECT_EQ(s->format_name(), "BioSPPy text");
    ASSERT_EQ(s->signals().size(), x.columns) << x.file;
    EXPECT_DOUBLE_EQ(s->signals()[0].rate_hz, x.rate_hz);
    EXPECT_EQ(s->signals()[0].label, x.label);
    const auto r = read_all(*s);
    EXPECT_EQ(r.physical[0].size(), x.rows) << x.file;
    if (std::string(x.file) == "emg.txt") {
      EXPECT_DOUBLE_EQ(r.physical[0].front(), 2055.0);
      const auto [lo, hi] = std::minmax_element(r.physical[0].begin(), r.physical[0].end());
      EXPECT_DOUBLE_EQ(*lo, 2037);  // README: range 2037-2071
      EXPECT_DOUBLE_EQ(*hi, 2071);
    }
    if (std::string(x.file) == "acc.txt") {
      EXPECT_EQ(s->signals()[0].unit, "m/s^2");
      EXPECT_DOUBLE_EQ(r.physical[0][0], 0.28467);
      EXPECT_DOUBLE_EQ(r.physical[1][0], -0.88965);
    }
  }
}

TEST(CsvSource, MyoCsvImportsWithEightChannelsAndLabels) {
  CsvOptions o;
  o.rate_hz = 200;
  auto s = CsvSource::open(test::shared_data() + "/real/myo-12345-1/1.txt", o);
  ASSERT_EQ(s->signals().size(), 9u);
  const auto r = read_all(*s);
  EXPECT_EQ(r.physical[0].size(), 11936u);
  EXPECT_EQ(r.physical[0][0], 2);
  EXPECT_EQ(r.physical[7][0], 4);  // first row: 2,0,2,-8,0,1,-5,4,0
  for (const double v : r.physical[3]) {
    ASSERT_GE(v, -128);
    ASSERT_LE(v, 127);
  }
}

}  // namespace
}  // namespace spasmwatch::import
