#include "store/owner_only.hpp"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <string>
#include <vector>

#include "store/store_error.hpp"

namespace spasmwatch::store {

namespace {

constexpr mode_t kFileMode = 0600;
constexpr mode_t kDirectoryMode = 0700;

[[noreturn]] void fail(const std::filesystem::path& path, const std::string& what, int error_number) {
  throw StoreError("store " + path.string() + ": " + what + ": " + std::strerror(error_number));
}

// Makes the directory entry of a new file or directory durable.
void sync_directory(const std::filesystem::path& directory) {
  const int fd = ::open(directory.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (fd < 0) fail(directory, "cannot open directory to sync it", errno);
  const int rc = ::fsync(fd);
  const int error_number = errno;
  ::close(fd);
  if (rc != 0) fail(directory, "cannot sync directory", error_number);
}

std::filesystem::path parent_of(const std::filesystem::path& path) {
  const auto parent = path.parent_path();
  return parent.empty() ? std::filesystem::path(".") : parent;
}

void create_directories_owner_only(const std::filesystem::path& directory) {
  // Collect the missing components, outermost first.
  std::vector<std::filesystem::path> missing;
  for (auto p = directory; !p.empty(); p = p.parent_path()) {
    struct stat st {};
    if (::stat(p.c_str(), &st) == 0) {
      if (!S_ISDIR(st.st_mode)) fail(p, "exists and is not a directory", ENOTDIR);
      break;
    }
    if (errno != ENOENT) fail(p, "cannot inspect directory", errno);
    missing.push_back(p);
    if (p == p.parent_path()) break;
  }
  for (auto it = missing.rbegin(); it != missing.rend(); ++it) {
    if (::mkdir(it->c_str(), kDirectoryMode) != 0 && errno != EEXIST)
      fail(*it, "cannot create directory", errno);
    // mkdir's mode was masked by the umask; set it exactly.
    if (::chmod(it->c_str(), kDirectoryMode) != 0) fail(*it, "cannot set directory mode 0700", errno);
    sync_directory(parent_of(*it));
  }
}

// chmod by path, never through a file descriptor of our own: closing any descriptor of a file
// drops every POSIX lock this process holds on it, including SQLite's.
void repair_if_loose(const std::filesystem::path& path, bool must_exist) {
  struct stat st {};
  if (::stat(path.c_str(), &st) != 0) {
    if (errno == ENOENT && !must_exist) return;
    fail(path, "cannot inspect file", errno);
  }
  if (!S_ISREG(st.st_mode)) fail(path, "exists and is not a regular file", EINVAL);
  if ((st.st_mode & 0077) == 0) return;
  if (::chmod(path.c_str(), kFileMode) != 0)
    fail(path, "has group/other permissions and cannot be made 0600", errno);
}

}  // namespace

void prepare_owner_only_database(const std::filesystem::path& database) {
  const auto directory = parent_of(database);
  create_directories_owner_only(directory);

  const int fd = ::open(database.c_str(), O_RDWR | O_CREAT | O_EXCL | O_CLOEXEC, kFileMode);
  if (fd >= 0) {
    // A new, empty file nobody else has opened: set the exact mode, make the entry durable.
    const int rc = ::fchmod(fd, kFileMode);
    const int error_number = errno;
    ::close(fd);
    if (rc != 0) fail(database, "cannot set file mode 0600", error_number);
    sync_directory(directory);
    return;
  }
  if (errno != EEXIST) fail(database, "cannot create database file", errno);
  repair_if_loose(database, true);
}

void repair_owner_only_companions(const std::filesystem::path& database) {
  repair_if_loose(database, true);
  for (const char* suffix : {"-wal", "-shm", "-journal"}) {
    repair_if_loose(std::filesystem::path(database.string() + suffix), false);
  }
}

}  // namespace spasmwatch::store
