// Command-line options for files from other devices (EDF/BDF, CSV, BioSPPy text), shared by
// `spasmwatch replay`, `export --format edf` and `eval --replay`: --format, --emg, --acc, --site,
// --device, --rate, --time-column, --header/--no-header, --emg-unit, --acc-unit, --emg-scale,
// --acc-scale, --start. src/import/IMPORT.md explains the mapping.
#pragma once

#include <CLI/CLI.hpp>

#include <cstdint>
#include <string>
#include <vector>

#include "import/importer.hpp"

namespace spasmwatch::app {

struct ImportFlags {
  std::string format = "auto";
  std::vector<std::string> emg, acc;
  std::string site, device;
  double rate_hz = 0;
  std::string time_column;
  bool header = false, no_header = false;
  std::string emg_unit, acc_unit;
  double emg_scale = 1, acc_scale = 1;
  std::string start;
};

// Adds the options to `command`, bound to `flags` (which must outlive the parse). The input
// format option is `format_option` (export has its own --format).
// With `with_site` false the command's own --site is used.
void add_import_options(CLI::App* command, ImportFlags& flags, const std::string& format_option = "--format",
                        bool with_site = true);

// The importer's options; throws InputError (cli_common.hpp) naming the bad option.
[[nodiscard]] import::ImportOptions to_import_options(const ImportFlags& flags, std::int64_t now_utc_ns);

}  // namespace spasmwatch::app
