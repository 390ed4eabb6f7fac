#include "api/api_token.hpp"

#include <fcntl.h>
#include <sys/random.h>
#include <sys/stat.h>
#include <unistd.h>

#include <array>
#include <cerrno>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <stdexcept>

namespace spasmwatch::api {

namespace {

constexpr std::size_t kTokenBytes = 32;

bool well_formed(const std::string& token) {
  if (token.size() != 2 * kTokenBytes) return false;
  for (const char c : token) {
    if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f'))) return false;
  }
  return true;
}

std::string new_token() {
  std::array<unsigned char, kTokenBytes> bytes{};
  std::size_t got = 0;
  while (got < bytes.size()) {
    const auto n = ::getrandom(bytes.data() + got, bytes.size() - got, 0);
    if (n < 0) {
      if (errno == EINTR) continue;
      throw std::runtime_error(std::string("cannot generate an API token: getrandom: ") + std::strerror(errno));
    }
    got += static_cast<std::size_t>(n);
  }
  static constexpr char kHex[] = "0123456789abcdef";
  std::string token;
  for (const auto b : bytes) {
    token += kHex[b >> 4];
    token += kHex[b & 15];
  }
  return token;
}

}  // namespace

std::string read_token(const std::string& path) {
  std::ifstream in(path);
  if (!in) throw std::runtime_error("cannot read API token file " + path + " (spasmwatchd creates it on start)");
  std::string token;
  std::getline(in, token);
  if (!well_formed(token)) throw std::runtime_error("API token file " + path + " does not hold a token (64 hex digits)");
  return token;
}

std::string load_or_create_token(const std::string& path) {
  namespace fs = std::filesystem;
  const fs::path p(path);
  if (p.has_parent_path()) {
    std::error_code ec;
    if (fs::create_directories(p.parent_path(), ec)) ::chmod(p.parent_path().c_str(), 0700);
    if (ec) throw std::runtime_error("cannot create directory for API token file " + path + ": " + ec.message());
  }
  const int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
  if (fd >= 0) {
    const std::string token = new_token();
    const std::string line = token + "\n";
    const bool written = ::write(fd, line.data(), line.size()) == static_cast<ssize_t>(line.size()) && ::fsync(fd) == 0;
    const int error = errno;
    ::close(fd);
    if (!written) {
      ::unlink(path.c_str());
      throw std::runtime_error("cannot write API token file " + path + ": " + std::strerror(error));
    }
    return token;
  }
  if (errno != EEXIST) throw std::runtime_error("cannot create API token file " + path + ": " + std::strerror(errno));
  struct stat st{};
  if (::stat(path.c_str(), &st) == 0 && (st.st_mode & 077) != 0 && ::chmod(path.c_str(), 0600) != 0) {
    throw std::runtime_error("cannot make API token file " + path + " owner-only: " + std::strerror(errno));
  }
  return read_token(path);
}

}  // namespace spasmwatch::api
