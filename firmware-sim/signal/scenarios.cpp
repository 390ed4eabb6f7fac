// The scenario table. A scenario is a routine (how activities follow each other), an event rate
// and mix, and a few scalings; adding one is adding a row.
#include <array>
#include <string_view>

#include "schedule.hpp"

namespace spasmwatch::sim {
namespace detail {
namespace {

//                                           twitch spasm cramp clonus jaw_ph jaw_ton
constexpr std::array<double, kEventTypes> kAwakeMix{0.45, 0.55, 0, 0, 0, 0};
constexpr std::array<double, kEventTypes> kActiveMix{0.3, 0.7, 0, 0, 0, 0};

constexpr std::array<ScenarioSpec, 11> kScenarios{{
    {"rest", "awake, sitting still (adjusting the seat, a snack now and then); occasional spasms, twitches",
     Routine::sitting, true, 0.7, kAwakeMix, 0, 0, 1},
    {"sleep",
     "lying asleep, very low tone, turning over now and then; night twitches, spasms, cramps",
     Routine::sleep,
     false,
     0.55,
     {0.55, 0.25, 0.2, 0, 0, 0},
     0,
     0,
     1},
    {"walking", "walks and pauses: rhythmic leg bursts, steps, motion artefacts; a few spasms",
     Routine::walking, false, 0.5, kActiveMix, 0, 0, 1},
    {"typing", "desk work: keystroke bursts (forearm), low neck/shoulder tone; a few spasms", Routine::typing,
     true, 0.5, kActiveMix, 0, 0, 1},
    {"night-cramps",
     "asleep: calf/leg cramps of 10 s and more, and twitches",
     Routine::sleep,
     false,
     0.6,
     {0.6, 0, 0.4, 0, 0, 0},
     0,
     0,
     1},
    {"day-neck", "office day (typing, walking, snacks) with neck/shoulder spasms; ECG bleed on trunk",
     Routine::office, true, 0.7, kActiveMix, 0, 0, 1},
    {"night-jaw",
     "sleep bruxism at the jaw: phasic burst trains (0.25-2 s bursts), tonic episodes > 2 s",
     Routine::sleep,
     false,
     0.8,
     {0, 0, 0, 0, 0.6, 0.4},
     0,
     0,
     1},
    {"clonus",
     "sitting; clonus episodes of rhythmic 3-8 Hz bursts lasting 2-10 s, some twitches",
     Routine::quiet,
     false,
     0.6,
     {0.15, 0, 0, 0.85, 0, 0},
     0,
     0,
     1},
    {"low-snr",
     "sitting; weak events (10-35 uV RMS) near the noise floor",
     Routine::quiet,
     false,
     0.7,
     {0.35, 0.55, 0.1, 0, 0, 0},
     10,
     35,
     1},
    {"motion-artifacts", "housework: heavy movement and electrode-motion artefacts, few events",
     Routine::housework, false, 0.3, kActiveMix, 0, 0, 2.0},
    {"quiet-rest",
     "long quiet rest with no events at all (false-alarm measurement)",
     Routine::quiet,
     false,
     0,
     {0, 0, 0, 0, 0, 0},
     0,
     0,
     1},
}};

constexpr auto kNames = [] {
  std::array<std::string_view, kScenarios.size()> names{};
  for (std::size_t i = 0; i < kScenarios.size(); ++i) names[i] = kScenarios[i].name;
  return names;
}();

}  // namespace

std::span<const ScenarioSpec> scenario_table() {
  return kScenarios;
}

const ScenarioSpec* find_scenario(std::string_view name) {
  for (const auto& s : kScenarios) {
    if (s.name == name) return &s;
  }
  return nullptr;
}

bool event_possible_at(EventType type, proto::BodySite site) {
  switch (type) {
    case EventType::jaw_phasic:
    case EventType::jaw_tonic:
      return site == proto::JAW;  // bruxism is the masseter's
    case EventType::cramp:
      return site != proto::JAW;  // a sustained jaw contraction is scored as tonic bruxism
    default:
      return true;
  }
}

std::string_view to_string(ActivityKind kind) {
  switch (kind) {
    case ActivityKind::rest:
      return "rest";
    case ActivityKind::sleep:
      return "sleep";
    case ActivityKind::standing:
      return "standing";
    case ActivityKind::walking:
      return "walking";
    case ActivityKind::typing:
      return "typing";
    case ActivityKind::chewing:
      return "chewing";
    case ActivityKind::turning_over:
      return "turning_over";
    case ActivityKind::moving:
      return "moving";
    case ActivityKind::shifting:
      return "shifting";
  }
  return "unknown";
}

}  // namespace detail

std::span<const std::string_view> scenario_names() {
  return detail::kNames;
}

std::string_view scenario_description(std::string_view name) {
  const auto* spec = detail::find_scenario(name);
  return spec != nullptr ? spec->description : std::string_view{};
}

std::vector<EventType> scenario_event_types(std::string_view name, proto::BodySite site) {
  std::vector<EventType> types;
  const auto* spec = detail::find_scenario(name);
  if (spec == nullptr) return types;
  for (std::size_t i = 0; i < detail::kEventTypes; ++i) {
    const auto type = static_cast<EventType>(i);
    if (spec->mix[i] > 0 && spec->events_per_min > 0 && detail::event_possible_at(type, site)) {
      types.push_back(type);
    }
  }
  return types;
}

std::string_view to_string(EventType type) {
  switch (type) {
    case EventType::twitch:
      return "twitch";
    case EventType::spasm:
      return "spasm";
    case EventType::cramp:
      return "cramp";
    case EventType::clonus:
      return "clonus";
    case EventType::jaw_phasic:
      return "jaw_phasic";
    case EventType::jaw_tonic:
      return "jaw_tonic";
  }
  return "unknown";
}

}  // namespace spasmwatch::sim
