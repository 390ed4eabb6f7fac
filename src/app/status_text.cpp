#include "app/status_text.hpp"

#include "common/body_site.hpp"
#include "common/clock.hpp"
#include "detect/evaluation.hpp"

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
  std::snprintf(buf, sizeof buf, " | %llu event%s | %llu bad frame%s", static_cast<unsigned long long>(s.events()),
                s.events() == 1 ? "" : "s", static_cast<unsigned long long>(s.bad_frames()),
                s.bad_frames() == 1 ? "" : "s");
  out += buf;
  if (s.has_clock() && s.clock().points() > 0) {
    std::snprintf(buf, sizeof buf, ", clock drift %+.1f ppm", s.clock().drift_ppm());
    out += buf;
  }
  return out;
}

std::string event_line(const proto::Event& e) {
  char when[48] = "?";
  if (e.start_utc_ns() != 0) (void)format_utc_ms(e.start_utc_ns(), when);
  const std::string type = e.type() == proto::EVENT_TYPE_UNSPECIFIED ? "activation" : detect::type_name(e.type());
  const std::string where = std::string(site_name(e.site())) + "/" + std::string(side_name(e.side()));
  char buf[400];
  switch (e.state()) {
    case proto::PROVISIONAL:
      std::snprintf(buf, sizeof buf, "%s: onset at %s (device %.3f s), %s, provisional [%s]", e.device().c_str(), when,
                    e.device_start_s(), where.c_str(), e.id().c_str());
      break;
    case proto::RETRACTED:
      std::snprintf(buf, sizeof buf, "%s: onset at device %.3f s retracted (voluntary activity or noise) [%s]",
                    e.device().c_str(), e.device_start_s(), e.id().c_str());
      break;
    default:
      std::snprintf(buf, sizeof buf,
                    "%s: EVENT %s %s at %s (device %.3f s), %.2f s, peak %.0f uV (snr %.1f), acc %.2f g, conf %.2f, %s [%s]",
                    e.device().c_str(), type.c_str(), where.c_str(), when, e.device_start_s(), e.duration_s(),
                    e.peak_uv(), e.snr(), e.acc_peak_g(), e.confidence(),
                    e.context() == proto::ASLEEP ? "asleep" : e.context() == proto::ACTIVE ? "active" : "at rest",
                    e.id().c_str());
  }
  return buf;
}

}  // namespace spasmwatch::app
