// Reads a recording file (FORMAT.md) back as the FrameEvents it recorded, for replay through the
// same ingest code as live.
//
// The file is read sequentially in large chunks; records are checked (length, header check byte,
// CRC-32C) and decoded in place into messages the reader owns and reuses, so reading does not
// allocate per record. Reading stops at the first record that is incomplete (a crash while
// writing: `truncated`) or damaged (`corrupt`); everything before it is returned and nothing after
// it. Any byte sequence gives records, a clean end or a RecordingError, never a crash.
//
// Errors: RecordingError (naming the file) from open/from_bytes when the file cannot be read, is
// not a recording, has an unsupported major version or a damaged header; and from next() if
// read(2) fails mid-file. Damage in the records is not an exception: next() returns false and
// end()/end_message() say what happened where.
//
// Thread rules: one reader per file, used from one thread.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "protocol/message_codec.hpp"
#include "record/recording_info.hpp"

namespace spasmwatch::record {

namespace detail {
class RecordDecoder;
}

enum class ReadEnd : std::uint8_t {
  clean,      // the file ends at a record boundary
  truncated,  // the last record is incomplete (or the tail is zero-filled): a crash while writing
  corrupt,    // a record failed its checks; the reader stopped before it
};

class RecordingReader {
  struct Token {
    explicit Token() = default;
  };

 public:
  static std::unique_ptr<RecordingReader> open(const std::string& path);
  static std::unique_ptr<RecordingReader> from_bytes(std::vector<std::uint8_t> bytes,
                                                     std::string name = "<memory>");

  RecordingReader(Token, std::string name, int fd, std::vector<std::uint8_t> buffer, std::size_t buffered,
                  std::uint64_t file_size);  // use open() / from_bytes()
  RecordingReader(const RecordingReader&) = delete;
  RecordingReader& operator=(const RecordingReader&) = delete;
  ~RecordingReader();

  [[nodiscard]] const RecordingInfo& info() const { return info_; }
  [[nodiscard]] const std::string& name() const { return name_; }
  // Format version the file was written with.
  [[nodiscard]] std::uint16_t version_major() const { return version_major_; }
  [[nodiscard]] std::uint16_t version_minor() const { return version_minor_; }

  // Fills `event`; its `message` points into the reader and stays valid until the next call.
  // Returns false at the end of the readable part; then end() tells why.
  bool next(protocol::FrameEvent& event);

  [[nodiscard]] ReadEnd end() const { return end_; }
  // e.g. "truncated record at byte 123456 (crash while writing?)"; empty before the end.
  [[nodiscard]] std::string end_message() const { return end_message_; }
  [[nodiscard]] std::uint64_t bytes_read() const { return consumed_offset_; }  // header included
  [[nodiscard]] std::uint64_t file_size() const { return file_size_; }
  [[nodiscard]] std::uint64_t records_read() const { return records_read_; }

 private:
  void read_header();
  // Makes at least `n` bytes available from begin_ (fewer only at the end of the file); returns
  // how many are available.
  std::size_t ensure(std::size_t n);
  void stop(ReadEnd end, std::string message);
  void stop_damaged(std::string_view problem, bool incomplete);
  bool rest_is_zero(std::uint64_t& zero_bytes);

  std::string name_;
  int fd_ = -1;                       // -1 when reading from memory
  std::vector<std::uint8_t> buffer_;  // file bytes [buffer_offset_, buffer_offset_ + filled_)
  std::size_t begin_ = 0;             // first unconsumed byte in buffer_
  std::size_t filled_ = 0;            // end of valid bytes in buffer_
  std::uint64_t buffer_offset_ = 0;   // file offset of buffer_[0]
  bool eof_ = false;
  std::uint64_t file_size_ = 0;
  std::uint64_t consumed_offset_ = 0;
  std::uint64_t records_read_ = 0;

  RecordingInfo info_;
  std::uint16_t version_major_ = 0;
  std::uint16_t version_minor_ = 0;
  std::unique_ptr<detail::RecordDecoder> decoder_;
  bool done_ = false;
  ReadEnd end_ = ReadEnd::clean;
  std::string end_message_;
};

}  // namespace spasmwatch::record
