#include "dsp/filter_design.hpp"

#include <Eigen/Core>
#include <algorithm>
#include <cmath>
#include <complex>
#include <cstddef>
#include <numbers>
#include <sstream>
#include <stdexcept>
#include <string>
#include <utility>
#include <vector>

namespace spasmwatch::dsp {

namespace {

using cd = std::complex<double>;
using Roots = Eigen::ArrayXcd;

constexpr int kMaxOrder = 12;

[[noreturn]] void invalid(const char* function, const char* name, double value, const std::string& expected) {
  std::ostringstream os;
  os.precision(10);
  os << function << ": " << name << " = " << value << " " << expected;
  throw std::invalid_argument(os.str());
}

void check_rate(const char* function, double rate_hz) {
  if (!(rate_hz > 0) || !std::isfinite(rate_hz)) invalid(function, "rate_hz", rate_hz, "must be > 0");
}

void check_order(const char* function, int order) {
  if (order < 1 || order > kMaxOrder) {
    invalid(function, "order", order, "must be 1.." + std::to_string(kMaxOrder));
  }
}

void check_below_nyquist(const char* function, const char* name, double freq_hz, double rate_hz) {
  if (!(freq_hz > 0) || !(freq_hz < rate_hz / 2)) {
    std::ostringstream os;
    os << "must be > 0 and < Nyquist (" << rate_hz / 2 << " Hz at rate_hz = " << rate_hz << ")";
    invalid(function, name, freq_hz, os.str());
  }
}

// Zeros, poles and gain, in SciPy's order (the order decides ties in zpk2sos).
struct Zpk {
  Roots z;
  Roots p;
  double k = 1;
};

Roots append(const Roots& a, cd value, Eigen::Index count) {
  Roots out(a.size() + count);
  out.head(a.size()) = a;
  out.tail(count).setConstant(value);
  return out;
}

// scipy.signal.buttap: poles on the unit circle, the middle one exactly real for odd orders.
Zpk buttap(int order) {
  Zpk f;
  f.z.resize(0);
  f.p.resize(order);
  for (int i = 0; i < order; ++i) {
    const int m = -order + 1 + 2 * i;
    f.p[i] = -std::exp(cd(0, std::numbers::pi * m / (2.0 * order)));
  }
  return f;
}

Eigen::Index degree(const Zpk& f) {
  return f.p.size() - f.z.size();
}

// SciPy prewarps on the normalised axis: Wn = 2 f / rate, fs = 2, warped = 2 fs tan(pi Wn / fs).
double prewarp(double freq_hz, double rate_hz) {
  const double wn = 2 * freq_hz / rate_hz;
  constexpr double fs = 2.0;
  return 2 * fs * std::tan(std::numbers::pi * wn / fs);
}

Zpk lp2lp(const Zpk& f, double wo) {
  return {f.z * wo, f.p * wo, f.k * std::pow(wo, static_cast<double>(degree(f)))};
}

Zpk lp2hp(const Zpk& f, double wo) {
  Zpk out;
  out.z = append(wo / f.z, 0.0, degree(f));
  out.p = wo / f.p;
  out.k = f.k * std::real((-f.z).prod() / (-f.p).prod());
  return out;
}

Zpk lp2bp(const Zpk& f, double wo, double bw) {
  const Roots z_lp = f.z * (bw / 2);
  const Roots p_lp = f.p * (bw / 2);
  const auto shift = [wo](const Roots& r) { return ((r * r) - cd(wo * wo)).sqrt(); };
  Zpk out;
  Roots z(2 * z_lp.size());
  z << z_lp + shift(z_lp), z_lp - shift(z_lp);
  out.z = append(z, 0.0, degree(f));
  out.p.resize(2 * p_lp.size());
  out.p << p_lp + shift(p_lp), p_lp - shift(p_lp);
  out.k = f.k * std::pow(bw, static_cast<double>(degree(f)));
  return out;
}

Zpk bilinear(const Zpk& f) {
  constexpr double fs2 = 2.0 * 2.0;
  Zpk out;
  out.z = append((fs2 + f.z) / (fs2 - f.z), -1.0, degree(f));
  out.p = (fs2 + f.p) / (fs2 - f.p);
  out.k = f.k * std::real((fs2 - f.z).prod() / (fs2 - f.p).prod());
  return out;
}

// ---- zpk2sos(pairing='nearest'), as scipy 1.10 --------------------------------------------

bool is_real(cd x) {
  return x.imag() == 0;
}

// scipy _cplxreal: one root per conjugate pair (positive imaginary part, pairs averaged), sorted
// by real part then |imag|, followed by the real roots sorted by value.
std::vector<cd> cplxreal(std::vector<cd> z) {
  constexpr double tol = 100 * std::numeric_limits<double>::epsilon();
  std::stable_sort(z.begin(), z.end(), [](cd a, cd b) {
    if (a.real() != b.real()) return a.real() < b.real();
    return std::abs(a.imag()) < std::abs(b.imag());
  });
  std::vector<cd> real, pos, neg;
  for (const cd x : z) {
    if (std::abs(x.imag()) <= tol * std::abs(x)) {
      real.emplace_back(x.real(), 0.0);
    } else {
      (x.imag() > 0 ? pos : neg).push_back(x);
    }
  }
  if (pos.size() != neg.size()) throw std::logic_error("zpk2sos: complex root without its conjugate");
  // Runs of (nearly) equal real parts are sorted by |imag| so conjugates line up.
  std::size_t start = 0;
  for (std::size_t i = 1; i <= pos.size(); ++i) {
    const bool same = i < pos.size() && pos[i].real() - pos[i - 1].real() <= tol * std::abs(pos[i - 1]);
    if (same) continue;
    const auto by_imag = [](cd a, cd b) { return std::abs(a.imag()) < std::abs(b.imag()); };
    std::stable_sort(pos.begin() + static_cast<std::ptrdiff_t>(start),
                     pos.begin() + static_cast<std::ptrdiff_t>(i), by_imag);
    std::stable_sort(neg.begin() + static_cast<std::ptrdiff_t>(start),
                     neg.begin() + static_cast<std::ptrdiff_t>(i), by_imag);
    start = i;
  }
  std::vector<cd> out;
  for (std::size_t i = 0; i < pos.size(); ++i) out.push_back((pos[i] + std::conj(neg[i])) / 2.0);
  out.insert(out.end(), real.begin(), real.end());
  return out;
}

std::size_t worst_pole(const std::vector<cd>& p, const std::vector<std::size_t>& among) {
  std::size_t best = among.front();
  for (const std::size_t i : among) {
    if (std::abs(1 - std::abs(p[i])) < std::abs(1 - std::abs(p[best]))) best = i;
  }
  return best;
}

std::vector<std::size_t> all_indices(const std::vector<cd>& v) {
  std::vector<std::size_t> idx(v.size());
  for (std::size_t i = 0; i < v.size(); ++i) idx[i] = i;
  return idx;
}

enum class Want { any, real, complex };

// scipy _nearest_real_complex_idx: the closest element of the wanted kind.
std::size_t nearest(const std::vector<cd>& from, cd to, Want want) {
  std::size_t best = from.size();
  for (std::size_t i = 0; i < from.size(); ++i) {
    if ((want == Want::real && !is_real(from[i])) || (want == Want::complex && is_real(from[i]))) continue;
    if (best == from.size() || std::abs(from[i] - to) < std::abs(from[best] - to)) best = i;
  }
  if (best == from.size()) throw std::logic_error("zpk2sos: no root of the kind needed");
  return best;
}

cd take(std::vector<cd>& v, std::size_t i) {
  const cd x = v[i];
  v.erase(v.begin() + static_cast<std::ptrdiff_t>(i));
  return x;
}

long count_real(const std::vector<cd>& v) {
  return std::count_if(v.begin(), v.end(), is_real);
}

// zpk2tf for up to two zeros and two poles, right-aligned as scipy _single_zpksos does.
Sos single_section(const std::vector<cd>& z, const std::vector<cd>& p) {
  const auto poly = [](const std::vector<cd>& r) {
    std::vector<double> c{1.0};
    if (r.size() == 1) c = {1.0, -r[0].real()};
    if (r.size() == 2) c = {1.0, -(r[0] + r[1]).real(), (r[0] * r[1]).real()};
    while (c.size() < 3) c.insert(c.begin(), 0.0);
    return c;
  };
  const auto b = poly(z);
  const auto a = poly(p);
  if (a[0] != 1.0) throw std::logic_error("zpk2sos: section without two poles");
  return {b[0], b[1], b[2], a[1], a[2]};
}

std::vector<Sos> zpk2sos(const Zpk& f) {
  std::vector<cd> z(f.z.begin(), f.z.end());
  std::vector<cd> p(f.p.begin(), f.p.end());
  while (p.size() < z.size()) p.emplace_back(0.0);
  while (z.size() < p.size()) z.emplace_back(0.0);
  const std::size_t n_sections = (p.size() + 1) / 2;
  if (p.size() % 2 == 1) {
    p.emplace_back(0.0);
    z.emplace_back(0.0);
  }
  z = cplxreal(z);
  p = cplxreal(p);
  std::vector<Sos> sos(n_sections);
  for (std::size_t si = n_sections; si-- > 0;) {
    const cd p1 = take(p, worst_pole(p, all_indices(p)));
    if (is_real(p1) && count_real(p) == 0) {
      // Special case (1): last remaining real pole (pairing 'nearest' pads it with a pole at 0).
      const cd z1 = take(z, nearest(z, p1, Want::real));
      sos[si] = single_section({z1, 0.0}, {p1, 0.0});
    } else if (p.size() + 1 == z.size() && !is_real(p1) && count_real(p) == 1 && count_real(z) == 1) {
      // Special case (2): one real pole and one real zero left: pair with a complex zero.
      const cd z1 = take(z, nearest(z, p1, Want::complex));
      sos[si] = single_section({z1, std::conj(z1)}, {p1, std::conj(p1)});
    } else {
      cd p2 = std::conj(p1);
      if (is_real(p1)) {
        std::vector<std::size_t> reals;
        for (std::size_t i = 0; i < p.size(); ++i) {
          if (is_real(p[i])) reals.push_back(i);
        }
        p2 = take(p, worst_pole(p, reals));
      }
      if (z.empty()) {
        sos[si] = single_section({}, {p1, p2});
        continue;
      }
      const cd z1 = take(z, nearest(z, p1, Want::any));
      if (!is_real(z1)) {
        sos[si] = single_section({z1, std::conj(z1)}, {p1, p2});
      } else if (!z.empty()) {
        const cd z2 = take(z, nearest(z, p1, Want::real));
        sos[si] = single_section({z1, z2}, {p1, p2});
      } else {
        sos[si] = single_section({z1}, {p1, p2});
      }
    }
  }
  sos[0].b0 *= f.k;
  sos[0].b1 *= f.k;
  sos[0].b2 *= f.k;
  return sos;
}

}  // namespace

std::vector<Sos> butter_lowpass(int order, double cutoff_hz, double rate_hz) {
  check_rate("butter_lowpass", rate_hz);
  check_order("butter_lowpass", order);
  check_below_nyquist("butter_lowpass", "cutoff_hz", cutoff_hz, rate_hz);
  return zpk2sos(bilinear(lp2lp(buttap(order), prewarp(cutoff_hz, rate_hz))));
}

std::vector<Sos> butter_highpass(int order, double cutoff_hz, double rate_hz) {
  check_rate("butter_highpass", rate_hz);
  check_order("butter_highpass", order);
  check_below_nyquist("butter_highpass", "cutoff_hz", cutoff_hz, rate_hz);
  return zpk2sos(bilinear(lp2hp(buttap(order), prewarp(cutoff_hz, rate_hz))));
}

std::vector<Sos> butter_bandpass(int order, double low_hz, double high_hz, double rate_hz) {
  check_rate("butter_bandpass", rate_hz);
  check_order("butter_bandpass", order);
  check_below_nyquist("butter_bandpass", "low_hz", low_hz, rate_hz);
  check_below_nyquist("butter_bandpass", "high_hz", high_hz, rate_hz);
  if (!(low_hz < high_hz)) invalid("butter_bandpass", "low_hz", low_hz, "must be < high_hz");
  const double w_low = prewarp(low_hz, rate_hz);
  const double w_high = prewarp(high_hz, rate_hz);
  return zpk2sos(bilinear(lp2bp(buttap(order), std::sqrt(w_low * w_high), w_high - w_low)));
}

Sos iir_notch(double freq_hz, double quality, double rate_hz) {
  check_rate("iir_notch", rate_hz);
  check_below_nyquist("iir_notch", "freq_hz", freq_hz, rate_hz);
  if (!(quality > 0) || !std::isfinite(quality)) invalid("iir_notch", "quality", quality, "must be > 0");
  // scipy _design_notch_peak_filter (ftype='notch'), Orfanidis eqs. 11.3.4-11.3.7.
  const double w0 = 2 * freq_hz / rate_hz * std::numbers::pi;
  const double bw = 2 * freq_hz / rate_hz / quality * std::numbers::pi;
  const double gb = 1 / std::sqrt(2.0);
  const double beta = (std::sqrt(1.0 - gb * gb) / gb) * std::tan(bw / 2.0);
  const double gain = 1.0 / (1.0 + beta);
  return {gain, -2.0 * std::cos(w0) * gain, gain, -2.0 * gain * std::cos(w0), 2.0 * gain - 1.0};
}

std::vector<Sos> mains_notches(double mains_hz, double rate_hz, double max_hz, double quality) {
  check_rate("mains_notches", rate_hz);
  if (!(mains_hz > 0) || !std::isfinite(mains_hz))
    invalid("mains_notches", "mains_hz", mains_hz, "must be > 0");
  if (!(max_hz > 0)) invalid("mains_notches", "max_hz", max_hz, "must be > 0");
  if (!(quality > 0)) invalid("mains_notches", "quality", quality, "must be > 0");
  std::vector<Sos> out;
  const double nyquist_limit = 0.95 * rate_hz / 2;
  for (int k = 1;; ++k) {
    const double f = k * mains_hz;
    if (f > max_hz || !(f < nyquist_limit)) break;
    out.push_back(iir_notch(f, quality, rate_hz));
  }
  return out;
}

Band adapt_band(double low_hz, double high_hz, double rate_hz) {
  check_rate("adapt_band", rate_hz);
  if (!(low_hz > 0)) invalid("adapt_band", "low_hz", low_hz, "must be > 0");
  if (!(high_hz > low_hz)) invalid("adapt_band", "high_hz", high_hz, "must be > low_hz");
  Band band;
  band.high_hz = std::min(high_hz, 0.9 * rate_hz / 2);
  band.low_hz = std::min(low_hz, band.high_hz / 2);
  return band;
}

}  // namespace spasmwatch::dsp
