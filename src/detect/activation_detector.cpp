#include "detect/activation_detector.hpp"

#include <algorithm>
#include <bit>
#include <cmath>
#include <stdexcept>

#include "common/body_site.hpp"

namespace spasmwatch::detect {

namespace {
constexpr double kLookbackS = 0.3;
constexpr double kPreOnsetS = 0.05;    // fast envelope kept before the onset (its resting level)
constexpr double kAccBeforeS = 0.5;    // movement before the onset: its mean ...
constexpr double kAccOnsetS = 1.5;     // ... against its peak in the activation's first 1.5 s
constexpr double kOnsetTraceS = 0.4;   // onset shape window after the onset
constexpr double kTaskTauS = 10;       // task-context averages
constexpr double kGaitBinS = 0.05;     // gait: movement bins ...
constexpr double kGaitWindowS = 4;     // ... over this window ...
constexpr double kGaitMinLagS = 0.35;  // ... repeating at a step (~0.5 s) or stride (~1 s) period
constexpr double kGaitMaxLagS = 1.2;
constexpr int kGaitCheckBins = 5;                  // checked every 0.25 s
constexpr std::size_t kMaxTraceTicks = 200 * 120;  // 2 minutes at 5 ms ticks; longer events keep
                                                   // their first 2 minutes for shape features
}  // namespace

ActivationDetector::ActivationDetector(const DetectorConfig& config, proto::BodySite site, int channels,
                                       Emit emit)
    : config_(config), site_(site), channels_(channels), emit_(std::move(emit)) {
  if (channels < 1 || channels > kMaxChannels) {
    throw std::invalid_argument("detector: channels " + std::to_string(channels) +
                                " is invalid; expected 1..8");
  }
  if (!(config_.tick_s > 0)) throw std::invalid_argument("detector: tick_s must be > 0");
  off_hold_s_ = site == proto::JAW ? config_.jaw_off_hold_s : config_.off_hold_s;
  window_ticks_ = std::max(1, static_cast<int>(std::lround(config_.envelope_window_s / config_.tick_s)));
  window_.assign(static_cast<std::size_t>(window_ticks_ * channels_), 0.0f);
  slow_alpha_ = 1 - std::exp(-config_.tick_s / 10.0);  // ~10 s movement average
  pre_alpha_ = 1 - std::exp(-config_.tick_s / 2.0);    // ~2 s movement average
  // The baseline moves slowly: updating it every kBaselineEvery ticks costs a quarter of the
  // logarithms and changes nothing that matters.
  down_alpha_ = static_cast<float>(
      1 - std::exp(-static_cast<double>(kBaselineEvery) * config_.tick_s / config_.baseline_down_tau_s));
  up_alpha_ = static_cast<float>(
      1 - std::exp(-static_cast<double>(kBaselineEvery) * config_.tick_s / config_.baseline_up_tau_s));
  recent_ratio_.assign(static_cast<std::size_t>(std::ceil(kLookbackS / config_.tick_s)) + 1, 0.0f);
  // A power of two, so a tick's slot is a mask of its index.
  history_ticks_ =
      std::bit_ceil(static_cast<std::size_t>(std::ceil((kLookbackS + kAccBeforeS) / config_.tick_s)) + 4);
  history_mask_ = history_ticks_ - 1;
  fast_history_.assign(history_ticks_ * kMaxChannels, 0.0f);
  movement_history_.assign(history_ticks_, 0.0f);
  onset_trace_ticks_ =
      static_cast<std::size_t>(std::ceil((kLookbackS + kPreOnsetS + kOnsetTraceS) / config_.tick_s)) + 2;
  onset_trace_.reserve(onset_trace_ticks_);
  burst_alpha_ = 1 - std::exp(-config_.tick_s / kTaskTauS);
  gait_bin_ticks_ = std::max(1, static_cast<int>(std::lround(kGaitBinS / config_.tick_s)));
  gait_bins_.assign(static_cast<std::size_t>(std::lround(kGaitWindowS / kGaitBinS)), 0.0f);
  gait_scratch_.assign(gait_bins_.size(), 0.0f);
  split_decay_ = std::exp(-config_.tick_s / config_.split_memory_s);
  trace_.reserve(kMaxTraceTicks);
  fast_trace_.reserve(kMaxTraceTicks);
  env_trace_.reserve(kMaxTraceTicks);
  acc_trace_.reserve(kMaxTraceTicks);
  detrended_.reserve(kMaxTraceTicks);
}

void ActivationDetector::on_short_gap() {
  gap_pending_ = true;
}

void ActivationDetector::on_gap() {
  if (state_ == State::active) end_activation();
  gap_pending_ = true;
  std::fill(window_.begin(), window_.end(), 0.0f);
  window_fill_ = 0;
  window_pos_ = 0;
  fast_ring_.fill(0);
}

void ActivationDetector::finish() {
  if (state_ == State::active) end_activation();
}

void ActivationDetector::on_tick(std::uint64_t tick, std::span<const float> ms, const AccState& acc) {
  const double dt = config_.tick_s;
  last_tick_ = tick;

  // ---- envelopes ----
  // Sums are recomputed from the rings each tick (10 + 4 adds per channel, across channels in
  // SIMD): no running sums, so no rounding drift and no branches in the loops.
  const auto nc = static_cast<std::size_t>(channels_);
  float* slot = window_.data() + static_cast<std::ptrdiff_t>(window_pos_ * channels_);
  float* fast_slot = fast_ring_.data() + static_cast<std::size_t>(fast_pos_) * kMaxChannels;
  for (std::size_t c = 0; c < nc; ++c) {
    const float v = std::max(0.0f, ms[c]);
    slot[c] = v;
    fast_slot[c] = v;
  }
  if (++window_pos_ == window_ticks_) window_pos_ = 0;
  window_fill_ = std::min(window_fill_ + 1, window_ticks_);
  std::array<float, kMaxChannels> window_sum{};
  for (int k = 0; k < window_ticks_; ++k) {
    const float* row = window_.data() + static_cast<std::ptrdiff_t>(k * channels_);
    for (std::size_t c = 0; c < nc; ++c) window_sum[c] += row[c];
  }
  std::array<float, kMaxChannels> fast_sum{};
  for (int k = 0; k < kFastTicks; ++k) {
    const float* row = fast_ring_.data() + static_cast<std::size_t>(k) * kMaxChannels;
    for (std::size_t c = 0; c < kMaxChannels; ++c) fast_sum[c] += row[c];
  }
  const float inv_fill = 1.0f / static_cast<float>(window_fill_);
  // 50 ms RMS for levels; 20 ms RMS to time an onset (short enough, but does not flicker).
  for (std::size_t c = 0; c < kMaxChannels; ++c) {
    envelope_[c] = std::sqrt(window_sum[c] * inv_fill);
    fast_envelope_[c] = std::sqrt(fast_sum[c] * (1.0f / kFastTicks));
  }
  if (!baseline_started_) {
    for (std::size_t c = 0; c < nc; ++c) baseline_[c] = std::max(envelope_[c], 0.5f);
  }
  float best_ratio = 0;
  float best_excess = -1e9f;
  int best_channel = 0;
  for (std::size_t c = 0; c < nc; ++c) {
    const float ratio = envelope_[c] / std::max(baseline_[c], 0.1f);
    if (ratio > best_ratio) {
      best_ratio = ratio;
      best_excess = envelope_[c] - baseline_[c];
      best_channel = static_cast<int>(c);
    }
  }
  fast_pos_ = (fast_pos_ + 1) % kFastTicks;
  if (window_fill_ >= window_ticks_) baseline_started_ = true;
  {
    const std::size_t h = static_cast<std::size_t>(tick & history_mask_);
    std::copy_n(fast_envelope_.data(), kMaxChannels, fast_history_.data() + h * kMaxChannels);
    movement_history_[h] = acc.valid ? acc.movement_g : 0.0f;
  }

  // After a gap the filters ring from the jump in the signal: let them settle before judging.
  if (gap_pending_) {
    gap_pending_ = false;
    settle_until_tick_ = tick + static_cast<std::uint64_t>(std::ceil(config_.gap_settle_s / dt));
  }
  if (tick < settle_until_tick_) {
    recent_ratio_[recent_pos_] = 0.0f;
    if (++recent_pos_ == recent_ratio_.size()) recent_pos_ = 0;
    return;
  }

  // ---- accelerometer context ----
  if (acc.valid) {
    if (!acc_started_) {  // start the averages at the first reading, not at zero
      acc_started_ = true;
      movement_slow_ = movement_pre_ = acc.movement_g;
    }
    movement_slow_ += slow_alpha_ * (acc.movement_g - movement_slow_);
    movement_pre_ += pre_alpha_ * (acc.movement_g - movement_pre_);
    if (acc.posture == proto::LYING && movement_slow_ < 0.02) {
      still_lying_s_ += dt;
    } else if (acc.posture != proto::LYING) {
      still_lying_s_ = 0;
    }
    if (state_ == State::active && acc.posture != posture_at_onset_ &&
        acc.posture != proto::POSTURE_UNSPECIFIED && posture_at_onset_ != proto::POSTURE_UNSPECIFIED) {
      posture_changed_ = true;
    }
    posture_ = acc.posture;
    update_gait(acc.movement_g);
  }

  // ---- activation state machine ----
  const bool on = best_excess >= config_.on_excess_uv && best_ratio >= config_.on_ratio;
  const bool quiet = best_excess < config_.off_excess_uv || best_ratio < config_.off_ratio;
  recent_ratio_[recent_pos_] = quiet ? 0.0f : best_ratio;
  if (++recent_pos_ == recent_ratio_.size()) recent_pos_ = 0;
  double burst_start = 0;
  if (!burst_on_ && on) {
    burst_on_ = true;
    burst_start = 1 / dt;
    burst_peak_ = 0;
    burst_start_tick_ = tick;
  } else if (burst_on_ && quiet) {
    burst_on_ = false;
    // A sustained contraction is not one of a task's bursts (and may be the spasm itself).
    const double length_s = static_cast<double>(tick - burst_start_tick_) * dt;
    if (length_s <= config_.task_burst_max_s) {
      burst_length_s_ = burst_length_s_ > 0 ? burst_length_s_ + 0.2 * (length_s - burst_length_s_) : length_s;
      burst_level_ = burst_level_ > 0 ? burst_level_ + 0.2 * (burst_peak_ - burst_level_) : burst_peak_;
    }
  }
  if (burst_on_) burst_peak_ = std::max(burst_peak_, best_ratio);
  burst_rate_ += burst_alpha_ * (burst_start - burst_rate_);
  duty_ += burst_alpha_ * ((quiet ? 0.0 : 1.0) - duty_);

  if (state_ == State::active && on) {
    // A burst far stronger than anything so far in a run of light activity (typing, fidgeting)
    // is its own event: close the light run just before it.
    const auto lc = static_cast<std::size_t>(lead_channel_);
    const double age_s = static_cast<double>(tick - onset_tick_) * dt;
    if (age_s >= config_.split_min_age_s && fast_envelope_[lc] > config_.split_factor * recent_peak_uv_) {
      last_above_tick_ = std::min(last_above_tick_, tick - 1);
      end_activation();
      lead_channel_ = best_channel;
      start_activation(tick, tick);
    }
  }
  if (state_ == State::idle) {
    if (on && baseline_started_) {
      lead_channel_ = best_channel;
      start_activation(tick, 0);
    }
  }
  if (state_ == State::active) {
    const auto lc = static_cast<std::size_t>(lead_channel_);
    const double env_uv = envelope_[lc];
    peak_uv_ = std::max(peak_uv_, env_uv);
    recent_peak_uv_ = std::max(env_uv, recent_peak_uv_ * split_decay_);
    if (!quiet) last_above_tick_ = tick;
    // Strong: at least a fraction of the event's own peak. A shift of resting tone (posture,
    // typing) must not keep a finished spasm going.
    if (!quiet && env_uv >= config_.off_peak_fraction * peak_uv_) last_strong_tick_ = tick;
    sum_uv_ += env_uv;
    ++sum_ticks_;
    for (int c = 0; c < channels_; ++c) {
      const auto ci = static_cast<std::size_t>(c);
      if (envelope_[ci] / std::max(baseline_[ci], 0.1f) >= config_.on_ratio &&
          envelope_[ci] - baseline_[ci] >= config_.on_excess_uv) {
        channel_mask_ |= 1u << c;
      }
    }
    if (onset_trace_.size() < onset_trace_ticks_) onset_trace_.push_back(fast_envelope_[lc]);
    if (acc.valid && static_cast<double>(tick - onset_tick_) * dt < kAccOnsetS) {
      acc_onset_peak_g_ = std::max(acc_onset_peak_g_, static_cast<double>(acc.movement_g));
    }
    if (acc.valid) {
      acc_peak_g_ = std::max(acc_peak_g_, static_cast<double>(acc.movement_g));
      acc_sum_g_ += acc.movement_g;
      ++acc_ticks_;
      tremor_sum_g2_ += acc.tremor;
      sway_sum_g2_ += acc.sway;
      movement_sum_g2_ += static_cast<double>(acc.movement_g) * acc.movement_g;
    }
    if (trace_.size() < kMaxTraceTicks) {
      trace_.push_back(std::sqrt(std::max(0.0f, ms[lc])));
      fast_trace_.push_back(fast_envelope_[lc]);
      env_trace_.push_back(envelope_[lc]);
      acc_trace_.push_back(acc.valid ? acc.movement_g : 0.0f);
    }
    if (!provisional_sent_ && static_cast<double>(tick - onset_tick_ + 1) * dt >= config_.min_active_s * 2) {
      provisional_sent_ = true;
      emit_event(proto::PROVISIONAL, proto::EVENT_TYPE_UNSPECIFIED, 0, 0, false);
      emit_(event_);
    }
    if (static_cast<double>(tick - last_above_tick_) * dt >= off_hold_s_) {
      end_activation(env_uv);
    } else if (static_cast<double>(tick - last_strong_tick_) * dt >=
               config_.off_peak_hold_s + (site_ == proto::JAW ? off_hold_s_ : 0)) {
      last_above_tick_ = last_strong_tick_;
      end_activation(env_uv);
    }
  }

  // ---- baseline: follows the resting floor, frozen during and just after activity ----
  // A long activation that is mostly quiet (light activity at a raised tone: typing, walking at
  // the neck) is not one contraction: let the baseline learn that floor, which ends it, so a
  // spasm on top stands out.
  const bool sparse_long =
      state_ == State::active && static_cast<double>(tick - onset_tick_) * dt >= config_.sparse_after_s &&
      sum_ticks_ > 0 && sum_uv_ / static_cast<double>(sum_ticks_) < config_.sparse_mean_fraction * peak_uv_;
  // A long activation at a level only a few times the resting one is a shift of resting tone
  // (sitting up to type, a posture held), not a cramp: the baseline learns it, which ends it.
  const bool tone_shift =
      state_ == State::active && static_cast<double>(tick - onset_tick_) * dt >= config_.tone_min_s &&
      sum_ticks_ > 0 &&
      sum_uv_ / static_cast<double>(sum_ticks_) < config_.tone_max_ratio * baseline_at_onset_uv_;
  const bool learn = (state_ == State::idle && tick >= freeze_until_tick_) || sparse_long || tone_shift;
  if (learn && tick % kBaselineEvery == 0) {
    for (int c = 0; c < channels_; ++c) {
      const auto ci = static_cast<std::size_t>(c);
      const float env = std::max(envelope_[ci], 0.05f);
      const float a = env < baseline_[ci] ? down_alpha_ : up_alpha_;
      baseline_[ci] *= std::exp(a * std::log(env / baseline_[ci]));  // log-domain step
    }
  }
}

void ActivationDetector::start_activation(std::uint64_t tick, std::uint64_t earliest) {
  state_ = State::active;
  // Onset: back to where the level first left the baseline, at most kLookbackS earlier.
  std::uint64_t onset = tick;
  const std::size_t n = recent_ratio_.size();
  for (std::size_t back = 1; back < n && back <= tick && tick - back >= earliest; ++back) {
    const std::size_t idx = (recent_pos_ + n - 1 - back) % n;
    if (recent_ratio_[idx] <= 0.0f) break;
    onset = tick - back;
  }
  onset_tick_ = onset;
  last_above_tick_ = tick;
  last_strong_tick_ = tick;
  const auto lc = static_cast<std::size_t>(lead_channel_);
  // Onset features from the history: the lead channel's fast envelope from just before the
  // onset up to this tick, and the movement before the onset.
  {
    const std::uint64_t oldest = tick + 1 >= history_ticks_ ? tick + 1 - history_ticks_ : 0;
    const auto pre_ticks = static_cast<std::uint64_t>(std::lround(kPreOnsetS / config_.tick_s));
    const std::uint64_t from = std::max(oldest, onset >= pre_ticks ? onset - pre_ticks : 0);
    onset_trace_.clear();
    for (std::uint64_t k = from; k < tick; ++k) {
      onset_trace_.push_back(fast_history_[static_cast<std::size_t>(k & history_mask_) * kMaxChannels + lc]);
    }
    onset_index_ = static_cast<std::size_t>(onset - from);
    const auto acc_ticks = static_cast<std::uint64_t>(std::lround(kAccBeforeS / config_.tick_s));
    const std::uint64_t acc_from = std::max(oldest, onset >= acc_ticks ? onset - acc_ticks : 0);
    double sum = 0;
    for (std::uint64_t k = acc_from; k < onset; ++k)
      sum += movement_history_[static_cast<std::size_t>(k & history_mask_)];
    acc_before_onset_g_ = onset > acc_from ? sum / static_cast<double>(onset - acc_from) : 0;
    acc_onset_peak_g_ = 0;
    for (std::uint64_t k = onset; k < tick; ++k) {
      acc_onset_peak_g_ =
          std::max(acc_onset_peak_g_,
                   static_cast<double>(movement_history_[static_cast<std::size_t>(k & history_mask_)]));
    }
    burst_rate_at_onset_ = burst_rate_;
    walking_at_onset_ = walking_;
    duty_at_onset_ = duty_;
    burst_level_at_onset_ = burst_level_;
    burst_length_at_onset_s_ = burst_length_s_;
  }
  baseline_at_onset_uv_ = baseline_[lc];
  peak_uv_ = 0;
  recent_peak_uv_ = 0;
  sum_uv_ = 0;
  sum_ticks_ = 0;
  acc_peak_g_ = 0;
  acc_sum_g_ = 0;
  acc_ticks_ = 0;
  tremor_sum_g2_ = 0;
  sway_sum_g2_ = 0;
  movement_sum_g2_ = 0;
  movement_pre_at_onset_ = movement_pre_;
  posture_at_onset_ = posture_;
  posture_changed_ = false;
  channel_mask_ = 0;
  trace_.clear();
  fast_trace_.clear();
  env_trace_.clear();
  acc_trace_.clear();
  trace_tick_ = tick;
  trimmed_ = false;
  trimmed_trail_ = false;
  provisional_sent_ = false;
  ++event_counter_;
}

void ActivationDetector::update_gait(float movement_g) {
  gait_bin_sum_ += movement_g;
  if (++gait_bin_fill_ < gait_bin_ticks_) return;
  gait_bins_[gait_pos_] = static_cast<float>(gait_bin_sum_ / gait_bin_ticks_);
  gait_pos_ = (gait_pos_ + 1) % gait_bins_.size();
  gait_count_ = std::min(gait_count_ + 1, gait_bins_.size());
  gait_bin_sum_ = 0;
  gait_bin_fill_ = 0;
  if (++gait_bins_since_check_ < kGaitCheckBins) return;
  gait_bins_since_check_ = 0;
  walking_ = false;
  const std::size_t n = gait_bins_.size();
  if (gait_count_ < n) return;
  double mean = 0;
  for (const float v : gait_bins_) mean += v;
  mean /= static_cast<double>(n);
  // Walking needs the body upright: rolling over in bed repeats too, lying down.
  if (mean < config_.gait_min_g || posture_ == proto::LYING) return;
  // Oldest first, mean removed, in one piece: the lags below are plain dot products.
  for (std::size_t i = 0; i < n; ++i)
    gait_scratch_[i] = gait_bins_[(gait_pos_ + i) % n] - static_cast<float>(mean);
  float var = 0;
  for (std::size_t i = 0; i < n; ++i) var += gait_scratch_[i] * gait_scratch_[i];
  if (!(var > 0)) return;
  const auto min_lag = static_cast<std::size_t>(std::lround(kGaitMinLagS / kGaitBinS));
  const auto max_lag = static_cast<std::size_t>(std::lround(kGaitMaxLagS / kGaitBinS));
  double best = 0;
  for (std::size_t lag = min_lag; lag <= max_lag; ++lag) {
    float acc = 0;
    for (std::size_t i = lag; i < n; ++i) acc += gait_scratch_[i] * gait_scratch_[i - lag];
    best = std::max(best,
                    static_cast<double>(acc / var) * static_cast<double>(n) / static_cast<double>(n - lag));
  }
  walking_ = best >= config_.gait_min_correlation;
}

bool ActivationDetector::trim_weak_lead() {
  // A strong contraction that begins inside a run of weak activity (keystrokes, steps, a raised
  // tone) has its own onset: where its rise leaves the level of that activity. When everything
  // before that point stays below trim_lead_fraction of the peak for at least trim_lead_s, the
  // lead-in is a separate (voluntary) activity: the event starts at the strong part, and a
  // provisional event sent for the lead-in's onset is retracted.
  const std::size_t n = env_trace_.size();
  if (n < 4 || config_.trim_lead_fraction <= 0) return false;
  const float peak = *std::max_element(env_trace_.begin(), env_trace_.end());
  const float level = static_cast<float>(config_.trim_lead_fraction) * peak;
  std::size_t half = 0;
  while (half < n && env_trace_[half] < 0.5f * peak) ++half;
  std::size_t j = half;
  while (j > 0 && fast_trace_[j - 1] > level) --j;
  // The 50 ms envelope lags the rise by up to a window: the lead-in is judged before that.
  const auto lag = static_cast<std::size_t>(window_ticks_);
  if (j <= lag) return false;
  const std::uint64_t new_onset = trace_tick_ + j;
  if (static_cast<double>(new_onset - onset_tick_) * config_.tick_s < config_.trim_lead_s) return false;
  for (std::size_t i = 0; i + lag < j; ++i) {
    if (env_trace_[i] > level) return false;
  }
  if (provisional_sent_) {
    emit_event(proto::RETRACTED, proto::EVENT_TYPE_UNSPECIFIED, 0, 0, false);
    emit_(event_);
    provisional_sent_ = false;
  }
  // The lead-in is an activation of its own for the rhythm of what comes next.
  const double lead_onset_s = static_cast<double>(onset_tick_) * config_.tick_s;
  history_[history_pos_] = {lead_onset_s, static_cast<double>(new_onset - onset_tick_) * config_.tick_s};
  history_pos_ = (history_pos_ + 1) % history_.size();
  // Onset features at the new onset.
  const auto pre = static_cast<std::size_t>(std::lround(kPreOnsetS / config_.tick_s));
  const std::size_t from = j > pre ? j - pre : 0;
  const std::size_t to = std::min(n, j + onset_trace_ticks_ - (j - from));
  onset_trace_.assign(fast_trace_.begin() + static_cast<std::ptrdiff_t>(from),
                      fast_trace_.begin() + static_cast<std::ptrdiff_t>(to));
  onset_index_ = j - from;
  const auto acc_ticks = static_cast<std::size_t>(std::lround(kAccBeforeS / config_.tick_s));
  double sum = 0;
  const std::size_t acc_from = j > acc_ticks ? j - acc_ticks : 0;
  for (std::size_t i = acc_from; i < j; ++i) sum += acc_trace_[i];
  acc_before_onset_g_ = sum / static_cast<double>(j - acc_from);
  acc_onset_peak_g_ = 0;
  const auto onset_ticks = static_cast<std::size_t>(std::lround(kAccOnsetS / config_.tick_s));
  for (std::size_t i = j; i < std::min(n, j + onset_ticks); ++i)
    acc_onset_peak_g_ = std::max(acc_onset_peak_g_, static_cast<double>(acc_trace_[i]));
  for (auto* v : {&trace_, &fast_trace_, &env_trace_, &acc_trace_})
    v->erase(v->begin(), v->begin() + static_cast<std::ptrdiff_t>(j));
  onset_tick_ = new_onset;
  trace_tick_ = new_onset;
  trimmed_ = true;
  return true;
}

bool ActivationDetector::trim_weak_trail() {
  // The same after the strong part: weak activity that goes on after it (typing resumes after a
  // twitch) is not part of it. The event ends where the strong part falls back to that level.
  const std::size_t n = env_trace_.size();
  if (n < 4 || config_.trim_lead_fraction <= 0) return false;
  const float peak = *std::max_element(env_trace_.begin(), env_trace_.end());
  const float level = static_cast<float>(config_.trim_lead_fraction) * peak;
  std::size_t half = n - 1;
  while (half > 0 && env_trace_[half] < 0.5f * peak) --half;
  std::size_t e = half;
  while (e + 1 < n && fast_trace_[e + 1] > level) ++e;
  // Activity went on (not quiet) for trim_lead_s after the strong part ...
  if (last_above_tick_ < trace_tick_ + e ||
      static_cast<double>(last_above_tick_ - (trace_tick_ + e)) * config_.tick_s < config_.trim_lead_s) {
    return false;
  }
  // ... staying weak, and rising again (new bursts): not the strong part's own fading.
  const auto lag = static_cast<std::size_t>(window_ticks_);
  const auto on_level = static_cast<float>(config_.on_ratio * baseline_at_onset_uv_);
  float low = env_trace_[e];
  bool rises_again = false;
  for (std::size_t i = e + 1; i < n; ++i) {
    if (i >= e + 1 + lag && env_trace_[i] > level) return false;
    low = std::min(low, env_trace_[i]);
    rises_again = rises_again || (env_trace_[i] >= 2 * low && env_trace_[i] >= on_level);
  }
  if (!rises_again) return false;
  for (auto* v : {&trace_, &fast_trace_, &env_trace_, &acc_trace_}) v->resize(e + 1);
  last_above_tick_ = trace_tick_ + e;
  return true;
}

void ActivationDetector::trim_weak_activity() {
  // Traces hold the first 2 minutes; longer activations are not trimmed.
  if (env_trace_.size() >= kMaxTraceTicks) return;
  // Outside a task, a train of bursts at 3-8 Hz is clonus: its weaker first and last beats are
  // part of it, not a lead-in. (Inside a task the run is the task's; a spasm in it is cut out.)
  const bool task = task_at_onset();
  if (!task && clonus_site() &&
      static_cast<double>(env_trace_.size()) * config_.tick_s >= config_.clonus_min_s) {
    double correlation = 0;
    (void)rhythm_hz(&correlation);
    if (correlation >= config_.clonus_min_correlation) return;
  }
  const bool lead = trim_weak_lead();
  const bool trail = trim_weak_trail();
  trimmed_trail_ = trail;
  if (!lead && !trail) return;
  // Figures of the strong part alone.
  sum_uv_ = 0;
  for (const float v : env_trace_) sum_uv_ += v;
  sum_ticks_ = env_trace_.size();
  acc_peak_g_ = 0;
  acc_sum_g_ = 0;
  for (const float v : acc_trace_) {
    acc_peak_g_ = std::max(acc_peak_g_, static_cast<double>(v));
    acc_sum_g_ += v;
  }
  acc_ticks_ = acc_trace_.size();
}

proto::ActivityContext ActivationDetector::context() const {
  if (movement_slow_ > config_.active_movement_g) return proto::ACTIVE;
  if (still_lying_s_ >= config_.asleep_after_s) return proto::ASLEEP;
  return proto::AT_REST;
}

bool ActivationDetector::clonus_site() const {
  return config_.trunk_clonus >= 0.5 || !is_trunk_site(site_);
}

void ActivationDetector::emit_event(proto::EventState state, proto::EventType type, double confidence,
                                    double rhythm_hz, bool final_figures) {
  auto& e = event_;
  e.Clear();
  e.set_site(site_);
  e.set_state(state);
  e.set_type(type);
  e.set_confidence(confidence);
  e.set_rhythm_hz(rhythm_hz);
  e.set_device_start_s(static_cast<double>(onset_tick_) * config_.tick_s);
  e.set_baseline_uv(baseline_at_onset_uv_);
  e.set_context(context());
  e.set_posture(posture_at_onset_);
  e.set_channel_mask(channel_mask_);
  if (final_figures) {
    const double end_s = static_cast<double>(last_above_tick_ + 1) * config_.tick_s;
    e.set_device_end_s(end_s);
    e.set_duration_s(end_s - e.device_start_s());
    e.set_peak_uv(peak_uv_);
    e.set_mean_uv(sum_ticks_ > 0 ? sum_uv_ / static_cast<double>(sum_ticks_) : 0);
    e.set_snr(peak_uv_ / std::max(baseline_at_onset_uv_, 0.1));
    e.set_acc_peak_g(acc_peak_g_);
  }
}

void ActivationDetector::end_activation(float level_after_uv) {
  state_ = State::idle;
  freeze_until_tick_ = last_tick_ + static_cast<std::uint64_t>(config_.baseline_hold_s / config_.tick_s);
  trim_weak_activity();
  const double onset_s = static_cast<double>(onset_tick_) * config_.tick_s;
  const double duration_s = static_cast<double>(last_above_tick_ + 1 - onset_tick_) * config_.tick_s;
  std::array<Past, 16> prior{};
  const std::size_t prior_count = prior_activations(onset_s, prior);
  const bool rhythmic = rhythmic_history(prior, prior_count, onset_s, duration_s);
  const bool in_gait = steady_series(prior, prior_count);
  const double snr = peak_uv_ / std::max(baseline_at_onset_uv_, 0.1);
  // The fading tail of the previous contraction (which ended by falling below a fraction of its
  // peak while still above the resting level) is not a new event.
  const bool tail =
      onset_s - previous_end_s_ < config_.tail_s && peak_uv_ < config_.off_peak_fraction * previous_peak_uv_;
  previous_end_s_ = onset_s + duration_s;
  if (!tail) previous_peak_uv_ = peak_uv_;
  history_[history_pos_] = {onset_s, duration_s};
  history_pos_ = (history_pos_ + 1) % history_.size();

  if (duration_s < config_.min_active_s) {
    if (provisional_sent_) {
      emit_event(proto::RETRACTED, proto::EVENT_TYPE_UNSPECIFIED, 0, 0, false);
      emit_(event_);
    }
    return;
  }

  // A voluntary task going on (keystrokes, steps, chores: bursts starting often, or the muscle
  // busy much of the time), and whether this activation stands out of the task's bursts.
  const bool task = task_at_onset();
  const bool above_task = task && snr >= config_.task_snr_factor * burst_level_at_onset_;
  const bool within_task = task && !above_task;

  // ---- class ----
  double correlation = 0;
  const double rhythm = rhythm_hz(&correlation);
  proto::EventType type;
  if (site_ == proto::JAW && duration_s >= 0.25) {
    type = longest_burst_s() > config_.jaw_tonic_min_s ? proto::JAW_TONIC : proto::JAW_PHASIC;
  } else if (duration_s >= config_.clonus_min_s && correlation >= config_.clonus_min_correlation &&
             snr >= config_.clonus_min_snr && !within_task && clonus_site()) {
    // (rhythmic bursts no stronger than an ongoing task's are that task's rhythm: tapping, typing)
    type = proto::CLONUS;
  } else if (duration_s < config_.twitch_max_s) {
    type = proto::TWITCH;
  } else if (duration_s < config_.cramp_min_s) {
    type = proto::SPASM;
  } else {
    type = proto::CRAMP;
  }

  // ---- involuntary or voluntary: evidence, weighed by a logistic model (evidence.hpp) ----
  Judgement j{type, duration_s, snr, task, above_task, within_task, rhythmic, in_gait, tail, level_after_uv};
  gather_evidence(j);
  const double confidence = evidence_confidence(evidence_, config_.weights);

  const bool report = confidence >= config_.min_confidence;
  if (!report && !provisional_sent_ && !config_.report_rejected) return;
  emit_event(report ? proto::FINAL : proto::RETRACTED, type, confidence, type == proto::CLONUS ? rhythm : 0,
             true);
  event_.set_rise_s(j.rise_s);
  event_.set_fill(j.fill);
  event_.set_voluntary_pattern(rhythmic);
  emit_(event_);
}

}  // namespace spasmwatch::detect
