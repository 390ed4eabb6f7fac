#include "detect/evidence.hpp"

#include <cmath>

namespace spasmwatch::detect {

double evidence_confidence(const EvidenceVector& evidence, const EvidenceVector& weights) {
  double score = 0;
  for (std::size_t i = 0; i < kEvidenceCount; ++i) score += weights[i] * evidence[i];
  return 1.0 / (1.0 + std::exp(-score));
}

}  // namespace spasmwatch::detect
