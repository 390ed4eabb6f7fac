#include "transport.hpp"

#include <arpa/inet.h>
#include <fcntl.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <pty.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <termios.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <cstdio>
#include <cstring>
#include <stdexcept>
#include <thread>

namespace spasmwatch::sim {

namespace {

double now_s() {
  return std::chrono::duration<double>(std::chrono::steady_clock::now().time_since_epoch()).count();
}

void set_nonblocking(int fd) { ::fcntl(fd, F_SETFL, ::fcntl(fd, F_GETFL) | O_NONBLOCK); }

// Shared by all transports: a connected fd, written with poll and a stall timeout.
class FdTransport : public Transport {
 public:
  bool write_all(std::span<const std::uint8_t> bytes) override {
    const double deadline = now_s() + 10.0;  // a peer that takes nothing for 10 s is gone
    while (!bytes.empty()) {
      if (fd_ < 0) return false;
      const ssize_t n = ::write(fd_, bytes.data(), bytes.size());
      if (n > 0) {
        bytes = bytes.subspan(static_cast<std::size_t>(n));
        continue;
      }
      if (n < 0 && errno != EAGAIN && errno != EINTR) {
        close();
        return false;
      }
      if (now_s() > deadline) {
        close();
        return false;
      }
      pollfd p{fd_, POLLOUT, 0};
      ::poll(&p, 1, 100);
    }
    return true;
  }

  bool read_some(std::vector<std::uint8_t>& out, int timeout_ms) override {
    if (fd_ < 0) return false;
    pollfd p{fd_, POLLIN, 0};
    if (::poll(&p, 1, timeout_ms) <= 0) return true;
    std::uint8_t buf[4096];
    const ssize_t n = ::read(fd_, buf, sizeof buf);
    if (n > 0) {
      out.insert(out.end(), buf, buf + n);
      return true;
    }
    if (n < 0 && (errno == EAGAIN || errno == EINTR)) return true;
    // n == 0 (peer closed) or an error. A pty master reads EIO while no one has the slave open:
    // that is "nobody listening yet", not a failure.
    if (n < 0 && errno == EIO && is_pty_) return true;
    close();
    return false;
  }

  void close() override {
    if (fd_ >= 0) ::close(fd_);
    fd_ = -1;
  }

 protected:
  int fd_ = -1;
  bool is_pty_ = false;
};

class PtyTransport final : public FdTransport {
 public:
  explicit PtyTransport(std::string link) : link_(std::move(link)) { is_pty_ = true; }
  ~PtyTransport() override {
    close();
    ::unlink(link_.c_str());
  }

  bool open(double, const std::atomic<bool>&) override {
    close();
    int master = -1;
    int slave = -1;
    char name[256];
    if (::openpty(&master, &slave, name, nullptr, nullptr) != 0) {
      throw std::runtime_error(std::string("openpty failed: ") + std::strerror(errno));
    }
    // Raw mode before anything is written: no echo, no line editing, 8-bit clean.
    termios tio{};
    ::tcgetattr(slave, &tio);
    ::cfmakeraw(&tio);
    ::tcsetattr(slave, TCSANOW, &tio);
    set_nonblocking(master);
    fd_ = master;
    slave_ = slave;  // kept open: holds the settings and lets drain() see unread bytes
    const std::string tmp = link_ + ".tmp";
    ::unlink(tmp.c_str());
    if (::symlink(name, tmp.c_str()) != 0 || ::rename(tmp.c_str(), link_.c_str()) != 0) {
      throw std::runtime_error("cannot create symlink " + link_ + " -> " + name + ": " + std::strerror(errno));
    }
    path_ = name;
    return true;
  }

  void close() override {
    FdTransport::close();
    if (slave_ >= 0) ::close(slave_);
    slave_ = -1;
  }

  void drain(double timeout_s) override {
    // Bytes can sit in the tty flip buffer before the line discipline counts them: require the
    // input queue to read empty twice, 50 ms apart.
    const double deadline = now_s() + timeout_s;
    int empty_reads = 0;
    while (slave_ >= 0 && now_s() < deadline && empty_reads < 2) {
      int pending = 0;
      if (::ioctl(slave_, FIONREAD, &pending) != 0) return;
      empty_reads = pending == 0 ? empty_reads + 1 : 0;
      std::this_thread::sleep_for(std::chrono::milliseconds(pending == 0 ? 50 : 10));
    }
  }

  [[nodiscard]] std::string describe() const override { return "pty " + path_ + " (link " + link_ + ")"; }

