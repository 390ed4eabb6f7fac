#include "import/edf_header.hpp"

#include <gtest/gtest.h>

#include "import/import_error.hpp"
#include "import/import_test_support.hpp"

namespace spasmwatch::import {
namespace {

using namespace std::literals;
using test::patch;
using test::read_bytes;

std::string error_of(const std::vector<std::uint8_t>& bytes, std::uint64_t file_size) {
  try {
    (void)parse_edf_header(bytes, file_size, "x.edf");
  } catch (const ImportError& e) {
    return e.what();
  }
  return "";
}

std::string error_of(const std::vector<std::uint8_t>& bytes) {
  return error_of(bytes, bytes.size());
}

TEST(EdfHeader, ReadsTheGeneratorFileAsItsMakerDocumented) {
  const auto bytes = read_bytes(test::shared_data() + "/edf/test_generator.edf");
  ASSERT_FALSE(bytes.empty());
  const auto h = parse_edf_header(bytes, bytes.size(), "test_generator.edf");
  EXPECT_EQ(h.type_name(), "EDF+C");
  ASSERT_EQ(h.signals.size(), 12u);  // 11 signals and the annotation signal
  EXPECT_TRUE(h.signals[11].annotation);
  EXPECT_EQ(h.records, 600);
  EXPECT_EQ(h.record_ticks, kTicksPerSecond);
  for (std::size_t i = 0; i < 11; ++i) {
    EXPECT_FALSE(h.signals[i].annotation);
    EXPECT_DOUBLE_EQ(h.rate_hz(i), 200.0) << h.signals[i].label;
    EXPECT_EQ(h.signals[i].unit, "uV");
  }
  EXPECT_EQ(h.signals[0].label, "squarewave");
  EXPECT_EQ(h.signals[10].label, "sine 50 Hz");
  EXPECT_EQ(h.year, 2011);
  EXPECT_EQ(h.month, 4);
  EXPECT_EQ(h.day, 4);
  EXPECT_EQ(h.hour, 12);
  EXPECT_EQ(h.minute, 57);
  EXPECT_EQ(h.second, 2);
  EXPECT_EQ(h.start_utc_s, 1301921822);  // 2011-04-04T12:57:02Z
  EXPECT_NEAR(h.signals[0].gain(), 2000.0 / 65535.0, 1e-12);
}

TEST(EdfHeader, ReadsTheBdfWithOddRates) {
  const auto bytes = read_bytes(test::shared_data() + "/edf/test_generator.bdf");
  ASSERT_FALSE(bytes.empty());
  const auto h = parse_edf_header(bytes, bytes.size(), "test_generator.bdf");
  EXPECT_TRUE(h.bdf);
  EXPECT_EQ(h.bytes_per_sample, 3u);
  EXPECT_EQ(h.records, 30);
  const double rates[] = {1000, 800, 500, 975, 999};
  std::size_t data = 0;
  for (std::size_t i = 0; i < h.signals.size(); ++i) {
    if (h.signals[i].annotation) continue;
    ASSERT_LT(data, 5u);
    EXPECT_DOUBLE_EQ(h.rate_hz(i), rates[data++]);
  }
  EXPECT_EQ(data, 5u);
}

class LyingHeader : public ::testing::Test {
 protected:
  void SetUp() override {
    bytes = read_bytes(test::shared_data() + "/edf/test_generator.edf");
    ASSERT_EQ(bytes.size(), 2711728u);
  }
  std::vector<std::uint8_t> bytes;
};

TEST_F(LyingHeader, TooManyRecordsIsReportedAsTruncated) {
  patch(bytes, 236, "601", 8);
  const auto e = error_of(bytes);
  EXPECT_NE(e.find("truncated"), std::string::npos) << e;
  EXPECT_NE(e.find("601 data records"), std::string::npos) << e;
}

TEST_F(LyingHeader, TooFewRecordsIsReported) {
  patch(bytes, 236, "599", 8);
  const auto e = error_of(bytes);
  EXPECT_NE(e.find("too many"), std::string::npos) << e;
}

TEST_F(LyingHeader, AFileCutInARecordIsTruncated) {
  bytes.resize(bytes.size() - 1000);
  const auto e = error_of(bytes);
  EXPECT_NE(e.find("truncated"), std::string::npos) << e;
}

TEST_F(LyingHeader, UnknownRecordCountMustMatchWholeRecords) {
  patch(bytes, 236, "-1", 8);
  EXPECT_EQ(parse_edf_header(bytes, bytes.size(), "x").records, 600);
  bytes.resize(bytes.size() - 10);
  EXPECT_NE(error_of(bytes).find("not a whole number"), std::string::npos);
}

TEST_F(LyingHeader, WrongHeaderSizeField) {
  patch(bytes, 184, "3584", 8);  // 12 signals need 13 x 256 = 3328
  EXPECT_NE(error_of(bytes).find("header size field says 3584 bytes, but 12 signals need 3328"),
            std::string::npos)
      << error_of(bytes);
}

TEST_F(LyingHeader, SignalCountBeyondTheFile) {
  auto copy = bytes;
  copy.resize(1000);
  EXPECT_NE(error_of(copy).find("header of 3328 bytes announced, but the file has only 1000"),
            std::string::npos)
      << error_of(copy);
  patch(bytes, 252, "600", 4);
  EXPECT_NE(error_of(bytes).find("600 signals need 153856"), std::string::npos) << error_of(bytes);
  patch(bytes, 252, "0", 4);
  EXPECT_NE(error_of(bytes).find("number of signals 0"), std::string::npos) << error_of(bytes);
  patch(bytes, 252, "x1", 4);
  EXPECT_NE(error_of(bytes).find("is not an integer"), std::string::npos) << error_of(bytes);
}

TEST_F(LyingHeader, BadSignalFieldsNameTheSignal) {
  const std::size_t ns = 12, base = 256;
  auto field_of = [&](std::size_t before, std::size_t signal) { return base + ns * before + 8 * signal; };
  auto copy = bytes;
  // digital minimum of signal 3 above its maximum
  patch(copy, field_of(16 + 80 + 8 + 8 + 8, 2), "40000", 8);
  auto e = error_of(copy);
  EXPECT_NE(e.find("signal 3 ('pulse')"), std::string::npos) << e;
  EXPECT_NE(e.find("digital range"), std::string::npos) << e;
  copy = bytes;
  patch(copy, field_of(16 + 80 + 8, 0), "1000", 8);  // physical minimum = maximum
  e = error_of(copy);
  EXPECT_NE(e.find("physical minimum equals physical maximum"), std::string::npos) << e;
  copy = bytes;
  patch(copy, field_of(16 + 80 + 8 + 8 + 8 + 8 + 8 + 80, 4), "0", 8);  // samples per record
  e = error_of(copy);
  EXPECT_NE(e.find("signal 5 ('sine 1 Hz'): samples per data record 0"), std::string::npos) << e;
  copy = bytes;
  patch(copy, field_of(16 + 80 + 8 + 8 + 8 + 8 + 8 + 80, 4), "201", 8);  // bigger records than the file has
  e = error_of(copy);
  EXPECT_NE(e.find("truncated"), std::string::npos) << e;
}

TEST_F(LyingHeader, BadDateAndTypeAreNamed) {
  auto copy = bytes;
  patch(copy, 168, "32.13.11", 8);
  EXPECT_NE(error_of(copy).find("start date"), std::string::npos);
  copy = bytes;
  patch(copy, 176, "25.00.00", 8);
  EXPECT_NE(error_of(copy).find("start time"), std::string::npos);
  copy = bytes;
  patch(copy, 192, "BDF+C", 44);
  EXPECT_NE(error_of(copy).find("version field says EDF"), std::string::npos) << error_of(copy);
  copy = bytes;
  patch(copy, 0, "1", 8);
  EXPECT_NE(error_of(copy).find("not an EDF or BDF file"), std::string::npos);
}

TEST(EdfHeader, ShortInputIsAnErrorNotACrash) {
  std::vector<std::uint8_t> few(100, ' ');
  EXPECT_NE(error_of(few).find("shorter than the 256-byte"), std::string::npos);
  EXPECT_NE(error_of({}).find("shorter"), std::string::npos);
}

TEST(TalTime, ParsesSignedDecimalsExactly) {
  std::int64_t t = 0;
  ASSERT_TRUE(parse_tal_time("+0.3945312", true, t));
  EXPECT_EQ(t, 3945312);
  ASSERT_TRUE(parse_tal_time("-12.5", true, t));
  EXPECT_EQ(t, -125000000);
  ASSERT_TRUE(parse_tal_time("600", false, t));
  EXPECT_EQ(t, 6000000000);
  EXPECT_FALSE(parse_tal_time("600", true, t));  // an onset needs its sign
  EXPECT_FALSE(parse_tal_time("+", true, t));
  EXPECT_FALSE(parse_tal_time("+1.", true, t));
  EXPECT_FALSE(parse_tal_time("+1e3", true, t));
  EXPECT_FALSE(parse_tal_time("+9999999999999", true, t));
}

// 12 digits times 10^7 ticks would overflow int64: at most 11 (about 3170 years) are read.
TEST(TalTime, TwelveDigitSecondsAreRefusedNotOverflowed) {
  std::int64_t t = 0;
  EXPECT_FALSE(parse_tal_time("+999999999999", true, t));
  EXPECT_FALSE(parse_tal_time("-999999999999.9", true, t));
  ASSERT_TRUE(parse_tal_time("+99999999999.9999999", true, t));
  EXPECT_EQ(t, 999'999'999'999'999'999);
}

std::vector<std::uint8_t> bytes_of(std::string_view text) {
  return {text.begin(), text.end()};
}

TEST(Tal, ReadsTimeKeepingOnsetsDurationsAndSeveralTexts) {
  std::vector<EdfAnnotation> out;
  const auto onset = parse_tals(bytes_of("+2.5\x14\x14\0+3.25\x15"
                                         "1.5\x14spasm\x14note two\x14\0+4\x14\xE4\xB8\xAD\x14\0\0\0"sv),
                                out, "x", 0);
  EXPECT_EQ(onset, 25000000);
  ASSERT_EQ(out.size(), 3u);
  EXPECT_EQ(out[0].onset_ticks, 32500000);
  EXPECT_EQ(out[0].duration_ticks, 15000000);
  EXPECT_EQ(out[0].text, "spasm");
  EXPECT_EQ(out[1].text, "note two");
  EXPECT_EQ(out[1].onset_ticks, 32500000);
  EXPECT_EQ(out[2].duration_ticks, -1);
  EXPECT_EQ(out[2].text, "\xE4\xB8\xAD");
}

TEST(Tal, MalformedTalsAreErrorsNamingTheRecord) {
  std::vector<EdfAnnotation> out;
  auto error = [&](std::string_view text) {
    try {
      (void)parse_tals(bytes_of(text), out, "x.edf", 6);
    } catch (const ImportError& e) {
      return std::string(e.what());
    }
    return std::string();
  };
  EXPECT_NE(error("\0\0"sv).find("no time-keeping TAL"), std::string::npos);
  EXPECT_NE(error("+1\x14\x14").find("not ended by a 0 byte"), std::string::npos);
  EXPECT_NE(error("1\x14\x14\0"sv).find("onset '1'"), std::string::npos);
  EXPECT_NE(error("+1\x15x\x14\x14\0"sv).find("duration 'x'"), std::string::npos);
  EXPECT_NE(error("+1\x14text\x14\0"sv).find("must keep time"), std::string::npos);
  EXPECT_NE(error("+1\x14\x14\0+2\x14open\0"sv).find("not ended by 0x14"), std::string::npos);
  EXPECT_NE(error("\0\0"sv).find("x.edf: data record 7"), std::string::npos);
}

}  // namespace
}  // namespace spasmwatch::import
