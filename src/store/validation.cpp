#include "store/validation.hpp"

#include <cmath>
#include <cstdint>

#include "store/store_error.hpp"
#include "store/uuid.hpp"

namespace spasmwatch::store {

namespace {

void require_time(const char* field, std::int64_t utc_ns) {
  if (utc_ns <= 0)
    throw ValidationError(field, std::to_string(utc_ns), "must be a UTC time in ns after 1970");
}

void require_end_after_start(std::int64_t start_utc_ns, std::int64_t end_utc_ns) {
  if (end_utc_ns != 0 && end_utc_ns < start_utc_ns) {
    throw ValidationError("end_utc_ns", std::to_string(end_utc_ns),
                          "is before start_utc_ns " + std::to_string(start_utc_ns));
  }
}

void require_finite(const char* field, double value) {
  if (!std::isfinite(value)) throw ValidationError(field, std::to_string(value), "must be a finite number");
}

void require_site_and_side(const std::string& prefix, int site, int side) {
  if (!proto::BodySite_IsValid(site))
    throw ValidationError(prefix + "site", std::to_string(site), "unknown body site");
  if (!proto::Side_IsValid(side))
    throw ValidationError(prefix + "side", std::to_string(side), "unknown side");
}

const char* details_field(proto::Annotation::DetailsCase details) {
  switch (details) {
    case proto::Annotation::kSymptom:
      return "symptom";
    case proto::Annotation::kTrigger:
      return "trigger";
    case proto::Annotation::kTreatment:
      return "treatment";
    case proto::Annotation::kFeedback:
      return "feedback";
    case proto::Annotation::DETAILS_NOT_SET:
      break;
  }
  return "details";
}

proto::Annotation::DetailsCase details_for(proto::Annotation::Kind kind) {
  switch (kind) {
    case proto::Annotation::SYMPTOM:
      return proto::Annotation::kSymptom;
    case proto::Annotation::TRIGGER:
      return proto::Annotation::kTrigger;
    case proto::Annotation::TREATMENT:
      return proto::Annotation::kTreatment;
    case proto::Annotation::FEEDBACK:
      return proto::Annotation::kFeedback;
    default:
      return proto::Annotation::DETAILS_NOT_SET;
  }
}

void validate_symptom(const proto::Symptom& symptom) {
  if (symptom.has_pain() && (symptom.pain() < 0 || symptom.pain() > 10)) {
    throw ValidationError("symptom.pain", std::to_string(symptom.pain()), "must be 0..10");
  }
  require_site_and_side("symptom.", symptom.site(), symptom.side());
  validate_text("symptom.description", symptom.description());
}

void validate_treatment(const proto::Treatment& treatment) {
  const int type = treatment.type();
  if (!proto::Treatment::Type_IsValid(type) || type == proto::Treatment::TREATMENT_UNSPECIFIED) {
    throw ValidationError("treatment.type", std::to_string(type),
                          "needs a known treatment type (MEDICATION, HEAT, COLD, ...)");
  }
  validate_text("treatment.medication", treatment.medication());
  validate_text("treatment.dose", treatment.dose());
  if (type == proto::Treatment::MEDICATION &&
      treatment.medication().find_first_not_of(" \t\r\n") == std::string::npos) {
    throw ValidationError("treatment.medication", printable(treatment.medication()),
                          "MEDICATION needs the medication's name");
  }
}

void validate_feedback(const proto::EventFeedback& feedback) {
  const int verdict = feedback.verdict();
  if (!proto::EventFeedback::Verdict_IsValid(verdict) ||
      verdict == proto::EventFeedback::VERDICT_UNSPECIFIED) {
    throw ValidationError("feedback.verdict", std::to_string(verdict), "needs CONFIRM, REJECT or RELABEL");
  }
  if (!proto::EventType_IsValid(feedback.relabel_type())) {
    throw ValidationError("feedback.relabel_type", std::to_string(feedback.relabel_type()),
                          "unknown event type");
  }
  require_site_and_side("feedback.relabel_", feedback.relabel_site(), feedback.relabel_side());
  const bool relabels = feedback.relabel_type() != proto::EVENT_TYPE_UNSPECIFIED ||
                        feedback.relabel_site() != proto::SITE_UNSPECIFIED ||
                        feedback.relabel_side() != proto::SIDE_UNSPECIFIED;
  if (verdict == proto::EventFeedback::RELABEL && feedback.relabel_type() == proto::EVENT_TYPE_UNSPECIFIED &&
      feedback.relabel_site() == proto::SITE_UNSPECIFIED) {
    throw ValidationError("feedback.relabel_type", "nothing to relabel",
                          "RELABEL needs relabel_type and/or relabel_site");
  }
  if (verdict != proto::EventFeedback::RELABEL && relabels) {
    throw ValidationError("feedback.relabel_type", proto::EventFeedback::Verdict_Name(feedback.verdict()),
                          "relabel_type/relabel_site/relabel_side only go with verdict RELABEL");
  }
}

}  // namespace

Utf8Check check_utf8(std::string_view text) {
  Utf8Check result;
  std::size_t i = 0;
  const auto byte = [&](std::size_t k) { return static_cast<std::uint8_t>(text[k]); };
  while (i < text.size()) {
    const std::uint8_t lead = byte(i);
    std::size_t length = 0;
    std::uint32_t code_point = 0;
    std::uint32_t minimum = 0;
    if (lead < 0x80) {
      length = 1;
      code_point = lead;
    } else if ((lead & 0xe0) == 0xc0) {
      length = 2, code_point = lead & 0x1fu, minimum = 0x80;
    } else if ((lead & 0xf0) == 0xe0) {
      length = 3, code_point = lead & 0x0fu, minimum = 0x800;
    } else if ((lead & 0xf8) == 0xf0) {
      length = 4, code_point = lead & 0x07u, minimum = 0x10000;
    }
    bool ok = length != 0 && i + length <= text.size();
    for (std::size_t k = 1; ok && k < length; ++k) {
      ok = (byte(i + k) & 0xc0) == 0x80;
      code_point = (code_point << 6) | (byte(i + k) & 0x3fu);
    }
    if (ok && length > 1) {
      ok = code_point >= minimum && code_point <= 0x10ffff && !(code_point >= 0xd800 && code_point <= 0xdfff);
    }
    if (!ok) {
      result.valid = false;
      result.bad_offset = i;
      return result;
    }
    i += length;
    ++result.characters;
  }
  return result;
}

std::string printable(std::string_view text) {
  constexpr std::size_t kShown = 60;
  std::string out = "\"";
  for (std::size_t i = 0; i < text.size() && i < kShown; ++i) {
    const auto c = static_cast<unsigned char>(text[i]);
    if (c == '"' || c == '\\') {
      out += '\\';
      out += static_cast<char>(c);
    } else if (c < 0x20 || c >= 0x7f) {
      static constexpr char kHex[] = "0123456789abcdef";
      out += "\\x";
      out += kHex[c >> 4];
      out += kHex[c & 0x0f];
    } else {
      out += static_cast<char>(c);
    }
  }
  out += '"';
  if (text.size() > kShown) out += "... (" + std::to_string(text.size()) + " bytes)";
  return out;
}

void validate_text(const char* field, std::string_view text) {
  const Utf8Check check = check_utf8(text);
  if (!check.valid) {
    throw ValidationError(field, printable(text),
                          "is not valid UTF-8 (bad byte at offset " + std::to_string(check.bad_offset) + ")");
  }
  if (check.characters > kMaxTextCharacters) {
    throw ValidationError(field, std::to_string(check.characters) + " characters",
                          "is longer than " + std::to_string(kMaxTextCharacters) + " characters");
  }
}

std::string canonical_id(const char* field, std::string_view id) {
  auto canonical = canonical_uuid(id);
  if (!canonical) {
    throw ValidationError(field, printable(id), "must be a UUID like 123e4567-e89b-42d3-a456-426614174000");
  }
  return *canonical;
}

void validate_annotation(const proto::Annotation& a) {
  if (!a.id().empty()) (void)canonical_id("id", a.id());
  const int kind = a.kind();
  if (!proto::Annotation::Kind_IsValid(kind) || kind == proto::Annotation::ANNOTATION_KIND_UNSPECIFIED) {
    throw ValidationError("kind", std::to_string(kind),
                          "unknown annotation kind (SYMPTOM, TRIGGER, TREATMENT, FEEDBACK or NOTE)");
  }
  require_time("start_utc_ns", a.start_utc_ns());
  require_end_after_start(a.start_utc_ns(), a.end_utc_ns());
  if (!a.event_id().empty()) (void)canonical_id("event_id", a.event_id());
  validate_text("text", a.text());

  const auto expected = details_for(a.kind());
  const std::string kind_name = proto::Annotation::Kind_Name(a.kind());
  if (a.details_case() != proto::Annotation::DETAILS_NOT_SET && a.details_case() != expected) {
    throw ValidationError(details_field(a.details_case()), "kind " + kind_name,
                          "does not go with this annotation kind");
  }
  switch (a.kind()) {
    case proto::Annotation::SYMPTOM:
      validate_symptom(a.symptom());
      break;
    case proto::Annotation::TRIGGER: {
      const int type = a.trigger().type();
      if (!proto::Trigger::Type_IsValid(type) || type == proto::Trigger::TRIGGER_UNSPECIFIED) {
        throw ValidationError("trigger.type", std::to_string(type),
                              "needs a known trigger type (STRESS, POOR_SLEEP, ..., OTHER)");
      }
      break;
    }
    case proto::Annotation::TREATMENT:
      validate_treatment(a.treatment());
      break;
    case proto::Annotation::FEEDBACK:
      if (a.event_id().empty()) throw ValidationError("event_id", "\"\"", "FEEDBACK needs the event's id");
      validate_feedback(a.feedback());
      break;
    default:
      break;
  }
}

void validate_event(const proto::Event& e) {
  if (!e.id().empty()) (void)canonical_id("id", e.id());
  validate_text("device", e.device());
  validate_text("device_id", e.device_id());
  require_site_and_side("", e.site(), e.side());
  // The detector knows the type only when the event ends: a PROVISIONAL event may have none.
  if (!proto::EventType_IsValid(e.type()) ||
      (e.type() == proto::EVENT_TYPE_UNSPECIFIED && e.state() != proto::PROVISIONAL)) {
    throw ValidationError("type", std::to_string(e.type()), "unknown event type");
  }
  if (e.state() != proto::PROVISIONAL && e.state() != proto::FINAL) {
    throw ValidationError("state", std::to_string(e.state()), "must be PROVISIONAL or FINAL");
  }
  if (!proto::ActivityContext_IsValid(e.context())) {
    throw ValidationError("context", std::to_string(e.context()), "unknown activity context");
  }
  if (!proto::Posture_IsValid(e.posture())) {
    throw ValidationError("posture", std::to_string(e.posture()), "unknown posture");
  }
  require_time("start_utc_ns", e.start_utc_ns());
  if (e.state() == proto::FINAL) require_time("end_utc_ns", e.end_utc_ns());
  require_end_after_start(e.start_utc_ns(), e.end_utc_ns());
  const std::pair<const char*, double> numbers[] = {
      {"duration_s", e.duration_s()},     {"peak_uv", e.peak_uv()},
      {"mean_uv", e.mean_uv()},           {"snr", e.snr()},
      {"baseline_uv", e.baseline_uv()},   {"acc_peak_g", e.acc_peak_g()},
      {"confidence", e.confidence()},     {"device_start_s", e.device_start_s()},
      {"device_end_s", e.device_end_s()}, {"rhythm_hz", e.rhythm_hz()},
      {"rise_s", e.rise_s()},             {"fill", e.fill()}};
  for (const auto& [field, value] : numbers) require_finite(field, value);
  if (e.confidence() < 0.0 || e.confidence() > 1.0) {
    throw ValidationError("confidence", std::to_string(e.confidence()), "must be 0..1");
  }
}

}  // namespace spasmwatch::store
