// Frame decoder: a pure state machine, bytes in, frames or errors out. No I/O, no clock.
//
// Wire layout (proto/PROTOCOL.md): COBS( payload || CRC-32C(payload), little-endian ) 0x00
//
// States: collecting (bytes of a frame accumulate until 0x00) and discarding (the frame grew past
// the size limit; bytes are dropped until the next 0x00, which ends one oversize error). Any byte
// sequence is accepted: garbage yields errors, and the decoder resynchronises at the next 0x00.
// Consecutive 0x00 bytes are idle fill, not errors.
//
// Thread rules: one decoder per byte stream, used from one thread.
#pragma once

#include <cstddef>
#include <cstdint>
#include <span>
#include <string_view>
#include <vector>

namespace spasmwatch::protocol {

// Largest payload (protobuf message) a frame may carry. A 2 kHz 8-channel block of 100 ms is
// 1600 samples, at most 5 bytes each as varints: 8 KiB; 64 KiB leaves room.
inline constexpr std::size_t kMaxPayloadBytes = 64 * 1024;
inline constexpr std::size_t kCrcBytes = 4;

enum class FrameError : std::uint8_t {
  none,
  cobs_invalid,   // a COBS code byte ran past the end of the frame
  too_short,      // fewer bytes than a CRC plus one payload byte
  crc_mismatch,   // payload damaged
  oversize,       // longer than the limit before any delimiter
  parse_failed,   // CRC good but the payload is not a valid message (message layer)
  invalid_message // parsed, but its contents are inconsistent (message layer)
};

[[nodiscard]] std::string_view to_string(FrameError error);

class FrameDecoder {
 public:
  enum class Status : std::uint8_t { need_more, frame, error };

  struct Result {
    Status status = Status::need_more;
    std::span<const std::uint8_t> payload;  // valid until the next call (Status::frame)
    FrameError error = FrameError::none;    // Status::error
    std::size_t bad_bytes = 0;              // bytes discarded with the error, delimiter excluded
  };

  explicit FrameDecoder(std::size_t max_payload_bytes = kMaxPayloadBytes);

  // Consumes bytes from the front of `input` until one frame or error is complete or `input` is
  // empty; `input` is advanced past what was consumed.
  Result next(std::span<const std::uint8_t>& input);

  // Bytes of an unfinished frame held since the last delimiter (e.g. to count a truncated tail).
  [[nodiscard]] std::size_t pending_bytes() const { return discarding_ ? discarded_ : buffer_.size(); }

  // Forgets any unfinished frame (after a disconnect); returns how many bytes were dropped.
  std::size_t reset();

 private:
  Result finish_frame();

  std::size_t max_encoded_bytes_;
  std::vector<std::uint8_t> buffer_;
  bool discarding_ = false;
  std::size_t discarded_ = 0;
};

}  // namespace spasmwatch::protocol
