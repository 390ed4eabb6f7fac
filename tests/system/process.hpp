// Child processes for system tests: spawn a binary with arguments, output to files, signal it,
// wait with a deadline (never unbounded).
#pragma once

#include <sys/types.h>

#include <chrono>
#include <optional>
#include <string>
#include <vector>

namespace spasmwatch::testing {

class Process {
 public:
  // Starts `argv[0]` with stdout and stderr sent to `log_prefix`.out / .err.
  Process(std::vector<std::string> argv, std::string log_prefix);
  ~Process();  // kills (SIGKILL) a child still running
  Process(const Process&) = delete;
  Process& operator=(const Process&) = delete;

  void signal(int signo) const;
  // Exit status (0-255, or 128+signal) once exited within `timeout`, else nothing.
  std::optional<int> wait(std::chrono::milliseconds timeout);
  [[nodiscard]] bool running();
  [[nodiscard]] std::string out() const;
  [[nodiscard]] std::string err() const;

 private:
  pid_t pid_ = -1;
  std::optional<int> status_;
  std::string log_prefix_;
};

// Runs to completion (bounded by `timeout`); returns exit status, or -1 on timeout (killed).
int run(std::vector<std::string> argv, const std::string& log_prefix, std::chrono::milliseconds timeout,
        std::string* out = nullptr, std::string* err = nullptr);

[[nodiscard]] std::string read_file(const std::string& path);
// A TCP port on 127.0.0.1 that was free a moment ago.
[[nodiscard]] int free_port();
// Waits (bounded) until `path` exists.
bool wait_for_path(const std::string& path, std::chrono::milliseconds timeout);

}  // namespace spasmwatch::testing
