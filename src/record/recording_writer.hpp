// Writes one device connection to a recording file (FORMAT.md): the FrameEvents the frame decoder
// saw, with host receive times, so `spasmwatch replay` can feed ingest exactly what it saw live.
//
// append() only encodes into a memory buffer (no allocation in steady state), so it is cheap on
// the daemon's I/O thread; flush() hands the buffer to the kernel, sync() makes it durable. Only
// whole records are ever handed over, so a crash leaves at most one partial record at the end,
// which readers report as a truncated tail. As a safety net append() flushes by itself once 1 MiB
// is buffered.
//
// Errors: RecordingError (naming the file) from create/flush/sync/close and from append when its
// safety-net flush fails. After a failed write the unwritten bytes stay buffered and the next
// flush() retries from exactly where the file ends, so the file stays a valid record sequence.
//
// Thread rules: one writer per file, used from one thread.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "protocol/message_codec.hpp"
#include "record/recording_info.hpp"

namespace spasmwatch::record {

namespace detail {
class RecordEncoder;
}

class RecordingWriter {
  struct Token {
    explicit Token() = default;
  };

 public:
  // Creates a new file, owner-only (0600); fails if it exists. Writes the file header at once.
  static std::unique_ptr<RecordingWriter> create(const std::string& path, const RecordingInfo& info);

  RecordingWriter(Token, std::string path, int fd);  // use create()
  RecordingWriter(const RecordingWriter&) = delete;
  RecordingWriter& operator=(const RecordingWriter&) = delete;
  ~RecordingWriter();  // flushes; never throws (call close() to see errors)

  // Encodes `event` into the buffer. Fields that do not apply to its kind are not stored (a message
  // event keeps its message and time; a link event keeps error, bad_bytes and ping_id).
  void append(const protocol::FrameEvent& event);
  void flush();  // write(2)s the buffer
  void sync();   // flush + fdatasync (and, the first time, fsync of the directory entry)
  void close();  // sync and close; later calls do nothing

  [[nodiscard]] std::uint64_t bytes_written() const { return bytes_written_; }  // incl. buffered
  [[nodiscard]] std::uint64_t samples_written() const { return samples_written_; }
  [[nodiscard]] std::uint64_t records_written() const { return records_written_; }
  [[nodiscard]] const std::string& path() const { return path_; }

 private:
  [[noreturn]] void fail(const std::string& what, int error_number) const;

  std::string path_;
  int fd_ = -1;
  bool synced_directory_ = false;
  std::vector<std::uint8_t> buffer_;
  std::unique_ptr<detail::RecordEncoder> encoder_;
  std::uint64_t bytes_written_ = 0;
  std::uint64_t samples_written_ = 0;
  std::uint64_t records_written_ = 0;
};

}  // namespace spasmwatch::record
