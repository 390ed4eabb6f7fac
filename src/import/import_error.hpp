// The one error type of the import library: a file that cannot be imported as asked. The message
// names the file (and, for text files, the line and column) and says what was wrong and what was
// expected: "data.csv:17:3: 'abc' is not a number".
#pragma once

#include <stdexcept>
#include <string>

namespace spasmwatch::import {

class ImportError : public std::runtime_error {
 public:
  explicit ImportError(const std::string& message) : std::runtime_error(message) {}
};

}  // namespace spasmwatch::import
