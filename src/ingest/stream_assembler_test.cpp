#include "ingest/stream_assembler.hpp"

#include <gtest/gtest.h>

#include <vector>

namespace spasmwatch::ingest {
namespace {

using protocol::FrameEvent;
using protocol::FrameEventKind;

constexpr std::uint64_t kSession = 0xABCDEF;

proto::DeviceMessage hello(std::uint64_t session = kSession, std::uint64_t next_index = 0,
                           std::uint32_t next_sequence = 0) {
  proto::DeviceMessage m;
  auto* h = m.mutable_hello();
  h->set_device_id("dev-1");
  h->set_session_id(session);
  h->set_site(proto::CALF);
  auto* s = h->add_streams();
  s->set_stream_id(0);
  s->set_name("emg");
  s->set_rate_hz(1000);
  s->add_channels()->set_kind(proto::EMG);
  s->add_channels()->set_kind(proto::EMG);
  s->set_next_sample_index(next_index);
  s->set_next_sequence(next_sequence);
  return m;
}

proto::DeviceMessage block(std::uint32_t sequence, std::uint64_t first, std::uint32_t time_points,
                           std::uint32_t channels = 2) {
  proto::DeviceMessage m;
  auto* b = m.mutable_samples();
  b->set_stream_id(0);
  b->set_sequence(sequence);
  b->set_first_sample_index(first);
  b->set_device_time_us(first * 1000);
  b->set_time_points(time_points);
  for (std::uint32_t i = 0; i < time_points * channels; ++i) {
    b->add_samples(static_cast<std::int32_t>(first * channels + i));
  }
  return m;
}

proto::DeviceMessage end_of_session(std::uint64_t time_points, std::uint64_t blocks,
                                    std::uint64_t session = kSession) {
  proto::DeviceMessage m;
  auto* e = m.mutable_end_of_session();
  e->set_session_id(session);
  auto* t = e->add_totals();
  t->set_stream_id(0);
  t->set_time_points(time_points);
  t->set_blocks(blocks);
  return m;
}

struct Recorder final : SampleSink {
  std::vector<std::int32_t> values;
  std::uint64_t next_index = 0;
  std::uint64_t gap_points = 0;
  bool contiguous = true;
  int hellos = 0;
  void on_hello(const proto::Hello&, bool) override { ++hellos; }
  void on_samples(const StreamView& s, std::uint64_t first, std::uint64_t,
                  std::span<const std::int32_t> v) override {
    if (first != next_index) contiguous = false;
    values.insert(values.end(), v.begin(), v.end());
    next_index = first + v.size() / s.channels;
  }
  void on_gap(const StreamView&, std::uint64_t first, std::uint64_t points) override {
    if (first != next_index) contiguous = false;
    gap_points += points;
    next_index = first + points;
  }
};

void feed(DeviceAssembler& a, const proto::DeviceMessage& m, std::int64_t t = 0) {
  FrameEvent e;
  e.kind = FrameEventKind::message;
  e.host_time_ns = t;
  e.message = &m;
  a.on_event(e);
}

const proto::StreamStats& emg(const proto::DeviceStats& s) { return s.streams().at("emg"); }

TEST(DeviceAssembler, InOrderBlocksLoseNothing) {
  Recorder sink;
  DeviceAssembler a("d", &sink);
  feed(a, hello());
  for (std::uint32_t i = 0; i < 10; ++i) feed(a, block(i, i * 20ull, 20));
  const auto st = a.stats();
  EXPECT_EQ(emg(st).samples(), 400u);
  EXPECT_EQ(emg(st).lost_samples(), 0u);
  EXPECT_EQ(emg(st).frames(), 10u);
  EXPECT_EQ(emg(st).gaps(), 0u);
  EXPECT_EQ(st.device_id(), "dev-1");
  EXPECT_EQ(st.site(), "calf");
  ASSERT_EQ(sink.values.size(), 400u);
  for (std::size_t i = 0; i < sink.values.size(); ++i) EXPECT_EQ(sink.values[i], static_cast<int>(i));
}

TEST(DeviceAssembler, MissingBlocksBecomeOneGapWithExactSampleCount) {
  Recorder sink;
  DeviceAssembler a("d", &sink);
  feed(a, hello());
  feed(a, block(0, 0, 20));
  feed(a, block(3, 60, 20));  // blocks 1 and 2 (40 time points, 80 values) lost
  const auto st = a.stats();
  EXPECT_EQ(emg(st).lost_samples(), 80u);
  EXPECT_EQ(emg(st).gaps(), 1u);
  EXPECT_EQ(emg(st).bad_frames(), 2u);
  EXPECT_EQ(sink.gap_points, 40u);
  EXPECT_TRUE(sink.contiguous);
}

TEST(DeviceAssembler, LostStartIsCountedFromTheHello) {
  DeviceAssembler a("d");
  feed(a, hello());
  feed(a, block(2, 40, 20));
  EXPECT_EQ(emg(a.stats()).lost_samples(), 80u);
  EXPECT_EQ(emg(a.stats()).bad_frames(), 2u);
}

TEST(DeviceAssembler, LostTailIsCountedFromEndOfSessionOnlyOnce) {
  DeviceAssembler a("d");
  feed(a, hello());
  feed(a, block(0, 0, 20));
  feed(a, block(1, 20, 20));
  for (int i = 0; i < 3; ++i) feed(a, end_of_session(100, 5));  // sent three times
  const auto st = a.stats();
  EXPECT_EQ(emg(st).samples() + emg(st).lost_samples(), 200u);
  EXPECT_EQ(emg(st).lost_samples(), 120u);
  EXPECT_EQ(emg(st).bad_frames(), 3u);
  EXPECT_EQ(emg(st).gaps(), 1u);
  EXPECT_EQ(st.end_of_session(), 3u);
}

TEST(DeviceAssembler, EndOfSessionOfAnotherSessionIsIgnored) {
  DeviceAssembler a("d");
  feed(a, hello());
  feed(a, block(0, 0, 20));
  feed(a, end_of_session(1000, 50, kSession + 1));
  EXPECT_EQ(emg(a.stats()).lost_samples(), 0u);
}

TEST(DeviceAssembler, DuplicateAndOverlappingBlocksAreDroppedNotCounted) {
  Recorder sink;
  DeviceAssembler a("d", &sink);
  feed(a, hello());
  feed(a, block(0, 0, 20));
  feed(a, block(0, 0, 20));    // exact duplicate
  feed(a, block(1, 10, 20));   // overlaps 10 time points
  const auto st = a.stats();
  EXPECT_EQ(emg(st).samples(), 60u);
  EXPECT_EQ(emg(st).duplicate_samples(), 60u);
  EXPECT_EQ(emg(st).lost_samples(), 0u);
  EXPECT_TRUE(sink.contiguous);
  EXPECT_EQ(sink.values.size(), 60u);
  EXPECT_EQ(sink.values.back(), 59);
}

TEST(DeviceAssembler, InconsistentBlockIsDroppedAndItsSamplesCountAsLost) {
  DeviceAssembler a("d");
  feed(a, hello());
  feed(a, block(0, 0, 20));
  feed(a, block(1, 20, 20, 3));  // 3 channels on a 2-channel stream
  auto bad = block(1, 20, 20);
  bad.mutable_samples()->set_time_points(0);
  feed(a, bad);
  feed(a, block(2, 40, 20));
  const auto st = a.stats();
  EXPECT_EQ(emg(st).invalid_frames(), 2u);
  EXPECT_EQ(emg(st).lost_samples(), 40u);
  EXPECT_EQ(emg(st).samples(), 80u);
}

TEST(DeviceAssembler, NewSessionRestartsIndicesAndKeepsTotals) {
  DeviceAssembler a("d");
  feed(a, hello(1));
  feed(a, block(0, 0, 20));
  feed(a, hello(2));
  feed(a, block(0, 0, 20));
  const auto st = a.stats();
  EXPECT_EQ(st.sessions(), 2u);
  EXPECT_EQ(emg(st).samples(), 80u);
  EXPECT_EQ(emg(st).lost_samples(), 0u);
  EXPECT_EQ(emg(st).duplicate_samples(), 0u);
}

TEST(DeviceAssembler, ReconnectInTheSameSessionCountsTheOutage) {
  DeviceAssembler a("d");
  feed(a, hello());
  feed(a, block(0, 0, 20));
  FrameEvent down;
  down.kind = FrameEventKind::disconnected;
  down.bad_bytes = 17;
  a.on_event(down);
  FrameEvent up;
  up.kind = FrameEventKind::connected;
  a.on_event(up);
  feed(a, hello(kSession, 100, 5));  // same session, device moved on meanwhile
  feed(a, block(5, 100, 20));
  const auto st = a.stats();
  EXPECT_EQ(emg(st).lost_samples(), 160u);
  EXPECT_EQ(st.bad_frames(), 1u);
  EXPECT_EQ(st.bad_bytes(), 17u);
  EXPECT_EQ(st.disconnections(), 1u);
  EXPECT_EQ(st.connections(), 1u);
}

TEST(DeviceAssembler, BlocksBeforeAnyHelloAreCountedUnderAPlaceholderName) {
  DeviceAssembler a("d");
  feed(a, block(7, 500, 20));
  feed(a, block(8, 520, 20));
  const auto st = a.stats();
  ASSERT_TRUE(st.streams().contains("stream0"));
  EXPECT_EQ(st.streams().at("stream0").samples(), 80u);
  EXPECT_EQ(st.streams().at("stream0").lost_samples(), 0u);
}

TEST(DeviceAssembler, BadFramesAreCountedPerDevice) {
  DeviceAssembler a("d");
  FrameEvent bad;
  bad.kind = FrameEventKind::bad_frame;
  bad.error = protocol::FrameError::crc_mismatch;
  bad.bad_bytes = 40;
  a.on_event(bad);
  a.on_event(bad);
  EXPECT_EQ(a.stats().bad_frames(), 2u);
  EXPECT_EQ(a.stats().bad_bytes(), 80u);
}

}  // namespace
}  // namespace spasmwatch::ingest
