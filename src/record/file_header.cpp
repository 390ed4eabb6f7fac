#include "record/file_header.hpp"

#include <algorithm>
#include <cstring>
#include <stdexcept>
#include <string>

#include "protocol/crc32c.hpp"
#include "record/byte_io.hpp"

namespace spasmwatch::record::detail {
namespace {

enum class FieldTag : std::uint64_t { device_name = 1, created_utc_ns = 2, software = 3 };

std::uint8_t* put_field(std::uint8_t* p, FieldTag tag, std::span<const std::uint8_t> value) {
  p = put_varint(p, static_cast<std::uint64_t>(tag));
  p = put_varint(p, value.size());
  if (!value.empty()) std::memcpy(p, value.data(), value.size());
  return p + value.size();
}

std::span<const std::uint8_t> bytes_of(const std::string& s) {
  return {reinterpret_cast<const std::uint8_t*>(s.data()), s.size()};
}

}  // namespace

std::vector<std::uint8_t> encode_file_header(const RecordingInfo& info) {
  const std::size_t strings = info.device_name.size() + info.software.size();
  if (strings > kMaxHeaderFieldsBytes) {
    throw std::length_error("recording header fields exceed 64 KiB");
  }
  std::vector<std::uint8_t> out(kFixedHeaderBytes + strings + 8 * kMaxVarint64Bytes + 4);
  std::uint8_t* const begin = out.data();
  std::copy(kMagic.begin(), kMagic.end(), begin);
  begin[8] = kFormatMajor & 0xFF;
  begin[9] = kFormatMajor >> 8;
  begin[10] = kFormatMinor & 0xFF;
  begin[11] = kFormatMinor >> 8;

  std::uint8_t* p = begin + kFixedHeaderBytes;
  p = put_field(p, FieldTag::device_name, bytes_of(info.device_name));
  std::uint8_t created[kMaxVarint64Bytes];
  p = put_field(p, FieldTag::created_utc_ns, {created, put_signed_varint(created, info.created_utc_ns)});
  p = put_field(p, FieldTag::software, bytes_of(info.software));

  const auto fields_size = static_cast<std::size_t>(p - begin) - kFixedHeaderBytes;
  if (fields_size > kMaxHeaderFieldsBytes) {
    throw std::length_error("recording header fields exceed 64 KiB");
  }
  put_u32_le(begin + 12, static_cast<std::uint32_t>(fields_size));
  const std::size_t crc_at = kFixedHeaderBytes + fields_size;
  put_u32_le(p, protocol::crc32c({begin, crc_at}));
  out.resize(crc_at + 4);
  return out;
}

FileHeader parse_file_header(std::span<const std::uint8_t> bytes) {
  using Status = FileHeader::Status;
  FileHeader header;
  const std::size_t magic_seen = std::min(bytes.size(), kMagic.size());
  if (!std::equal(bytes.begin(), bytes.begin() + static_cast<std::ptrdiff_t>(magic_seen), kMagic.begin())) {
    header.status = Status::bad_magic;
    return header;
  }
  if (bytes.size() < kFixedHeaderBytes) {
    header.size = kFixedHeaderBytes;
    return header;  // need_more
  }
  header.major = get_u16_le(bytes.data() + 8);
  header.minor = get_u16_le(bytes.data() + 10);
  if (header.major != kFormatMajor) {
    header.status = Status::unsupported_version;
    return header;
  }
  const std::uint32_t fields_size = get_u32_le(bytes.data() + 12);
  if (fields_size > kMaxHeaderFieldsBytes) {
    header.status = Status::corrupt;
    header.problem = "header fields larger than 64 KiB";
    return header;
  }
  const std::size_t total = kFixedHeaderBytes + fields_size + 4;
  if (bytes.size() < total) {
    header.size = total;
    return header;  // need_more
  }
  if (kVerifyChecksums && protocol::crc32c(bytes.first(total - 4)) != get_u32_le(bytes.data() + total - 4)) {
    header.status = Status::corrupt;
    header.problem = "header CRC mismatch";
    return header;
  }

  // Fields: unknown tags are skipped (minor versions may add some); a later copy of a tag wins.
  ByteCursor in(bytes.data() + kFixedHeaderBytes, bytes.data() + total - 4);
  while (!in.at_end()) {
    std::uint64_t tag = 0;
    std::uint64_t size = 0;
    if (!in.read_varint(tag) || !in.read_varint(size) || size > in.remaining()) {
      header.status = Status::corrupt;
      header.problem = "malformed header field";
      return header;
    }
    const auto* value = reinterpret_cast<const char*>(in.position());
    const auto n = static_cast<std::size_t>(size);
    switch (static_cast<FieldTag>(tag)) {
      case FieldTag::device_name:
        header.info.device_name.assign(value, n);
        break;
      case FieldTag::software:
        header.info.software.assign(value, n);
        break;
      case FieldTag::created_utc_ns: {
        ByteCursor number(in.position(), in.position() + n);
        if (!number.read_signed_varint(header.info.created_utc_ns) || !number.at_end()) {
          header.status = Status::corrupt;
          header.problem = "malformed creation time in header";
          return header;
        }
        break;
      }
      default:
        break;
    }
    (void)in.skip(n);
  }
  header.status = Status::ok;
  header.size = total;
  return header;
}

}  // namespace spasmwatch::record::detail
