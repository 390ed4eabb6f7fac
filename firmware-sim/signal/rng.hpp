// Deterministic random numbers for the signal model: splitmix64 for seeding, xoshiro256** as the
// generator, and our own Gaussian so that a seed gives the same signals with every standard
// library (std:: distributions are implementation-defined). Header-only; not thread-safe (one
// generator per owner).
#pragma once

#include <cmath>
#include <cstddef>
#include <cstdint>
#include <numbers>

namespace spasmwatch::sim::detail {

inline std::uint64_t splitmix64(std::uint64_t& state) {
  std::uint64_t z = (state += 0x9E3779B97F4A7C15ULL);
  z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ULL;
  z = (z ^ (z >> 27)) * 0x94D049BB133111EBULL;
  return z ^ (z >> 31);
}

// An independent seed for a named sub-stream (`stream` is any constant, e.g. an index).
inline std::uint64_t derive_seed(std::uint64_t seed, std::uint64_t stream) {
  std::uint64_t s = seed ^ (stream * 0xD1B54A32D192ED03ULL);
  splitmix64(s);
  return splitmix64(s);
}

// A uniform value in [0, 1) from a hash of two numbers; for per-cycle variation that must not
// depend on generation order.
inline double hash01(std::uint64_t a, std::uint64_t b) {
  std::uint64_t s = a * 0x9E3779B97F4A7C15ULL + b;
  return static_cast<double>(splitmix64(s) >> 11) * 0x1.0p-53;
}

class Rng {
 public:
  explicit Rng(std::uint64_t seed = 1) {
    for (auto& word : s_) word = splitmix64(seed);
  }

  std::uint64_t next() {
    const std::uint64_t result = rotl(s_[1] * 5, 7) * 9;
    const std::uint64_t t = s_[1] << 17;
    s_[2] ^= s_[0];
    s_[3] ^= s_[1];
    s_[1] ^= s_[2];
    s_[0] ^= s_[3];
    s_[2] ^= t;
    s_[3] = rotl(s_[3], 45);
    return result;
  }

  // [0, 1)
  double uniform() { return static_cast<double>(next() >> 11) * 0x1.0p-53; }
  double uniform(double lo, double hi) { return lo + (hi - lo) * uniform(); }
  // Log-uniform in [lo, hi): amplitudes and durations spread over a ratio, not a difference.
  double log_uniform(double lo, double hi) { return lo * std::exp(std::log(hi / lo) * uniform()); }
  int uniform_int(int lo, int hi_inclusive) {
    return lo + static_cast<int>(uniform() * (hi_inclusive - lo + 1));
  }
  bool chance(double p) { return uniform() < p; }
  double exponential(double mean) { return -mean * std::log1p(-uniform()); }

  // Standard normal (Marsaglia polar method); exact, for schedule-level draws.
  double gaussian() {
    for (;;) {
      const double u = 2 * uniform() - 1;
      const double v = 2 * uniform() - 1;
      const double s = u * u + v * v;
      if (s > 0 && s < 1) return u * std::sqrt(-2 * std::log(s) / s);
    }
  }

  // Approximately standard normal, about ten times cheaper: the sum of four 16-bit uniforms
  // (Irwin-Hall, unit variance, bounded at +-3.46). Used only as the input of the band-limiting
  // filters, whose outputs sum many inputs and so are Gaussian to within measurement.
  float noise_gaussian() {
    const std::uint64_t r = next();
    const auto sum =
        static_cast<std::int32_t>((r & 0xFFFF) + ((r >> 16) & 0xFFFF) + ((r >> 32) & 0xFFFF) + (r >> 48));
    constexpr float kScale = 1.7320508f / 65536.0f;  // sqrt(12 / 4) / 2^16, i.e. unit variance
    return static_cast<float>(sum - 131070) * kScale;
  }

 private:
  static std::uint64_t rotl(std::uint64_t x, int k) { return (x << k) | (x >> (64 - k)); }
  std::uint64_t s_[4];
};

// Four xoshiro256** generators in lock step, laid out as structure of arrays so the compiler
// can run the lanes side by side (SIMD or at least instruction-level parallelism). Fills blocks
// with the same cheap approximate Gaussian as Rng::noise_gaussian.
class NoiseBlock {
 public:
  explicit NoiseBlock(std::uint64_t seed) {
    for (int lane = 0; lane < 4; ++lane) {
      s0_[lane] = splitmix64(seed);
      s1_[lane] = splitmix64(seed);
      s2_[lane] = splitmix64(seed);
      s3_[lane] = splitmix64(seed);
    }
  }

  // Any count: the values form one stream however it is cut into calls.
  void fill(float* out, std::size_t count) {
    while (count > 0 && carried_ < 4) {
      *out++ = carry_[carried_++];
      --count;
    }
    const std::size_t whole = count / 4 * 4;
    for (std::size_t i = 0; i < whole; i += 4) next4(out + i);
    if (whole < count) {
      next4(carry_);
      carried_ = 0;
      for (std::size_t i = whole; i < count; ++i) out[i] = carry_[carried_++];
    }
  }

 private:
  void next4(float* out) {
    constexpr float kScale = 1.7320508f / 65536.0f;
    for (int lane = 0; lane < 4; ++lane) {
      const std::uint64_t r = rotl(s1_[lane] * 5, 7) * 9;
      const std::uint64_t t = s1_[lane] << 17;
      s2_[lane] ^= s0_[lane];
      s3_[lane] ^= s1_[lane];
      s1_[lane] ^= s2_[lane];
      s0_[lane] ^= s3_[lane];
      s2_[lane] ^= t;
      s3_[lane] = rotl(s3_[lane], 45);
      const auto sum =
          static_cast<std::int32_t>((r & 0xFFFF) + ((r >> 16) & 0xFFFF) + ((r >> 32) & 0xFFFF) + (r >> 48));
      out[lane] = static_cast<float>(sum - 131070) * kScale;
    }
  }

  static std::uint64_t rotl(std::uint64_t x, int k) { return (x << k) | (x >> (64 - k)); }
  alignas(32) std::uint64_t s0_[4];
  alignas(32) std::uint64_t s1_[4];
  alignas(32) std::uint64_t s2_[4];
  alignas(32) std::uint64_t s3_[4];
  float carry_[4] = {};
  std::size_t carried_ = 4;  // carry_[carried_..3] not yet handed out
};

}  // namespace spasmwatch::sim::detail
