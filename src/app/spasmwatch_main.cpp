// spasmwatch: the command line. Subcommands: replay (more come with detection and storage).
// Exit codes: 0 success (a truncated recording tail, as after a crash, is reported but is not an
// error), 1 bad command line, 2 a file could not be read as a recording, 3 a recording had a
// corrupt record (results up to it are still printed).
#include <CLI/CLI.hpp>
#include <unistd.h>

#include <cstdio>
#include <iostream>

#include "app/eval.hpp"
#include "app/replay.hpp"
#include "common/body_site.hpp"
#include <fstream>
#include "app/status_text.hpp"
#include "common/proto_json.hpp"

using namespace spasmwatch;

namespace {

int run_replay(const app::ReplayOptions& base, bool json, const std::string& stats_json,
               const std::string& events_path) {
  SystemClock clock;
  app::ReplayOptions options = base;
  std::ofstream events_file;
  if (!events_path.empty()) {
    events_file.open(events_path, std::ios::trunc);
    if (!events_file) {
      std::cerr << "spasmwatch replay: cannot write events file " << events_path << "\n";
      return 2;
    }
  }
  options.on_event = [&](const proto::Event& e) {
    if (events_file.is_open()) events_file << to_json_line(e) << '\n';
    if (!json && e.state() == proto::FINAL) std::cout << app::event_line(e) << "\n";
  };
  const bool tty = isatty(STDERR_FILENO) != 0;
  const auto started_ns = clock.steady_ns();
  std::int64_t last_ns = 0;
  if (tty) {
    options.progress = [&](std::uint64_t done, std::uint64_t total, std::uint64_t samples) {
      const auto now = clock.steady_ns();
      if (now - last_ns < 200'000'000 && done < total) return;
      last_ns = now;
      const double s = static_cast<double>(now - started_ns) / 1e9;
      std::fprintf(stderr, "\rreplay: %5.1f%% of %.1f MB, %.0f M samples, %.1f M samples/s   ",
                   total ? 100.0 * static_cast<double>(done) / static_cast<double>(total) : 100.0,
                   static_cast<double>(total) / 1e6, static_cast<double>(samples) / 1e6,
                   s > 0 ? static_cast<double>(samples) / s / 1e6 : 0.0);
      if (done >= total) std::fprintf(stderr, "\n");
    };
  }
  const auto result = app::replay(options, clock);
  for (const auto& problem : result.problems) std::cerr << "spasmwatch replay: " << problem << "\n";
  if (json) {
    std::cout << to_json(result.stats);
  } else {
    for (const auto& [name, device] : result.stats.devices()) std::cout << app::status_line(device) << "\n";
  }
  if (!stats_json.empty()) {
    const auto error = write_json_file(stats_json, result.stats);
    if (!error.empty()) {
      std::cerr << "spasmwatch replay: " << error << "\n";
      return 2;
    }
  }
  if (result.any_unreadable) return 2;
  if (result.any_corrupt) return 3;
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  CLI::App cli{"spasmwatch: replay recordings, evaluate the spasm detector (annotation, query and export come next)"};
  cli.require_subcommand(1);

  auto* replay = cli.add_subcommand("replay", "Run recordings through the ingest pipeline and print statistics");
  app::ReplayOptions replay_options;
  bool replay_json = false;
  std::string replay_stats;
  replay->add_option("files", replay_options.files, "Recording files (.swr)")->required()->check(CLI::ExistingFile);
  replay->add_option("--speed", replay_options.speed,
                     "0 = as fast as possible (default), 1 = real time, 10 = ten times real time")
      ->check(CLI::Range(0.0, 1e6));
  replay->add_flag("--json", replay_json, "Print statistics as JSON (same shape as spasmwatchd --stats-json)");
  replay->add_option("--stats-json", replay_stats, "Also write the JSON statistics to this file");
  std::string replay_events;
  replay->add_option("--events", replay_events, "Write every detected event to this JSON-lines file");

  auto* eval = cli.add_subcommand("eval", "Score the detector against ground truth (simulated in-process, or from files)");
  std::string eval_scenario, eval_site = "", eval_truth, eval_events;
  std::vector<std::uint64_t> eval_seeds{1};
  double eval_duration = 0, eval_scale = 1.0;
  bool eval_suite = false, eval_json = false, eval_list = false;
  int eval_channels = 2;
  double eval_rate = 1000;
  eval->add_option("--scenario", eval_scenario, "Simulator scenario to run in-process");
  eval->add_option("--site", eval_site, "Body site for --scenario (default: the scenario's own)");
  eval->add_option("--seed", eval_seeds, "Seed(s) (repeatable)");
  eval->add_option("--duration", eval_duration, "Seconds to simulate (default: the scenario's suite length)")
      ->check(CLI::Range(10.0, 30.0 * 86400));
  eval->add_flag("--suite", eval_suite, "Run the whole scenario suite");
  eval->add_option("--scale", eval_scale, "Scale suite durations (e.g. 0.1 for a quick run)")->check(CLI::Range(0.001, 10.0));
  eval->add_option("--channels", eval_channels, "EMG channels to simulate")->check(CLI::Range(1, 8));
  eval->add_option("--emg-rate", eval_rate, "EMG rate to simulate")->check(CLI::IsMember({500.0, 1000.0, 2000.0}));
  eval->add_option("--truth", eval_truth, "Ground-truth CSV (wearable-sim --truth)")->check(CLI::ExistingFile);
  eval->add_option("--events", eval_events, "Detected events, JSON lines (--events of spasmwatchd or replay)")
      ->check(CLI::ExistingFile);
  eval->add_flag("--json", eval_json, "Print the metrics as one JSON object");
  eval->add_flag("--list", eval_list, "List every truth event and detection (misses and false alarms marked)");

  try {
    cli.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    return cli.exit(e) == 0 ? 0 : 1;
  }
  if (replay->parsed()) return run_replay(replay_options, replay_json, replay_stats, replay_events);
  if (eval->parsed()) {
    try {
      detect::Metrics total;
      std::vector<app::CaseResult> cases;
      if (!eval_truth.empty() || !eval_events.empty()) {
        if (eval_truth.empty() || eval_events.empty()) {
          std::cerr << "spasmwatch eval: --truth and --events go together\n";
          return 1;
        }
        const auto truth = app::read_truth_csv(eval_truth);
        const auto found = app::read_events_jsonl(eval_events);
        double end_s = 0;
        for (const auto& t : truth) end_s = std::max(end_s, t.end_s);
        for (const auto& d : found) end_s = std::max(end_s, d.end_s);
        total = detect::score(truth, found, (eval_duration > 0 ? eval_duration : end_s) / 3600);
      } else {
        std::vector<app::EvalCase> list;
        if (eval_suite) {
          list = app::default_suite(eval_seeds, eval_scale);
        } else if (!eval_scenario.empty()) {
          for (const auto& c : app::default_suite(eval_seeds, eval_scale)) {
            if (c.scenario == eval_scenario && (eval_site.empty() || site_name(c.site) == eval_site)) {
              list.push_back(c);
              if (eval_site.empty()) break;
            }
          }
          if (list.empty()) {
            for (const auto seed : eval_seeds) {
              app::EvalCase c;
              c.scenario = eval_scenario;
              c.seed = seed;
              const auto site = parse_site(eval_site.empty() ? "neck" : eval_site);
              if (!site) {
                std::cerr << "spasmwatch eval: unknown --site '" << eval_site << "'\n";
                return 1;
              }
              c.site = *site;
              c.duration_s = 3600;
              list.push_back(c);
            }
          }
        } else {
          std::cerr << "spasmwatch eval: give --scenario NAME, --suite, or --truth FILE --events FILE\n";
          return 1;
        }
        for (auto& c : list) {
          if (eval_duration > 0) c.duration_s = eval_duration;
          c.channels = eval_channels;
          c.emg_rate_hz = eval_rate;
          detect::DetectorConfig dc;
          dc.report_rejected = eval_list;
          cases.push_back(app::run_case(c, dc));
          if (eval_list) std::cout << app::case_listing(cases.back());
          detect::accumulate(total, cases.back().metrics);
          if (isatty(STDERR_FILENO)) {
            std::fprintf(stderr, "\reval: %zu/%zu cases", cases.size(), list.size());
            if (cases.size() == list.size()) std::fprintf(stderr, "\n");
          }
        }
      }
      std::cout << (eval_json ? app::metrics_json(total, cases) : app::metrics_text(total, cases));
      return 0;
    } catch (const std::exception& e) {
      std::cerr << "spasmwatch eval: " << e.what() << "\n";
      return 2;
    }
  }
  return 1;
}
