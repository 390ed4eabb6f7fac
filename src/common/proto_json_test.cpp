#include "common/proto_json.hpp"

#include <gtest/gtest.h>

#include "stats.pb.h"

namespace spasmwatch {
namespace {

TEST(ProtoJson, WritesLargeCountsAsNumbersAndReadsThemBack) {
  proto::IngestStats stats;
  auto& dev = (*stats.mutable_devices())["dev \"1\""];
  dev.set_name("dev \"1\"");
  auto& emg = (*dev.mutable_streams())["emg"];
  emg.set_samples(12'345'678'901'234ULL);
  emg.set_rate_hz(2000.5);
  const std::string json = to_json(stats);
  EXPECT_NE(json.find("\"samples\": 12345678901234"), std::string::npos) << json;
  EXPECT_NE(json.find("\"rate_hz\": 2000.5"), std::string::npos) << json;
  EXPECT_NE(json.find("\"dev \\\"1\\\"\""), std::string::npos) << json;

  proto::IngestStats back;
  std::string error;
  ASSERT_TRUE(from_json(json, back, error)) << error;
  EXPECT_EQ(back.devices().at("dev \"1\"").streams().at("emg").samples(), 12'345'678'901'234ULL);
}

TEST(ProtoJson, OneLineFormKeepsStringsIntact) {
  proto::StreamStats s;
  s.set_name("a \"b\"\n  c");
  s.set_samples(7);
  const std::string line = to_json_line(s);
  EXPECT_EQ(line.find('\n'), std::string::npos) << line;
  proto::StreamStats back;
  std::string error;
  ASSERT_TRUE(from_json(line, back, error)) << error;
  EXPECT_EQ(back.name(), s.name());
  EXPECT_EQ(back.samples(), 7u);
}

TEST(ProtoJson, RejectsUnknownFieldsNamingThem) {
  proto::StreamStats s;
  std::string error;
  EXPECT_FALSE(from_json(R"({"samples": 1, "bogus": 2})", s, error));
  EXPECT_NE(error.find("bogus"), std::string::npos) << error;
}

}  // namespace
}  // namespace spasmwatch
