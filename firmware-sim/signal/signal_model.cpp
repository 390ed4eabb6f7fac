#include "signal_model.hpp"

#include <cmath>
#include <cstdio>
#include <ostream>
#include <stdexcept>

#include "acc_generator.hpp"
#include "emg_generator.hpp"
#include "schedule.hpp"

namespace spasmwatch::sim {
namespace {

constexpr double kMaxDurationS = 366.0 * 86400;

std::string number(double v) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%g", v);
  return buf;
}

[[noreturn]] void reject(std::string_view field, const std::string& value, std::string_view expected) {
  throw std::invalid_argument(std::string(field) + ": " + value + " is invalid; expected " +
                              std::string(expected));
}

const detail::ScenarioSpec& validate(const SignalConfig& c) {
  const auto* spec = detail::find_scenario(c.scenario);
  if (spec == nullptr) {
    std::string known;
    for (const auto name : scenario_names()) known += (known.empty() ? "" : ", ") + std::string(name);
    reject("scenario", "'" + c.scenario + "'", "one of " + known);
  }
  if (!proto::BodySite_IsValid(c.site) || c.site == proto::SITE_UNSPECIFIED) {
    reject("site", std::to_string(static_cast<int>(c.site)), "a body site (neck .. forearm)");
  }
  if (!proto::Side_IsValid(c.side) || c.side == proto::SIDE_UNSPECIFIED) {
    reject("side", std::to_string(static_cast<int>(c.side)), "left, right or midline");
  }
  if (c.emg_channels < 1 || c.emg_channels > 8) {
    reject("emg_channels", std::to_string(c.emg_channels), "1..8");
  }
  if (c.emg_rate_hz != 500 && c.emg_rate_hz != 1000 && c.emg_rate_hz != 2000) {
    reject("emg_rate_hz", number(c.emg_rate_hz), "500, 1000 or 2000");
  }
  if (!(c.acc_rate_hz >= 25 && c.acc_rate_hz <= 400)) {
    reject("acc_rate_hz", number(c.acc_rate_hz), "25..400");
  }
  if (c.mains_hz != 0 && c.mains_hz != 50 && c.mains_hz != 60) {
    reject("mains_hz", number(c.mains_hz), "50, 60 or 0 (none)");
  }
  if (!(c.duration_s > 0 && c.duration_s <= kMaxDurationS)) {
    reject("duration_s", number(c.duration_s), "> 0 and at most a year");
  }
  return *spec;
}

std::string_view lower_site(proto::BodySite site) {
  switch (site) {
    case proto::NECK:
      return "neck";
    case proto::SHOULDER:
      return "shoulder";
    case proto::UPPER_BACK:
      return "upper_back";
    case proto::LOWER_BACK:
      return "lower_back";
    case proto::THIGH:
      return "thigh";
    case proto::CALF:
      return "calf";
    case proto::JAW:
      return "jaw";
    case proto::FOREARM:
      return "forearm";
    default:
      return "unspecified";
  }
}

std::string_view lower_side(proto::Side side) {
  switch (side) {
    case proto::LEFT:
      return "left";
    case proto::RIGHT:
      return "right";
    case proto::MIDLINE:
      return "midline";
    default:
      return "unspecified";
  }
}

}  // namespace

SignalModel::SignalModel(const SignalConfig& config) : config_(config) {
  const auto& spec = validate(config_);
  schedule_ = std::make_unique<detail::Schedule>(detail::build_schedule(config_, spec));
  emg_ = std::make_unique<detail::EmgGenerator>(config_, *schedule_, spec);
  acc_ = std::make_unique<detail::AccGenerator>(config_, *schedule_, spec);
}

SignalModel::~SignalModel() = default;
SignalModel::SignalModel(SignalModel&&) noexcept = default;
SignalModel& SignalModel::operator=(SignalModel&&) noexcept = default;

void SignalModel::generate_emg(std::span<std::int32_t> out_interleaved) {
  if (out_interleaved.size() % static_cast<std::size_t>(config_.emg_channels) != 0) {
    throw std::invalid_argument("generate_emg: " + std::to_string(out_interleaved.size()) +
                                " values is not a multiple of emg_channels (" +
                                std::to_string(config_.emg_channels) + ")");
  }
  emg_->generate(out_interleaved);
}

void SignalModel::generate_acc(std::span<std::int32_t> out_interleaved) {
  if (out_interleaved.size() % 3 != 0) {
    throw std::invalid_argument("generate_acc: " + std::to_string(out_interleaved.size()) +
                                " values is not a multiple of 3 axes");
  }
  acc_->generate(out_interleaved);
}

std::uint64_t SignalModel::emg_time_points() const {
  return emg_->time_points();
}
std::uint64_t SignalModel::acc_time_points() const {
  return acc_->time_points();
}
const std::vector<TruthEvent>& SignalModel::truth() const {
  return schedule_->truth;
}
const std::vector<ActivitySegment>& SignalModel::activities() const {
  return schedule_->activities;
}
const SignalConfig& SignalModel::config() const {
  return config_;
}

void write_truth_csv(std::ostream& out, const SignalModel& model) {
  out << "start_s,end_s,type,site,side,peak_uv\n";
  char buf[160];
  for (const auto& e : model.truth()) {
    std::snprintf(buf, sizeof buf, "%.3f,%.3f,", e.start_s, e.end_s);
    out << buf << to_string(e.type) << ',' << lower_site(e.site) << ',' << lower_side(e.side);
    std::snprintf(buf, sizeof buf, ",%.1f\n", e.peak_uv);
    out << buf;
  }
}

}  // namespace spasmwatch::sim
