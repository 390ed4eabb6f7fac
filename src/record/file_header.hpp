// The file header of a recording: magic, format version and the RecordingInfo, CRC-checked.
// Pure encode/parse; FORMAT.md ("File header") is the reference.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <span>
#include <string_view>
#include <vector>

#include "record/recording_info.hpp"

namespace spasmwatch::record::detail {

// PNG-style: a non-ASCII first byte, then CR LF, ^Z, LF to catch text-mode mangling.
inline constexpr std::array<std::uint8_t, 8> kMagic = {0x89, 'S', 'W', 'R', '\r', '\n', 0x1A, '\n'};
inline constexpr std::uint16_t kFormatMajor = 1;
inline constexpr std::uint16_t kFormatMinor = 0;
inline constexpr std::size_t kFixedHeaderBytes = 16;  // magic, major, minor, fields size
inline constexpr std::size_t kMaxHeaderFieldsBytes = 64 * 1024;

// Throws std::length_error when the strings make the header larger than the limit.
[[nodiscard]] std::vector<std::uint8_t> encode_file_header(const RecordingInfo& info);

struct FileHeader {
  enum class Status : std::uint8_t { ok, need_more, bad_magic, unsupported_version, corrupt };
  Status status = Status::need_more;
  std::size_t size = 0;  // ok: the header's bytes; need_more: bytes needed to go on
  std::uint16_t major = 0;
  std::uint16_t minor = 0;
  RecordingInfo info;
  std::string_view problem;  // corrupt: what is wrong
};

// Parses the header at the start of `bytes`. Version is checked right after the magic: a future
// major version may lay out everything after it differently.
[[nodiscard]] FileHeader parse_file_header(std::span<const std::uint8_t> bytes);

}  // namespace spasmwatch::record::detail
