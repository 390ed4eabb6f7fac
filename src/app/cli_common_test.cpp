#include "app/cli_common.hpp"

#include <gtest/gtest.h>

namespace spasmwatch::app {
namespace {

constexpr std::int64_t kNow = 1'795'478'400'000'000'000;  // 2026-11-24T00:00:00Z
constexpr std::int64_t kSecondNs = 1'000'000'000;

TEST(CliTime, ReadsNowRelativeAndUtcForms) {
  EXPECT_EQ(parse_time("now", kNow, "--at"), kNow);
  EXPECT_EQ(parse_time("-30m", kNow, "--at"), kNow - 1800 * kSecondNs);
  EXPECT_EQ(parse_time("-2h", kNow, "--at"), kNow - 7200 * kSecondNs);
  EXPECT_EQ(parse_time("-1d", kNow, "--at"), kNow - 86400 * kSecondNs);
  EXPECT_EQ(parse_time("2026-11-24T08:00:00Z", kNow, "--at"), kNow + 8 * 3600 * kSecondNs);
  EXPECT_EQ(parse_time("2026-11-24T08:00Z", kNow, "--at"), kNow + 8 * 3600 * kSecondNs);
  EXPECT_EQ(parse_time("2026-11-24T08:00:00.25Z", kNow, "--at"), kNow + 8 * 3600 * kSecondNs + kSecondNs / 4);
  EXPECT_EQ(parse_time("2026-11-24", kNow, "--at"), kNow);
  EXPECT_EQ(format_utc(kNow + 8 * 3600 * kSecondNs + kSecondNs / 4), "2026-11-24T08:00:00.250Z");
}

TEST(CliTime, RejectsOtherFormsNamingTheOptionAndText) {
  for (const char* bad : {"yesterday", "-30", "-30x", "2026-11-24T08:00:00", "2026-02-30", "2026-13-01",
                          "2026-11-24T25:00Z", "", "-m", "+2h"}) {
    try {
      (void)parse_time(bad, kNow, "--until");
      ADD_FAILURE() << "accepted '" << bad << "'";
    } catch (const InputError& e) {
      EXPECT_NE(std::string(e.what()).find("--until"), std::string::npos) << e.what();
      EXPECT_NE(std::string(e.what()).find(std::string("'") + bad + "'"), std::string::npos) << e.what();
    }
  }
}

TEST(CliArgs, JoinsNegativeTimesToTheirOption) {
  const char* argv[] = {"spasmwatch", "annotate", "note", "--at", "-30m", "--text", "-x", "--until", "now"};
  const auto args = join_negative_times(9, const_cast<char**>(argv));
  const std::vector<std::string> expected{"spasmwatch", "annotate", "note", "--at=-30m", "--text", "-x", "--until", "now"};
  EXPECT_EQ(args, expected);
}

TEST(CliCsv, QuotesOnlyWhenNeeded) {
  EXPECT_EQ(csv_field("plain"), "plain");
  EXPECT_EQ(csv_field("=HYPERLINK(\"x\")"), "\"'=HYPERLINK(\"\"x\"\")\"");
  EXPECT_EQ(csv_field("+1+1"), "'+1+1");
  EXPECT_EQ(csv_field("@SUM(A1)"), "'@SUM(A1)");
  EXPECT_EQ(csv_field("-cmd"), "'-cmd");
  EXPECT_EQ(csv_field("-1.5"), "-1.5");
  EXPECT_EQ(csv_field("a,b"), "\"a,b\"");
  EXPECT_EQ(csv_field("say \"hi\""), "\"say \"\"hi\"\"\"");
  EXPECT_EQ(csv_field("two\nlines"), "\"two\nlines\"");
  EXPECT_EQ(enum_key("poor-sleep"), "POOR_SLEEP");
  EXPECT_EQ(enum_key("Physical therapy"), "PHYSICAL_THERAPY");
}

}  // namespace
}  // namespace spasmwatch::app
