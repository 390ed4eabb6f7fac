// libFuzzer entry point: arbitrary bytes as a recording file. The reader must give records, a clean
// end, or a RecordingError; never crash, hang, read out of bounds or allocate without bound.
#include <cstddef>
#include <cstdint>
#include <vector>

#include "record/recording_reader.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  using spasmwatch::record::RecordingError;
  using spasmwatch::record::RecordingReader;
  try {
    auto reader = RecordingReader::from_bytes(std::vector<std::uint8_t>(data, data + size), "<fuzz>");
    spasmwatch::protocol::FrameEvent event;
    std::size_t samples = 0;
    while (reader->next(event)) {
      // Touch what replay touches: the message and its samples.
      if (event.message != nullptr) {
        samples += event.message->ByteSizeLong();
        if (event.message->has_samples()) {
          for (const std::int32_t v : event.message->samples().samples())
            samples += static_cast<std::uint32_t>(v) & 1u;
        }
      }
    }
    if (reader->end_message().empty() || reader->bytes_read() > size) __builtin_trap();
    (void)samples;
  } catch (const RecordingError&) {
    // Not a recording, or a damaged header: the expected answer for most inputs.
  }
  return 0;
}
