// Message layer on top of frames: protobuf messages to frames and back, and FrameEvent, the unit
// that flows from a byte source (live connection or recording file) into ingest. Pure.
#pragma once

#include <cstdint>
#include <span>
#include <string_view>
#include <vector>

#include "device.pb.h"
#include "protocol/frame_decoder.hpp"

namespace spasmwatch::protocol {

// Appends `message` as one frame to `out`.
void encode_message(const google::protobuf::MessageLite& message, std::vector<std::uint8_t>& out);

// Parses a frame payload into `message` (cleared first; its buffers are reused, so steady-state
// parsing does not allocate). Returns FrameError::none, parse_failed, or invalid_message when no
// body is set.
[[nodiscard]] FrameError parse_device_message(std::span<const std::uint8_t> payload,
                                              proto::DeviceMessage& message);
[[nodiscard]] FrameError parse_host_message(std::span<const std::uint8_t> payload,
                                            proto::HostMessage& message);

// What a byte source saw, with the host receive time: the same sequence drives ingest live and
// in replay, which is why replay gives the same results as the live run.
enum class FrameEventKind : std::uint8_t {
  message,       // a good frame; `message` is set
  bad_frame,     // a rejected frame; `error` and `bad_bytes` are set
  connected,     // the link came up
  disconnected,  // the link went down; `bad_bytes` counts an unfinished frame it cut off
  ping_sent,     // the host sent TimeSyncPing `ping_id` at `host_time_ns`
};

struct FrameEvent {
  FrameEventKind kind = FrameEventKind::message;
  std::int64_t host_time_ns = 0;
  const proto::DeviceMessage* message = nullptr;
  FrameError error = FrameError::none;
  std::uint32_t bad_bytes = 0;
  std::uint32_t ping_id = 0;
};

}  // namespace spasmwatch::protocol
