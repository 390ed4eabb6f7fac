#include "protocol/frame_decoder.hpp"

#include <cstring>

#include "protocol/cobs.hpp"
#include "protocol/crc32c.hpp"

namespace spasmwatch::protocol {

std::string_view to_string(FrameError error) {
  switch (error) {
    case FrameError::none: return "none";
    case FrameError::cobs_invalid: return "invalid COBS encoding";
    case FrameError::too_short: return "frame too short";
    case FrameError::crc_mismatch: return "CRC mismatch";
    case FrameError::oversize: return "frame exceeds size limit";
    case FrameError::parse_failed: return "payload is not a valid message";
    case FrameError::invalid_message: return "message contents inconsistent";
  }
  return "unknown";
}

FrameDecoder::FrameDecoder(std::size_t max_payload_bytes)
    : max_encoded_bytes_(cobs_max_encoded_size(max_payload_bytes + kCrcBytes)) {
  buffer_.reserve(max_encoded_bytes_);
}

std::size_t FrameDecoder::reset() {
  const std::size_t dropped = pending_bytes();
  buffer_.clear();
  discarding_ = false;
  discarded_ = 0;
  return dropped;
}

FrameDecoder::Result FrameDecoder::next(std::span<const std::uint8_t>& input) {
  while (!input.empty()) {
    const auto* zero = static_cast<const std::uint8_t*>(std::memchr(input.data(), 0, input.size()));
    const std::size_t chunk = zero ? static_cast<std::size_t>(zero - input.data()) : input.size();
    if (discarding_) {
      discarded_ += chunk;
    } else if (buffer_.size() + chunk > max_encoded_bytes_) {
      discarding_ = true;
      discarded_ = buffer_.size() + chunk;
      buffer_.clear();
    } else {
      buffer_.insert(buffer_.end(), input.begin(), input.begin() + static_cast<std::ptrdiff_t>(chunk));
    }
    if (zero == nullptr) {
      input = input.subspan(chunk);
      return {};
    }
    input = input.subspan(chunk + 1);  // past the delimiter
    if (discarding_) {
      Result r{Status::error, {}, FrameError::oversize, discarded_};
      discarding_ = false;
      discarded_ = 0;
      return r;
    }
    if (buffer_.empty()) continue;  // idle fill between frames
    return finish_frame();
  }
  return {};
}

FrameDecoder::Result FrameDecoder::finish_frame() {
  const std::size_t encoded = buffer_.size();
  // Decoding in place: the buffer is cleared on the next call, which keeps the payload valid.
  const auto decoded = cobs_decode(buffer_, buffer_.data());
  buffer_.clear();
  if (!decoded) return {Status::error, {}, FrameError::cobs_invalid, encoded};
  if (*decoded < kCrcBytes + 1) return {Status::error, {}, FrameError::too_short, encoded};
  const std::size_t payload_size = *decoded - kCrcBytes;
  const std::uint8_t* p = buffer_.data();
  const std::uint32_t wire_crc = static_cast<std::uint32_t>(p[payload_size]) |
                                 static_cast<std::uint32_t>(p[payload_size + 1]) << 8 |
                                 static_cast<std::uint32_t>(p[payload_size + 2]) << 16 |
                                 static_cast<std::uint32_t>(p[payload_size + 3]) << 24;
  if (crc32c({p, payload_size}) != wire_crc) {
    return {Status::error, {}, FrameError::crc_mismatch, encoded};
  }
  return {Status::frame, {p, payload_size}, FrameError::none, 0};
}

}  // namespace spasmwatch::protocol
