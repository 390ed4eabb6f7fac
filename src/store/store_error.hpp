// Errors of the store. Every message names what was wrong: the database file and operation for
// StoreError, the field and its bad value for ValidationError, the missing id for NotFoundError.
// The later API layer maps ValidationError to 400, NotFoundError to 404 and the rest to 500.
#pragma once

#include <stdexcept>
#include <string>

namespace spasmwatch::store {

// A database that cannot be opened, migrated, read or written (names the file).
class StoreError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

// Input the store refuses. what() reads "<field>: <problem> (got <value>)".
class ValidationError : public StoreError {
 public:
  ValidationError(std::string field, std::string value, const std::string& problem)
      : StoreError(field + ": " + problem + " (got " + value + ")"),
        field_(std::move(field)),
        value_(std::move(value)) {}

  [[nodiscard]] const std::string& field() const { return field_; }  // e.g. "symptom.pain"
  [[nodiscard]] const std::string& value() const { return value_; }  // printable form of the input

 private:
  std::string field_;
  std::string value_;
};

// An update or lookup of an id that is not stored.
class NotFoundError : public StoreError {
 public:
  NotFoundError(const std::string& what, std::string id)
      : StoreError(what + " " + id + " not found"), id_(std::move(id)) {}
  [[nodiscard]] const std::string& id() const { return id_; }

 private:
  std::string id_;
};

}  // namespace spasmwatch::store
