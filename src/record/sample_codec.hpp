// Lossless integer codec for the samples of one SampleBlock (interleaved int32, time point by time
// point), the part of a recording that is almost all of its size. Pure functions, no allocation,
// safe to call from any thread.
//
// Layout (FORMAT.md, "Sample codec", is the reference):
//  - The block is split into channels: channels = count / time_points when that is a whole number,
//    otherwise (or when time_points is 0) the values are coded as one channel of `count` values.
//    Both sides derive this from count and time_points, so nothing is stored for it.
//  - Channels follow each other (planar). A channel is its first value as a zigzag varint, then its
//    remaining values in sub-blocks of up to 64: one header byte (predictor order << 6 | width) and
//    the zigzagged residuals bit-packed LSB-first at `width` bits (0..32), padded to a whole byte.
//  - Predictors are FLAC's fixed ones: order 0 predicts 0 (the residual is the value, which always
//    fits 32 bits: this is the raw form), order 1 the previous value, order 2 the linear
//    extrapolation of the last two. Before a channel's second value the missing history is the
//    first value. The encoder picks the order with the narrowest residuals per sub-block.
#pragma once

#include <cstddef>
#include <cstdint>
#include <span>
#include <string_view>
#include <vector>

namespace spasmwatch::record {

inline constexpr std::size_t kSubBlockValues = 64;
// Largest block the codec handles (4 MiB of samples). Live blocks are bounded far lower by the
// frame size limit (64 KiB payload); the bound keeps a crafted record from demanding gigabytes.
inline constexpr std::size_t kMaxBlockSamples = std::size_t{1} << 20;

struct SampleLayout {
  std::size_t channels = 0;
  std::size_t length = 0;  // values per channel
};

[[nodiscard]] SampleLayout sample_layout(std::size_t count, std::uint32_t time_points);

// Bytes the encoder may touch for `count` values: the encoded size is at most this.
[[nodiscard]] std::size_t max_encoded_sample_bytes(std::size_t count, std::uint32_t time_points);

// Encodes `samples` at `out`, which must hold max_encoded_sample_bytes() bytes; returns the encoded
// size. `samples.size()` must not exceed kMaxBlockSamples.
std::size_t encode_samples(std::span<const std::int32_t> samples, std::uint32_t time_points,
                           std::uint8_t* out);

// Convenience for tests and tools: appends the encoding to `out`.
void encode_samples(std::span<const std::int32_t> samples, std::uint32_t time_points,
                    std::vector<std::uint8_t>& out);

enum class SampleDecodeError : std::uint8_t {
  none,
  too_many_samples,  // count above kMaxBlockSamples
  truncated,         // the input ends inside a value or sub-block
  bad_anchor,        // a channel's first value does not fit 32 bits
  bad_header,        // sub-block header with order 3 or width above 32
  trailing_bytes,    // input left over after the last value
};

[[nodiscard]] std::string_view to_string(SampleDecodeError error);

// Decodes exactly `out.size()` values from exactly all of `in`. On error `out` holds garbage.
[[nodiscard]] SampleDecodeError decode_samples(std::span<const std::uint8_t> in, std::uint32_t time_points,
                                               std::span<std::int32_t> out);

}  // namespace spasmwatch::record
