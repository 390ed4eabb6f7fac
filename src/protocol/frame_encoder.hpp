// Frame encoder: the inverse of FrameDecoder. Appends one complete frame (COBS of payload and its
// CRC-32C, then the 0x00 delimiter) to a byte buffer. Pure; used by the simulator and the daemon
// (host -> device commands).
#pragma once

#include <cstdint>
#include <span>
#include <vector>

namespace spasmwatch::protocol {

void encode_frame(std::span<const std::uint8_t> payload, std::vector<std::uint8_t>& out);

}  // namespace spasmwatch::protocol
