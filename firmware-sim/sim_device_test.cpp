#include "sim_device.hpp"

#include <gtest/gtest.h>

#include "protocol/frame_decoder.hpp"
#include "protocol/message_codec.hpp"

namespace spasmwatch::sim {
namespace {

std::vector<proto::DeviceMessage> decode(const std::vector<OutgoingFrame>& frames) {
  std::vector<proto::DeviceMessage> out;
  protocol::FrameDecoder decoder;
  for (const auto& f : frames) {
    std::span<const std::uint8_t> in(f.bytes);
    while (!in.empty()) {
      const auto r = decoder.next(in);
      if (r.status != protocol::FrameDecoder::Status::frame) continue;
      proto::DeviceMessage m;
      EXPECT_EQ(protocol::parse_device_message(r.payload, m), protocol::FrameError::none);
      out.push_back(m);
    }
  }
  return out;
}

std::vector<std::uint8_t> host(void (*fill)(proto::HostMessage&)) {
  proto::HostMessage m;
  fill(m);
  std::vector<std::uint8_t> bytes;
  protocol::encode_message(m, bytes);
  return bytes;
}

SignalConfig config(double duration_s) {
  SignalConfig c;
  c.duration_s = duration_s;
  c.emg_channels = 2;
  c.emg_rate_hz = 1000;
  c.acc_rate_hz = 100;
  return c;
}

TEST(SimDevice, SendsHelloAndWaitsForStart) {
  SignalModel model(config(1));
  SimDevice device(model, {});
  std::vector<OutgoingFrame> out;
  device.on_connected(0, out);
  device.advance(3.0, true, out);
  const auto messages = decode(out);
  ASSERT_GE(messages.size(), 2u);  // the first Hello and at least one repeat
  for (const auto& m : messages) {
    ASSERT_TRUE(m.has_hello());
    EXPECT_FALSE(m.hello().streaming());
  }
  EXPECT_FALSE(device.streaming());
}

TEST(SimDevice, StreamsContiguousBlocksThenEndsWithTotals) {
  SignalModel model(config(2));
  SimDevice device(model, {});
  std::vector<OutgoingFrame> out;
  device.on_connected(0, out);
  device.on_host_bytes(host([](proto::HostMessage& m) { m.mutable_start(); }), 0.5, out);
  for (double t = 0.5; !device.finished() && t < 10; t += 0.01) device.advance(t, true, out);
  ASSERT_TRUE(device.finished());
  std::uint64_t next_emg = 0;
  std::uint32_t next_seq = 0;
  int ends = 0;
  for (const auto& m : decode(out)) {
    if (m.has_samples() && m.samples().stream_id() == 0) {
      EXPECT_EQ(m.samples().first_sample_index(), next_emg);
      EXPECT_EQ(m.samples().sequence(), next_seq++);
      EXPECT_EQ(m.samples().samples_size(), static_cast<int>(m.samples().time_points() * 2));
      next_emg += m.samples().time_points();
    }
    if (m.has_end_of_session()) {
      ++ends;
      EXPECT_EQ(m.end_of_session().totals(0).time_points(), 2000u);
      EXPECT_EQ(m.end_of_session().totals(0).blocks(), next_seq);
    }
  }
  EXPECT_EQ(next_emg, 2000u);
  EXPECT_EQ(ends, 3);
  const auto& summary = device.summary().streams().at("emg");
  EXPECT_EQ(summary.samples_sent(), 4000u);
  EXPECT_EQ(summary.frames_sent(), next_seq);
}

TEST(SimDevice, DriftScalesDeviceTimestamps) {
  SignalModel model(config(2));
  DeviceSettings settings;
  settings.drift_ppm = 1000;  // large, to see it in a short run
  SimDevice device(model, settings);
  std::vector<OutgoingFrame> out;
  device.on_connected(0, out);
  device.on_host_bytes(host([](proto::HostMessage& m) { m.mutable_start(); }), 0, out);
  device.advance(1.0, true, out);
  const auto messages = decode(out);
  std::uint64_t last_end_us = 0;
  for (const auto& m : messages) {
    if (m.has_samples() && m.samples().stream_id() == 0) {
      last_end_us = m.samples().device_time_us() + m.samples().time_points() * 1000;
    }
  }
  // In one true second the device clock advances 1.001 s, so blocks up to 1001 ms are out.
  EXPECT_EQ(last_end_us, 1'000'000u);  // blocks of 20 ms: the 1.000 s block ends by t = 0.999 s
  out.clear();
  device.advance(1.0205, true, out);
  std::uint64_t later_end_us = 0;
  for (const auto& m : decode(out)) {
    if (m.has_samples() && m.samples().stream_id() == 0) {
      later_end_us = m.samples().device_time_us() + m.samples().time_points() * 1000;
    }
  }
  EXPECT_EQ(later_end_us, 1'020'000u);
}

TEST(SimDevice, SamplesProducedWhileDisconnectedAreCountedAsUnsent) {
  SignalModel model(config(1));
  SimDevice device(model, {});
  std::vector<OutgoingFrame> out;
  device.on_connected(0, out);
  device.on_host_bytes(host([](proto::HostMessage& m) { m.mutable_start(); }), 0, out);
  device.advance(0.5, false, out);
  device.advance(1.5, true, out);
  EXPECT_TRUE(device.finished());
  const auto& s = device.summary().streams().at("emg");
  EXPECT_EQ(s.samples_sent(), 2000u);
  EXPECT_EQ(s.samples_unsent(), 1000u);
}

TEST(SimDevice, AnswersPingsWithDeviceTimes) {
  SignalModel model(config(1));
  SimDevice device(model, {});
  std::vector<OutgoingFrame> out;
  device.on_host_bytes(host([](proto::HostMessage& m) { m.mutable_ping()->set_ping_id(7); }), 2.0, out);
  const auto messages = decode(out);
  ASSERT_EQ(messages.size(), 1u);
  ASSERT_TRUE(messages[0].has_pong());
  EXPECT_EQ(messages[0].pong().ping_id(), 7u);
  EXPECT_EQ(messages[0].pong().device_receive_time_us(), 2'000'000u);
}

}  // namespace
}  // namespace spasmwatch::sim
