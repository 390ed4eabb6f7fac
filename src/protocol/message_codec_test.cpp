#include "protocol/message_codec.hpp"

#include <gtest/gtest.h>

namespace spasmwatch::protocol {
namespace {

TEST(MessageCodec, SampleBlockRoundTripsThroughAFrame) {
  proto::DeviceMessage sent;
  auto* block = sent.mutable_samples();
  block->set_stream_id(1);
  block->set_sequence(42);
  block->set_first_sample_index(1'000'000);
  block->set_device_time_us(123'456'789);
  block->set_time_points(3);
  for (int v : {-32768, 0, 32767, 5, -5, 100}) block->add_samples(v);
  std::vector<std::uint8_t> wire;
  encode_message(sent, wire);

  FrameDecoder decoder;
  std::span<const std::uint8_t> in(wire);
  const auto r = decoder.next(in);
  ASSERT_EQ(r.status, FrameDecoder::Status::frame);
  proto::DeviceMessage got;
  ASSERT_EQ(parse_device_message(r.payload, got), FrameError::none);
  EXPECT_EQ(got.SerializeAsString(), sent.SerializeAsString());
}

TEST(MessageCodec, GarbagePayloadIsParseFailure) {
  const std::vector<std::uint8_t> junk{0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF};
  proto::DeviceMessage m;
  EXPECT_EQ(parse_device_message(junk, m), FrameError::parse_failed);
}

TEST(MessageCodec, MessageWithoutBodyIsInvalid) {
  // Field 99 (unknown) varint 1: parses, but carries no known body.
  const std::vector<std::uint8_t> unknown{0x98, 0x06, 0x01};
  proto::DeviceMessage m;
  EXPECT_EQ(parse_device_message(unknown, m), FrameError::invalid_message);
  proto::HostMessage h;
  EXPECT_EQ(parse_host_message(unknown, h), FrameError::invalid_message);
}

}  // namespace
}  // namespace spasmwatch::protocol
