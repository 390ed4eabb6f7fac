// Byte-level helpers of the recording format: little-endian fixed-width integers, base-128
// varints (as in protobuf) and zigzag mapping of signed values. Internal to src/record.
//
// Writing goes through a raw pointer into a buffer the caller has sized for the worst case (the
// encoders compute bounds up front), so the hot paths never check capacity or allocate. Reading
// goes through ByteCursor, which checks every byte against the end of its span and rejects
// over-long or overflowing varints: any input gives a value or `false`, never a read past the end.
#pragma once

#include <cstddef>
#include <cstdint>
#include <cstring>

namespace spasmwatch::record::detail {

// Fuzzing builds (by the libFuzzer/OSS-Fuzz convention, FUZZING_BUILD_MODE_UNSAFE_FOR_PRODUCTION)
// accept wrong checksums so that mutated inputs reach the decoders behind them. Never defined in
// a real build.
#if defined(FUZZING_BUILD_MODE_UNSAFE_FOR_PRODUCTION)
inline constexpr bool kVerifyChecksums = false;
#else
inline constexpr bool kVerifyChecksums = true;
#endif

[[nodiscard]] constexpr std::uint64_t zigzag_encode(std::int64_t v) {
  return (static_cast<std::uint64_t>(v) << 1) ^ static_cast<std::uint64_t>(v >> 63);
}
[[nodiscard]] constexpr std::int64_t zigzag_decode(std::uint64_t u) {
  return static_cast<std::int64_t>(u >> 1) ^ -static_cast<std::int64_t>(u & 1u);
}
[[nodiscard]] constexpr std::uint32_t zigzag_encode32(std::int32_t v) {
  return (static_cast<std::uint32_t>(v) << 1) ^ static_cast<std::uint32_t>(v >> 31);
}
[[nodiscard]] constexpr std::int32_t zigzag_decode32(std::uint32_t u) {
  return static_cast<std::int32_t>((u >> 1) ^ (0u - (u & 1u)));
}

inline constexpr std::size_t kMaxVarint64Bytes = 10;
inline constexpr std::size_t kMaxVarint32Bytes = 5;

// Writes `v` at `p` and returns the position after it (at most 10 bytes).
inline std::uint8_t* put_varint(std::uint8_t* p, std::uint64_t v) {
  while (v >= 0x80u) {
    *p++ = static_cast<std::uint8_t>(v | 0x80u);
    v >>= 7;
  }
  *p++ = static_cast<std::uint8_t>(v);
  return p;
}

inline std::uint8_t* put_signed_varint(std::uint8_t* p, std::int64_t v) {
  return put_varint(p, zigzag_encode(v));
}

inline std::uint8_t* put_u32_le(std::uint8_t* p, std::uint32_t v) {
  for (int i = 0; i < 4; ++i) *p++ = static_cast<std::uint8_t>(v >> (8 * i));
  return p;
}

[[nodiscard]] inline std::uint32_t get_u32_le(const std::uint8_t* p) {
  return static_cast<std::uint32_t>(p[0]) | static_cast<std::uint32_t>(p[1]) << 8 |
         static_cast<std::uint32_t>(p[2]) << 16 | static_cast<std::uint32_t>(p[3]) << 24;
}

[[nodiscard]] inline std::uint16_t get_u16_le(const std::uint8_t* p) {
  return static_cast<std::uint16_t>(p[0] | p[1] << 8);
}

// Unaligned native (little-endian on every target we build for) 64-bit load.
[[nodiscard]] inline std::uint64_t load_u64(const std::uint8_t* p) {
  std::uint64_t v;
  std::memcpy(&v, p, sizeof v);
  return v;
}

// Bounds-checked reading of a byte span.
class ByteCursor {
 public:
  ByteCursor(const std::uint8_t* begin, const std::uint8_t* end) : p_(begin), end_(end) {}

  [[nodiscard]] const std::uint8_t* position() const { return p_; }
  [[nodiscard]] std::size_t remaining() const { return static_cast<std::size_t>(end_ - p_); }
  [[nodiscard]] bool at_end() const { return p_ == end_; }

  [[nodiscard]] bool read_u8(std::uint8_t& v) {
    if (p_ == end_) return false;
    v = *p_++;
    return true;
  }

  // Rejects varints longer than 10 bytes and 10-byte ones whose value overflows 64 bits.
  [[nodiscard]] bool read_varint(std::uint64_t& v) {
    std::uint64_t result = 0;
    for (std::size_t i = 0; i < kMaxVarint64Bytes; ++i) {
      if (p_ == end_) return false;
      const std::uint8_t byte = *p_++;
      if (i == kMaxVarint64Bytes - 1 && byte > 1) return false;
      result |= static_cast<std::uint64_t>(byte & 0x7Fu) << (7 * i);
      if ((byte & 0x80u) == 0) {
        v = result;
        return true;
      }
    }
    return false;
  }

  [[nodiscard]] bool read_varint32(std::uint32_t& v) {
    std::uint64_t wide = 0;
    if (!read_varint(wide) || wide > 0xFFFF'FFFFu) return false;
    v = static_cast<std::uint32_t>(wide);
    return true;
  }

  [[nodiscard]] bool read_signed_varint(std::int64_t& v) {
    std::uint64_t u = 0;
    if (!read_varint(u)) return false;
    v = zigzag_decode(u);
    return true;
  }

  [[nodiscard]] bool skip(std::size_t n) {
    if (remaining() < n) return false;
    p_ += n;
    return true;
  }

 private:
  const std::uint8_t* p_;
  const std::uint8_t* end_;
};

}  // namespace spasmwatch::record::detail
