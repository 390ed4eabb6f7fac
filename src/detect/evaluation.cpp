#include "detect/evaluation.hpp"

#include <algorithm>
#include <cmath>
#include <tuple>

namespace spasmwatch::detect {

namespace {

double quantile(std::vector<double> v, double q) {
  if (v.empty()) return 0;
  std::sort(v.begin(), v.end());
  const double pos = q * static_cast<double>(v.size() - 1);
  const auto lo = static_cast<std::size_t>(std::floor(pos));
  const auto hi = std::min(lo + 1, v.size() - 1);
  return v[lo] + (v[hi] - v[lo]) * (pos - static_cast<double>(lo));
}

}  // namespace

std::string type_name(proto::EventType type) {
  switch (type) {
    case proto::TWITCH: return "twitch";
    case proto::SPASM: return "spasm";
    case proto::CRAMP: return "cramp";
    case proto::CLONUS: return "clonus";
    case proto::JAW_PHASIC: return "jaw_phasic";
    case proto::JAW_TONIC: return "jaw_tonic";
    default: return "unspecified";
  }
}

void finish_metrics(Metrics& m) {
  m.precision = m.detected ? static_cast<double>(m.matched) / static_cast<double>(m.detected) : (m.truth ? 0 : 1);
  m.recall = m.truth ? static_cast<double>(m.matched) / static_cast<double>(m.truth) : 1;
  m.f1 = m.precision + m.recall > 0 ? 2 * m.precision * m.recall / (m.precision + m.recall) : 0;
  m.onset_median_ms = quantile(m.onset_errors_ms, 0.5);
  m.onset_p95_ms = quantile(m.onset_errors_ms, 0.95);
  m.offset_median_ms = quantile(m.offset_errors_ms, 0.5);
  m.offset_p95_ms = quantile(m.offset_errors_ms, 0.95);
  m.false_alarms_per_hour = m.hours > 0 ? static_cast<double>(m.detected - m.matched) / m.hours : 0;
  m.type_accuracy = m.matched ? static_cast<double>(m.type_correct) / static_cast<double>(m.matched) : 1;
}

Metrics score(const std::vector<LabelledEvent>& truth, const std::vector<LabelledEvent>& detected, double hours) {
  Metrics m;
  m.truth = truth.size();
  m.detected = detected.size();
  m.hours = hours;
  // Candidate pairs: every overlapping (truth, detection), closest onsets first.
  std::vector<std::tuple<double, std::size_t, std::size_t>> pairs;
  for (std::size_t t = 0; t < truth.size(); ++t) {
    for (std::size_t d = 0; d < detected.size(); ++d) {
      const double overlap = std::min(truth[t].end_s, detected[d].end_s) - std::max(truth[t].start_s, detected[d].start_s);
      if (overlap > 0) pairs.emplace_back(std::abs(truth[t].start_s - detected[d].start_s), t, d);
    }
  }
  std::sort(pairs.begin(), pairs.end());
  std::vector<bool> truth_used(truth.size()), det_used(detected.size());
  for (const auto& [distance, t, d] : pairs) {
    if (truth_used[t] || det_used[d]) continue;
    truth_used[t] = det_used[d] = true;
    ++m.matched;
    m.onset_errors_ms.push_back(1000 * std::abs(detected[d].start_s - truth[t].start_s));
    m.offset_errors_ms.push_back(1000 * std::abs(detected[d].end_s - truth[t].end_s));
    const auto tt = static_cast<std::size_t>(std::clamp<int>(truth[t].type, 0, 6));
    const auto dt = static_cast<std::size_t>(std::clamp<int>(detected[d].type, 0, 6));
    ++m.confusion[tt][dt];
    if (tt == dt) ++m.type_correct;
  }
  finish_metrics(m);
  return m;
}

void accumulate(Metrics& total, const Metrics& part) {
  total.truth += part.truth;
  total.detected += part.detected;
  total.matched += part.matched;
  total.type_correct += part.type_correct;
  total.hours += part.hours;
  for (std::size_t i = 0; i < 7; ++i) {
    for (std::size_t j = 0; j < 7; ++j) total.confusion[i][j] += part.confusion[i][j];
  }
  total.onset_errors_ms.insert(total.onset_errors_ms.end(), part.onset_errors_ms.begin(), part.onset_errors_ms.end());
  total.offset_errors_ms.insert(total.offset_errors_ms.end(), part.offset_errors_ms.begin(), part.offset_errors_ms.end());
  finish_metrics(total);
}

}  // namespace spasmwatch::detect
