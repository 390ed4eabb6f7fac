// Scoring detections against ground truth (pure). Matching rule: a detection matches a truth
// event when their time intervals overlap; pairs are formed one-to-one, closest onsets first.
// Unmatched detections are false alarms, unmatched truth events are misses.
#pragma once

#include <array>
#include <map>
#include <string>
#include <vector>

#include "events.pb.h"

namespace spasmwatch::detect {

struct LabelledEvent {
  double start_s = 0;
  double end_s = 0;
  proto::EventType type = proto::EVENT_TYPE_UNSPECIFIED;
  std::string group;  // e.g. "day-neck/neck": results are also broken down by group
};

struct Metrics {
  std::size_t truth = 0;
  std::size_t detected = 0;
  std::size_t matched = 0;
  std::size_t type_correct = 0;
  double hours = 0;
  double precision = 0;
  double recall = 0;
  double f1 = 0;
  double onset_median_ms = 0;
  double onset_p95_ms = 0;
  double offset_median_ms = 0;
  double offset_p95_ms = 0;
  double false_alarms_per_hour = 0;
  double type_accuracy = 0;
  // confusion[truth type][detected type], proto::EventType values 0..6
  std::array<std::array<std::size_t, 7>, 7> confusion{};
  std::vector<double> onset_errors_ms;   // kept for pooling across runs
  std::vector<double> offset_errors_ms;
};

// Matches within one recording. `hours` is the recording's length.
[[nodiscard]] Metrics score(const std::vector<LabelledEvent>& truth, const std::vector<LabelledEvent>& detected,
                            double hours);

// Adds `part` into `total` (counts, errors, hours) and recomputes the derived figures.
void accumulate(Metrics& total, const Metrics& part);
void finish_metrics(Metrics& m);

[[nodiscard]] std::string type_name(proto::EventType type);

}  // namespace spasmwatch::detect
