#include "common/body_site.hpp"

#include <array>
#include <utility>

namespace spasmwatch {
namespace {

constexpr std::array<std::pair<proto::BodySite, std::string_view>, 9> kSites{{
    {proto::SITE_UNSPECIFIED, "unspecified"},
    {proto::NECK, "neck"},
    {proto::SHOULDER, "shoulder"},
    {proto::UPPER_BACK, "upper_back"},
    {proto::LOWER_BACK, "lower_back"},
    {proto::THIGH, "thigh"},
    {proto::CALF, "calf"},
    {proto::JAW, "jaw"},
    {proto::FOREARM, "forearm"},
}};

constexpr std::array<std::pair<proto::Side, std::string_view>, 4> kSides{{
    {proto::SIDE_UNSPECIFIED, "unspecified"},
    {proto::LEFT, "left"},
    {proto::RIGHT, "right"},
    {proto::MIDLINE, "midline"},
}};

}  // namespace

std::string_view site_name(proto::BodySite site) {
  for (const auto& [value, name] : kSites) {
    if (value == site) return name;
  }
  return "unknown";
}

std::string_view side_name(proto::Side side) {
  for (const auto& [value, name] : kSides) {
    if (value == side) return name;
  }
  return "unknown";
}

std::optional<proto::BodySite> parse_site(std::string_view name) {
  for (const auto& [value, text] : kSites) {
    if (text == name && value != proto::SITE_UNSPECIFIED) return value;
  }
  return std::nullopt;
}

std::optional<proto::Side> parse_side(std::string_view name) {
  for (const auto& [value, text] : kSides) {
    if (text == name && value != proto::SIDE_UNSPECIFIED) return value;
  }
  return std::nullopt;
}

bool is_trunk_site(proto::BodySite site) {
  return site == proto::NECK || site == proto::SHOULDER || site == proto::UPPER_BACK || site == proto::LOWER_BACK;
}

}  // namespace spasmwatch
