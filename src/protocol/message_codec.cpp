#include "protocol/message_codec.hpp"

#include <limits>

#include "protocol/frame_encoder.hpp"

namespace spasmwatch::protocol {

void encode_message(const google::protobuf::MessageLite& message, std::vector<std::uint8_t>& out) {
  thread_local std::vector<std::uint8_t> payload;
  payload.resize(message.ByteSizeLong());
  message.SerializeWithCachedSizesToArray(payload.data());
  encode_frame(payload, out);
}

namespace {

template <class Message>
bool parse(std::span<const std::uint8_t> payload, Message& message) {
  message.Clear();
  if (payload.size() > static_cast<std::size_t>(std::numeric_limits<int>::max())) return false;
  return message.ParseFromArray(payload.data(), static_cast<int>(payload.size()));
}

}  // namespace

FrameError parse_device_message(std::span<const std::uint8_t> payload,
                                proto::DeviceMessage& message) {
  if (!parse(payload, message)) return FrameError::parse_failed;
  if (message.body_case() == proto::DeviceMessage::BODY_NOT_SET) return FrameError::invalid_message;
  return FrameError::none;
}

FrameError parse_host_message(std::span<const std::uint8_t> payload, proto::HostMessage& message) {
  if (!parse(payload, message)) return FrameError::parse_failed;
  if (message.body_case() == proto::HostMessage::BODY_NOT_SET) return FrameError::invalid_message;
  return FrameError::none;
}

}  // namespace spasmwatch::protocol
