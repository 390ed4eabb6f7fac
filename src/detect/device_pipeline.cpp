#include "detect/device_pipeline.hpp"

#include <algorithm>
#include <cmath>
#include <cstdio>

#include "common/body_site.hpp"
#include "dsp/acc_processor.hpp"
#include "dsp/emg_envelope.hpp"
#include "dsp/filter_design.hpp"
#include "dsp/mains_detector.hpp"

namespace spasmwatch::detect {

namespace {

constexpr double kMainsDecisionS = 2.0;  // raw EMG examined before the notch is chosen
constexpr double kMaxHoldS = 30.0;       // EMG ticks wait at most this long for the accelerometer
constexpr double kMovementWindowS = 0.05;

double unit_to_uv(const std::string& unit) {
  if (unit == "mV") return 1e3;
  if (unit == "V") return 1e6;
  return 1.0;  // "uV", "µV" or unspecified
}

}  // namespace

struct DevicePipeline::EmgState {
  std::uint32_t stream_id = 0;
  int channels = 0;
  double rate_hz = 0;
  float scale_uv = 1;
  int tick_samples = 1;
  bool started = false;
  std::vector<std::int32_t> pending_raw;  // before the mains decision
  std::optional<dsp::EmgEnvelopeKernel> kernel;
  std::vector<float> tick_out;
  int start_phase = 0;     // time points of the first tick already past at the stream's start
  std::uint64_t tick = 0;  // index of the next tick the kernel completes
};

struct DevicePipeline::AccState {
  std::uint32_t stream_id = 0;
  double rate_hz = 0;
  float scale_g = 1;
  std::uint64_t next_index = 0;
  bool started = false;
  std::optional<dsp::AccProcessor> processor;  // one tick per sample
  std::vector<float> raw;
  std::vector<dsp::AccTick> ticks;
  // Recent per-sample movement and posture, oldest first; trimmed to what the detector can
  // still ask for. A power-of-two ring indexed by sequence number (read on every EMG tick, so
  // indexing is a mask, not a division).
  struct Sample {
    double t_s;
    float movement_g;
    float tremor_g2;
    float sway_g2;
    proto::Posture posture;
  };
  std::vector<Sample> ring = std::vector<Sample>(1024);
  std::uint64_t first = 0;       // sequence number of the oldest sample kept
  std::uint64_t end = 0;         // one past the newest
  std::uint64_t lo = 0, hi = 0;  // the window acc_at() found last: samples [lo, hi); EMG ticks
                                 // ask in increasing time, so it only moves forward
  [[nodiscard]] const Sample& at(std::uint64_t seq) const { return ring[seq & (ring.size() - 1)]; }
  void push(const Sample& sample) {
    if (end - first == ring.size()) {  // grows only while the EMG lags far behind
      std::vector<Sample> bigger(ring.size() * 2);
      for (std::uint64_t seq = first; seq < end; ++seq) bigger[seq & (bigger.size() - 1)] = at(seq);
      ring.swap(bigger);
    }
    ring[end & (ring.size() - 1)] = sample;
    ++end;
  }
  double covered_s = 0;  // device time up to which acceleration is known
};

DevicePipeline::DevicePipeline(std::string device_name, const DetectorConfig& config, Emit emit)
    : device_name_(std::move(device_name)), config_(config), emit_(std::move(emit)) {}

DevicePipeline::~DevicePipeline() = default;

void DevicePipeline::on_hello(const proto::Hello& hello, bool new_session) {
  if (new_session && detector_) finish();
  if (new_session || !have_hello_) {
    hello_ = hello;
    have_hello_ = true;
    emg_.reset();
    acc_.reset();
    detector_.reset();
    held_.clear();
    released_s_ = 0;
    for (const auto& info : hello.streams()) {
      if (info.channels_size() == 0 || !(info.rate_hz() > 0)) continue;
      const auto kind = info.channels(0).kind();
      if (kind == proto::EMG && !emg_) configure_emg(info);
      if (kind == proto::ACCEL_X && info.channels_size() == 3 && !acc_) configure_acc(info);
    }
  }
}

void DevicePipeline::configure_emg(const proto::StreamInfo& info) {
  emg_ = std::make_unique<EmgState>();
  auto& e = *emg_;
  e.stream_id = info.stream_id();
  e.channels = std::min(info.channels_size(), ActivationDetector::kMaxChannels);
  e.rate_hz = info.rate_hz();
  const auto& ch = info.channels(0);
  e.scale_uv = static_cast<float>((ch.scale() != 0 ? ch.scale() : 1.0) * unit_to_uv(ch.unit()));
  e.tick_samples = std::max(1, static_cast<int>(std::lround(e.rate_hz * config_.tick_s)));
  DetectorConfig dc = config_;
  dc.tick_s = e.tick_samples / e.rate_hz;
  detector_ = std::make_unique<ActivationDetector>(dc, hello_.site(),
                                                   info.channels_size() > 8 ? 8 : info.channels_size(),
                                                   [this](const proto::Event& ev) { emit(ev); });
  if (config_.mains_hz > 0) start_emg_filters(config_.mains_hz);
}

void DevicePipeline::start_emg_filters(double mains_hz) {
  auto& e = *emg_;
  mains_hz_ = mains_hz;
  const double low = is_trunk_site(hello_.site()) ? config_.trunk_band_low_hz : config_.band_low_hz;
  const auto band = dsp::adapt_band(low, config_.band_high_hz, e.rate_hz);
  std::vector<dsp::Sos> sections;
  std::size_t skipped_notches = 0;
  // The fundamental and the first harmonics carry nearly all mains energy; every further notch
  // costs ~10% of the kernel's speed (dsp_bench). A harmonic well below the band's lower edge is
  // already removed by the band-pass (e.g. 50 Hz under an 80 Hz trunk high-pass: -33 dB).
  if (mains_hz > 0) {
    for (const auto& notch :
         dsp::mains_notches(mains_hz, e.rate_hz, std::min(band.high_hz, mains_hz * config_.mains_harmonics),
                            config_.notch_quality)) {
      const double centre_hz = mains_hz * static_cast<double>(sections.size() + skipped_notches + 1);
      if (centre_hz < 0.8 * band.low_hz) {
        ++skipped_notches;
        continue;
      }
      sections.push_back(notch);
    }
  }
  const auto bp = dsp::butter_bandpass(config_.band_order, band.low_hz, band.high_hz, e.rate_hz);
  sections.insert(sections.end(), bp.begin(), bp.end());
  e.kernel.emplace(sections, e.channels, e.scale_uv, e.tick_samples);
  e.kernel->align_tick(e.start_phase);
}

void DevicePipeline::configure_acc(const proto::StreamInfo& info) {
  acc_ = std::make_unique<AccState>();
  auto& a = *acc_;
  a.stream_id = info.stream_id();
  a.rate_hz = info.rate_hz();
  const auto& ch = info.channels(0);
  double scale = ch.scale() != 0 ? ch.scale() : 1.0;
  if (ch.unit() == "mg") scale /= 1000;
  if (ch.unit() == "m/s2" || ch.unit() == "m/s^2") scale /= 9.80665;
  a.scale_g = static_cast<float>(scale);
  a.processor.emplace(a.rate_hz, 1);
}

void DevicePipeline::on_samples(const ingest::StreamView& stream, std::uint64_t first_index,
                                std::uint64_t device_time_us, std::span<const std::int32_t> interleaved) {
  if (emg_ && stream.stream_id == emg_->stream_id &&
      stream.channels == static_cast<std::uint32_t>(emg_->channels)) {
    auto& e = *emg_;
    if (!e.started) {
      e.started = true;
      // Device time of the session's time point 0, for mapping event times to host UTC.
      const double offset_us = static_cast<double>(first_index) * 1e6 / e.rate_hz;
      session_start_device_us_ =
          device_time_us > offset_us ? device_time_us - static_cast<std::uint64_t>(offset_us) : 0;
      e.tick = first_index / static_cast<std::uint64_t>(e.tick_samples);
      e.start_phase = static_cast<int>(first_index % static_cast<std::uint64_t>(e.tick_samples));
      if (e.kernel) e.kernel->align_tick(e.start_phase);
    }
    samples_processed_ += interleaved.size();
    if (!e.kernel) {
      // Mains frequency not chosen yet: keep raw samples until enough have been seen.
      e.pending_raw.insert(e.pending_raw.end(), interleaved.begin(), interleaved.end());
      const auto needed =
          static_cast<std::size_t>(kMainsDecisionS * e.rate_hz) * static_cast<std::size_t>(e.channels);
      if (e.pending_raw.size() < needed) return;
      decide_mains();
    } else {
      process_emg(interleaved);
    }
    release_ticks(false);
    return;
  }
  if (acc_ && stream.stream_id == acc_->stream_id && stream.channels == 3) {
    auto& a = *acc_;
    if (!a.started) {
      a.started = true;
      a.next_index = first_index;
    }
    const std::size_t n = interleaved.size() / 3;
    a.raw.resize(interleaved.size());
    for (std::size_t i = 0; i < interleaved.size(); ++i)
      a.raw[i] = static_cast<float>(interleaved[i]) * a.scale_g;
    a.ticks.clear();
    a.processor->process(a.raw, a.ticks);
    for (std::size_t i = 0; i < a.ticks.size(); ++i) {
      const auto& tick = a.ticks[i];
      const auto& g = tick.gravity_g;
      const float norm = std::sqrt(g[0] * g[0] + g[1] * g[1] + g[2] * g[2]);
      // Mounting convention (proto/PROTOCOL.md): the device's y axis runs along the body
      // segment towards the head. Trunk, neck, jaw and calf: upright or sitting when gravity
      // lies along y, lying when across it. A thigh is horizontal both when sitting and lying,
      // and a forearm says nothing of the body: there only "upright" is told apart.
      const float along = norm > 0.3f ? std::abs(g[1]) / norm : 0.0f;
      const auto site = hello_.site();
      const bool body_axis = site != proto::THIGH && site != proto::FOREARM;
      const proto::Posture posture = norm < 0.3f    ? proto::POSTURE_UNSPECIFIED
                                     : along > 0.7f ? proto::SITTING
                                     : body_axis    ? proto::LYING
                                                    : proto::POSTURE_UNSPECIFIED;
      const double t_s = static_cast<double>(first_index + i) / a.rate_hz;
      a.push({t_s, tick.movement_g, tick.tremor_g2, tick.sway_g2, posture});
    }
    a.next_index = first_index + n;
    a.covered_s = static_cast<double>(a.next_index) / a.rate_hz;
    release_ticks(false);
  }
}

void DevicePipeline::decide_mains() {
  auto& e = *emg_;
  if (config_.mains_hz > 0 || e.pending_raw.empty()) {
    start_emg_filters(config_.mains_hz > 0 ? config_.mains_hz : 0);
  } else {
    dsp::MainsDetector mains(e.rate_hz);
    std::vector<float> ch0(e.pending_raw.size() / static_cast<std::size_t>(e.channels));
    for (std::size_t i = 0; i < ch0.size(); ++i) {
      ch0[i] = static_cast<float>(e.pending_raw[i * static_cast<std::size_t>(e.channels)]) * e.scale_uv;
    }
    mains.process(ch0);
    start_emg_filters(mains.result());
  }
  std::vector<std::int32_t> raw;
  raw.swap(e.pending_raw);
  if (!raw.empty()) process_emg(raw);
}

void DevicePipeline::process_emg(std::span<const std::int32_t> interleaved) {
  auto& e = *emg_;
  const auto channels = static_cast<std::size_t>(e.channels);
  e.tick_out.clear();
  const std::size_t ticks = e.kernel->process(interleaved, e.tick_out);
  for (std::size_t k = 0; k < ticks; ++k) {
    HeldTick& t = held_.push_back();
    t.tick = e.tick++;
    std::copy_n(e.tick_out.data() + k * channels, channels, t.ms.data());
  }
}

detect::AccState DevicePipeline::acc_at(double device_s) {
  detect::AccState s;
  if (!acc_ || acc_->end == acc_->first) return s;
  auto& a = *acc_;
  // The window: samples with device_s - kMovementWindowS <= t <= device_s.
  a.hi = std::max(a.hi, a.first);
  while (a.hi < a.end && a.at(a.hi).t_s <= device_s) ++a.hi;
  while (a.hi > a.first && a.at(a.hi - 1).t_s > device_s) --a.hi;
  a.lo = std::clamp(a.lo, a.first, a.hi);
  while (a.lo < a.hi && a.at(a.lo).t_s < device_s - kMovementWindowS) ++a.lo;
  while (a.lo > a.first && a.at(a.lo - 1).t_s >= device_s - kMovementWindowS) --a.lo;
  double sum = 0;
  int n = 0;
  for (std::uint64_t seq = a.hi; seq-- > a.lo;) {  // newest first: posture from the newest
    const auto& sample = a.at(seq);
    sum += static_cast<double>(sample.movement_g) * sample.movement_g;
    ++n;
    if (!s.valid) {
      s.posture = sample.posture;
      s.tremor = sample.tremor_g2;  // the newest sample's (the detector averages over events)
      s.sway = sample.sway_g2;
    }
    s.valid = true;
  }
  if (n > 0) s.movement_g = static_cast<float>(std::sqrt(sum / n));
  return s;
}

void DevicePipeline::release_ticks(bool all) {
  if (!emg_ || !detector_) return;
  if (held_.empty()) return;
  const double tick_s = emg_->tick_samples / emg_->rate_hz;
  const std::uint64_t newest = held_.back().tick;
  while (!held_.empty()) {
    const HeldTick& t = held_.front();
    const double end_s = static_cast<double>(t.tick + 1) * tick_s;
    const bool acc_ready = !acc_ || (acc_->started && acc_->covered_s > end_s);
    const bool too_old = static_cast<double>(newest - t.tick) * tick_s > kMaxHoldS;
    if (!all && !acc_ready && !too_old) break;
    detector_->on_tick(t.tick, std::span<const float>(t.ms.data(), static_cast<std::size_t>(emg_->channels)),
                       acc_at(end_s));
    held_.pop_front();
    released_s_ = end_s;
  }
  // Acceleration older than what the detector can still ask for is dropped.
  if (acc_) {
    while (acc_->first < acc_->end && acc_->at(acc_->first).t_s < released_s_ - 1.0) ++acc_->first;
  }
}

void DevicePipeline::on_gap(const ingest::StreamView& stream, std::uint64_t first_index,
                            std::uint64_t time_points) {
  if (!emg_ || stream.stream_id != emg_->stream_id || !emg_->started) return;
  if (!emg_->kernel) decide_mains();
  auto& e = *emg_;
  release_ticks(true);
  if (static_cast<double>(time_points) / e.rate_hz >= config_.off_hold_s) {
    detector_->on_gap();
  } else {
    detector_->on_short_gap();
  }
  const std::uint64_t resume = first_index + time_points;
  e.tick = resume / static_cast<std::uint64_t>(e.tick_samples);
  e.kernel->align_tick(static_cast<int>(resume % static_cast<std::uint64_t>(e.tick_samples)));
}

void DevicePipeline::finish() {
  if (emg_ && emg_->started && !emg_->kernel) decide_mains();
  release_ticks(true);
  if (detector_) detector_->finish();
}

void DevicePipeline::emit(const proto::Event& event) {
  out_ = event;
  out_.set_device(device_name_);
  out_.set_device_id(hello_.device_id());
  out_.set_side(hello_.side());
  out_.set_session_id(hello_.session_id());
  const double rate = emg_ ? emg_->rate_hz : 1.0;
  const auto start_index = static_cast<std::uint64_t>(std::llround(event.device_start_s() * rate));
  out_.set_start_sample_index(start_index);
  if (event.device_end_s() > 0)
    out_.set_end_sample_index(static_cast<std::uint64_t>(std::llround(event.device_end_s() * rate)));
  char key[160];
  std::snprintf(key, sizeof key, "%s/%016llx/%llu", hello_.device_id().c_str(),
                static_cast<unsigned long long>(hello_.session_id()),
                static_cast<unsigned long long>(start_index));
  out_.set_id(hashed_uuid(key));
  if (clock_ != nullptr && clock_->has_estimate()) {
    // Device time of the session's sample 0 is the Start moment; sample times follow the rate.
    const auto start_us =
        static_cast<std::uint64_t>(std::llround(event.device_start_s() * 1e6)) + session_start_device_us_;
    out_.set_start_utc_ns(clock_->to_host_ns(start_us));
    if (event.device_end_s() > 0) {
      const auto end_us =
          static_cast<std::uint64_t>(std::llround(event.device_end_s() * 1e6)) + session_start_device_us_;
      out_.set_end_utc_ns(clock_->to_host_ns(end_us));
    }
  }
  emit_(out_);
}

std::string hashed_uuid(std::string_view key) {
  // Two independent 64-bit FNV-1a/splitmix hashes of the key.
  auto mix = [](std::uint64_t z) {
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
    return z ^ (z >> 31);
  };
  std::uint64_t h1 = 0xCBF29CE484222325ull, h2 = 0x84222325CBF29CE4ull;
  for (const char c : key) {
    h1 = (h1 ^ static_cast<unsigned char>(c)) * 0x100000001B3ull;
    h2 = (h2 ^ static_cast<unsigned char>(c)) * 0x1000193ull + 0x9E3779B97F4A7C15ull;
  }
  h1 = mix(h1);
  h2 = mix(h2 ^ h1);
  h1 = (h1 & 0xFFFFFFFFFFFF0FFFull) | 0x0000000000008000ull;  // version 8
  h2 = (h2 & 0x3FFFFFFFFFFFFFFFull) | 0x8000000000000000ull;  // RFC 9562 variant
  char buf[40];
  std::snprintf(
      buf, sizeof buf, "%08llx-%04llx-%04llx-%04llx-%012llx", static_cast<unsigned long long>(h1 >> 32),
      static_cast<unsigned long long>((h1 >> 16) & 0xFFFF), static_cast<unsigned long long>(h1 & 0xFFFF),
      static_cast<unsigned long long>(h2 >> 48), static_cast<unsigned long long>(h2 & 0xFFFFFFFFFFFFull));
  return buf;
}

}  // namespace spasmwatch::detect
