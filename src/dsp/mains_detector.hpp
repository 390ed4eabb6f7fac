// Which mains frequency (50 Hz, 60 Hz or neither) interferes with an EMG stream, decided from the
// first few seconds of one raw channel, so the right notch can be chosen without configuration.
//
// Method: over the first duration_s of samples (Hann-windowed, so DC offsets and slow drift do
// not leak into the probes; 0.5 Hz bins at the default 2 s), Goertzel powers are taken at the
// mains candidates and their harmonics h = 1..3 (50/100/150 and 60/120/180 Hz; only those below
// 0.9 x Nyquist - 7.5 Hz), and at 22 neighbours 2.5-7.5 Hz either side of each in 0.5 Hz steps
// (the local broadband EMG/noise floor). A candidate's score is the largest, over its
// harmonics, of power at the harmonic / mean power of its neighbours (the largest rather than a
// sum, so a strong fundamental is not diluted by harmonics that carry only noise). The candidate
// with the larger score wins if its score is at least min_ratio (default 20, i.e. 13 dB);
// otherwise the answer is 0 (no mains seen). In white noise a probe's ratio follows roughly
// F(2, 2k) with k neighbours: with 22 (partly correlated) neighbours and 6 probes, a false
// "mains" is rare (none in 1000 simulated noise-only channels), while 10 µV of mains in 20 µV RMS
// of broadband noise scores ~40 at 500 Hz and ~160 at 2000 Hz. Neighbours may sit near the
// other candidate; its leakage can only raise this candidate's floor, never its peak. 300 Hz
// (6 x 50 = 5 x 60) is never probed, so a harmonic cannot vote for both.
//
// State machine: collecting (result() == 0, decided() false) --duration_s of samples--> decided
// (result() fixed; further input is ignored). reset() returns to collecting.
//
// Thread rules: single-threaded; cost is ~140 multiply-adds per sample while collecting (a few
// seconds, once per session).
#pragma once

#include <cstddef>
#include <span>
#include <vector>

namespace spasmwatch::dsp {

class MainsDetector {
 public:
  // rate_hz > 0, duration_s > 0 (use >= 1 s: the neighbour offsets assume bins <= 1 Hz).
  // Throws std::invalid_argument otherwise.
  explicit MainsDetector(double rate_hz, double duration_s = 2.0, double min_ratio = 20.0);

  // One channel of raw samples (any unit, e.g. µV); may be called with blocks of any size.
  void process(std::span<const float> samples);

  [[nodiscard]] bool decided() const { return decided_; }
  // 50 or 60 when that mains was found, 0 when neither was or before the decision.
  [[nodiscard]] int result() const { return result_; }
  // The score (power ratio, see above) of a candidate, 0 before the decision or when the
  // candidate cannot be probed at this rate.
  [[nodiscard]] double score(int mains_hz) const;

  void reset();

 private:
  struct Probe {
    double coeff;  // 2 cos(2 pi f / rate)
    double s1 = 0, s2 = 0;
    [[nodiscard]] double power() const { return s1 * s1 + s2 * s2 - coeff * s1 * s2; }
  };
  struct Candidate {
    int mains_hz;
    std::vector<std::size_t> peaks;       // probe indices at the harmonics
    std::vector<std::size_t> neighbours;  // probe indices beside them
    double score = 0;
  };

  void decide();

  double rate_hz_;
  std::size_t length_;  // samples analysed
  double min_ratio_;
  std::size_t seen_ = 0;
  std::vector<Probe> probes_;
  std::vector<Candidate> candidates_;
  bool decided_ = false;
  int result_ = 0;
};

}  // namespace spasmwatch::dsp
