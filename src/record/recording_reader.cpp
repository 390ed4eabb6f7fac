#include "record/recording_reader.hpp"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>

#include "record/file_header.hpp"
#include "record/record_codec.hpp"

namespace spasmwatch::record {
namespace {

// Read size: large enough that read(2) costs nothing per record, small enough to stay in cache-ish.
constexpr std::size_t kChunkBytes = std::size_t{4} << 20;

}  // namespace

std::unique_ptr<RecordingReader> RecordingReader::open(const std::string& path) {
  const int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) throw RecordingError(path + ": cannot open recording: " + std::strerror(errno));
  struct stat st {};
  if (::fstat(fd, &st) != 0) {
    const int error_number = errno;
    ::close(fd);
    throw RecordingError(path + ": cannot stat recording: " + std::strerror(error_number));
  }
  if (!S_ISREG(st.st_mode)) {
    ::close(fd);
    throw RecordingError(path + ": not a regular file, so not a recording");
  }
  const auto size = static_cast<std::uint64_t>(st.st_size);
  std::vector<std::uint8_t> buffer(static_cast<std::size_t>(std::min<std::uint64_t>(kChunkBytes, size + 64)));
  // The reader owns fd from here on (its destructor closes it, also if read_header throws).
  auto reader = std::make_unique<RecordingReader>(Token{}, path, fd, std::move(buffer), 0, size);
  reader->read_header();
  return reader;
}

std::unique_ptr<RecordingReader> RecordingReader::from_bytes(std::vector<std::uint8_t> bytes,
                                                             std::string name) {
  const std::size_t size = bytes.size();
  auto reader = std::make_unique<RecordingReader>(Token{}, std::move(name), -1, std::move(bytes), size, size);
  reader->read_header();
  return reader;
}

RecordingReader::RecordingReader(Token, std::string name, int fd, std::vector<std::uint8_t> buffer,
                                 std::size_t buffered, std::uint64_t file_size)
    : name_(std::move(name)),
      fd_(fd),
      buffer_(std::move(buffer)),
      filled_(buffered),
      eof_(fd < 0),
      file_size_(file_size),
      decoder_(std::make_unique<detail::RecordDecoder>()) {}

RecordingReader::~RecordingReader() {
  if (fd_ >= 0) ::close(fd_);
}

std::size_t RecordingReader::ensure(std::size_t n) {
  const std::size_t available = filled_ - begin_;
  if (available >= n || eof_) return available;
  if (begin_ > 0) {
    std::memmove(buffer_.data(), buffer_.data() + begin_, available);
    buffer_offset_ += begin_;
    begin_ = 0;
    filled_ = available;
  }
  if (buffer_.size() < n) buffer_.resize(std::max(n, std::min(kChunkBytes, 2 * buffer_.size())));
  while (filled_ < n) {
    const ssize_t got = ::read(fd_, buffer_.data() + filled_, buffer_.size() - filled_);
    if (got < 0) {
      if (errno == EINTR) continue;
      throw RecordingError(name_ + ": cannot read recording at byte " +
                           std::to_string(buffer_offset_ + filled_) + ": " + std::strerror(errno));
    }
    if (got == 0) {
      eof_ = true;
      break;
    }
    filled_ += static_cast<std::size_t>(got);
  }
  return filled_ - begin_;
}

