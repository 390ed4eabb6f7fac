#include "emg_generator.hpp"

#include <algorithm>
#include <cmath>
#include <numbers>

namespace spasmwatch::sim::detail {
namespace {

constexpr double kTwoPi = 2 * std::numbers::pi;
constexpr double kEcgBeforeRS = 0.12;  // template span around the R peak
constexpr double kEcgAfterRS = 0.45;
constexpr double kMinRrS = 0.68;  // > template span, so beats never overlap
constexpr double kMaxRrS = 1.3;

// R-peak amplitude range (µV) of ECG bleeding into surface EMG, by site.
std::array<double, 2> ecg_range_uv(proto::BodySite site) {
  switch (site) {
    case proto::NECK:
      return {30, 60};
    case proto::SHOULDER:
      return {40, 90};
    case proto::UPPER_BACK:
      return {70, 150};
    case proto::LOWER_BACK:
      return {30, 70};
    default:
      return {0, 0};
  }
}

// A QRS complex with a small T wave (P is lost in the amplifier's high-pass), R = 1.
double ecg_shape(double t) {
  auto g = [t](double centre, double sigma) {
    const double x = (t - centre) / sigma;
    return std::exp(-0.5 * x * x);
  };
  return -0.12 * g(-0.022, 0.006) + g(0, 0.0075) - 0.3 * g(0.024, 0.008) + 0.12 * g(0.26, 0.045);
}

inline std::int32_t to_counts(float uv) {
  const float c = std::clamp(uv * static_cast<float>(1 / SignalModel::kEmgScaleUv), -32768.0f, 32767.0f);
  return static_cast<std::int32_t>(c + (c < 0 ? -0.5f : 0.5f));
}

}  // namespace

EmgGenerator::EmgGenerator(const SignalConfig& config, const Schedule& schedule, const ScenarioSpec& spec)
    : schedule_(schedule),
      channels_(config.emg_channels),
      rate_hz_(config.emg_rate_hz),
      ecg_on_(is_trunk(config.site)),
      mains_on_(config.mains_hz > 0),
      noise_(derive_seed(config.seed, SeedStream::emg_noise)),
      noise_block_(kBlock * (2 * static_cast<std::size_t>(channels_) + 1)),
      planner_(schedule.segments, config.site, config.side, spec.artifact_scale),
      ecg_rng_(derive_seed(config.seed, SeedStream::ecg)),
      artifact_rng_(derive_seed(config.seed, SeedStream::artifact)) {
  Rng rng(derive_seed(config.seed, SeedStream::emg_session));
  const double fs = rate_hz_;
  const int settle = static_cast<int>(4 * fs);

  // Amplifier and electrode noise: 10 Hz to 450 Hz (kept below Nyquist at 500 Hz).
  const std::array floor_filters{design_biquad(FilterKind::highpass, 10, 0.707, fs),
                                 design_biquad(FilterKind::lowpass, std::min(450.0, 0.45 * fs), 0.707, fs)};
  floor_hp_ = floor_filters[0].as<float>();
  floor_lp_ = floor_filters[1].as<float>();
  const double floor_energy = impulse_stats(floor_filters, settle).energy;

  // Surface-EMG spectrum: corners vary a little between people and muscles.
  const std::array muscle_filters{design_biquad(FilterKind::highpass, rng.uniform(40, 60), 0.707, fs),
                                  design_biquad(FilterKind::lowpass, rng.uniform(110, 160), 0.707, fs)};
  muscle_hp_ = muscle_filters[0].as<float>();
  muscle_lp_ = muscle_filters[1].as<float>();
  const double muscle_norm = 1 / std::sqrt(impulse_stats(muscle_filters, settle).energy);
  const double correlation = rng.uniform(0.5, 0.8);  // between channels of the site
  common_weight_ = static_cast<float>(std::sqrt(correlation) * muscle_norm);
  own_weight_ = static_cast<float>(std::sqrt(1 - correlation) * muscle_norm);

  for (int c = 0; c < kMaxChannels; ++c) {
    const bool first = c == 0;
    floor_scale_[c] = static_cast<float>(rng.uniform(2.0, 4.0) / std::sqrt(floor_energy));
    muscle_gain_[c] = static_cast<float>(first ? 1.0 : rng.uniform(0.4, 1.1));
    ecg_gain_[c] = static_cast<float>(first ? 1.0 : rng.uniform(0.4, 1.2) * (rng.chance(0.25) ? -1 : 1));
    mains_gain_[c] = static_cast<float>(rng.uniform(0.6, 1.4));
    artifact_gain_[c] = static_cast<float>(rng.uniform(0.6, 1.4) * (rng.chance(0.5) ? -1 : 1));
  }

  // Resting tone and artefact level follow the segments with a short lag.
  tonic_alpha_ = 1 - std::exp(-1 / (0.3 * fs));
  artifact_alpha_ = 1 - std::exp(-1 / (0.2 * fs));
  tonic_uv_ = schedule.segments.front().tonic_uv;
  artifact_level_uv_ = schedule.segments.front().artifact_uv;
  active_.reserve(64);

  // ECG.
  const auto range = ecg_range_uv(config.site);
  const double side_factor = config.side == proto::LEFT ? 1.2 : config.side == proto::RIGHT ? 0.8 : 1.0;
  ecg_amplitude_uv_ = ecg_on_ ? std::clamp(rng.uniform(range[0], range[1]) * side_factor, 20.0, 150.0) : 0;
  ecg_pre_ = static_cast<std::size_t>(std::lround(kEcgBeforeRS * fs));
  const auto length = ecg_pre_ + static_cast<std::size_t>(std::lround(kEcgAfterRS * fs));
  ecg_template_.resize(length);
  for (std::size_t k = 0; k < length; ++k) {
    ecg_template_[k] =
        static_cast<float>(ecg_shape((static_cast<double>(k) - static_cast<double>(ecg_pre_)) / fs));
  }
  beat_pos_ = length;
  heart_rate_bpm_ = schedule.segments.front().heart_rate_bpm;
  next_r_s_ = rng.uniform(kEcgBeforeRS + 0.05, 1.0);
  resp_hz_ = rng.uniform(0.2, 0.3);
  resp_phase_ = rng.uniform(0, kTwoPi);

  // Mains: a few µV at the fundamental, 2nd and 3rd harmonics below 0.45 fs.
  if (mains_on_) {
    mains_z_ = std::polar(1.0, rng.uniform(0, kTwoPi));
    mains_rot_ = std::polar(1.0, kTwoPi * config.mains_hz / fs);
    mod_z_ = std::polar(1.0, rng.uniform(0, kTwoPi));
    mod_rot_ = std::polar(1.0, kTwoPi * rng.uniform(0.02, 0.1) / fs);
    const double fundamental_uv = rng.uniform(2, 5);
    const std::array<double, 3> relative{1, rng.uniform(0.05, 0.15), rng.uniform(0.2, 0.4)};
    for (std::size_t k = 0; k < 3; ++k) {
      const double phase = rng.uniform(0, kTwoPi);
      if (static_cast<double>(k + 1) * config.mains_hz < 0.45 * fs) {
        mains_coef_[k] = std::polar(fundamental_uv * relative[k], phase);
      }
    }
  }

  // Electrode motion: energy below ~5 Hz, slightly resonant.
  artifact_lp_ = design_biquad(FilterKind::lowpass, 5, 0.9, fs);
  const auto artifact_stats = impulse_stats(std::span(&artifact_lp_, 1), settle);
  artifact_norm_ = 1 / std::sqrt(artifact_stats.energy);
  kick_norm_ = 1 / artifact_stats.peak;
}

float EmgGenerator::next_ecg(double t) {
  if (beat_pos_ == ecg_template_.size() && t >= next_r_s_ - kEcgBeforeRS) {
    beat_pos_ = 0;
    const double resp = std::sin(kTwoPi * resp_hz_ * next_r_s_ + resp_phase_);
    beat_amplitude_uv_ = ecg_amplitude_uv_ * (1 + 0.08 * resp + 0.03 * ecg_rng_.gaussian());
    heart_rate_bpm_ += 0.15 * (schedule_.segments[segment_].heart_rate_bpm - heart_rate_bpm_);
    // Respiratory sinus arrhythmia plus beat-to-beat variability.
    const double rr = (60 / heart_rate_bpm_) * (1 - 0.04 * resp + 0.015 * ecg_rng_.gaussian());
    next_r_s_ += std::clamp(rr, kMinRrS, kMaxRrS);
  }
  if (beat_pos_ < ecg_template_.size()) {
    return static_cast<float>(beat_amplitude_uv_ * ecg_template_[beat_pos_++]);
  }
  return 0;
}

float EmgGenerator::next_mains(std::uint64_t n) {
  mains_z_ *= mains_rot_;
  mod_z_ *= mod_rot_;
  if ((n & 4095) == 0) {  // keep the phasors on the unit circle
    mains_z_ /= std::abs(mains_z_);
    mod_z_ /= std::abs(mod_z_);
  }
  const auto z2 = mains_z_ * mains_z_;
  const auto z3 = z2 * mains_z_;
  const double hum =
      (mains_coef_[0] * mains_z_).imag() + (mains_coef_[1] * z2).imag() + (mains_coef_[2] * z3).imag();
  return static_cast<float>((1 + 0.25 * mod_z_.imag()) * hum);
}

void EmgGenerator::compute_shared(std::size_t points) {
  const auto& segments = schedule_.segments;
  const auto& involuntary = schedule_.involuntary;
  for (std::size_t i = 0; i < points; ++i) {
    const std::uint64_t n = n_ + i;
    const double t = static_cast<double>(n) / rate_hz_;
    while (segment_ + 1 < segments.size() && t >= segments[segment_].end_s) ++segment_;
    const Segment& segment = segments[segment_];
    tonic_uv_ += tonic_alpha_ * (segment.tonic_uv - tonic_uv_);
    artifact_level_uv_ += artifact_alpha_ * (segment.artifact_uv - artifact_level_uv_);

    double kick = 0;
    auto add_kick = [&](double uv) {
      if (uv > 0) kick += (artifact_rng_.next() & 1) != 0 ? uv : -uv;
    };
    while (next_involuntary_ < involuntary.size() && involuntary[next_involuntary_].start_s <= t) {
      active_.push_back(involuntary[next_involuntary_]);
      add_kick(involuntary[next_involuntary_].artifact_uv);
      ++next_involuntary_;
    }
    while (planner_.peek().start_s <= t) {
      const auto& action = planner_.peek();
      if (action.emg.amplitude_uv > 0) active_.push_back(action.emg);
      add_kick(action.artifact_uv);
      planner_.pop();
    }
    double envelope = tonic_uv_;
    for (std::size_t k = 0; k < active_.size();) {
      if (t >= active_[k].end_s) {
        active_[k] = active_.back();
        active_.pop_back();
      } else {
        envelope += burst_envelope(active_[k], t);
        ++k;
      }
    }
    envelope_[i] = static_cast<float>(envelope);

    const double motion = artifact_level_uv_ * artifact_norm_ * artifact_rng_.noise_gaussian();
    artifact_[i] = static_cast<float>(artifact_s_.step(artifact_lp_, motion + kick * kick_norm_));
    ecg_[i] = ecg_on_ ? next_ecg(t) : 0.0f;
    mains_[i] = mains_on_ ? next_mains(n) : 0.0f;
  }
}

template <int C>
void EmgGenerator::render(std::int32_t* out, std::size_t points) {
  // Per time point: 1 common muscle source, then C floor inputs, then C own muscle inputs.
  constexpr std::size_t kStride = 2 * C + 1;
  noise_.fill(noise_block_.data(), points * kStride);
  const float* noise = noise_block_.data();
  for (std::size_t i = 0; i < points; ++i, noise += kStride) {
    const float envelope = envelope_[i];
    const float ecg = ecg_[i];
    const float mains = mains_[i];
    const float artifact = artifact_[i];
    const float common = noise[0] * common_weight_;
    alignas(32) float floor[C];
    alignas(32) float muscle[C];
    for (int c = 0; c < C; ++c) {
      floor[c] = noise[1 + c] * floor_scale_[c];
      muscle[c] = common + noise[1 + C + c] * own_weight_;
    }
    floor_hp_s_.template step<C>(floor_hp_, floor);
    floor_lp_s_.template step<C>(floor_lp_, floor);
    muscle_hp_s_.template step<C>(muscle_hp_, muscle);
    muscle_lp_s_.template step<C>(muscle_lp_, muscle);
    for (int c = 0; c < C; ++c) {
      const float uv = floor[c] + muscle_gain_[c] * envelope * muscle[c] + ecg_gain_[c] * ecg +
                       mains_gain_[c] * mains + artifact_gain_[c] * artifact;
      out[i * C + static_cast<std::size_t>(c)] = to_counts(uv);
    }
  }
}

void EmgGenerator::generate(std::span<std::int32_t> out) {
  const auto channels = static_cast<std::size_t>(channels_);
  const std::size_t total = out.size() / channels;
  for (std::size_t done = 0; done < total;) {
    const std::size_t points = std::min(kBlock, total - done);
    compute_shared(points);
    std::int32_t* dst = out.data() + done * channels;
    switch (channels_) {
      case 1:
        render<1>(dst, points);
        break;
      case 2:
        render<2>(dst, points);
        break;
      case 3:
        render<3>(dst, points);
        break;
      case 4:
        render<4>(dst, points);
        break;
      case 5:
        render<5>(dst, points);
        break;
      case 6:
        render<6>(dst, points);
        break;
      case 7:
        render<7>(dst, points);
        break;
      default:
        render<8>(dst, points);
        break;
    }
    n_ += points;
    done += points;
  }
}

}  // namespace spasmwatch::sim::detail
