#include "dsp/mains_detector.hpp"

#include <algorithm>
#include <cmath>
#include <iterator>
#include <numbers>
#include <stdexcept>
#include <string>
#include <utility>

namespace spasmwatch::dsp {

namespace {

constexpr int kHarmonics = 3;
constexpr double kNeighbourOffsetsHz[] = {2.5, 3, 3.5, 4, 4.5, 5, 5.5, 6, 6.5, 7, 7.5};
constexpr std::size_t kNeighbours = 2 * std::size(kNeighbourOffsetsHz);  // either side

}  // namespace

MainsDetector::MainsDetector(double rate_hz, double duration_s, double min_ratio)
    : rate_hz_(rate_hz), min_ratio_(min_ratio) {
  if (!(rate_hz > 0) || !std::isfinite(rate_hz)) {
    throw std::invalid_argument("MainsDetector: rate_hz = " + std::to_string(rate_hz) + " must be > 0");
  }
  if (!(duration_s > 0) || !std::isfinite(duration_s)) {
    throw std::invalid_argument("MainsDetector: duration_s = " + std::to_string(duration_s) + " must be > 0");
  }
  if (!(min_ratio > 0)) {
    throw std::invalid_argument("MainsDetector: min_ratio = " + std::to_string(min_ratio) + " must be > 0");
  }
  length_ = std::max<std::size_t>(16, static_cast<std::size_t>(std::lround(duration_s * rate_hz)));
  const auto add_probe = [this](double f) {
    probes_.push_back({2 * std::cos(2 * std::numbers::pi * f / rate_hz_)});
    return probes_.size() - 1;
  };
  const double highest = 0.9 * rate_hz / 2 - kNeighbourOffsetsHz[std::size(kNeighbourOffsetsHz) - 1];
  for (const int mains : {50, 60}) {
    Candidate cand{mains, {}, {}, 0};
    for (int h = 1; h <= kHarmonics; ++h) {
      const double f = h * mains;
      if (f > highest) break;
      cand.peaks.push_back(add_probe(f));
      for (const double d : kNeighbourOffsetsHz) {
        cand.neighbours.push_back(add_probe(f - d));
        cand.neighbours.push_back(add_probe(f + d));
      }
    }
    candidates_.push_back(std::move(cand));
  }
}

void MainsDetector::process(std::span<const float> samples) {
  if (decided_) return;
  const double denom = static_cast<double>(length_ - 1);
  for (const float sample : samples) {
    const double w = 0.5 - 0.5 * std::cos(2 * std::numbers::pi * static_cast<double>(seen_) / denom);
    const double x = w * sample;
    for (Probe& p : probes_) {
      const double s = x + p.coeff * p.s1 - p.s2;
      p.s2 = p.s1;
      p.s1 = s;
    }
    if (++seen_ == length_) {
      decide();
      return;
    }
  }
}

void MainsDetector::decide() {
  decided_ = true;
  result_ = 0;
  double best = 0;
  for (Candidate& c : candidates_) {
    c.score = 0;
    for (std::size_t h = 0; h < c.peaks.size(); ++h) {
      double floor = 0;
      for (std::size_t k = 0; k < kNeighbours; ++k)
        floor += probes_[c.neighbours[h * kNeighbours + k]].power();
      floor /= static_cast<double>(kNeighbours);
      const double peak = probes_[c.peaks[h]].power();
      const double ratio = floor > 0 ? peak / floor : (peak > 0 ? HUGE_VAL : 0.0);
      c.score = std::max(c.score, ratio);
    }
    if (c.score >= min_ratio_ && c.score > best) {
      best = c.score;
      result_ = c.mains_hz;
    }
  }
}

double MainsDetector::score(int mains_hz) const {
  for (const Candidate& c : candidates_) {
    if (c.mains_hz == mains_hz) return c.score;
  }
  return 0;
}

void MainsDetector::reset() {
  for (Probe& p : probes_) p.s1 = p.s2 = 0;
  for (Candidate& c : candidates_) c.score = 0;
  seen_ = 0;
  decided_ = false;
  result_ = 0;
}

}  // namespace spasmwatch::dsp