void RecordingReader::read_header() {
  using Status = detail::FileHeader::Status;
  std::size_t available = ensure(detail::kFixedHeaderBytes);
  if (available == 0) throw RecordingError(name_ + ": empty file, not a recording");
  detail::FileHeader header = detail::parse_file_header({buffer_.data() + begin_, available});
  // At most twice: once for the fixed part, once for the fields.
  for (int i = 0; i < 2 && header.status == Status::need_more; ++i) {
    available = ensure(header.size);
    if (available < header.size) {
      throw RecordingError(name_ + ": truncated recording header (" + std::to_string(available) + " of " +
                           std::to_string(header.size) + " bytes)");
    }
    header = detail::parse_file_header({buffer_.data() + begin_, available});
  }
  switch (header.status) {
    case Status::ok:
      break;
    case Status::need_more:  // not reached: the second pass has every byte the header declares
    case Status::corrupt:
      throw RecordingError(name_ + ": damaged recording header (" +
                           std::string(header.problem.empty() ? "inconsistent size" : header.problem) + ")");
    case Status::bad_magic:
      throw RecordingError(name_ + ": not a spasmwatch recording (wrong magic bytes)");
    case Status::unsupported_version:
      throw RecordingError(name_ + ": unsupported recording format version " + std::to_string(header.major) +
                           "." + std::to_string(header.minor) + " (this build reads version " +
                           std::to_string(detail::kFormatMajor) + ".x)");
  }
  info_ = std::move(header.info);
  version_major_ = header.major;
  version_minor_ = header.minor;
  begin_ += header.size;
  consumed_offset_ = header.size;
}

bool RecordingReader::next(protocol::FrameEvent& event) {
  using Status = detail::RecordFrame::Status;
  while (!done_) {
    std::size_t available = ensure(detail::kMaxRecordHeaderBytes);
    if (available == 0) {
      stop(ReadEnd::clean, "clean end after " + std::to_string(records_read_) + " records (" +
                               std::to_string(consumed_offset_) + " bytes)");
      break;
    }
    detail::RecordFrame frame = detail::frame_record({buffer_.data() + begin_, available});
    while (frame.status == Status::need_more) {
      available = ensure(frame.size);
      if (available < frame.size) break;
      frame = detail::frame_record({buffer_.data() + begin_, available});
    }
    if (frame.status == Status::need_more) {
      stop_damaged({}, true);
      break;
    }
    if (frame.status == Status::corrupt) {
      stop_damaged(frame.problem, false);
      break;
    }
    const auto result = decoder_->decode({buffer_.data() + begin_, frame.size}, event);
    if (result == detail::RecordDecoder::Result::malformed) {
      stop_damaged(decoder_->problem(), false);
      break;
    }
    begin_ += frame.size;
    consumed_offset_ += frame.size;
    if (result == detail::RecordDecoder::Result::event) {
      ++records_read_;
      return true;
    }
    // skipped: a record type from a newer minor version that does not affect replay
  }
  event = protocol::FrameEvent{};
  return false;
}

void RecordingReader::stop(ReadEnd end, std::string message) {
  done_ = true;
  end_ = end;
  end_message_ = std::move(message);
}

bool RecordingReader::rest_is_zero(std::uint64_t& zero_bytes) {
  zero_bytes = 0;
  for (;;) {
    const auto* first = buffer_.data() + begin_;
    const auto* last = buffer_.data() + filled_;
    if (std::find_if(first, last, [](std::uint8_t b) { return b != 0; }) != last) return false;
    zero_bytes += static_cast<std::uint64_t>(last - first);
    begin_ = filled_;  // reading has stopped; the scanned bytes are not needed again
    if (ensure(1) == 0) return zero_bytes > 0;
  }
}

void RecordingReader::stop_damaged(std::string_view problem, bool incomplete) {
  const std::string at = std::to_string(consumed_offset_);
  std::uint64_t zero_bytes = 0;
  if (rest_is_zero(zero_bytes)) {
    // A crash after the file size grew but before the data reached the disk leaves zeros.
    stop(ReadEnd::truncated, "zero-filled tail of " + std::to_string(zero_bytes) + " bytes at byte " + at +
                                 " (crash while writing?)");
  } else if (incomplete) {
    stop(ReadEnd::truncated, "truncated record at byte " + at + " (crash while writing?)");
  } else {
    stop(ReadEnd::corrupt,
         "corrupt record at byte " + at + " (" + std::string(problem) + "); nothing after it was read");
  }
}

}  // namespace spasmwatch::record
