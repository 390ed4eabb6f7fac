#include "app/eval.hpp"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <fstream>
#include <iterator>
#include <sstream>
#include <stdexcept>

#include "common/body_site.hpp"
#include "common/proto_json.hpp"
#include "detect/device_pipeline.hpp"
#include "ingest/stream_assembler.hpp"
#include "protocol/frame_decoder.hpp"
#include "protocol/message_codec.hpp"
#include "signal_model.hpp"
#include "sim_device.hpp"

namespace spasmwatch::app {

namespace {

proto::EventType truth_type(sim::EventType t) {
  switch (t) {
    case sim::EventType::twitch: return proto::TWITCH;
    case sim::EventType::spasm: return proto::SPASM;
    case sim::EventType::cramp: return proto::CRAMP;
    case sim::EventType::clonus: return proto::CLONUS;
    case sim::EventType::jaw_phasic: return proto::JAW_PHASIC;
    case sim::EventType::jaw_tonic: return proto::JAW_TONIC;
  }
  return proto::EVENT_TYPE_UNSPECIFIED;
}

proto::EventType parse_type(const std::string& name) {
  for (int t = proto::TWITCH; t <= proto::JAW_TONIC; ++t) {
    if (detect::type_name(static_cast<proto::EventType>(t)) == name) return static_cast<proto::EventType>(t);
  }
  return proto::EVENT_TYPE_UNSPECIFIED;
}

std::string group_of(const EvalCase& c) { return c.scenario + "/" + std::string(site_name(c.site)); }

}  // namespace

std::vector<EvalCase> default_suite(const std::vector<std::uint64_t>& seeds, double scale) {
  struct Row {
    const char* scenario;
    proto::BodySite site;
    double hours;
  };
  static constexpr Row kRows[] = {
      {"night-cramps", proto::CALF, 8},      {"day-neck", proto::NECK, 8},
      {"day-neck", proto::SHOULDER, 4},      {"night-jaw", proto::JAW, 8},
      {"clonus", proto::CALF, 2},            {"low-snr", proto::FOREARM, 2},
      {"motion-artifacts", proto::THIGH, 2}, {"quiet-rest", proto::UPPER_BACK, 4},
      {"rest", proto::LOWER_BACK, 2},        {"sleep", proto::CALF, 8},
      {"walking", proto::CALF, 2},           {"typing", proto::FOREARM, 2},
  };
  std::vector<EvalCase> out;
  for (const auto seed : seeds) {
    for (const auto& r : kRows) {
      EvalCase c;
      c.scenario = r.scenario;
      c.site = r.site;
      c.duration_s = std::max(60.0, r.hours * 3600 * scale);
      c.seed = seed;
      out.push_back(c);
    }
  }
  return out;
}

CaseResult run_case(const EvalCase& c, const detect::DetectorConfig& config) {
  sim::SignalConfig sc;
  sc.scenario = c.scenario;
  sc.site = c.site;
  sc.side = proto::LEFT;
  sc.seed = c.seed;
  sc.emg_channels = c.channels;
  sc.emg_rate_hz = c.emg_rate_hz;
  sc.acc_rate_hz = c.acc_rate_hz;
  sc.duration_s = c.duration_s;
  sim::SignalModel model(sc);
  sim::DeviceSettings settings;
  settings.device_id = "eval";
  sim::SimDevice device(model, settings);

  CaseResult result;
  result.config = c;
  std::vector<detect::LabelledEvent> detected;
  detect::DevicePipeline pipeline("eval", config, [&](const proto::Event& e) {
    if (c.keep_evidence && e.duration_s() > 0 && e.state() != proto::PROVISIONAL) {
      result.judged.push_back({e, pipeline.evidence()});
    }
    if (e.state() == proto::RETRACTED && e.duration_s() > 0) result.rejected.push_back(e);
    if (e.state() != proto::FINAL) return;
    result.events.push_back(e);
    detected.push_back({e.device_start_s(), e.device_end_s(), e.type(), group_of(c)});
  });
  ingest::DeviceAssembler assembler("eval", &pipeline);
  pipeline.set_clock(&assembler.clock());

  // The same path as live ingest: frames encoded by the device, decoded and assembled here.
  protocol::FrameDecoder decoder;
  proto::DeviceMessage message;
  sim::run_in_process(device, 0.25, [&](std::vector<sim::OutgoingFrame>& frames, double t) {
    for (const auto& f : frames) {
      std::span<const std::uint8_t> in(f.bytes);
      while (!in.empty()) {
        const auto r = decoder.next(in);
        if (r.status != protocol::FrameDecoder::Status::frame) continue;
        if (protocol::parse_device_message(r.payload, message) != protocol::FrameError::none) continue;
        protocol::FrameEvent e;
        e.host_time_ns = 1'700'000'000'000'000'000 + static_cast<std::int64_t>(t * 1e9);
        e.message = &message;
        assembler.on_event(e);
      }
    }
  });
  pipeline.finish();

  for (const auto& a : model.activities()) result.activities.push_back({a.start_s, a.end_s, a.kind});
  std::vector<detect::LabelledEvent> truth;
  for (const auto& t : model.truth()) truth.push_back({t.start_s, t.end_s, truth_type(t.type), group_of(c)});
  result.metrics = detect::score(truth, detected, c.duration_s / 3600);
  result.truth = truth;
  return result;
}

const CaseResult::Activity* CaseResult::activity_at(double t) const {
  const auto it = std::upper_bound(activities.begin(), activities.end(), t,
                                   [](double time, const Activity& a) { return time < a.start_s; });
  return it == activities.begin() ? nullptr : &*std::prev(it);
}

std::string case_listing(const CaseResult& r) {
  struct Row {
    double t;
    std::string text;
  };
  std::vector<Row> rows;
  char buf[400];
  for (const auto& t : r.truth) {
    bool hit = false;
    for (const auto& e : r.events) hit |= std::min(t.end_s, e.device_end_s()) > std::max(t.start_s, e.device_start_s());
    std::snprintf(buf, sizeof buf, "%9.2f  TRUTH %-10s %7.2f s %s", t.start_s, detect::type_name(t.type).c_str(),
                  t.end_s - t.start_s, hit ? "" : "  <-- MISSED");
    rows.push_back({t.start_s, buf});
  }
  for (const auto& e : r.events) {
    bool hit = false;
    for (const auto& t : r.truth) hit |= std::min(t.end_s, e.device_end_s()) > std::max(t.start_s, e.device_start_s());
    std::snprintf(buf, sizeof buf, "%9.2f  found %-10s %7.2f s peak %6.1f snr %6.1f acc %.3f conf %.2f ctx %d rise %.3f fill %.2f%s",
                  e.device_start_s(), detect::type_name(e.type()).c_str(), e.duration_s(), e.peak_uv(), e.snr(),
                  e.acc_peak_g(), e.confidence(), e.context(), e.rise_s(), e.fill(), hit ? "" : "  <-- FALSE ALARM");
    rows.push_back({e.device_start_s() + 1e-6, buf});
    if (const auto* activity = r.activity_at(e.device_start_s()); !hit && activity != nullptr) {
      std::snprintf(buf, sizeof buf, " (during %s, %.1f s into it)", activity->kind.c_str(),
                    e.device_start_s() - activity->start_s);
      rows.back().text += buf;
    }
  }
  for (const auto& e : r.rejected) {
    bool hit = false;
    for (const auto& t : r.truth) hit |= std::min(t.end_s, e.device_end_s()) > std::max(t.start_s, e.device_start_s());
    if (!hit && !r.list_all_rejected) continue;
    std::snprintf(buf, sizeof buf, "%9.2f  rejected %-7s %7.2f s peak %6.1f snr %6.1f acc %.3f conf %.2f ctx %d rise %.3f fill %.2f%s%s",
                  e.device_start_s(), detect::type_name(e.type()).c_str(), e.duration_s(), e.peak_uv(), e.snr(),
                  e.acc_peak_g(), e.confidence(), e.context(), e.rise_s(), e.fill(), e.voluntary_pattern() ? " RHYTHM" : "",
                  hit ? "  <-- (overlaps truth)" : "");
    rows.push_back({e.device_start_s() + 2e-6, buf});
  }
  std::sort(rows.begin(), rows.end(), [](const Row& a, const Row& b) { return a.t < b.t; });
  std::string out = "== " + group_of(r.config) + " seed " + std::to_string(r.config.seed) + "\n";
  for (const auto& row : rows) out += row.text + "\n";
  return out;
}

std::string evidence_csv_header() {
  std::string out =
      "scenario,site,seed,start_s,end_s,reported,type,truth_onset_error_s,truth_cover,confidence,activity";
  for (const auto name : detect::kEvidenceNames) out += "," + std::string(name);
  return out + "\n";
}

std::string evidence_csv_rows(const CaseResult& r) {
  std::string out;
  char buf[64];
  for (const auto& j : r.judged) {
    const auto& e = j.event;
    // The truth event overlapping this activation most.
    double best_overlap = 0, onset_error = 0;
    for (const auto& t : r.truth) {
      const double overlap = std::min(t.end_s, e.device_end_s()) - std::max(t.start_s, e.device_start_s());
      if (overlap > best_overlap) {
        best_overlap = overlap;
        onset_error = e.device_start_s() - t.start_s;
      }
    }
    const double length = std::max(e.device_end_s() - e.device_start_s(), 1e-6);
    std::snprintf(buf, sizeof buf, "%.3f,%.3f,", e.device_start_s(), e.device_end_s());
    out += r.config.scenario + "," + std::string(site_name(r.config.site)) + "," + std::to_string(r.config.seed) +
           "," + buf + (e.state() == proto::FINAL ? "1," : "0,") + detect::type_name(e.type());
    if (best_overlap > 0) {
      std::snprintf(buf, sizeof buf, ",%.3f,%.3f", onset_error, best_overlap / length);
    } else {
      std::snprintf(buf, sizeof buf, ",,0");
    }
    out += buf;
    std::snprintf(buf, sizeof buf, ",%.4f,", e.confidence());
    out += buf;
    if (const auto* activity = r.activity_at(e.device_start_s())) out += activity->kind;
    for (const double v : j.evidence) {
      std::snprintf(buf, sizeof buf, ",%.6g", v);
      out += buf;
    }
    out += "\n";
  }
  return out;
}

std::vector<detect::LabelledEvent> read_truth_csv(const std::string& path) {
  std::ifstream in(path);
  if (!in) throw std::runtime_error("cannot read truth file " + path);
  std::vector<detect::LabelledEvent> out;
  std::string line;
  int line_no = 0;
  while (std::getline(in, line)) {
    ++line_no;
    if (line.empty() || line.starts_with("start_s") || line.starts_with("#")) continue;
    std::stringstream ss(line);
    std::string start, end, type;
    if (!std::getline(ss, start, ',') || !std::getline(ss, end, ',') || !std::getline(ss, type, ',')) {
      throw std::runtime_error(path + ":" + std::to_string(line_no) + ": expected start_s,end_s,type,...");
    }
    detect::LabelledEvent e;
    try {
      e.start_s = std::stod(start);
      e.end_s = std::stod(end);
    } catch (const std::exception&) {
      throw std::runtime_error(path + ":" + std::to_string(line_no) + ": bad time '" + start + "' or '" + end + "'");
    }
    e.type = parse_type(type);
    if (e.type == proto::EVENT_TYPE_UNSPECIFIED) {
      throw std::runtime_error(path + ":" + std::to_string(line_no) + ": unknown event type '" + type + "'");
    }
    if (!(e.end_s >= e.start_s)) throw std::runtime_error(path + ":" + std::to_string(line_no) + ": end before start");
    out.push_back(e);
  }
  return out;
}

std::vector<detect::LabelledEvent> read_events_jsonl(const std::string& path) {
  std::ifstream in(path);
  if (!in) throw std::runtime_error("cannot read events file " + path);
  std::vector<detect::LabelledEvent> out;
  std::string line;
  int line_no = 0;
  while (std::getline(in, line)) {
    ++line_no;
    if (line.empty()) continue;
    proto::Event e;
    std::string error;
    if (!from_json(line, e, error)) throw std::runtime_error(path + ":" + std::to_string(line_no) + ": " + error);
    if (e.state() != proto::FINAL) continue;
    out.push_back({e.device_start_s(), e.device_end_s(), e.type(), ""});
  }
  return out;
}

std::string metrics_json(const detect::Metrics& m, const std::vector<CaseResult>& cases) {
  auto one = [](const detect::Metrics& x) {
    char buf[1024];
    std::snprintf(buf, sizeof buf,
                  "{\"precision\": %.4f, \"recall\": %.4f, \"f1\": %.4f, \"onset_error_ms\": {\"median\": %.1f, "
                  "\"p95\": %.1f}, \"offset_error_ms\": {\"median\": %.1f, \"p95\": %.1f}, "
                  "\"false_alarms_per_hour\": %.3f, \"type_accuracy\": %.4f, \"truth_events\": %zu, "
                  "\"detections\": %zu, \"matched\": %zu, \"hours\": %.2f",
                  x.precision, x.recall, x.f1, x.onset_median_ms, x.onset_p95_ms, x.offset_median_ms,
                  x.offset_p95_ms, x.false_alarms_per_hour, x.type_accuracy, x.truth, x.detected, x.matched,
                  x.hours);
    return std::string(buf);
  };
  std::string s = one(m);
  s += ", \"confusion\": {";
  bool first_row = true;
  for (int t = 0; t < 7; ++t) {
    std::string row;
    for (int d = 0; d < 7; ++d) {
      const auto n = m.confusion[static_cast<std::size_t>(t)][static_cast<std::size_t>(d)];
      if (n == 0) continue;
      row += (row.empty() ? "" : ", ") + std::string("\"") + detect::type_name(static_cast<proto::EventType>(d)) +
             "\": " + std::to_string(n);
    }
    if (row.empty()) continue;
    s += (first_row ? "" : ", ") + std::string("\"") + detect::type_name(static_cast<proto::EventType>(t)) + "\": {" + row + "}";
    first_row = false;
  }
  s += "}";
  if (!cases.empty()) {
    // Per scenario/site group, pooled over seeds.
    std::map<std::string, detect::Metrics> groups;
    for (const auto& c : cases) detect::accumulate(groups[group_of(c.config)], c.metrics);
    s += ", \"groups\": {";
    bool first = true;
    for (const auto& [name, g] : groups) {
      s += (first ? "" : ", ") + std::string("\"") + name + "\": " + one(g) + "}";
      first = false;
    }
    s += "}";
  }
  s += "}\n";
  return s;
}

std::string metrics_text(const detect::Metrics& m, const std::vector<CaseResult>& cases) {
  std::string s;
  char buf[512];
  std::map<std::string, detect::Metrics> groups;
  for (const auto& c : cases) detect::accumulate(groups[group_of(c.config)], c.metrics);
  std::snprintf(buf, sizeof buf, "%-26s %6s %6s %6s %6s %8s %8s %8s %7s\n", "scenario/site", "truth", "found", "P",
                "R", "F1", "onset50", "FA/h", "type%");
  s += buf;
  auto row = [&](const std::string& name, const detect::Metrics& g) {
    std::snprintf(buf, sizeof buf, "%-26s %6zu %6zu %6.3f %6.3f %8.3f %6.0fms %8.2f %6.1f%%\n", name.c_str(), g.truth,
                  g.detected, g.precision, g.recall, g.f1, g.onset_median_ms, g.false_alarms_per_hour,
                  100 * g.type_accuracy);
    s += buf;
  };
  for (const auto& [name, g] : groups) row(name, g);
  row("ALL", m);
  std::snprintf(buf, sizeof buf, "onset error p95 %.0f ms, offset error median %.0f ms / p95 %.0f ms, %.1f hours\n",
                m.onset_p95_ms, m.offset_median_ms, m.offset_p95_ms, m.hours);
  s += buf;
  return s;
}

}  // namespace spasmwatch::app
