// replay_bench: builds a recording of simulated 8-channel 2 kHz EMG + 3-axis 100 Hz
// accelerometer (default one hour, as the daemon would record it: frames encoded, decoded and
// recorded), then measures
//   - live decode: frame decoder + protobuf parse + assembler, samples/s on one core
//   - replay: read + decode records + assemble, samples/s on one core (best of 3)
//   - full pipeline: the same plus EMG filters, envelopes, accelerometer and detection
//   - recording size in bytes per sample (all samples, and the EMG share)
// Usage: replay_bench [--hours H] [--scenario NAME] [--file PATH] [--runs N]
// (--runs: repetitions of each replay measurement, best taken; raise it on a busy machine or to
// profile the pipeline with perf)
#include <CLI/CLI.hpp>

#include <unistd.h>
#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <filesystem>

#include "detect/device_pipeline.hpp"
#include "ingest/stream_assembler.hpp"
#include "protocol/frame_decoder.hpp"
#include "protocol/message_codec.hpp"
#include "record/recording_reader.hpp"
#include "record/recording_writer.hpp"
#include "signal_model.hpp"
#include "sim_device.hpp"

using namespace spasmwatch;

namespace {
double now_s() {
  return std::chrono::duration<double>(std::chrono::steady_clock::now().time_since_epoch()).count();
}
}  // namespace

int main(int argc, char** argv) {
  CLI::App cli{"replay_bench: decode + assemble throughput and recording size"};
  double hours = 1.0;
  std::string scenario = "day-neck";
  std::string file = "/tmp/spasmwatch-bench-" + std::to_string(::getpid()) + ".swr";
  cli.add_option("--hours", hours, "Hours of recording")->check(CLI::Range(0.001, 24.0));
  cli.add_option("--scenario", scenario, "Simulator scenario");
  cli.add_option("--file", file, "Where to write the recording (removed at exit)");
  int runs = 3;
  cli.add_option("--runs", runs, "Repetitions of each replay measurement (best is reported)")
      ->check(CLI::Range(1, 1000));
  CLI11_PARSE(cli, argc, argv);

  sim::SignalConfig config;
  config.scenario = scenario;
  config.site = proto::NECK;
  config.emg_channels = 8;
  config.emg_rate_hz = 2000;
  config.acc_rate_hz = 100;
  config.duration_s = hours * 3600;
  config.seed = 11;
  sim::SignalModel model(config);
  sim::SimDevice device(model, {});

  // 1. Produce the byte stream a device would send, in chunks, and record it as the daemon does.
  std::filesystem::remove(file);
  record::RecordingInfo info;
  info.device_name = "bench";
  info.software = "replay_bench";
  auto writer = record::RecordingWriter::create(file, info);
  protocol::FrameDecoder decoder;
  proto::DeviceMessage message;
  ingest::DeviceAssembler live("bench");
  const std::int64_t t0_ns = 1'700'000'000'000'000'000;
  double decode_s = 0;
  std::uint64_t wire_bytes = 0;
  std::uint64_t values = 0;
  std::vector<std::uint8_t> bytes;
  sim::run_in_process(device, 0.1, [&](std::vector<sim::OutgoingFrame>& frames, double t) {
    bytes.clear();
    for (const auto& f : frames) bytes.insert(bytes.end(), f.bytes.begin(), f.bytes.end());
    wire_bytes += bytes.size();
    const std::int64_t host_ns = t0_ns + static_cast<std::int64_t>(t * 1e9) + 2'000'000;
    double mark = now_s();
    std::span<const std::uint8_t> in(bytes);
    while (!in.empty()) {
      const auto r = decoder.next(in);
      if (r.status != protocol::FrameDecoder::Status::frame) continue;
      protocol::FrameEvent e;
      e.host_time_ns = host_ns;
      if (protocol::parse_device_message(r.payload, message) != protocol::FrameError::none) continue;
      e.message = &message;
      if (message.has_samples()) values += static_cast<std::uint64_t>(message.samples().samples_size());
      live.on_event(e);
      decode_s += now_s() - mark;
      writer->append(e);  // recording time is not part of the decode figure
      mark = now_s();
    }
    decode_s += now_s() - mark;
  });
  writer->sync();
  const auto file_bytes = std::filesystem::file_size(file);
  writer.reset();

  // 2. Replay: read + decode + assemble (and, second, + filters + detection), best of three each.
  auto replay = [&](bool detect, std::uint64_t& events) {
    double best = 1e300;
    for (int run = 0; run < runs; ++run) {
      const double start = now_s();
      auto reader = record::RecordingReader::open(file);
      events = 0;
      detect::DevicePipeline pipeline("bench", detect::DetectorConfig{}, [&](const proto::Event& e) {
        if (e.state() == proto::FINAL) ++events;
      });
      ingest::DeviceAssembler assembler("bench", detect ? &pipeline : nullptr);
      protocol::FrameEvent e;
      while (reader->next(e)) assembler.on_event(e);
      if (detect) pipeline.finish();
      best = std::min(best, now_s() - start);
      if (assembler.stats().streams().at("emg").samples() != live.stats().streams().at("emg").samples()) {
        std::fprintf(stderr, "replay_bench: replay disagrees with live ingest\n");
        std::exit(1);
      }
    }
    return best;
  };
  std::uint64_t no_events = 0, events = 0;
  const double best_s = replay(false, no_events);
  const double full_s = replay(true, events);
  const std::uint64_t replayed = values;
  std::filesystem::remove(file);

  const auto emg_values = live.stats().streams().at("emg").samples();
  std::printf("recording: %.2f h, 8 ch EMG @ 2000 Hz + 3 ch ACC @ 100 Hz, scenario %s\n", hours,
              scenario.c_str());
  std::printf("samples: %llu (EMG %llu)\n", static_cast<unsigned long long>(values),
              static_cast<unsigned long long>(emg_values));
  std::printf("wire (protobuf varints + COBS + CRC): %.3f bytes/sample\n",
              static_cast<double>(wire_bytes) / static_cast<double>(values));
  std::printf("recording file: %llu bytes, %.3f bytes/sample (EDF: 2.000)\n",
              static_cast<unsigned long long>(file_bytes),
              static_cast<double>(file_bytes) / static_cast<double>(values));
  std::printf("live decode (frame decoder + protobuf parse + assemble): %.1f M samples/s\n",
              static_cast<double>(values) / decode_s / 1e6);
  std::printf("replay (read + decode + assemble), best of %d: %.3f s, %.1f M samples/s\n", runs, best_s,
              static_cast<double>(replayed) / best_s / 1e6);
  std::printf(
      "full pipeline (read + decode + assemble + filters + detection), best of %d: %.3f s, %.1f M samples/s, "
      "%llu events\n",
      runs, full_s, static_cast<double>(replayed) / full_s / 1e6, static_cast<unsigned long long>(events));
  return 0;
}
