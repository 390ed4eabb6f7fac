#include "sim_device.hpp"

#include <algorithm>
#include <cmath>
#include <limits>

#include "protocol/frame_decoder.hpp"
#include "protocol/message_codec.hpp"

namespace spasmwatch::sim {

namespace {
constexpr double kIdleHelloInterval_s = 1.0;
constexpr double kStreamingHelloInterval_s = 10.0;
constexpr double kStatusInterval_s = 10.0;
constexpr int kEndOfSessionRepeats = 3;
}  // namespace

SimDevice::SimDevice(SignalModel& model, DeviceSettings settings)
    : model_(model), settings_(std::move(settings)) {
  const auto& c = model_.config();
  Stream emg;
  emg.id = 0;
  emg.name = "emg";
  emg.rate_hz = c.emg_rate_hz;
  emg.channels = static_cast<std::uint32_t>(c.emg_channels);
  Stream acc;
  acc.id = 1;
  acc.name = "acc";
  acc.rate_hz = c.acc_rate_hz;
  acc.channels = 3;
  for (Stream* s : {&emg, &acc}) {
    const double block_s = s->id == 0 ? settings_.emg_block_s : settings_.acc_block_s;
    s->block_points = std::max<std::uint32_t>(1, static_cast<std::uint32_t>(std::lround(s->rate_hz * block_s)));
    s->total_points = static_cast<std::uint64_t>(std::llround(c.duration_s * s->rate_hz));
    s->buffer.resize(static_cast<std::size_t>(s->block_points) * s->channels);
    streams_.push_back(std::move(*s));
  }
  summary_.set_device_id(settings_.device_id);
  summary_.set_scenario(c.scenario);
  summary_.set_seed(c.seed);
  summary_.set_duration_s(c.duration_s);
  for (const auto& s : streams_) {
    auto& st = (*summary_.mutable_streams())[s.name];
    st.set_name(s.name);
    st.set_channels(s.channels);
    st.set_rate_hz(s.rate_hz);
  }
}

std::uint64_t SimDevice::device_time_us(double true_time_s) const {
  const double us = true_time_s * (1.0 + settings_.drift_ppm * 1e-6) * 1e6;
  return us <= 0 ? 0 : static_cast<std::uint64_t>(us);
}

double SimDevice::streaming_time_s(double true_time_s) const {
  return state_ == State::idle ? 0 : true_time_s - start_true_s_;
}

double SimDevice::block_end_true_s(const Stream& s) const {
  const std::uint64_t end_index = std::min(s.next_index + s.block_points, s.total_points);
  const double device_s = static_cast<double>(start_device_us_) * 1e-6 +
                          static_cast<double>(end_index) / s.rate_hz;
  return device_s / (1.0 + settings_.drift_ppm * 1e-6);
}

double SimDevice::next_due_s() const {
  double due = std::min(next_hello_s_, state_ == State::streaming ? next_status_s_ : next_hello_s_);
  if (state_ == State::streaming) {
    for (const auto& s : streams_) {
      if (s.next_index < s.total_points) due = std::min(due, block_end_true_s(s));
    }
  }
  return due;
}

void SimDevice::emit(const proto::DeviceMessage& message, int stream, std::uint64_t values,
                     std::vector<OutgoingFrame>& out) {
  OutgoingFrame f;
  f.stream = stream;
  f.values = values;
  protocol::encode_message(message, f.bytes);
  out.push_back(std::move(f));
}

void SimDevice::emit_hello(double true_time_s, std::vector<OutgoingFrame>& out) {
  message_.Clear();
  auto* h = message_.mutable_hello();
  const auto& c = model_.config();
  h->set_protocol_version(1);
  h->set_device_id(settings_.device_id);
  h->set_firmware(settings_.firmware);
  h->set_site(c.site);
  h->set_side(c.side);
  h->set_session_id(settings_.session_id);
  h->set_device_time_us(device_time_us(true_time_s));
  h->set_streaming(state_ == State::streaming);
  for (const auto& s : streams_) {
    auto* info = h->add_streams();
    info->set_stream_id(s.id);
    info->set_name(s.name);
    info->set_rate_hz(s.rate_hz);
    info->set_bits(16);
    info->set_next_sample_index(s.next_index);
    info->set_next_sequence(s.next_sequence);
    for (std::uint32_t ch = 0; ch < s.channels; ++ch) {
      auto* channel = info->add_channels();
      if (s.id == 0) {
        channel->set_label("emg" + std::to_string(ch + 1));
        channel->set_kind(proto::EMG);
        channel->set_unit("uV");
        channel->set_scale(SignalModel::kEmgScaleUv);
      } else {
        static constexpr const char* kAxes[] = {"acc_x", "acc_y", "acc_z"};
        channel->set_label(kAxes[ch]);
        channel->set_kind(static_cast<proto::ChannelKind>(proto::ACCEL_X + static_cast<int>(ch)));
        channel->set_unit("g");
        channel->set_scale(SignalModel::kAccScaleG);
      }
    }
  }
  emit(message_, -1, 0, out);
  next_hello_s_ = true_time_s + (state_ == State::streaming ? kStreamingHelloInterval_s : kIdleHelloInterval_s);
}

void SimDevice::emit_status(double true_time_s, std::vector<OutgoingFrame>& out) {
  message_.Clear();
  auto* st = message_.mutable_status();
  st->set_device_time_us(device_time_us(true_time_s));
  // A gentle discharge: 100% to 80% over a simulated night.
  const double used = std::min(20.0, streaming_time_s(true_time_s) / (8 * 3600.0) * 20.0);
  st->set_battery_percent(static_cast<std::uint32_t>(std::lround(100.0 - used)));
  st->set_lead_off_mask(0);
  emit(message_, -1, 0, out);
  next_status_s_ = true_time_s + kStatusInterval_s;
}

void SimDevice::emit_end(double true_time_s, std::vector<OutgoingFrame>& out) {
  message_.Clear();
  auto* e = message_.mutable_end_of_session();
  e->set_session_id(settings_.session_id);
  e->set_device_time_us(device_time_us(true_time_s));
  for (const auto& s : streams_) {
    auto* t = e->add_totals();
    t->set_stream_id(s.id);
    t->set_time_points(s.next_index);
    t->set_blocks(s.next_sequence);
  }
  for (int i = 0; i < kEndOfSessionRepeats; ++i) emit(message_, -1, 0, out);
  state_ = State::finished;
}

void SimDevice::on_connected(double true_time_s, std::vector<OutgoingFrame>& out) {
  host_decoder_.reset();
  if (state_ != State::finished) emit_hello(true_time_s, out);
}

void SimDevice::on_host_bytes(std::span<const std::uint8_t> bytes, double true_time_s,
                              std::vector<OutgoingFrame>& out) {
  proto::HostMessage command;
  while (!bytes.empty()) {
    const auto r = host_decoder_.next(bytes);
    if (r.status != protocol::FrameDecoder::Status::frame) continue;
    if (protocol::parse_host_message(r.payload, command) != protocol::FrameError::none) continue;
    if (command.has_start() && state_ == State::idle) {
      state_ = State::streaming;
      start_true_s_ = true_time_s;
      start_device_us_ = device_time_us(true_time_s);
      next_status_s_ = true_time_s;
      emit_hello(true_time_s, out);  // announces streaming=true
    } else if (command.has_stop() && state_ == State::streaming) {
      emit_end(true_time_s, out);
    } else if (command.has_ping()) {
      message_.Clear();
      auto* pong = message_.mutable_pong();
      pong->set_ping_id(command.ping().ping_id());
      pong->set_device_receive_time_us(device_time_us(true_time_s));
      pong->set_device_send_time_us(device_time_us(true_time_s));
      emit(message_, -1, 0, out);
    }
  }
}

void SimDevice::advance(double true_time_s, bool connected, std::vector<OutgoingFrame>& out) {
  if (state_ == State::finished) return;
  std::vector<OutgoingFrame> produced;
  std::vector<OutgoingFrame>& sink = connected ? out : produced;
  if (true_time_s >= next_hello_s_) emit_hello(true_time_s, sink);
  if (state_ != State::streaming) {
    if (!connected) produced.clear();
    return;
  }
  if (true_time_s >= next_status_s_) emit_status(true_time_s, sink);
  // Blocks in time order across streams, as a device would send them.
  for (;;) {
    Stream* next = nullptr;
    double next_end = std::numeric_limits<double>::infinity();
    for (auto& s : streams_) {
      if (s.next_index >= s.total_points) continue;
      const double end = block_end_true_s(s);
      if (end < next_end) {
        next_end = end;
        next = &s;
      }
    }
    if (next == nullptr || next_end > true_time_s) break;
    Stream& s = *next;
    const auto points = static_cast<std::uint32_t>(std::min<std::uint64_t>(s.block_points, s.total_points - s.next_index));
    const std::size_t values = static_cast<std::size_t>(points) * s.channels;
    std::span<std::int32_t> samples(s.buffer.data(), values);
    if (s.id == 0) {
      model_.generate_emg(samples);
    } else {
      model_.generate_acc(samples);
    }
    auto& st = (*summary_.mutable_streams())[s.name];
    st.set_samples_sent(st.samples_sent() + values);
    st.set_frames_sent(st.frames_sent() + 1);
    if (connected) {
      message_.Clear();
      auto* b = message_.mutable_samples();
      b->set_stream_id(s.id);
      b->set_sequence(s.next_sequence);
      b->set_first_sample_index(s.next_index);
      b->set_device_time_us(start_device_us_ + static_cast<std::uint64_t>(std::llround(
                                                   static_cast<double>(s.next_index) * 1e6 / s.rate_hz)));
      b->set_time_points(points);
      b->mutable_samples()->Add(samples.begin(), samples.end());
      emit(message_, static_cast<int>(s.id), values, out);
    } else {
      st.set_samples_unsent(st.samples_unsent() + values);
      st.set_frames_unsent(st.frames_unsent() + 1);
    }
    s.next_index += points;
    ++s.next_sequence;
  }
  const bool all_done = std::all_of(streams_.begin(), streams_.end(),
                                    [](const Stream& s) { return s.next_index >= s.total_points; });
  // The session ends only over a live link, so the host can learn the device's totals.
  if (all_done && connected) emit_end(true_time_s, out);
  if (!connected) produced.clear();
}

void run_in_process(SimDevice& device, double step_s,
                    const std::function<void(std::vector<OutgoingFrame>&, double)>& deliver) {
  std::vector<OutgoingFrame> out;
  std::vector<std::uint8_t> start;
  proto::HostMessage command;
  command.mutable_start();
  protocol::encode_message(command, start);
  device.on_connected(0, out);
  device.on_host_bytes(start, 0, out);
  deliver(out, 0);
  out.clear();
  for (std::uint64_t step = 1; !device.finished(); ++step) {
    const double t = static_cast<double>(step) * step_s;
    device.advance(t, true, out);
    deliver(out, t);
    out.clear();
  }
}

}  // namespace spasmwatch::sim
