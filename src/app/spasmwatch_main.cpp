// spasmwatch: the command line. Subcommands: replay, eval, and on a database file annotate,
// events, annotations, export (cli_commands.hpp).
// Exit codes of replay: 0 success (a truncated recording tail, as after a crash, is reported but
// is not an error), 1 bad command line, 2 a file could not be read as a recording, 3 a recording
// had a corrupt record (results up to it are still printed), 4 the --db store could not be
// opened or written. Database subcommands: cli_common.hpp.
#include <CLI/CLI.hpp>
#include <unistd.h>

#include <algorithm>
#include <cstdio>
#include <fstream>
#include <future>
#include <iostream>

#include "app/cli_commands.hpp"
#include "app/cli_common.hpp"
#include "app/cli_import_options.hpp"
#include "app/eval.hpp"
#include "app/replay.hpp"
#include "app/status_text.hpp"
#include "common/body_site.hpp"
#include "common/proto_json.hpp"
#include "store/store_writer.hpp"

using namespace spasmwatch;

namespace {

constexpr int kReplayStoreFailed = 4;

int run_replay(const app::ReplayOptions& base, bool json, const std::string& stats_json,
               const std::string& events_path, const std::string& db_path) {
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
  // Events go to the store as spasmwatchd stores them (same ids, so replaying twice upserts the
  // same rows); the writer thread batches them while the replay goes on.
  std::unique_ptr<store::StoreWriter> writer;
  std::vector<std::future<void>> writes;
  if (!db_path.empty()) {
    try {
      writer = std::make_unique<store::StoreWriter>(db_path, clock);
    } catch (const store::StoreError& e) {
      std::cerr << "spasmwatch replay: " << e.what() << "\n";
      return kReplayStoreFailed;
    }
  }
  options.on_event = [&](const proto::Event& e) {
    if (events_file.is_open()) events_file << to_json_line(e) << '\n';
    if (!json && e.state() == proto::FINAL) std::cout << app::event_line(e) << "\n";
    if (!writer) return;
    if (e.state() == proto::RETRACTED) {
      writes.push_back(writer->submit([id = e.id()](store::Store& s) { (void)s.retract_event(id); }));
    } else {
      writes.push_back(writer->submit([e](store::Store& s) { (void)s.put_event(e); }));
    }
  };
  options.on_note = [](const std::string& note) { std::cerr << "spasmwatch replay: note: " << note << "\n"; };
  // Annotations of imported files (EDF+ annotations) go to the store as notes, with stable ids.
  options.on_annotation = [&](const proto::Annotation& a) {
    if (writer) writes.push_back(writer->submit([a](store::Store& s) { (void)s.put_annotation(a); }));
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
    if (result.annotations > 0) std::cout << result.annotations << " annotations in the imported files\n";
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
  if (writer) {
    writer->stop();  // everything queued is written and acknowledged
    std::size_t failed = 0;
    for (auto& w : writes) {
      try {
        w.get();
      } catch (const store::StoreError& e) {
        if (++failed <= 5) std::cerr << "spasmwatch replay: event not stored: " << e.what() << "\n";
      }
    }
    std::cerr << "spasmwatch replay: " << writes.size() - failed << " event writes stored in " << db_path;
    std::cerr << (failed > 0 ? ", " + std::to_string(failed) + " failed\n" : "\n");
    if (failed > 0) return kReplayStoreFailed;
  }
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  CLI::App cli{"spasmwatch: annotate, list and export stored events; replay recordings; evaluate the spasm detector"};
  cli.require_subcommand(1);

  auto* replay = cli.add_subcommand("replay", "Run recordings through the ingest pipeline and print statistics");
  app::ReplayOptions replay_options;
  bool replay_json = false;
  std::string replay_stats;
  replay
      ->add_option("files", replay_options.files,
                   "Recordings (.swr) or files to import (EDF, BDF, CSV, BioSPPy text)")
      ->required()
      ->check(CLI::ExistingFile);
  app::ImportFlags replay_import;
  app::add_import_options(replay, replay_import);
  replay->add_option("--speed", replay_options.speed,
                     "0 = as fast as possible (default), 1 = real time, 10 = ten times real time")
      ->check(CLI::Range(0.0, 1e6));
  replay->add_flag("--json", replay_json, "Print statistics as JSON (same shape as spasmwatchd --stats-json)");
  replay->add_option("--stats-json", replay_stats, "Also write the JSON statistics to this file");
  std::string replay_events;
  replay->add_option("--events", replay_events, "Write every detected event to this JSON-lines file");
  std::vector<std::string> detector_options;
  replay->add_option("--detector", detector_options, "Detector setting NAME=VALUE (repeatable)");
  std::string replay_db;
  replay->add_option("--db", replay_db, "Store the detected events in this database (as spasmwatchd does)");

  app::AnnotateCommand annotate(cli);
  app::QueryCommands queries(cli);

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
  std::vector<std::string> eval_replay;
  eval->add_option("--replay", eval_replay,
                   "Replay these files (recordings, or EDF/BDF/CSV to import); score them against --truth")
      ->check(CLI::ExistingFile);
  app::ImportFlags eval_import;
  app::add_import_options(eval, eval_import, "--input-format", false);
  eval->add_flag("--json", eval_json, "Print the metrics as one JSON object");
  eval->add_flag("--list", eval_list, "List every truth event and detection (misses and false alarms marked)");
  std::string eval_evidence;
  eval->add_option("--evidence", eval_evidence,
                   "Write every judged activation's evidence with its truth match as CSV (for tools/train_detector.py)");
  eval->add_option("--detector", detector_options, "Detector setting NAME=VALUE (repeatable)");

  // "--at -30m": CLI11 would take -30m for an option.
  std::vector<std::string> args = app::join_negative_times(argc, argv);
  if (args.size() > 2 && args[1] == "annotate" && !args[2].starts_with("-") &&
      std::none_of(std::begin(app::AnnotateCommand::kKinds), std::end(app::AnnotateCommand::kKinds),
                   [&](const char* kind) { return args[2] == kind; })) {
    std::cerr << "spasmwatch annotate: unknown annotation kind '" << args[2]
              << "' (expected symptom, trigger, treatment, feedback or note)\n";
    return app::kExitBadInput;
  }
  std::vector<char*> arg_pointers;
  for (auto& a : args) arg_pointers.push_back(a.data());
  try {
    cli.parse(static_cast<int>(arg_pointers.size()), arg_pointers.data());
  } catch (const CLI::ParseError& e) {
    return cli.exit(e) == 0 ? 0 : 1;
  }
  try {
    for (const auto& option : detector_options) detect::set_detector_option(replay_options.detector, option);
  } catch (const std::invalid_argument& e) {
    std::cerr << "spasmwatch: " << e.what() << "\n";
    return 1;
  }
  if (replay->parsed()) {
    try {
      replay_options.import = app::to_import_options(replay_import, SystemClock{}.utc_ns());
    } catch (const app::InputError& e) {
      std::cerr << "spasmwatch replay: " << e.what() << "\n";
      return 1;
    }
    return run_replay(replay_options, replay_json, replay_stats, replay_events, replay_db);
  }
  if (annotate.parsed()) return annotate.run(SystemClock{});
  if (queries.parsed()) return queries.run(SystemClock{});
  if (eval->parsed()) {
    try {
      detect::Metrics total;
      std::vector<app::CaseResult> cases;
      if (!eval_replay.empty()) {
        if (eval_truth.empty() || !eval_events.empty()) {
          std::cerr << "spasmwatch eval: --replay needs --truth (and no --events)\n";
          return 1;
        }
        app::ReplayOptions ro;
        ro.files = eval_replay;
        ro.detector = replay_options.detector;
        auto flags = eval_import;
        flags.site = eval_site;
        ro.import = app::to_import_options(flags, SystemClock{}.utc_ns());
        std::vector<detect::LabelledEvent> found;
        ro.on_event = [&](const proto::Event& e) {
          if (e.state() != proto::FINAL) return;
          found.push_back({e.device_start_s(), e.device_end_s(), e.type(), ""});
        };
        const auto replayed = app::replay(ro, SystemClock{});
        for (const auto& problem : replayed.problems) std::cerr << "spasmwatch eval: " << problem << "\n";
        if (replayed.any_unreadable) return 2;
        const auto truth = app::read_truth_csv(eval_truth);
        double end_s = 0;
        for (const auto& t : truth) end_s = std::max(end_s, t.end_s);
        for (const auto& d : found) end_s = std::max(end_s, d.end_s);
        total = detect::score(truth, found, (eval_duration > 0 ? eval_duration : end_s) / 3600);
      } else if (!eval_truth.empty() || !eval_events.empty()) {
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
          // The scenario at its suite site (the first one listed, or --site), once per seed.
          for (const auto& c : app::default_suite(eval_seeds, eval_scale)) {
            const bool seed_done = !list.empty() && list.back().seed == c.seed && eval_site.empty();
            if (c.scenario == eval_scenario && (eval_site.empty() || site_name(c.site) == eval_site) && !seed_done) {
              list.push_back(c);
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
        std::ofstream evidence_out;
        if (!eval_evidence.empty()) {
          evidence_out.open(eval_evidence);
          if (!evidence_out) throw std::runtime_error("cannot write " + eval_evidence);
          evidence_out << app::evidence_csv_header();
        }
        for (auto& c : list) {
          if (eval_duration > 0) c.duration_s = eval_duration;
          c.channels = eval_channels;
          c.emg_rate_hz = eval_rate;
          detect::DetectorConfig dc = replay_options.detector;
          dc.report_rejected = eval_list || !eval_evidence.empty();
          c.keep_evidence = !eval_evidence.empty();
          cases.push_back(app::run_case(c, dc));
          if (eval_list) std::cout << app::case_listing(cases.back());
          if (evidence_out.is_open()) {
            evidence_out << app::evidence_csv_rows(cases.back());
            cases.back().judged.clear();
            if (!evidence_out) throw std::runtime_error("cannot write " + eval_evidence);
          }
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
