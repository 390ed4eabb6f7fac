#include "app/cli_export_edf.hpp"

#include <cstdio>
#include <filesystem>
#include <iostream>
#include <limits>
#include <memory>

#include "app/cli_common.hpp"
#include "app/replay.hpp"
#include "common/body_site.hpp"
#include "detect/device_pipeline.hpp"
#include "import/edf_exporter.hpp"
#include "import/import_error.hpp"
#include "ingest/stream_assembler.hpp"

namespace spasmwatch::app {

namespace {

// Forwards the assembler's samples to the exporter and, in the first pass, to the detector.
class Tee final : public ingest::SampleSink {
 public:
  Tee(ingest::SampleSink* a, ingest::SampleSink* b) : a_(a), b_(b) {}
  void on_hello(const proto::Hello& hello, bool new_session) override {
    a_->on_hello(hello, new_session);
    if (b_ != nullptr) b_->on_hello(hello, new_session);
  }
  void on_samples(const ingest::StreamView& stream, std::uint64_t first_index, std::uint64_t device_time_us,
                  std::span<const std::int32_t> interleaved) override {
    a_->on_samples(stream, first_index, device_time_us, interleaved);
    if (b_ != nullptr) b_->on_samples(stream, first_index, device_time_us, interleaved);
  }
  void on_gap(const ingest::StreamView& stream, std::uint64_t first_index,
              std::uint64_t time_points) override {
    a_->on_gap(stream, first_index, time_points);
    if (b_ != nullptr) b_->on_gap(stream, first_index, time_points);
  }

