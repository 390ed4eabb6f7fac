// Daemon internals shared by daemon.cpp (links, lifecycle) and daemon_outputs.cpp (store, API):
// the per-device state. Private to the daemon.
#pragma once

#include <spdlog/spdlog.h>

#include <memory>
#include <span>
#include <string>
#include <vector>

#include "app/daemon.hpp"
#include "detect/device_pipeline.hpp"
#include "ingest/stream_assembler.hpp"
#include "protocol/message_codec.hpp"
#include "record/recording_writer.hpp"

namespace spasmwatch::app {

// Hands samples on to the pipeline and notes every gap for the store (gaps table).
class GapNotingSink final : public ingest::SampleSink {
 public:
  explicit GapNotingSink(ingest::SampleSink& next) : next_(next) {}
  void on_hello(const proto::Hello& hello, bool new_session) override {
    session_id_ = hello.session_id();
    next_.on_hello(hello, new_session);
  }
  void on_samples(const ingest::StreamView& stream, std::uint64_t first_index, std::uint64_t device_time_us,
                  std::span<const std::int32_t> interleaved) override {
    next_.on_samples(stream, first_index, device_time_us, interleaved);
  }
  void on_gap(const ingest::StreamView& stream, std::uint64_t first_index,
              std::uint64_t time_points) override {
    next_.on_gap(stream, first_index, time_points);
    if (gaps.size() < kMaxPendingGaps)
      gaps.push_back({session_id_, stream.stream_id, first_index, time_points, host_time_ns});
  }

  struct Gap {
    std::uint64_t session_id;
    std::uint32_t stream_id;
    std::uint64_t first_index;
    std::uint64_t time_points;
    std::int64_t utc_ns;  // host time of the event that revealed it
  };
  std::int64_t host_time_ns = 0;  // of the FrameEvent being assembled (set by DeviceState)
  // Gaps since the last store flush. A link losing more than this per 250 ms is counted in the
  // signal-quality minutes only (their totals stay exact).
  static constexpr std::size_t kMaxPendingGaps = 1000;
  std::vector<Gap> gaps;

 private:
  ingest::SampleSink& next_;
  std::uint64_t session_id_ = 0;
};

struct Daemon::DeviceState {
  DeviceState(const std::string& device_name, Daemon& daemon)
      : name(device_name),
        pipeline(device_name, daemon.config_.detector,
                 [this, &daemon](const proto::Event& e) { daemon.on_detected(*this, e); }),
        gap_sink(pipeline),
        assembler(device_name, &gap_sink) {
    pipeline.set_clock(&assembler.clock());
  }

  void on_event(const protocol::FrameEvent& event) {
    if (recorder) {
      try {
        recorder->append(event);
      } catch (const record::RecordingError& e) {
        spdlog::error("{}: recording stopped: {}", name, e.what());
        recorder.reset();
      }
    }
    gap_sink.host_time_ns = event.host_time_ns;
    assembler.on_event(event);
  }

  std::string name;
  detect::DevicePipeline pipeline;
  GapNotingSink gap_sink;
  ingest::DeviceAssembler assembler;
  std::unique_ptr<record::RecordingWriter> recorder;
  std::string recording_path;
  std::uint64_t final_events = 0;
  // From the last Hello: what the store keys gaps and quality by.
  std::string device_id;
  bool retired = false;  // removed by a reload
  // Signal quality of the current minute: totals at its start, and which minute it is.
  std::int64_t quality_minute_ns = 0;
  std::uint64_t lost_at_minute_start = 0;
  std::uint64_t bad_frames_at_minute_start = 0;

  [[nodiscard]] proto::DeviceStats stats() const {
    auto s = assembler.stats();
    s.set_events(final_events);
    s.set_mains_hz(pipeline.mains_hz());
    return s;
  }
  [[nodiscard]] static std::uint64_t lost_samples(const proto::DeviceStats& stats) {
    std::uint64_t lost = 0;
    for (const auto& [stream, st] : stats.streams()) lost += st.lost_samples();
    return lost;
  }
};

}  // namespace spasmwatch::app
