// Fuzz target: arbitrary bytes as an EDF/BDF file. The header parser and the TAL (annotation)
// parser are pure and see every input; inputs whose header passes are also written to a file and
// opened for real (EDFlib for continuous files, our record reader for EDF+D / BDF+D) and read to
// the end. Any input gives signals or an ImportError; never a crash or an out-of-bounds read.
#include <unistd.h>

#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <span>
#include <string>
#include <vector>

#include "import/edf_file.hpp"
#include "import/edf_header.hpp"
#include "import/import_error.hpp"

using namespace spasmwatch::import;

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::span<const std::uint8_t> bytes(data, size);
  std::vector<EdfAnnotation> annotations;
  try {
    (void)parse_tals(bytes, annotations, "<fuzz>", 0);
  } catch (const ImportError&) {
  }
  bool header_ok = false;
  try {
    const EdfHeader h = parse_edf_header(bytes, size, "<fuzz>");
    if (h.records < 0 || h.header_bytes + static_cast<std::uint64_t>(h.records) * h.record_bytes != size) {
      __builtin_trap();  // a header that passed must describe exactly these bytes
    }
    header_ok = true;
  } catch (const ImportError&) {
  }
  if (!header_ok || size > (1 << 20)) return 0;
  static const std::string path = "/tmp/fuzz_edf_header." + std::to_string(::getpid()) + ".edf";
  if (FILE* f = std::fopen(path.c_str(), "wb")) {
    std::fwrite(data, 1, size, f);
    std::fclose(f);
  }
  try {
    auto file = EdfFile::open(path);
    file->select(std::vector<bool>(file->signals().size(), true));
    Chunk chunk;
    while (file->next(chunk)) {
    }
  } catch (const ImportError&) {
  }
  return 0;
}
