// The API's bearer token: 32 random bytes as 64 hex digits, generated on the daemon's first start
// and kept in an owner-only file (0600) that only the user (and the CLI acting for them) reads.
#pragma once

#include <string>

namespace spasmwatch::api {

// Reads the token from `path`, or creates the file (and its directory, 0700) with a new one.
// Repairs looser permissions of an existing file. Throws std::runtime_error naming the file.
[[nodiscard]] std::string load_or_create_token(const std::string& path);

// Reads an existing token file; throws std::runtime_error naming the file when absent or malformed.
[[nodiscard]] std::string read_token(const std::string& path);

}  // namespace spasmwatch::api
