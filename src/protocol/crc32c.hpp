// CRC-32C (Castagnoli), as used by iSCSI, ext4 and many sensor links: better error detection on
// short frames than the zlib CRC-32. Uses the SSE4.2 instruction when the CPU has it.
#pragma once

#include <cstddef>
#include <cstdint>
#include <span>

namespace spasmwatch::protocol {

// CRC of `data`, continuing from a previous result `crc` (0 to start).
[[nodiscard]] std::uint32_t crc32c(std::span<const std::uint8_t> data, std::uint32_t crc = 0);

}  // namespace spasmwatch::protocol
