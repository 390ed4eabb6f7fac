// The simulated wearable's firmware logic: a pure state machine (no I/O, no clock of its own).
// The sim loop tells it the true time and the link state; it answers with encoded frames.
//
// States: idle (send Hello every second, wait for Start) -> streaming (sample blocks as the
// device clock reaches each block's end, Hello every 10 s, Status every 10 s, Pong for each
// Ping) -> finished (after `duration_s` of streaming, or a Stop: EndOfSession sent three times,
// since a single one could be damaged on the way).
// The device clock runs at (1 + drift_ppm * 1e-6) times true time; sample timestamps and rates
// are in device time, as on real hardware. Samples produced while the link is down are counted
// but not sent (no flash buffer on this device).
#pragma once

#include <cstdint>
#include <functional>
#include <span>
#include <string>
#include <vector>

#include "device.pb.h"
#include "protocol/frame_decoder.hpp"
#include "signal_model.hpp"
#include "stats.pb.h"

namespace spasmwatch::sim {

struct DeviceSettings {
  std::string device_id = "sim-0001";
  std::string firmware = "wearable-sim " SPASMWATCH_VERSION;
  std::uint64_t session_id = 1;
  double drift_ppm = 0;
  double emg_block_s = 0.02;
  double acc_block_s = 0.1;
};

// One frame to write: complete encoded bytes (with delimiter), and what it carries.
struct OutgoingFrame {
  std::vector<std::uint8_t> bytes;
  int stream = -1;            // stream id for sample blocks, -1 otherwise
  std::uint64_t values = 0;   // sample values carried
};

class SimDevice {
 public:
  SimDevice(SignalModel& model, DeviceSettings settings);

  // The link came up: a Hello goes out first.
  void on_connected(double true_time_s, std::vector<OutgoingFrame>& out);
  // Bytes from the host (commands); complete frames are acted on.
  void on_host_bytes(std::span<const std::uint8_t> bytes, double true_time_s,
                     std::vector<OutgoingFrame>& out);
  // Produces everything due up to `true_time_s`. When `connected` is false, blocks are still
  // produced (the device keeps sampling) but counted as unsent and not returned.
  void advance(double true_time_s, bool connected, std::vector<OutgoingFrame>& out);

  [[nodiscard]] bool streaming() const { return state_ == State::streaming; }
  [[nodiscard]] bool finished() const { return state_ == State::finished; }
  // True time at which the next frame becomes due (for pacing).
  [[nodiscard]] double next_due_s() const;
  // Streaming seconds so far (true time).
  [[nodiscard]] double streaming_time_s(double true_time_s) const;

  // Per-stream counters; the sim adds damage counts.
  [[nodiscard]] proto::SimSummary& summary() { return summary_; }

 private:
  enum class State : std::uint8_t { idle, streaming, finished };
  struct Stream {
    std::uint32_t id = 0;
    std::string name;
    double rate_hz = 0;
    std::uint32_t channels = 0;
    std::uint32_t block_points = 0;
    std::uint64_t total_points = 0;
    std::uint64_t next_index = 0;
    std::uint32_t next_sequence = 0;
    std::vector<std::int32_t> buffer;
  };

  [[nodiscard]] std::uint64_t device_time_us(double true_time_s) const;
  void emit_hello(double true_time_s, std::vector<OutgoingFrame>& out);
  void emit_status(double true_time_s, std::vector<OutgoingFrame>& out);
  void emit_end(double true_time_s, std::vector<OutgoingFrame>& out);
  void emit(const proto::DeviceMessage& message, int stream, std::uint64_t values,
            std::vector<OutgoingFrame>& out);
  [[nodiscard]] double block_end_true_s(const Stream& s) const;

  SignalModel& model_;
  DeviceSettings settings_;
  State state_ = State::idle;
  std::vector<Stream> streams_;
  double start_true_s_ = 0;
  std::uint64_t start_device_us_ = 0;
  double next_hello_s_ = 0;
  double next_status_s_ = 0;
  protocol::FrameDecoder host_decoder_{1024};
  proto::DeviceMessage message_;
  proto::SimSummary summary_;
};

// Runs a whole session in process, as fast as possible, with an ideal link: connects, sends the
// host's Start, then advances true time by `step_s` until the device has finished. `deliver`
// receives the frames due at each step (true time in seconds) and may consume them.
void run_in_process(SimDevice& device, double step_s,
                    const std::function<void(std::vector<OutgoingFrame>& frames, double true_time_s)>& deliver);

}  // namespace spasmwatch::sim
