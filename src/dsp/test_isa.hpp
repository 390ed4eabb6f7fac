// Test helper: run the hot loops of each ISA level this CPU supports (see sos_kernel.hpp).
#pragma once

#include <vector>

#include "dsp/sos_filter.hpp"

namespace spasmwatch::dsp::test {

// Forces one ISA level for the scope of the object, then restores the best one.
class IsaScope {
 public:
  explicit IsaScope(detail::Isa isa) { detail::override_isa(isa); }
  ~IsaScope() { detail::override_isa(detail::best_isa()); }
  IsaScope(const IsaScope&) = delete;
  IsaScope& operator=(const IsaScope&) = delete;
};

inline std::vector<detail::Isa> supported_isas() {
  std::vector<detail::Isa> out;
  for (int i = 0; i <= static_cast<int>(detail::best_isa()); ++i) out.push_back(static_cast<detail::Isa>(i));
  return out;
}

}  // namespace spasmwatch::dsp::test
