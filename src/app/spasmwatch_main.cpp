// spasmwatch: the command line. Subcommands: replay (more come with detection and storage).
// Exit codes: 0 success (a truncated recording tail, as after a crash, is reported but is not an
// error), 1 bad command line, 2 a file could not be read as a recording, 3 a recording had a
// corrupt record (results up to it are still printed).
#include <CLI/CLI.hpp>
#include <unistd.h>

#include <cstdio>
#include <iostream>

#include "app/replay.hpp"
#include "app/status_text.hpp"
#include "common/proto_json.hpp"

using namespace spasmwatch;

namespace {

int run_replay(const app::ReplayOptions& base, bool json, const std::string& stats_json) {
  SystemClock clock;
  app::ReplayOptions options = base;
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
  CLI::App cli{"spasmwatch: replay recordings (and, soon, annotate, query and export spasm events)"};
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

  try {
    cli.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    return cli.exit(e) == 0 ? 0 : 1;
  }
  if (replay->parsed()) return run_replay(replay_options, replay_json, replay_stats);
  return 1;
}
