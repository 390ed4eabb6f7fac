// Test support: counts calls of the global operator new, so tests can assert that a steady-state
// path allocates nothing. Linking allocation_counter.cpp into a test binary replaces operator new.
#pragma once

#include <cstdint>

namespace spasmwatch::record::testing {

[[nodiscard]] std::uint64_t allocation_count();

}  // namespace spasmwatch::record::testing
