// Consistent Overhead Byte Stuffing (Cheshire & Baker, 1999): removes every 0x00 from a frame so
// 0x00 can delimit frames, at a cost of at most one byte per 254. A receiver that joins mid-stream
// or loses bytes resynchronises at the next 0x00.
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <span>
#include <vector>

namespace spasmwatch::protocol {

// Largest encoded size of `n` input bytes (without the delimiter).
[[nodiscard]] constexpr std::size_t cobs_max_encoded_size(std::size_t n) { return n + n / 254 + 1; }

// Appends the COBS encoding of `in` (no delimiter) to `out`.
void cobs_encode(std::span<const std::uint8_t> in, std::vector<std::uint8_t>& out);

// Decodes `in` (one frame, no delimiter) into `out`, which may alias `in` (decoding in place is
// safe). Returns the decoded size, or nothing when `in` is not valid COBS (contains 0x00, or a
// code byte runs past the end).
[[nodiscard]] std::optional<std::size_t> cobs_decode(std::span<const std::uint8_t> in,
                                                     std::uint8_t* out);

}  // namespace spasmwatch::protocol
