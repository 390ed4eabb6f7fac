// JSON for protobuf messages, for files people and scripts read (statistics, summaries).
// Writing differs from protobuf's own printer in one way: 64-bit integers are JSON numbers, not
// strings, so `jq '.samples + .lost_samples'` works. Field names stay as in the .proto
// (snake_case). Reading uses protobuf's parser, which accepts both forms and rejects unknown
// fields.
#pragma once

#include <google/protobuf/message.h>

#include <string>
#include <string_view>

namespace spasmwatch {

// Pretty-printed (2-space indent) JSON of every field, including zero values.
[[nodiscard]] std::string to_json(const google::protobuf::Message& message);

// The same on one line (JSON lines files, logs).
[[nodiscard]] std::string to_json_line(const google::protobuf::Message& message);

// Parses JSON into `message`. On failure returns false and sets `error` to protobuf's message.
[[nodiscard]] bool from_json(std::string_view json, google::protobuf::Message& message,
                             std::string& error);

// Writes `to_json(message)` to `path` (atomically: a temporary file renamed into place).
// Returns an empty string on success, otherwise an error naming the path.
[[nodiscard]] std::string write_json_file(const std::string& path,
                                          const google::protobuf::Message& message);

}  // namespace spasmwatch
