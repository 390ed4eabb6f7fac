// Helpers shared by the store tests: a temporary directory and example events and annotations.
#pragma once

#include <stdlib.h>

#include <filesystem>
#include <string>

#include "annotations.pb.h"
#include "events.pb.h"

namespace spasmwatch::store::testing {

inline constexpr std::int64_t kBaseUtcNs = 1'700'000'000'000'000'000;
inline constexpr std::int64_t kSecondNs = 1'000'000'000;

// A fresh directory under $TMPDIR (or /tmp), removed with everything in it.
class TempDir {
 public:
  TempDir() {
    const char* base = std::getenv("TMPDIR");
    std::string pattern = std::string(base != nullptr && *base != '\0' ? base : "/tmp") + "/sw_store_XXXXXX";
    if (::mkdtemp(pattern.data()) == nullptr) throw std::runtime_error("mkdtemp failed for " + pattern);
    path_ = pattern;
  }
  TempDir(const TempDir&) = delete;
  TempDir& operator=(const TempDir&) = delete;
  ~TempDir() {
    std::error_code ignored;
    std::filesystem::remove_all(path_, ignored);
  }
  [[nodiscard]] const std::filesystem::path& path() const { return path_; }
  [[nodiscard]] std::filesystem::path operator/(const std::string& name) const { return path_ / name; }

 private:
  std::filesystem::path path_;
};

inline proto::Event make_event(std::int64_t start_utc_ns, proto::EventState state = proto::FINAL) {
  proto::Event e;
  e.set_device("calf-left");
  e.set_device_id("SW-0001");
  e.set_site(proto::CALF);
  e.set_side(proto::LEFT);
  e.set_type(proto::SPASM);
  e.set_state(state);
  e.set_start_utc_ns(start_utc_ns);
  if (state == proto::FINAL) e.set_end_utc_ns(start_utc_ns + 2 * kSecondNs);
  e.set_duration_s(state == proto::FINAL ? 2.0 : 0.0);
  e.set_peak_uv(310.5);
  e.set_mean_uv(120.25);
  e.set_snr(14.0);
  e.set_baseline_uv(8.5);
  e.set_acc_peak_g(0.02);
  e.set_confidence(0.9);
  e.set_context(proto::ASLEEP);
  e.set_posture(proto::LYING);
  e.set_channel_mask(0x3);
  e.set_start_sample_index(123'456);
  e.set_end_sample_index(127'456);
  e.set_device_start_s(61.728);
  e.set_device_end_s(63.728);
  e.set_session_id(0xfedcba9876543210ULL);  // above INT64_MAX: must survive the int64 column
  e.set_rhythm_hz(0.0);
  return e;
}

inline proto::Annotation make_note(std::int64_t start_utc_ns, const std::string& text) {
  proto::Annotation a;
  a.set_kind(proto::Annotation::NOTE);
  a.set_start_utc_ns(start_utc_ns);
  a.set_text(text);
  return a;
}

inline proto::Annotation make_symptom(std::int64_t start_utc_ns, int pain) {
  proto::Annotation a;
  a.set_kind(proto::Annotation::SYMPTOM);
  a.set_start_utc_ns(start_utc_ns);
  a.mutable_symptom()->set_pain(pain);
  a.mutable_symptom()->set_site(proto::NECK);
  a.mutable_symptom()->set_side(proto::RIGHT);
  a.mutable_symptom()->set_description("stabbing");
  return a;
}

inline proto::Annotation make_feedback(std::int64_t start_utc_ns, const std::string& event_id,
                                       proto::EventFeedback::Verdict verdict) {
  proto::Annotation a;
  a.set_kind(proto::Annotation::FEEDBACK);
  a.set_start_utc_ns(start_utc_ns);
  a.set_event_id(event_id);
  a.mutable_feedback()->set_verdict(verdict);
  return a;
}

}  // namespace spasmwatch::store::testing
