#include "protocol/frame_encoder.hpp"

#include "protocol/cobs.hpp"
#include "protocol/crc32c.hpp"

namespace spasmwatch::protocol {

void encode_frame(std::span<const std::uint8_t> payload, std::vector<std::uint8_t>& out) {
  // COBS needs payload and CRC contiguous; a small scratch buffer per thread avoids reallocating.
  thread_local std::vector<std::uint8_t> scratch;
  scratch.assign(payload.begin(), payload.end());
  const std::uint32_t crc = crc32c(payload);
  for (int i = 0; i < 4; ++i) scratch.push_back(static_cast<std::uint8_t>(crc >> (8 * i)));
  cobs_encode(scratch, out);
  out.push_back(0);
}

}  // namespace spasmwatch::protocol
