#include "protocol/cobs.hpp"

namespace spasmwatch::protocol {

void cobs_encode(std::span<const std::uint8_t> in, std::vector<std::uint8_t>& out) {
  const std::size_t start = out.size();
  out.resize(start + cobs_max_encoded_size(in.size()));
  std::uint8_t* dst = out.data() + start;
  std::uint8_t* code_ptr = dst++;
  std::uint8_t code = 1;
  for (const std::uint8_t byte : in) {
    if (byte != 0) {
      *dst++ = byte;
      ++code;
    }
    if (byte == 0 || code == 0xFF) {
      *code_ptr = code;
      code_ptr = dst++;
      code = 1;
    }
  }
  *code_ptr = code;
  out.resize(static_cast<std::size_t>(dst - out.data()));
}

std::optional<std::size_t> cobs_decode(std::span<const std::uint8_t> in, std::uint8_t* out) {
  std::size_t read = 0;
  std::size_t written = 0;
  const std::size_t n = in.size();
  while (read < n) {
    const std::uint8_t code = in[read++];
    if (code == 0) return std::nullopt;
    const std::size_t run = code - 1u;
    if (run > n - read) return std::nullopt;
    for (std::size_t i = 0; i < run; ++i) {
      const std::uint8_t byte = in[read + i];
      if (byte == 0) return std::nullopt;
      out[written + i] = byte;
    }
    read += run;
    written += run;
    // A code below 0xFF stands for a zero byte, except at the very end of the frame.
    if (code != 0xFF && read < n) out[written++] = 0;
  }
  return written;
}

}  // namespace spasmwatch::protocol
