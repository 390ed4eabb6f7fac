#include "record/recording_writer.hpp"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <filesystem>
#include <stdexcept>

#include "record/file_header.hpp"
#include "record/record_codec.hpp"

namespace spasmwatch::record {
namespace {

// append() flushes by itself beyond this, so a caller that forgets to flush cannot grow the buffer
// without bound; well above what a flush period of a second or so accumulates.
constexpr std::size_t kAutoFlushBytes = std::size_t{1} << 20;

// Writes all of `data`; returns 0 or the errno of the failure, with `written` bytes written.
int write_all(int fd, const std::uint8_t* data, std::size_t size, std::size_t& written) {
  written = 0;
  while (written < size) {
    const ssize_t n = ::write(fd, data + written, size - written);
    if (n < 0) {
      if (errno == EINTR) continue;
      return errno;
    }
    written += static_cast<std::size_t>(n);
  }
  return 0;
}

std::string describe(int error_number) {
  return std::strerror(error_number);
}

}  // namespace

std::unique_ptr<RecordingWriter> RecordingWriter::create(const std::string& path, const RecordingInfo& info) {
  std::vector<std::uint8_t> header;
  try {
    header = detail::encode_file_header(info);
  } catch (const std::length_error& e) {
    throw RecordingError(path + ": cannot create recording: " + e.what());
  }
  const int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
  if (fd < 0) throw RecordingError(path + ": cannot create recording: " + describe(errno));
  // The umask may have removed bits; owner read/write is what a recording needs, nothing more.
  std::size_t written = 0;
  int error_number = ::fchmod(fd, 0600) == 0 ? 0 : errno;
  if (error_number == 0) error_number = write_all(fd, header.data(), header.size(), written);
  if (error_number != 0) {
    ::close(fd);
    ::unlink(path.c_str());  // ours (O_EXCL), and without a header it is no recording
    throw RecordingError(path + ": cannot write recording header: " + describe(error_number));
  }
  auto writer = std::make_unique<RecordingWriter>(Token{}, path, fd);
  writer->bytes_written_ = header.size();
  return writer;
}

RecordingWriter::RecordingWriter(Token, std::string path, int fd)
    : path_(std::move(path)), fd_(fd), encoder_(std::make_unique<detail::RecordEncoder>()) {
  buffer_.reserve(kAutoFlushBytes + detail::kMaxRecordHeaderBytes + 64 * 1024);
}

RecordingWriter::~RecordingWriter() {
  if (fd_ < 0) return;
  try {
    flush();
  } catch (const RecordingError&) {
    // A destructor cannot report; callers that need to know use close() (or flush()) first.
  }
  ::close(fd_);
}

void RecordingWriter::fail(const std::string& what, int error_number) const {
  throw RecordingError(path_ + ": " + what + ": " + describe(error_number));
}

void RecordingWriter::append(const protocol::FrameEvent& event) {
  if (fd_ < 0) throw RecordingError(path_ + ": append to a closed recording");
  const std::size_t before = buffer_.size();
  if (!encoder_->encode(event, buffer_)) {
    throw RecordingError(path_ + ": message too large to record (limit 16 MiB)");
  }
  bytes_written_ += buffer_.size() - before;
  samples_written_ += encoder_->last_samples();
  ++records_written_;
  if (buffer_.size() >= kAutoFlushBytes) flush();
}

void RecordingWriter::flush() {
  if (fd_ < 0 || buffer_.empty()) return;
  std::size_t written = 0;
  const int error_number = write_all(fd_, buffer_.data(), buffer_.size(), written);
  // Keep exactly what did not reach the file, so a retry continues the record sequence.
  buffer_.erase(buffer_.begin(), buffer_.begin() + static_cast<std::ptrdiff_t>(written));
  if (error_number != 0) fail("cannot write recording", error_number);
}

void RecordingWriter::sync() {
  if (fd_ < 0) return;
  flush();
  if (::fdatasync(fd_) != 0) fail("cannot sync recording", errno);
  if (!synced_directory_) {
    // A new file's directory entry is only durable once the directory itself is synced.
    std::filesystem::path directory = std::filesystem::path(path_).parent_path();
    if (directory.empty()) directory = ".";
    const int dir_fd = ::open(directory.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (dir_fd < 0) fail("cannot open directory to sync it", errno);
    const int error_number = ::fsync(dir_fd) == 0 ? 0 : errno;
    ::close(dir_fd);
    if (error_number != 0) fail("cannot sync directory", error_number);
    synced_directory_ = true;
  }
}

void RecordingWriter::close() {
  if (fd_ < 0) return;
  sync();
  const int fd = fd_;
  fd_ = -1;
  if (::close(fd) != 0) fail("cannot close recording", errno);
}

}  // namespace spasmwatch::record
