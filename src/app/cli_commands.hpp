// The spasmwatch subcommands on stored data: `annotate` (symptom, trigger, treatment, feedback,
// note), `events`, `annotations`, `export`, `status`. They talk to the running daemon, or work on a
// database file (data_source.hpp).
// Each class adds its subcommand(s) and options to the CLI11 app on construction (options are
// bound to its members, so it must stay where it was built) and runs after parsing.
// Exit codes: cli_common.hpp.
#pragma once

#include <CLI/CLI.hpp>

#include <cstdint>
#include <optional>
#include <string>

#include "app/cli_import_options.hpp"
#include "common/clock.hpp"

namespace spasmwatch::app {

class AnnotateCommand {
 public:
  explicit AnnotateCommand(CLI::App& cli);
  AnnotateCommand(const AnnotateCommand&) = delete;
  AnnotateCommand& operator=(const AnnotateCommand&) = delete;

  [[nodiscard]] bool parsed() const { return annotate_->parsed(); }
  [[nodiscard]] int run(const Clock& clock) const;

  // The kinds, as typed after `annotate`.
  static constexpr const char* kKinds[] = {"symptom", "trigger", "treatment", "feedback", "note"};

 private:
  CLI::App* annotate_;
  CLI::App* symptom_;
  CLI::App* trigger_;
  CLI::App* treatment_;
  CLI::App* feedback_;
  CLI::App* note_;
  std::string db_, api_socket_;
  std::string text_, at_ = "now", until_, event_;
  std::optional<int> pain_;
  std::string site_, side_, description_;
  std::string what_, medication_, dose_;
  bool confirm_ = false, reject_ = false;
  std::string relabel_type_, relabel_site_, relabel_side_;
};

class QueryCommands {
 public:
  explicit QueryCommands(CLI::App& cli);
  QueryCommands(const QueryCommands&) = delete;
  QueryCommands& operator=(const QueryCommands&) = delete;

  [[nodiscard]] bool parsed() const {
    return events_->parsed() || annotations_->parsed() || export_->parsed() || status_->parsed();
  }
  [[nodiscard]] int run(const Clock& clock) const;

 private:
  int run_events(const Clock& clock) const;
  int run_annotations(const Clock& clock) const;
  int run_export(const Clock& clock) const;
  int run_status(const Clock& clock) const;

  CLI::App* events_;
  CLI::App* status_;
  CLI::App* annotations_;
  CLI::App* export_;
  std::string db_, api_socket_;
  std::string from_, to_;
  std::string site_, type_, state_, kind_;
  std::optional<double> min_confidence_;
  bool json_ = false;
  std::string format_ = "csv", output_;
  std::vector<std::string> inputs_;  // export --format edf: recordings or files to import
  ImportFlags import_;
};

}  // namespace spasmwatch::app
