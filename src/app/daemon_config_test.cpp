#include "app/daemon_config.hpp"

#include <gtest/gtest.h>

namespace spasmwatch::app {
namespace {

TEST(DeviceSpec, ParsesSerialWithAndWithoutBaud) {
  auto d = parse_device_spec("calf=serial:/dev/rfcomm0@921600");
  EXPECT_EQ(d.name, "calf");
  EXPECT_EQ(d.transport, DeviceTransport::serial);
  EXPECT_EQ(d.serial.path, "/dev/rfcomm0");
  EXPECT_EQ(d.serial.baud, 921600u);
  d = parse_device_spec("n=serial:/tmp/sim");
  EXPECT_EQ(d.serial.baud, 115200u);
}

TEST(DeviceSpec, ParsesTcp) {
  const auto d = parse_device_spec("gw=tcp:127.0.0.1:7701");
  EXPECT_EQ(d.transport, DeviceTransport::tcp_connect);
  EXPECT_EQ(d.endpoint.host, "127.0.0.1");
  EXPECT_EQ(d.endpoint.port, 7701);
}

TEST(DeviceSpec, RejectsBadSpecsNamingThem) {
  for (const char* bad : {"nodevice", "=serial:/x", "a b=serial:/x", "x=usb:/dev/x", "x=serial:",
                          "x=serial:/dev/x@fast", "x=serial:/dev/x@0", "x=tcp:host", "../x=serial:/x"}) {
    try {
      (void)parse_device_spec(bad);
      ADD_FAILURE() << "accepted " << bad;
    } catch (const ConfigError& e) {
      EXPECT_NE(std::string(e.what()).find(bad), std::string::npos) << e.what();
    }
  }
}

TEST(ConfigToml, ReadsEveryKey) {
  const auto c = parse_config_toml(R"(
record_dir = "/tmp/rec"
stats_json = "/tmp/stats.json"
db = "/tmp/sw.db"
store = false
listen = "127.0.0.1:7700"
status_interval_s = 5
ping_interval_s = 1.5
[[devices]]
name = "calf"
serial = "/dev/rfcomm0"
baud = 57600
[[devices]]
name = "gw"
tcp = "127.0.0.1:7701"
)",
                                   "test.toml");
  EXPECT_EQ(c.record_dir, "/tmp/rec");
  EXPECT_EQ(c.stats_json, "/tmp/stats.json");
  EXPECT_EQ(c.db, "/tmp/sw.db");
  EXPECT_FALSE(c.store);
  ASSERT_TRUE(c.listen);
  EXPECT_EQ(c.listen->port, 7700);
  EXPECT_DOUBLE_EQ(c.status_interval_s, 5);
  EXPECT_DOUBLE_EQ(c.ping_interval_s, 1.5);
  ASSERT_EQ(c.devices.size(), 2u);
  EXPECT_EQ(c.devices[0].serial.baud, 57600u);
  EXPECT_EQ(c.devices[1].endpoint.port, 7701);
}

TEST(ConfigToml, UnknownKeysAndBadValuesAreErrorsWithFileAndLine) {
  auto expect_error = [](const char* text, const char* needle) {
    try {
      (void)parse_config_toml(text, "x.toml");
      ADD_FAILURE() << "accepted " << text;
    } catch (const ConfigError& e) {
      EXPECT_NE(std::string(e.what()).find(needle), std::string::npos) << e.what();
      EXPECT_NE(std::string(e.what()).find("x.toml"), std::string::npos) << e.what();
    }
  };
  expect_error("recrod_dir = \"/tmp\"", "recrod_dir");
  expect_error("listen = 7700", "listen");
  expect_error("[[devices]]\nname = \"a\"\n", "exactly one of serial or tcp");
  expect_error("[[devices]]\nname = \"a\"\nserial = \"/x\"\ncolour = 1\n", "devices.colour");
  expect_error("status_interval_s = -1", "status_interval_s");
  expect_error("this is not toml", "x.toml:1");
}

TEST(ConfigToml, DetectorTableSetsThresholdsAndRejectsUnknownOnes) {
  const auto c = parse_config_toml("[detector]\non_ratio = 3.5\nmin_confidence = 0.7\n", "d.toml");
  EXPECT_DOUBLE_EQ(c.detector.on_ratio, 3.5);
  EXPECT_DOUBLE_EQ(c.detector.min_confidence, 0.7);
  try {
    (void)parse_config_toml("[detector]\non_ratoi = 3\n", "d.toml");
    ADD_FAILURE() << "accepted a misspelt option";
  } catch (const ConfigError& e) {
    EXPECT_NE(std::string(e.what()).find("on_ratoi"), std::string::npos) << e.what();
    EXPECT_NE(std::string(e.what()).find("d.toml:2"), std::string::npos) << e.what();
  }
}

TEST(ConfigMerge, FlagsReplaceConfigDevicesByName) {
  DaemonConfig c;
  merge_devices(c, {parse_device_spec("a=serial:/one"), parse_device_spec("b=serial:/two")});
  merge_devices(c, {parse_device_spec("a=tcp:127.0.0.1:9")});
  ASSERT_EQ(c.devices.size(), 2u);
  EXPECT_EQ(c.devices[0].transport, DeviceTransport::tcp_connect);
  EXPECT_THROW(merge_devices(c, {parse_device_spec("c=serial:/x"), parse_device_spec("c=serial:/y")}),
               ConfigError);
}

}  // namespace
}  // namespace spasmwatch::app