 private:
  std::string link_;
  std::string path_;
  int slave_ = -1;
};

int connect_to(const std::string& host, std::uint16_t port) {
  addrinfo hints{};
  hints.ai_family = AF_UNSPEC;
  hints.ai_socktype = SOCK_STREAM;
  addrinfo* result = nullptr;
  if (::getaddrinfo(host.c_str(), std::to_string(port).c_str(), &hints, &result) != 0) return -1;
  int fd = -1;
  for (addrinfo* a = result; a != nullptr; a = a->ai_next) {
    fd = ::socket(a->ai_family, a->ai_socktype, a->ai_protocol);
    if (fd < 0) continue;
    if (::connect(fd, a->ai_addr, a->ai_addrlen) == 0) break;
    ::close(fd);
    fd = -1;
  }
  ::freeaddrinfo(result);
  return fd;
}

// Half-closes and waits for the peer to close: closing with unread input would reset the
// connection and could destroy data still in flight to the peer.
void drain_socket(int fd, double timeout_s) {
  if (fd < 0) return;
  ::shutdown(fd, SHUT_WR);
  const double deadline = now_s() + timeout_s;
  std::uint8_t buf[4096];
  while (now_s() < deadline) {
    pollfd p{fd, POLLIN, 0};
    if (::poll(&p, 1, 100) <= 0) continue;
    const ssize_t n = ::read(fd, buf, sizeof buf);
    if (n == 0 || (n < 0 && errno != EAGAIN && errno != EINTR)) return;
  }
}

void tune_socket(int fd) {
  int one = 1;
  ::setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
  set_nonblocking(fd);
}

class TcpClientTransport final : public FdTransport {
 public:
  TcpClientTransport(std::string host, std::uint16_t port) : host_(std::move(host)), port_(port) {}
  ~TcpClientTransport() override { close(); }

  bool open(double timeout_s, const std::atomic<bool>& stop) override {
    close();
    const double deadline = now_s() + timeout_s;
    while (!stop && now_s() < deadline) {
      fd_ = connect_to(host_, port_);
      if (fd_ >= 0) {
        tune_socket(fd_);
        return true;
      }
      std::this_thread::sleep_for(std::chrono::milliseconds(200));
    }
    return false;
  }

  void drain(double timeout_s) override { drain_socket(fd_, timeout_s); }
  [[nodiscard]] std::string describe() const override {
    return "tcp client to " + host_ + ":" + std::to_string(port_);
  }

 private:
  std::string host_;
  std::uint16_t port_;
};

class TcpServerTransport final : public FdTransport {
 public:
  TcpServerTransport(std::string host, std::uint16_t port) : host_(std::move(host)), port_(port) {
    addrinfo hints{};
    hints.ai_family = AF_UNSPEC;
    hints.ai_socktype = SOCK_STREAM;
    hints.ai_flags = AI_PASSIVE;
    addrinfo* result = nullptr;
    if (::getaddrinfo(host_.c_str(), std::to_string(port_).c_str(), &hints, &result) != 0 ||
        result == nullptr) {
      throw std::runtime_error("cannot resolve listen address " + host_);
    }
    listener_ = ::socket(result->ai_family, result->ai_socktype, result->ai_protocol);
    int one = 1;
    ::setsockopt(listener_, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
    if (listener_ < 0 || ::bind(listener_, result->ai_addr, result->ai_addrlen) != 0 ||
        ::listen(listener_, 1) != 0) {
      const std::string why = std::strerror(errno);
      ::freeaddrinfo(result);
      throw std::runtime_error("cannot listen on " + host_ + ":" + std::to_string(port_) + ": " + why);
    }
    ::freeaddrinfo(result);
  }
  ~TcpServerTransport() override {
    close();
    if (listener_ >= 0) ::close(listener_);
  }

  bool open(double timeout_s, const std::atomic<bool>& stop) override {
    close();
    const double deadline = now_s() + timeout_s;
    while (!stop && now_s() < deadline) {
      pollfd p{listener_, POLLIN, 0};
      if (::poll(&p, 1, 200) > 0) {
        fd_ = ::accept(listener_, nullptr, nullptr);
        if (fd_ >= 0) {
          tune_socket(fd_);
          return true;
        }
      }
    }
    return false;
  }

  void drain(double timeout_s) override { drain_socket(fd_, timeout_s); }
  [[nodiscard]] std::string describe() const override {
    return "tcp server on " + host_ + ":" + std::to_string(port_);
  }

 private:
  std::string host_;
  std::uint16_t port_;
  int listener_ = -1;
};

}  // namespace

std::unique_ptr<Transport> make_pty_transport(std::string link) {
  return std::make_unique<PtyTransport>(std::move(link));
}
std::unique_ptr<Transport> make_tcp_client_transport(std::string host, std::uint16_t port) {
  return std::make_unique<TcpClientTransport>(std::move(host), port);
}
std::unique_ptr<Transport> make_tcp_server_transport(std::string host, std::uint16_t port) {
  return std::make_unique<TcpServerTransport>(std::move(host), port);
}

}  // namespace spasmwatch::sim
