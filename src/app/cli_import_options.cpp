#include "app/cli_import_options.hpp"

#include "app/cli_common.hpp"
#include "import/import_error.hpp"

namespace spasmwatch::app {

void add_import_options(CLI::App* command, ImportFlags& flags, const std::string& format_option,
                        bool with_site) {
  const char* group = "Files from other devices (EDF/BDF, CSV, BioSPPy text)";
  command
      ->add_option(format_option, flags.format,
                   "auto (from the content, default), swr, edf (also BDF), csv or text")
      ->group(group);
  command
      ->add_option(
          "--emg", flags.emg,
          "EMG signals: labels or indices (EDF: signal number from 0; CSV: column from 0), comma-separated")
      ->delimiter(',')
      ->group(group);
  command->add_option("--acc", flags.acc, "Accelerometer x,y,z signals: labels or indices")
      ->delimiter(',')
      ->group(group);
  if (with_site) {
    command->add_option("--site", flags.site, "Body site of the recording, e.g. calf, calf-left, neck/right")
        ->group(group);
  }
  command->add_option("--device", flags.device, "Device name (default: the file name without extension)")
      ->group(group);
  command
      ->add_option("--rate", flags.rate_hz, "CSV sample rate in Hz (else from a time column or the header)")
      ->check(CLI::Range(0.001, 1e6))
      ->group(group);
  command->add_option("--time-column", flags.time_column, "CSV time column in seconds: name or index")
      ->group(group);
  command->add_flag("--header", flags.header, "The CSV's first row is a header (default: detected)")
      ->group(group);
  command->add_flag("--no-header", flags.no_header, "The CSV has no header row")->group(group);
  command
      ->add_option("--emg-unit", flags.emg_unit, "Unit of the EMG values: uV, mV or V (overrides the file's)")
      ->group(group);
  command->add_option("--acc-unit", flags.acc_unit, "Unit of the accelerometer values: g, mg or m/s^2")
      ->group(group);
  command
      ->add_option("--emg-scale", flags.emg_scale,
                   "Multiply EMG values by this (e.g. ADC counts to the unit)")
      ->group(group);
  command->add_option("--acc-scale", flags.acc_scale, "Multiply accelerometer values by this")->group(group);
  command
      ->add_option("--start", flags.start, "Start time of the file (UTC 2026-11-24T08:00:00Z; CSV has none)")
      ->group(group);
}

import::ImportOptions to_import_options(const ImportFlags& flags,
                                        std::int64_t now_utc_ns){import::ImportOptions o;
try {
  o.format = import::parse_format(flags.format);
} catch (const import::ImportError& e) {
  throw InputError("input format", e.what());
}
o.emg = flags.emg;
o.acc = flags.acc;
o.site = flags.site;
o.device = flags.device;
if (flags.rate_hz > 0) o.csv.rate_hz = flags.rate_hz;
o.csv.time_column = flags.time_column;
if (flags.header && flags.no_header) throw InputError("--header", "and --no-header contradict each other");
o.csv.header = flags.header      ? import::CsvHeader::yes
               : flags.no_header ? import::CsvHeader::no
                                 : import::CsvHeader::detect;
o.emg_unit = flags.emg_unit;
o.acc_unit = flags.acc_unit;
if (!(flags.emg_scale != 0) || !(flags.acc_scale != 0))
  throw InputError("--emg-scale", "scales must not be 0");
o.emg_scale = flags.emg_scale;
o.acc_scale = flags.acc_scale;
if (!flags.start.empty()) o.start_utc_ns = parse_time(flags.start, now_utc_ns, "--start");
return o;
}  // namespace spasmwatch::app

}  // namespace spasmwatch::app
