#include "app/status_text.hpp"

#include <algorithm>
#include <cstdio>
#include <vector>

namespace spasmwatch::app {

std::string status_line(const proto::DeviceStats& s) {
  std::string out = s.name();
  char buf[256];
  if (!s.device_id().empty()) {
    out += " [" + s.device_id() + (s.site().empty() ? "" : " " + s.site()) + "]";
  }
  std::vector<std::string> names;
  for (const auto& [name, st] : s.streams()) names.push_back(name);
  std::sort(names.begin(), names.end());
  for (const auto& name : names) {
    const auto& st = s.streams().at(name);
    std::snprintf(buf, sizeof buf, " | %s %uch@%gHz %llu samples, %llu lost in %llu gap%s, %llu frames",
                  name.c_str(), st.channels(), st.rate_hz(),
                  static_cast<unsigned long long>(st.samples()),
                  static_cast<unsigned long long>(st.lost_samples()),
                  static_cast<unsigned long long>(st.gaps()), st.gaps() == 1 ? "" : "s",
                  static_cast<unsigned long long>(st.frames()));
    out += buf;
  }
  if (s.streams().empty()) out += " | no samples yet";
  std::snprintf(buf, sizeof buf, " | %llu bad frame%s", static_cast<unsigned long long>(s.bad_frames()),
                s.bad_frames() == 1 ? "" : "s");
  out += buf;
  if (s.has_clock() && s.clock().points() > 0) {
    std::snprintf(buf, sizeof buf, ", clock drift %+.1f ppm", s.clock().drift_ppm());
    out += buf;
  }
  return out;
}

}  // namespace spasmwatch::app
