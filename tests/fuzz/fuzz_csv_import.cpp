// Fuzz target: arbitrary bytes as a CSV / BioSPPy text file, read through CsvSource and the
// importer's mapping into sample blocks. The first byte picks the options (rate or time column,
// header detection, which column is EMG). Any input gives blocks or an ImportError naming the
// line; never a crash, hang or unbounded allocation.
#include <cstddef>
#include <cstdint>
#include <memory>
#include <sstream>
#include <string>

#include "import/csv_source.hpp"
#include "import/import_error.hpp"
#include "import/importer.hpp"

using namespace spasmwatch::import;

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  if (size == 0) return 0;
  const std::uint8_t mode = data[0];
  CsvOptions csv;
  if (mode & 1) csv.rate_hz = 100 + (mode >> 4);
  csv.header = (mode & 2) ? CsvHeader::detect : ((mode & 4) ? CsvHeader::yes : CsvHeader::no);
  csv.chunk_rows = 1 + (mode >> 3);
  ImportOptions options;
  options.csv = csv;
  options.emg = {std::to_string((mode >> 5) & 3)};
  options.start_utc_ns = 1'700'000'000'000'000'000;
  const std::string text(reinterpret_cast<const char*>(data + 1), size - 1);
  try {
    auto source = std::make_unique<CsvSource>(std::make_unique<std::istringstream>(text), "<fuzz>", csv);
    auto file = ImportedFile::from_source(std::move(source), "<fuzz>", options);
    spasmwatch::protocol::FrameEvent event;
    std::uint64_t values = 0;
    while (file->next(event)) {
      if (event.message != nullptr && event.message->has_samples()) {
        values += static_cast<std::uint64_t>(event.message->samples().samples_size());
      }
    }
    if (values != file->samples()) __builtin_trap();
  } catch (const ImportError&) {
    // Not importable: the expected answer for most inputs.
  }
  return 0;
}
