// Names of body sites and sides as people and files spell them ("calf", "left"), and back.
#pragma once

#include <optional>
#include <string_view>

#include "device.pb.h"

namespace spasmwatch {

[[nodiscard]] std::string_view site_name(proto::BodySite site);
[[nodiscard]] std::string_view side_name(proto::Side side);
[[nodiscard]] std::optional<proto::BodySite> parse_site(std::string_view name);
[[nodiscard]] std::optional<proto::Side> parse_side(std::string_view name);
// Neck, shoulder, upper and lower back: sites near the heart, where ECG bleeds into the EMG.
[[nodiscard]] bool is_trunk_site(proto::BodySite site);

}  // namespace spasmwatch
