// The simulator's link to the host: a pseudo-terminal (as a USB-serial or Bluetooth SPP device
// appears), a TCP client (dialling a listening daemon, as a BLE gateway would) or a TCP server
// (the daemon dials in). Thin POSIX shell; blocking writes with a timeout, non-blocking reads.
#pragma once

#include <atomic>
#include <cstdint>
#include <memory>
#include <span>
#include <string>
#include <vector>

namespace spasmwatch::sim {

class Transport {
 public:
  virtual ~Transport() = default;
  // Establishes (or re-establishes) the link; false if it could not within `timeout_s` or when
  // `stop` became true.
  virtual bool open(double timeout_s, const std::atomic<bool>& stop) = 0;
  virtual void close() = 0;
  // Waits until everything written has been taken by the peer (pty) or is in the kernel (TCP),
  // at most `timeout_s`.
  virtual void drain(double timeout_s) = 0;
  // Writes all bytes; false if the link failed (then it is closed).
  virtual bool write_all(std::span<const std::uint8_t> bytes) = 0;
  // Reads what is available within `timeout_ms` (0: do not wait). Returns false if the link failed.
  virtual bool read_some(std::vector<std::uint8_t>& out, int timeout_ms) = 0;
  [[nodiscard]] virtual std::string describe() const = 0;
};

// `link` becomes a symlink to the pty's device path (replaced on every open).
[[nodiscard]] std::unique_ptr<Transport> make_pty_transport(std::string link);
[[nodiscard]] std::unique_ptr<Transport> make_tcp_client_transport(std::string host, std::uint16_t port);
[[nodiscard]] std::unique_ptr<Transport> make_tcp_server_transport(std::string host, std::uint16_t port);

}  // namespace spasmwatch::sim
