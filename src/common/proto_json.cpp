#include "common/proto_json.hpp"

#include <google/protobuf/descriptor.h>
#include <google/protobuf/util/json_util.h>

#include <algorithm>
#include <cerrno>
#include <cmath>
#include <cstdio>
#include <cstring>
#include <cstdlib>
#include <fstream>
#include <utility>
#include <vector>

namespace spasmwatch {
namespace {

using google::protobuf::FieldDescriptor;
using google::protobuf::Message;
using google::protobuf::Reflection;

void append_string(std::string& out, std::string_view s) {
  out += '"';
  for (const char c : s) {
    const auto u = static_cast<unsigned char>(c);
    switch (c) {
      case '"': out += "\\\""; break;
      case '\\': out += "\\\\"; break;
      case '\n': out += "\\n"; break;
      case '\r': out += "\\r"; break;
      case '\t': out += "\\t"; break;
      default:
        if (u < 0x20) {
          char buf[8];
          std::snprintf(buf, sizeof buf, "\\u%04x", u);
          out += buf;
        } else {
          out += c;
        }
    }
  }
  out += '"';
}

void append_double(std::string& out, double v) {
  if (!std::isfinite(v)) {
    out += "null";
    return;
  }
  char buf[40];
  std::snprintf(buf, sizeof buf, "%.17g", v);
  // Shortest form that round-trips is nicer for people; try fewer digits first.
  for (int precision = 6; precision < 17; ++precision) {
    char shorter[40];
    std::snprintf(shorter, sizeof shorter, "%.*g", precision, v);
    if (std::strtod(shorter, nullptr) == v) {
      out += shorter;
      return;
    }
  }
  out += buf;
}

void indent(std::string& out, int depth) { out.append(static_cast<std::size_t>(depth) * 2, ' '); }

void append_message(std::string& out, const Message& m, int depth);

void append_scalar(std::string& out, const Message& m, const FieldDescriptor* f, int index) {
  const Reflection* r = m.GetReflection();
  const bool rep = f->is_repeated();
  switch (f->cpp_type()) {
    case FieldDescriptor::CPPTYPE_INT32:
      out += std::to_string(rep ? r->GetRepeatedInt32(m, f, index) : r->GetInt32(m, f));
      break;
    case FieldDescriptor::CPPTYPE_INT64:
      out += std::to_string(rep ? r->GetRepeatedInt64(m, f, index) : r->GetInt64(m, f));
      break;
    case FieldDescriptor::CPPTYPE_UINT32:
      out += std::to_string(rep ? r->GetRepeatedUInt32(m, f, index) : r->GetUInt32(m, f));
      break;
    case FieldDescriptor::CPPTYPE_UINT64:
      out += std::to_string(rep ? r->GetRepeatedUInt64(m, f, index) : r->GetUInt64(m, f));
      break;
    case FieldDescriptor::CPPTYPE_DOUBLE:
      append_double(out, rep ? r->GetRepeatedDouble(m, f, index) : r->GetDouble(m, f));
      break;
    case FieldDescriptor::CPPTYPE_FLOAT:
      append_double(out, rep ? r->GetRepeatedFloat(m, f, index) : r->GetFloat(m, f));
      break;
    case FieldDescriptor::CPPTYPE_BOOL:
      out += (rep ? r->GetRepeatedBool(m, f, index) : r->GetBool(m, f)) ? "true" : "false";
      break;
    case FieldDescriptor::CPPTYPE_ENUM: {
      const auto* value = rep ? r->GetRepeatedEnum(m, f, index) : r->GetEnum(m, f);
      append_string(out, value->name());
      break;
    }
    case FieldDescriptor::CPPTYPE_STRING:
      append_string(out, rep ? r->GetRepeatedString(m, f, index) : r->GetString(m, f));
      break;
    case FieldDescriptor::CPPTYPE_MESSAGE:
      break;  // handled by append_value
  }
}

std::string map_key_text(const Message& entry) {
  const auto* key_field = entry.GetDescriptor()->map_key();
  const Reflection* r = entry.GetReflection();
  switch (key_field->cpp_type()) {
    case FieldDescriptor::CPPTYPE_STRING: return r->GetString(entry, key_field);
    case FieldDescriptor::CPPTYPE_INT32: return std::to_string(r->GetInt32(entry, key_field));
    case FieldDescriptor::CPPTYPE_INT64: return std::to_string(r->GetInt64(entry, key_field));
    case FieldDescriptor::CPPTYPE_UINT32: return std::to_string(r->GetUInt32(entry, key_field));
    case FieldDescriptor::CPPTYPE_UINT64: return std::to_string(r->GetUInt64(entry, key_field));
    case FieldDescriptor::CPPTYPE_BOOL: return r->GetBool(entry, key_field) ? "true" : "false";
    default: return "?";
  }
}

void append_value(std::string& out, const Message& m, const FieldDescriptor* f, int index,
                  int depth) {
  if (f->cpp_type() == FieldDescriptor::CPPTYPE_MESSAGE) {
    const Reflection* r = m.GetReflection();
    append_message(out, f->is_repeated() ? r->GetRepeatedMessage(m, f, index) : r->GetMessage(m, f),
                   depth);
  } else {
    append_scalar(out, m, f, index);
  }
}

void append_message(std::string& out, const Message& m, int depth) {
  const auto* d = m.GetDescriptor();
  const Reflection* r = m.GetReflection();
  out += "{";
  bool first = true;
  for (int i = 0; i < d->field_count(); ++i) {
    const FieldDescriptor* f = d->field(i);
    if (f->containing_oneof() != nullptr && !r->HasField(m, f)) continue;
    out += first ? "\n" : ",\n";
    first = false;
    indent(out, depth + 1);
    append_string(out, f->name());
    out += ": ";
    if (f->is_map()) {
      // Entries sorted by key so output is deterministic.
      std::vector<std::pair<std::string, const Message*>> entries;
      for (int k = 0; k < r->FieldSize(m, f); ++k) {
        const Message& entry = r->GetRepeatedMessage(m, f, k);
        entries.emplace_back(map_key_text(entry), &entry);
      }
      std::sort(entries.begin(), entries.end(),
                [](const auto& a, const auto& b) { return a.first < b.first; });
      const auto* value_field = f->message_type()->map_value();
      out += entries.empty() ? "{" : "{\n";
      for (std::size_t k = 0; k < entries.size(); ++k) {
        indent(out, depth + 2);
        append_string(out, entries[k].first);
        out += ": ";
        append_value(out, *entries[k].second, value_field, -1, depth + 2);
        out += k + 1 < entries.size() ? ",\n" : "\n";
      }
      if (!entries.empty()) indent(out, depth + 1);
      out += "}";
    } else if (f->is_repeated()) {
      const int n = r->FieldSize(m, f);
      out += "[";
      for (int k = 0; k < n; ++k) {
        if (k > 0) out += ", ";
        append_value(out, m, f, k, depth + 1);
      }
      out += "]";
    } else {
      append_value(out, m, f, -1, depth + 1);
    }
  }
  if (!first) {
    out += "\n";
    indent(out, depth);
  }
  out += "}";
}

}  // namespace

std::string to_json(const Message& message) {
  std::string out;
  append_message(out, message, 0);
  out += "\n";
  return out;
}

std::string to_json_line(const Message& message) {
  std::string pretty;
  append_message(pretty, message, 0);
  // Drop the layout (newlines and indentation), never touching string contents: inside strings
  // newlines are escaped, so every raw '\n' is layout.
  std::string out;
  out.reserve(pretty.size());
  bool in_string = false;
  bool escaped = false;
  for (std::size_t i = 0; i < pretty.size(); ++i) {
    const char c = pretty[i];
    if (in_string) {
      out += c;
      if (escaped) escaped = false;
      else if (c == '\\') escaped = true;
      else if (c == '"') in_string = false;
      continue;
    }
    if (c == '"') in_string = true;
    if (c == '\n') {
      while (i + 1 < pretty.size() && pretty[i + 1] == ' ') ++i;
      continue;
    }
    out += c;
  }
  return out;
}

bool from_json(std::string_view json, Message& message, std::string& error) {
  google::protobuf::util::JsonParseOptions options;
  options.ignore_unknown_fields = false;
  const auto status = google::protobuf::util::JsonStringToMessage(
      google::protobuf::StringPiece(json.data(), json.size()), &message, options);
  if (!status.ok()) {
    error = status.ToString();
    return false;
  }
  return true;
}

std::string write_json_file(const std::string& path, const Message& message) {
  const std::string tmp = path + ".tmp";
  {
    std::ofstream out(tmp, std::ios::binary | std::ios::trunc);
    if (!out) return "cannot write " + tmp + ": " + std::strerror(errno);
    out << to_json(message);
    out.flush();
    if (!out) return "cannot write " + tmp + ": " + std::strerror(errno);
  }
  if (std::rename(tmp.c_str(), path.c_str()) != 0) {
    return "cannot rename " + tmp + " to " + path + ": " + std::strerror(errno);
  }
  return {};
}

}  // namespace spasmwatch
