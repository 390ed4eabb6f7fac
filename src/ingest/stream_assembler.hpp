// Stream assembler: per device, turns the FrameEvents of one byte source (a live link or a
// recording) into contiguous per-stream sample blocks, with exact accounting of what was lost.
// Pure: no I/O, no clock of its own (times come inside the events), so live ingest and replay run
// this same code on the same events and get the same results.
//
// Accounting rules (proto/PROTOCOL.md has the protocol side):
//  - Sample indices count time points from 0 at the start of a device session. The first index
//    expected on a stream comes from the Hello (next_sample_index) or, failing that, the first
//    block seen. A block starting later than expected is a gap of the missing time points; one
//    starting earlier overlaps (the overlap is dropped and counted as duplicate).
//  - Sequence numbers count blocks per stream; jumps count this stream's lost blocks.
//  - EndOfSession carries the device's totals, so a lost tail is counted too; it is idempotent
//    (devices send it several times).
//  - A Hello with a new session id starts a new session: expectations and the clock fit reset,
//    statistics keep accumulating per stream name.
//
// Thread rules: one assembler per device, used from one thread.
#pragma once

#include <array>
#include <cstdint>
#include <span>
#include <string>
#include <vector>

#include "device.pb.h"
#include "ingest/clock_estimator.hpp"
#include "protocol/message_codec.hpp"
#include "stats.pb.h"

namespace spasmwatch::ingest {

// What is known of a stream when its samples are handed on.
struct StreamView {
  std::uint32_t stream_id = 0;
  const std::string* name = nullptr;
  std::uint32_t channels = 0;
  double rate_hz = 0;  // 0 until a Hello described the stream
};

// Receives accepted samples block by block: the hook where the DSP chain attaches.
// Called once per block (never per sample).
class SampleSink {
 public:
  virtual ~SampleSink() = default;
  // A Hello arrived (before any samples it describes); `new_session` when its session id is new.
  virtual void on_hello(const proto::Hello& hello, bool new_session) = 0;
  // `interleaved` holds time_points x channels values starting at time point `first_index`;
  // `device_time_us` is the device time of that first time point.
  virtual void on_samples(const StreamView& stream, std::uint64_t first_index,
                          std::uint64_t device_time_us, std::span<const std::int32_t> interleaved) = 0;
  // `time_points` time points starting at `first_index` were lost.
  virtual void on_gap(const StreamView& stream, std::uint64_t first_index,
                      std::uint64_t time_points) = 0;
};

class DeviceAssembler {
 public:
  explicit DeviceAssembler(std::string name, SampleSink* sink = nullptr);

  void on_event(const protocol::FrameEvent& event);

  // Statistics so far (clock fit included).
  [[nodiscard]] proto::DeviceStats stats() const;
  [[nodiscard]] const ClockEstimator& clock() const { return clock_; }
  [[nodiscard]] const std::string& name() const { return name_; }
  [[nodiscard]] const proto::Hello& hello() const { return hello_; }
  [[nodiscard]] bool has_hello() const { return has_hello_; }

 private:
  struct Stream {
    std::uint32_t stream_id = 0;
    std::string name;
    bool named_by_hello = false;
    std::uint32_t channels = 0;
    double rate_hz = 0;
    bool index_known = false;
    std::uint64_t next_index = 0;
    bool sequence_known = false;
    std::uint32_t next_sequence = 0;
    bool counted_any = false;
    std::uint64_t first_index_counted = 0;
    proto::StreamStats counts;  // name/id/channels/rate filled in stats()
  };

  void on_message(const proto::DeviceMessage& message, std::int64_t host_time_ns);
  void on_hello(const proto::Hello& hello);
  void on_samples(const proto::SampleBlock& block, std::int64_t host_time_ns);
  void on_end_of_session(const proto::EndOfSession& end);
  void on_pong(const proto::TimeSyncPong& pong, std::int64_t host_time_ns);
  Stream& stream(std::uint32_t stream_id);
  Stream* find_stream(std::uint32_t stream_id);
  void count_gap(Stream& s, std::uint64_t first_index, std::uint64_t time_points);
  StreamView view(const Stream& s) const;

  std::string name_;
  SampleSink* sink_;
  std::vector<Stream> streams_;  // few per device; linear search beats a map
  ClockEstimator clock_;
  proto::Hello hello_;
  bool has_hello_ = false;
  bool has_session_ = false;
  std::uint64_t session_id_ = 0;
  proto::DeviceStats counts_;  // device-level counters only

  struct PendingPing {
    std::uint32_t ping_id = 0;
    std::int64_t host_send_ns = 0;
    bool used = true;
  };
  std::array<PendingPing, 16> pings_{};
  std::size_t next_ping_slot_ = 0;
};

}  // namespace spasmwatch::ingest
