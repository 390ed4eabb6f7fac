#include "record/sample_codec.hpp"

#include <algorithm>
#include <array>
#include <bit>
#include <cstring>

#include "record/byte_io.hpp"

namespace spasmwatch::record {
namespace {

using detail::load_u64;
using detail::zigzag_decode32;

constexpr unsigned kMaxWidth = 32;
constexpr unsigned kOrderShift = 6;
constexpr std::uint8_t kWidthMask = 0x3F;
// The unpacker loads 8 bytes at the byte holding a value's first bit.
constexpr std::size_t kLoadSlack = 8;

[[nodiscard]] std::uint64_t zigzag64(std::int64_t v) {
  return detail::zigzag_encode(v);
}

[[nodiscard]] std::size_t packed_bytes(std::size_t values, unsigned width) {
  return (values * width + 7) / 8;
}

// Bit-packs `values` (each below 2^width, width <= 32) LSB-first; returns the end of the output.
std::uint8_t* pack(const std::uint32_t* values, std::size_t n, unsigned width, std::uint8_t* out) {
  if (width == 0) return out;
  std::uint64_t acc = 0;
  unsigned bits = 0;  // < 32 between values, so acc never overflows
  for (std::size_t i = 0; i < n; ++i) {
    acc |= static_cast<std::uint64_t>(values[i]) << bits;
    bits += width;
    if (bits >= 32) {
      out = detail::put_u32_le(out, static_cast<std::uint32_t>(acc));
      acc >>= 32;
      bits -= 32;
    }
  }
  for (; bits > 0; bits = bits > 8 ? bits - 8 : 0) {
    *out++ = static_cast<std::uint8_t>(acc);
    acc >>= 8;
  }
  return out;
}

// Encodes one channel: values at x[0], x[stride], ... x[(n-1)*stride].
std::uint8_t* encode_channel(const std::int32_t* x, std::size_t stride, std::size_t n, std::uint8_t* out) {
  out = detail::put_varint(out, detail::zigzag_encode32(x[0]));
  std::int64_t p1 = x[0];  // the two previous values (history before x[0] is x[0])
  std::int64_t p2 = x[0];
  std::array<std::int32_t, kSubBlockValues> v{};
  std::array<std::uint32_t, kSubBlockValues> residual{};
  for (std::size_t start = 1; start < n; start += kSubBlockValues) {
    const std::size_t m = std::min(kSubBlockValues, n - start);
    const std::int32_t* src = x + start * stride;
    for (std::size_t i = 0; i < m; ++i) v[i] = src[i * stride];

    // OR of the zigzagged residuals has the bit width of their maximum.
    std::uint64_t or0 = 0;
    std::uint64_t or1 = 0;
    std::uint64_t or2 = 0;
    std::int64_t q1 = p1;
    std::int64_t q2 = p2;
    for (std::size_t i = 0; i < m; ++i) {
      const std::int64_t value = v[i];
      or0 |= zigzag64(value);
      or1 |= zigzag64(value - q1);
      or2 |= zigzag64(value - 2 * q1 + q2);
      q2 = q1;
      q1 = value;
    }
    unsigned order = 0;
    unsigned width = static_cast<unsigned>(std::bit_width(or0));  // order 0 always fits 32 bits
    const auto w1 = static_cast<unsigned>(std::bit_width(or1));
    const auto w2 = static_cast<unsigned>(std::bit_width(or2));
    if (w1 < width) {
      order = 1;
      width = w1;
    }
    if (w2 < width) {
      order = 2;
      width = w2;
    }

    q1 = p1;
    q2 = p2;
    for (std::size_t i = 0; i < m; ++i) {
      const std::int64_t value = v[i];
      const std::int64_t prediction = order == 0 ? 0 : order == 1 ? q1 : 2 * q1 - q2;
      residual[i] = static_cast<std::uint32_t>(zigzag64(value - prediction));
      q2 = q1;
      q1 = value;
    }
    *out++ = static_cast<std::uint8_t>(order << kOrderShift | width);
    out = pack(residual.data(), m, width, out);
    p1 = q1;
    p2 = q2;
  }
  return out;
}

// Reconstructs `m` values of one sub-block from `packed` (readable for packed_bytes + kLoadSlack)
// into out[0], out[stride], ...; p1/p2 carry the channel history in and out. Arithmetic is modulo
// 2^32: the encoder guarantees the true values are int32, so wrapping gives them exactly, and
// crafted input gives some value rather than undefined behaviour.
template <unsigned Order>
void unpack_sub_block(const std::uint8_t* packed, std::size_t m, unsigned width, std::int32_t* out,
                      std::size_t stride, std::uint32_t& p1, std::uint32_t& p2) {
  const std::uint64_t mask = (std::uint64_t{1} << width) - 1;
  std::uint32_t q1 = p1;
  std::uint32_t q2 = p2;
  std::size_t bit = 0;
  for (std::size_t i = 0; i < m; ++i) {
    const auto z = static_cast<std::uint32_t>((load_u64(packed + (bit >> 3)) >> (bit & 7)) & mask);
    bit += width;
    const auto r = static_cast<std::uint32_t>(zigzag_decode32(z));
    std::uint32_t value;
    if constexpr (Order == 0) {
      value = r;
    } else if constexpr (Order == 1) {
      value = q1 + r;
    } else {
      value = 2 * q1 - q2 + r;
    }
    out[i * stride] = static_cast<std::int32_t>(value);
    q2 = q1;
    q1 = value;
  }
  p1 = q1;
  p2 = q2;
}

}  // namespace

SampleLayout sample_layout(std::size_t count, std::uint32_t time_points) {
  if (count == 0) return {};
  if (time_points > 0 && count % time_points == 0) return {count / time_points, time_points};
  return {1, count};
}

std::size_t max_encoded_sample_bytes(std::size_t count, std::uint32_t time_points) {
  const SampleLayout layout = sample_layout(count, time_points);
  if (layout.channels == 0) return kLoadSlack;
  const std::size_t sub_blocks = (layout.length - 1 + kSubBlockValues - 1) / kSubBlockValues;
  return layout.channels * (detail::kMaxVarint32Bytes + sub_blocks) +
         (count - layout.channels) * sizeof(std::uint32_t) + kLoadSlack;
}

std::size_t encode_samples(std::span<const std::int32_t> samples, std::uint32_t time_points,
                           std::uint8_t* out) {
  const SampleLayout layout = sample_layout(samples.size(), time_points);
  std::uint8_t* p = out;
  for (std::size_t c = 0; c < layout.channels; ++c) {
    p = encode_channel(samples.data() + c, layout.channels, layout.length, p);
  }
  return static_cast<std::size_t>(p - out);
}

void encode_samples(std::span<const std::int32_t> samples, std::uint32_t time_points,
                    std::vector<std::uint8_t>& out) {
  const std::size_t old_size = out.size();
  out.resize(old_size + max_encoded_sample_bytes(samples.size(), time_points));
  const std::size_t n = encode_samples(samples, time_points, out.data() + old_size);
  out.resize(old_size + n);
}

std::string_view to_string(SampleDecodeError error) {
  switch (error) {
    case SampleDecodeError::none:
      return "none";
    case SampleDecodeError::too_many_samples:
      return "too many samples";
    case SampleDecodeError::truncated:
      return "sample data ends early";
    case SampleDecodeError::bad_anchor:
      return "first value of a channel out of range";
    case SampleDecodeError::bad_header:
      return "invalid sub-block header";
    case SampleDecodeError::trailing_bytes:
      return "bytes left after the samples";
  }
  return "unknown";
}

SampleDecodeError decode_samples(std::span<const std::uint8_t> in, std::uint32_t time_points,
                                 std::span<std::int32_t> out) {
  if (out.size() > kMaxBlockSamples) return SampleDecodeError::too_many_samples;
  const SampleLayout layout = sample_layout(out.size(), time_points);
  detail::ByteCursor cursor(in.data(), in.data() + in.size());
  const std::uint8_t* const end = in.data() + in.size();
  std::array<std::uint8_t, kSubBlockValues * sizeof(std::uint32_t) + kLoadSlack> padded{};

  for (std::size_t c = 0; c < layout.channels; ++c) {
    std::int32_t* x = out.data() + c;
    const std::size_t stride = layout.channels;
    std::uint64_t anchor = 0;
    if (!cursor.read_varint(anchor)) return SampleDecodeError::truncated;
    if (anchor > 0xFFFF'FFFFu) return SampleDecodeError::bad_anchor;
    x[0] = zigzag_decode32(static_cast<std::uint32_t>(anchor));
    auto p1 = static_cast<std::uint32_t>(x[0]);
    std::uint32_t p2 = p1;

    for (std::size_t start = 1; start < layout.length; start += kSubBlockValues) {
      const std::size_t m = std::min(kSubBlockValues, layout.length - start);
      std::uint8_t header = 0;
      if (!cursor.read_u8(header)) return SampleDecodeError::truncated;
      const unsigned order = header >> kOrderShift;
      const unsigned width = header & kWidthMask;
      if (order > 2 || width > kMaxWidth) return SampleDecodeError::bad_header;
      const std::size_t nbytes = packed_bytes(m, width);
      const std::uint8_t* packed = cursor.position();
      if (!cursor.skip(nbytes)) return SampleDecodeError::truncated;
      if (static_cast<std::size_t>(end - packed) < nbytes + kLoadSlack) {
        // Near the end of the input: unpack from a zero-padded copy so 8-byte loads stay inside.
        std::memcpy(padded.data(), packed, nbytes);
        std::fill(padded.begin() + static_cast<std::ptrdiff_t>(nbytes), padded.end(), 0);
        packed = padded.data();
      }
      std::int32_t* dst = x + start * stride;
      switch (order) {
        case 0:
          unpack_sub_block<0>(packed, m, width, dst, stride, p1, p2);
          break;
        case 1:
          unpack_sub_block<1>(packed, m, width, dst, stride, p1, p2);
          break;
        default:
          unpack_sub_block<2>(packed, m, width, dst, stride, p1, p2);
          break;
      }
    }
  }
  return cursor.at_end() ? SampleDecodeError::none : SampleDecodeError::trailing_bytes;
}

}  // namespace spasmwatch::record