 private:
  ingest::SampleSink* a_;
  ingest::SampleSink* b_;
};

std::string annotation_text(const proto::Annotation& a) {
  if (a.kind() == proto::Annotation::NOTE) return a.text();
  std::string text = display_name(proto::Annotation::Kind_Name(a.kind()));
  const std::string summary = annotation_summary(a);
  if (!summary.empty()) text += " " + summary;
  if (!a.text().empty()) text += ": " + a.text();
  return text;
}

}  // namespace

std::string event_annotation_text(const proto::Event& e) {
  std::string text = display_name(proto::EventType_Name(e.type()));
  if (e.site() != proto::SITE_UNSPECIFIED) {
    text += " " + std::string(site_name(e.site()));
    if (e.side() != proto::SIDE_UNSPECIFIED) text += "-" + std::string(side_name(e.side()));
  }
  char conf[32];
  std::snprintf(conf, sizeof conf, " conf=%.2f", e.confidence());
  return text + conf;
}

int run_export_edf(const ExportEdfRequest& request, const Clock& clock) {
  try {
    if (request.output.empty()) throw InputError("--output", "is required for --format edf (an EDF file)");
    if (request.inputs.empty()) {
      throw InputError("--input",
                       "give the recordings (.swr) or files (EDF, BDF, CSV) whose signals to export");
    }
    // Pass 2 reads the inputs again while the export is written: an input that is the output (or
    // its .part), however named, would be destroyed.
    for (const auto& input : request.inputs) {
      for (const auto& target : {request.output, request.output + ".part"}) {
        std::error_code ec;
        if (std::filesystem::exists(target, ec) && std::filesystem::equivalent(input, target, ec)) {
          throw InputError("--output", target + " is the input file " + input +
                                           " (the export reads its input twice): write to another file");
        }
      }
    }
    import::EdfExporter exporter(request.output);
    const std::int64_t now = clock.utc_ns();
    exporter.set_range_utc(
        request.from.empty() ? std::numeric_limits<std::int64_t>::min()
                             : parse_time(request.from, now, "--from"),
        request.to.empty() ? std::numeric_limits<std::int64_t>::max() : parse_time(request.to, now, "--to"));
    std::vector<proto::Event> detected;
    std::vector<import::ExportAnnotation> file_annotations;  // onsets filled after plan()
    std::vector<std::int64_t> file_annotation_utc;
    // The device is the first input's (the detector names its events after it).
    std::string device = ReplayInput::open(request.inputs.front(), request.import)->device_name();
    // One pass over every input through one assembler (one device); the first also detects.
    auto run_pass = [&](bool first) {
      detect::DevicePipeline pipeline(device, detect::DetectorConfig{}, [&](const proto::Event& e) {
        if (e.state() == proto::FINAL) detected.push_back(e);
      });
      const bool detect = first && request.db.empty();
      Tee tee(&exporter, detect ? &pipeline : nullptr);
      std::unique_ptr<ingest::DeviceAssembler> assembler;
      for (const auto& path : request.inputs) {
        auto input = ReplayInput::open(path, request.import);
        if (input->device_name() != device) {
          throw InputError("--input", path + " is from device '" + input->device_name() + "', not '" +
                                          device + "': export one device at a time");
        }
        if (!assembler) {
          assembler = std::make_unique<ingest::DeviceAssembler>(device, &tee);
          pipeline.set_clock(&assembler->clock());
        }
        if (first && input->imported() != nullptr) {
          for (const auto& note : input->imported()->notes())
            std::cerr << "spasmwatch export: " << path << ": " << note << "\n";
          for (const auto& a : input->imported()->annotations()) {
            file_annotations.push_back(
                {0, a.duration_ticks < 0 ? -1 : static_cast<double>(a.duration_ticks) / 1e7, a.text});
            file_annotation_utc.push_back(
                import::utc_ns_after(input->imported()->start_utc_ns(), a.onset_ticks));
          }
        }
        protocol::FrameEvent event;
        while (input->next(event)) assembler->on_event(event);
        if (input->corrupt()) throw import::ImportError(input->problem());
      }
      if (detect) pipeline.finish();
      if (first) exporter.plan(assembler->clock());
    };
    run_pass(true);

    std::size_t events = 0, annotations = 0;
    if (!request.db.empty()) {
      store::Store store = open_store_for_reading(request.db, clock);
      store::EventQuery eq;
      eq.from_utc_ns = exporter.start_utc_ns();
      eq.to_utc_ns = exporter.start_utc_ns() + static_cast<std::int64_t>(exporter.duration_s() * 1e9);
      eq.device = device;
      for (const auto& stored : all_events(store, eq)) {
        const auto& e = stored.event();
        // Events of this session are placed by their device time (exact to the sample).
        const bool same_session = e.session_id() == exporter.hello().session_id();
        const double onset = same_session ? exporter.file_seconds_of_device(e.device_start_s())
                                          : exporter.file_seconds_of_utc(e.start_utc_ns());
        exporter.add_annotation({onset, e.duration_s() > 0 ? e.duration_s() : -1, event_annotation_text(e)});
        ++events;
      }
      store::AnnotationQuery aq;
      aq.from_utc_ns = eq.from_utc_ns;
      aq.to_utc_ns = eq.to_utc_ns;
      for (const auto& a : all_annotations(store, aq)) {
        const double duration = a.end_utc_ns() > a.start_utc_ns()
                                    ? static_cast<double>(a.end_utc_ns() - a.start_utc_ns()) / 1e9
                                    : -1;
        exporter.add_annotation(
            {exporter.file_seconds_of_utc(a.start_utc_ns()), duration, annotation_text(a)});
        ++annotations;
      }
    } else {
      for (const auto& e : detected) {
        exporter.add_annotation(
            {exporter.file_seconds_of_device(e.device_start_s()), e.duration_s(), event_annotation_text(e)});
        ++events;
      }
      for (std::size_t i = 0; i < file_annotations.size(); ++i) {
        auto a = file_annotations[i];
        a.onset_s = exporter.file_seconds_of_utc(file_annotation_utc[i]);
        exporter.add_annotation(std::move(a));
        ++annotations;
      }
    }
    exporter.open();
    run_pass(false);
    exporter.finish();
    for (const auto& note : exporter.notes()) std::cerr << "spasmwatch export: " << note << "\n";
    char summary[256];
    std::snprintf(
        summary, sizeof summary,
        "exported %.3f s of %s (%s, %.3g s data records, %d signals) with %zu events and %zu annotations to ",
        exporter.duration_s(), device.c_str(), exporter.bdf() ? "BDF+" : "EDF+", exporter.record_duration_s(),
        [&] {
          int n = 0;
          for (const auto& s : exporter.hello().streams()) n += s.channels_size();
          return n;
        }(),
        events, annotations);
    std::cerr << summary << request.output << "\n";
    return kExitOk;
  } catch (const InputError& e) {
    std::cerr << "spasmwatch export: " << e.what() << "\n";
    return kExitBadInput;
  } catch (const import::ImportError& e) {
    std::cerr << "spasmwatch export: " << e.what() << "\n";
    return kExitBadInput;
  } catch (const record::RecordingError& e) {
    std::cerr << "spasmwatch export: " << e.what() << "\n";
    return kExitBadInput;
  } catch (const store::StoreError& e) {
    std::cerr << "spasmwatch export: " << e.what() << "\n";
    return kExitStoreError;
  }
}

}  // namespace spasmwatch::app
