// `spasmwatch annotate KIND ...`: builds a proto::Annotation from the options and stores it
// (read-write Store on the file; WAL lets it write beside a running spasmwatchd). The store
// validates; its field names are translated back to the options the user typed.
#include <iostream>
#include <map>

#include "app/cli_commands.hpp"
#include "app/cli_common.hpp"
#include "app/data_source.hpp"
#include "app/daemon_config.hpp"
#include "common/body_site.hpp"
#include "store/validation.hpp"

namespace spasmwatch::app {

namespace {

template <class Enum, class Parse>
Enum parse_enum(const std::string& option, const std::string& text, Parse parse, const char* choices) {
  Enum value{};
  if (!parse(enum_key(text), &value) || static_cast<int>(value) == 0) {
    throw InputError(option, "unknown value '" + text + "' (expected " + choices + ")");
  }
  return value;
}

proto::BodySite parse_site_option(const std::string& option, const std::string& text) {
  const auto site = parse_site(display_name(enum_key(text)));
  if (!site) {
    throw InputError(option, "unknown body site '" + text +
                                 "' (expected neck, shoulder, upper_back, lower_back, thigh, calf, jaw, forearm)");
  }
  return *site;
}

proto::Side parse_side_option(const std::string& option, const std::string& text) {
  const auto side = parse_side(display_name(enum_key(text)));
  if (!side) throw InputError(option, "unknown side '" + text + "' (expected left, right, midline)");
  return *side;
}

// The option a user typed for a field the store names.
std::string option_for(const std::string& field) {
  static const std::map<std::string, std::string> kOptions = {
      {"start_utc_ns", "--at"},          {"end_utc_ns", "--until"},
      {"text", "--text"},                {"event_id", "--event"},
      {"symptom.pain", "--pain"},        {"symptom.site", "--site"},
      {"symptom.side", "--side"},        {"symptom.description", "--description"},
      {"trigger.type", "--what"},        {"treatment.type", "--what"},
      {"treatment.medication", "--name"}, {"treatment.dose", "--dose"},
      {"feedback.verdict", "--confirm/--reject"}, {"feedback.relabel_type", "--relabel-type"},
      {"feedback.relabel_site", "--relabel-site"}, {"feedback.relabel_side", "--relabel-side"}};
  const auto it = kOptions.find(field);
  return it != kOptions.end() ? it->second : field;
}

}  // namespace

AnnotateCommand::AnnotateCommand(CLI::App& cli) {
  annotate_ = cli.add_subcommand("annotate", "Add an annotation (symptom, trigger, treatment, feedback, note); prints its id");
  annotate_->require_subcommand(1);
  const auto common = [this](CLI::App* kind) {
    kind->add_option("--db", db_, "Write to this database file instead of the running daemon");
    kind->add_option("--api-socket", api_socket_, "The daemon's API socket (default: its default path)")->excludes("--db");
    kind->add_option("--text", text_, "Free text (at most 2000 characters)");
    kind->add_option("--at", at_, "When: now (default), -30m, -2h, -1d, or UTC 2026-11-24T08:00:00Z");
    kind->add_option("--until", until_, "End of a time range (same forms as --at)");
  };
  symptom_ = annotate_->add_subcommand("symptom", "Pain or another symptom at a body site");
  common(symptom_);
  symptom_->add_option("--pain", pain_, "Pain 0-10");
  symptom_->add_option("--site", site_, "Body site: neck, shoulder, upper_back, lower_back, thigh, calf, jaw, forearm");
  symptom_->add_option("--side", side_, "left, right, midline");
  symptom_->add_option("--description", description_, "e.g. burning, cramping");
  symptom_->add_option("--event", event_, "Link to a detected event (its id)");

  trigger_ = annotate_->add_subcommand("trigger", "A possible trigger");
  common(trigger_);
  trigger_->add_option("--what", what_,
                       "stress, poor_sleep, over_exertion, caffeine, alcohol, dehydration, weather, other")
      ->required();
  trigger_->add_option("--event", event_, "Link to a detected event (its id)");

  treatment_ = annotate_->add_subcommand("treatment", "A treatment taken or given");
  common(treatment_);
  treatment_->add_option("--what", what_,
                         "heat, cold, massage, stretching, magnesium, physical_therapy, medication, other")
      ->required();
  treatment_->add_option("--name", medication_, "Medication name (required with --what medication)");
  treatment_->add_option("--dose", dose_, "Dose, e.g. \"10 mg\"");
  treatment_->add_option("--event", event_, "Link to a detected event (its id)");

  feedback_ = annotate_->add_subcommand("feedback", "Your verdict on a detected event (the event itself is kept)");
  common(feedback_);
  feedback_->add_option("--event", event_, "The event's id (spasmwatch events)")->required();
  auto* confirm = feedback_->add_flag("--confirm", confirm_, "A real involuntary event, as detected");
  auto* reject = feedback_->add_flag("--reject", reject_, "Not an involuntary event (movement, artefact)");
  auto* type = feedback_->add_option("--relabel-type", relabel_type_, "Real, but of this type: twitch, spasm, cramp, clonus, jaw_phasic, jaw_tonic");
  auto* site = feedback_->add_option("--relabel-site", relabel_site_, "Real, but at this body site");
  feedback_->add_option("--relabel-side", relabel_side_, "With --relabel-site: left, right, midline");
  confirm->excludes(reject)->excludes(type)->excludes(site);
  reject->excludes(type)->excludes(site);

  note_ = annotate_->add_subcommand("note", "A free note");
  common(note_);
  note_->add_option("--event", event_, "Link to a detected event (its id)");
}

int AnnotateCommand::run(const Clock& clock) const {
  proto::Annotation a;
  try {
    const std::int64_t now = clock.utc_ns();
    a.set_start_utc_ns(parse_time(at_, now, "--at"));
    if (!until_.empty()) a.set_end_utc_ns(parse_time(until_, now, "--until"));
    a.set_text(text_);
    if (!event_.empty()) a.set_event_id(store::canonical_id("event_id", event_));
    if (symptom_->parsed()) {
      a.set_kind(proto::Annotation::SYMPTOM);
      auto* s = a.mutable_symptom();
      if (pain_) s->set_pain(*pain_);
      if (!site_.empty()) s->set_site(parse_site_option("--site", site_));
      if (!side_.empty()) s->set_side(parse_side_option("--side", side_));
      s->set_description(description_);
      if (!pain_ && site_.empty() && description_.empty() && text_.empty()) {
        throw InputError("--pain", "a symptom needs at least one of --pain, --site, --description, --text");
      }
    } else if (trigger_->parsed()) {
      a.set_kind(proto::Annotation::TRIGGER);
      a.mutable_trigger()->set_type(parse_enum<proto::Trigger::Type>(
          "--what", what_, proto::Trigger::Type_Parse,
          "stress, poor_sleep, over_exertion, caffeine, alcohol, dehydration, weather, other"));
    } else if (treatment_->parsed()) {
      a.set_kind(proto::Annotation::TREATMENT);
      auto* t = a.mutable_treatment();
      t->set_type(parse_enum<proto::Treatment::Type>(
          "--what", what_, proto::Treatment::Type_Parse,
          "heat, cold, massage, stretching, magnesium, physical_therapy, medication, other"));
      t->set_medication(medication_);
      t->set_dose(dose_);
      if (t->type() == proto::Treatment::MEDICATION && medication_.empty()) {
        throw InputError("--name", "--what medication needs the medication's --name");
      }
    } else if (feedback_->parsed()) {
      a.set_kind(proto::Annotation::FEEDBACK);
      auto* f = a.mutable_feedback();
      if (confirm_) {
        f->set_verdict(proto::EventFeedback::CONFIRM);
      } else if (reject_) {
        f->set_verdict(proto::EventFeedback::REJECT);
      } else if (!relabel_type_.empty() || !relabel_site_.empty()) {
        f->set_verdict(proto::EventFeedback::RELABEL);
        if (!relabel_type_.empty()) {
          f->set_relabel_type(parse_enum<proto::EventType>("--relabel-type", relabel_type_, proto::EventType_Parse,
                                                           "twitch, spasm, cramp, clonus, jaw_phasic, jaw_tonic"));
        }
        if (!relabel_site_.empty()) f->set_relabel_site(parse_site_option("--relabel-site", relabel_site_));
        if (!relabel_side_.empty()) f->set_relabel_side(parse_side_option("--relabel-side", relabel_side_));
      } else {
        throw InputError("--confirm", "feedback needs one of --confirm, --reject, --relabel-type, --relabel-site");
      }
    } else {
      a.set_kind(proto::Annotation::NOTE);
      if (text_.empty()) throw InputError("--text", "a note needs --text");
    }
    store::validate_annotation(a);  // here, so that errors name this command's options
    const auto source = open_data_source({db_, api_socket_, true}, clock);
    std::cout << source->add_annotation(a) << "\n";
    return kExitOk;
  } catch (const InputError& e) {
    std::cerr << "spasmwatch annotate: " << e.what() << "\n";
    return kExitBadInput;
  } catch (const store::ValidationError& e) {
    std::cerr << "spasmwatch annotate: " << option_for(e.field()) << ": " << e.what() << "\n";
    return kExitBadInput;
  } catch (const store::StoreError& e) {
    std::cerr << "spasmwatch annotate: " << e.what() << "\n";
    return kExitStoreError;
  }
}

}  // namespace spasmwatch::app
