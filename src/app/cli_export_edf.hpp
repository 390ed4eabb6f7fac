// `spasmwatch export --format edf`: the recorded signals of a time range (from spasmwatch
// recordings or any file replay can import) as EDF+ (BDF+ for wider than 16-bit data), with
// events and annotations as EDF+ annotations ("spasm calf-left conf=0.93"), so EDFbrowser and
// MNE show them on the signals. Events and annotations come from --db when given, else from
// the detector run over the input while exporting (plus the input's own annotations).
// The file is written as "<output>.part" and renamed when complete; an output that is one of the
// inputs (under any name) is refused before anything is written.
// Exit codes: 0 written, 2 input refused or unreadable (the message names it), 3 store error.
#pragma once

#include <string>
#include <vector>

#include "common/clock.hpp"
#include "events.pb.h"
#include "import/importer.hpp"

namespace spasmwatch::app {

struct ExportEdfRequest {
  std::vector<std::string> inputs;  // one device's files, in time order
  import::ImportOptions import;
  std::string db;        // events and annotations from this store ("" = detect while exporting)
  std::string from, to;  // time range (parse_time forms)
  std::string output;
};

[[nodiscard]] int run_export_edf(const ExportEdfRequest& request, const Clock& clock);

// "spasm calf-left conf=0.93"
[[nodiscard]] std::string event_annotation_text(const proto::Event& event);

}  // namespace spasmwatch::app
