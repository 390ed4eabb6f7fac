// Per-device detection pipeline: the SampleSink the stream assembler feeds. For the EMG stream:
// counts -> µV -> mains notches -> band-pass -> mean square per tick; for the accelerometer:
// gravity removal and movement per tick; then the ActivationDetector, with EMG ticks held until
// the accelerometer has covered the same device time (so results do not depend on how the two
// streams' blocks interleave on the link, or how either is cut into blocks).
//
// Events get a deterministic id (a UUID built from a hash of device id, session id and onset
// sample index), so replaying a recording into a store upserts the same rows, and device times
// mapped to host UTC through the device's ClockEstimator.
//
// Thread rules: one pipeline per device, called from the thread that feeds its assembler.
#pragma once

#include <array>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "detect/activation_detector.hpp"
#include "detect/detector_config.hpp"
#include "events.pb.h"
#include "ingest/clock_estimator.hpp"
#include "ingest/stream_assembler.hpp"

namespace spasmwatch::detect {

class DevicePipeline final : public ingest::SampleSink {
 public:
  using Emit = std::function<void(const proto::Event&)>;

  DevicePipeline(std::string device_name, const DetectorConfig& config, Emit emit);
  ~DevicePipeline() override;

  // The clock used to stamp events with host UTC (optional; without it UTC fields stay 0).
  void set_clock(const ingest::ClockEstimator* clock) { clock_ = clock; }

  void on_hello(const proto::Hello& hello, bool new_session) override;
  void on_samples(const ingest::StreamView& stream, std::uint64_t first_index, std::uint64_t device_time_us,
                  std::span<const std::int32_t> interleaved) override;
  void on_gap(const ingest::StreamView& stream, std::uint64_t first_index,
              std::uint64_t time_points) override;

  // End of data: process held ticks and finalise an open event.
  void finish();

  [[nodiscard]] double mains_hz() const { return mains_hz_; }
  // The evidence of the activation judged last (ActivationDetector::evidence); zeros before any.
  [[nodiscard]] const EvidenceVector& evidence() const {
    static constexpr EvidenceVector kNone{};
    return detector_ ? detector_->evidence() : kNone;
  }
  [[nodiscard]] std::uint64_t samples_processed() const { return samples_processed_; }

 private:
  struct EmgState;
  struct AccState;
  struct HeldTick {
    std::uint64_t tick = 0;
    std::array<float, ActivationDetector::kMaxChannels> ms{};
  };
  // FIFO of EMG ticks waiting for the accelerometer: a power-of-two ring indexed by sequence
  // number (touched on every tick, so a mask, not a division). Grows only while the accelerometer
  // lags far behind.
  struct HeldTicks {
    std::vector<HeldTick> ring = std::vector<HeldTick>(512);
    std::uint64_t first = 0;
    std::uint64_t end = 0;
    [[nodiscard]] bool empty() const { return first == end; }
    void clear() { first = end = 0; }
    [[nodiscard]] const HeldTick& front() const { return ring[first & (ring.size() - 1)]; }
    [[nodiscard]] const HeldTick& back() const { return ring[(end - 1) & (ring.size() - 1)]; }
    void pop_front() { ++first; }
    HeldTick& push_back() {
      if (end - first == ring.size()) {
        std::vector<HeldTick> bigger(ring.size() * 2);
        for (std::uint64_t seq = first; seq < end; ++seq)
          bigger[seq & (bigger.size() - 1)] = ring[seq & (ring.size() - 1)];
        ring.swap(bigger);
      }
      return ring[end++ & (ring.size() - 1)];
    }
  };

  void configure_emg(const proto::StreamInfo& info);
  void configure_acc(const proto::StreamInfo& info);
  void start_emg_filters(double mains_hz);
  void decide_mains();
  void process_emg(std::span<const std::int32_t> interleaved);
  void release_ticks(bool all);
  [[nodiscard]] detect::AccState acc_at(double device_s);
  void emit(const proto::Event& event);

  std::string device_name_;
  DetectorConfig config_;
  Emit emit_;
  const ingest::ClockEstimator* clock_ = nullptr;
  proto::Hello hello_;
  bool have_hello_ = false;
  std::unique_ptr<EmgState> emg_;
  std::unique_ptr<AccState> acc_;
  std::unique_ptr<ActivationDetector> detector_;
  HeldTicks held_;
  double mains_hz_ = 0;
  double released_s_ = 0;  // device time up to which EMG ticks went to the detector
  std::uint64_t samples_processed_ = 0;
  std::uint64_t session_start_device_us_ = 0;
  proto::Event out_;
};

// A UUID (version 8, RFC 9562 "custom") derived from a hash of `key`: the same key gives the
// same id on every machine.
[[nodiscard]] std::string hashed_uuid(std::string_view key);

}  // namespace spasmwatch::detect
