// `spasmwatch eval`: runs the simulator in-process (as fast as possible, through the same frame
// decoder, assembler and detector as live ingest) or reads a truth CSV and an events JSON-lines
// file, and scores the detections (detect/evaluation.hpp has the matching rule).
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "detect/detector_config.hpp"
#include "detect/evaluation.hpp"
#include "device.pb.h"

namespace spasmwatch::app {

struct EvalCase {
  std::string scenario;
  proto::BodySite site = proto::NECK;
  double duration_s = 3600;
  std::uint64_t seed = 1;
  int channels = 2;
  double emg_rate_hz = 1000;
  double acc_rate_hz = 100;
  bool keep_evidence = false;
};

struct CaseResult {
  EvalCase config;
  detect::Metrics metrics;
  std::vector<proto::Event> events;  // FINAL events detected
  std::vector<detect::LabelledEvent> truth;
  std::vector<proto::Event> rejected;  // with DetectorConfig::report_rejected
  bool list_all_rejected = false;
  // With EvalCase::keep_evidence: every judged activation (FINAL or rejected) and its evidence.
  struct Judged {
    proto::Event event;
    detect::EvidenceVector evidence{};
  };
  std::vector<Judged> judged;
  // Simulated cases: what the wearer was doing (the simulator's activity plan), in time order.
  struct Activity {
    double start_s;
    double end_s;
    std::string kind;
  };
  std::vector<Activity> activities;
  // The activity at device time t (null for recordings, which have no plan).
  [[nodiscard]] const Activity* activity_at(double t) const;
};

// One CSV row per judged activation: scenario, site, seed, times, the truth event it overlaps
// most (onset error, fraction of the activation it covers), confidence, the simulated activity
// at its onset, then the evidence by name. tools/train_detector.py fits the weights from these rows.
[[nodiscard]] std::string evidence_csv_header();
[[nodiscard]] std::string evidence_csv_rows(const CaseResult& r);

// Every truth event and detection in time order, marking misses and false alarms (with the
// simulated activity they fell in), for tuning.
[[nodiscard]] std::string case_listing(const CaseResult& r);

// The scenario suite of the detection issue: each scenario at its natural site and length.
[[nodiscard]] std::vector<EvalCase> default_suite(const std::vector<std::uint64_t>& seeds, double scale = 1.0);

[[nodiscard]] CaseResult run_case(const EvalCase& c, const detect::DetectorConfig& config);

// Truth CSV (wearable-sim --truth) and events JSON lines (--events). Throw std::runtime_error
// naming the file and line on bad input.
[[nodiscard]] std::vector<detect::LabelledEvent> read_truth_csv(const std::string& path);
[[nodiscard]] std::vector<detect::LabelledEvent> read_events_jsonl(const std::string& path);

// One JSON object with the figures (precision, recall, f1, onset_error_ms {median, p95}, ...).
[[nodiscard]] std::string metrics_json(const detect::Metrics& m, const std::vector<CaseResult>& cases);
[[nodiscard]] std::string metrics_text(const detect::Metrics& m, const std::vector<CaseResult>& cases);

}  // namespace spasmwatch::app
