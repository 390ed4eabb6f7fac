// myo_eval: runs the detector over the Myo armband recordings in ../shared/data/real/myo-12345-1
// (8-channel forearm EMG, ~200 Hz, raw 8-bit counts; label column: 0 rest, 1-7 a held gesture
// cued in 5 s blocks) and reports how many cued contractions were found and how many detections
// fell outside them. The labels are cues, not onsets: a detection counts for a block if it
// overlaps [cue start, cue end + 1 s] (reaction time). No accelerometer in these files.
// Usage: myo_eval [DIR]   (default ../shared/data/real/myo-12345-1); SW_MYO_LIST=1 lists every
// activation.
#include <cstdio>
#include <cstdlib>
#include <string>
#include <vector>

#include "detect/device_pipeline.hpp"
#include "import/csv_source.hpp"
#include "import/import_error.hpp"

using namespace spasmwatch;

namespace {

struct Block {
  double start_s, end_s;
  bool found = false;
};

}  // namespace

int main(int argc, char** argv) {
  const std::string dir = argc > 1 ? argv[1] : "../shared/data/real/myo-12345-1";
  constexpr double kRate = 200;  // the dataset's nominal rate
  std::printf("file  blocks  found  recall  reported-outside  activations-outside  minutes\n");
  int total_blocks = 0, total_found = 0, total_found_any = 0;
  for (int f = 0; f <= 7; ++f) {
    const std::string path = dir + "/" + std::to_string(f) + ".txt";
    // The CSV importer reads the headerless 9-column files (errors name file, line and column).
    std::vector<std::int32_t> samples;
    std::vector<int> labels;
    try {
      import::CsvOptions csv;
      csv.rate_hz = kRate;
      csv.header = import::CsvHeader::no;
      auto source = import::CsvSource::open(path, csv);
      if (source->signals().size() != 9) {
        std::fprintf(stderr, "myo_eval: %s: expected 9 columns, got %zu\n", path.c_str(),
                     source->signals().size());
        return 2;
      }
      source->select(std::vector<bool>(9, true));
      import::Chunk chunk;
      while (source->next(chunk)) {
        for (std::size_t t = 0; t < chunk.values[8].size(); ++t) {
          for (std::size_t c = 0; c < 8; ++c) samples.push_back(chunk.values[c][t]);
          labels.push_back(chunk.values[8][t]);
        }
      }
    } catch (const import::ImportError& e) {
      std::fprintf(stderr, "myo_eval: %s (is ../shared/data beside the repo?)\n", e.what());
      return 2;
    }
    std::vector<Block> blocks;
    for (std::size_t i = 0; i < labels.size(); ++i) {
      const bool on = labels[i] != 0;
      if (on && (i == 0 || labels[i - 1] == 0)) blocks.push_back({static_cast<double>(i) / kRate, 0});
      if (on && (i + 1 == labels.size() || labels[i + 1] == 0))
        blocks.back().end_s = static_cast<double>(i + 1) / kRate;
    }
    auto in_block = [&](double s, double e) -> Block* {
      for (auto& b : blocks) {
        if (e > b.start_s && s < b.end_s + 1.0) return &b;
      }
      return nullptr;
    };
    proto::Hello hello;
    hello.set_device_id("myo");
    hello.set_site(proto::FOREARM);
    auto* stream = hello.add_streams();
    stream->set_stream_id(0);
    stream->set_name("emg");
    stream->set_rate_hz(kRate);
    for (int c = 0; c < 8; ++c) {
      auto* ch = stream->add_channels();
      ch->set_kind(proto::EMG);
      ch->set_unit("uV");  // raw counts taken as µV: the Myo's scale is not published
      ch->set_scale(1.0);
    }
    detect::DetectorConfig config;
    config.report_rejected = true;
    int reported_outside = 0, activations_outside = 0;
    std::vector<bool> found_any(blocks.size());
    detect::DevicePipeline pipeline("myo", config, [&](const proto::Event& e) {
      if (e.duration_s() <= 0) return;  // provisional / retracted without figures
      if (std::getenv("SW_MYO_LIST") != nullptr) {
        std::printf("  %d.txt %7.2f-%7.2f s %-9s peak %6.1f snr %5.1f conf %.2f\n", f, e.device_start_s(),
                    e.device_end_s(), e.state() == proto::FINAL ? "event" : "rejected", e.peak_uv(), e.snr(),
                    e.confidence());
      }
      Block* b = in_block(e.device_start_s(), e.device_end_s());
      if (b != nullptr) {
        found_any[static_cast<std::size_t>(b - blocks.data())] = true;
        if (e.state() == proto::FINAL) b->found = true;
      } else {
        ++activations_outside;
        if (e.state() == proto::FINAL) ++reported_outside;
      }
    });
    pipeline.on_hello(hello, true);
    const std::string name = "emg";
    const ingest::StreamView view{0, &name, 8, kRate};
    for (std::size_t i = 0; i < samples.size(); i += 8 * 8) {  // blocks of 8 time points, as sent
      const std::size_t n = std::min<std::size_t>(64, samples.size() - i);
      pipeline.on_samples(view, i / 8, 0, std::span(samples).subspan(i, n));
    }
    pipeline.finish();
    int found = 0, any = 0;
    for (std::size_t b = 0; b < blocks.size(); ++b) {
      found += blocks[b].found ? 1 : 0;
      any += found_any[b] ? 1 : 0;
    }
    total_blocks += static_cast<int>(blocks.size());
    total_found += found;
    total_found_any += any;
    std::printf("%d.txt  %6zu  %5d  %6.2f  %16d  %19d  %7.2f\n", f, blocks.size(), found,
                blocks.empty() ? 0.0 : static_cast<double>(found) / static_cast<double>(blocks.size()),
                reported_outside, activations_outside, static_cast<double>(labels.size()) / kRate / 60);
  }
  std::printf("all: %d of %d cued contractions reported as events (%.2f); %d had an activation (%.2f)\n",
              total_found, total_blocks, total_blocks ? static_cast<double>(total_found) / total_blocks : 0.0,
              total_found_any, total_blocks ? static_cast<double>(total_found_any) / total_blocks : 0.0);
  return 0;
}
