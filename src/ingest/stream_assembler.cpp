#include "ingest/stream_assembler.hpp"

#include <cmath>
#include <limits>

#include "common/body_site.hpp"

namespace spasmwatch::ingest {

using protocol::FrameEventKind;

DeviceAssembler::DeviceAssembler(std::string name, SampleSink* sink)
    : name_(std::move(name)), sink_(sink) {
  counts_.set_name(name_);
}

void DeviceAssembler::on_event(const protocol::FrameEvent& event) {
  switch (event.kind) {
    case FrameEventKind::message:
      if (event.message != nullptr) on_message(*event.message, event.host_time_ns);
      break;
    case FrameEventKind::bad_frame:
      counts_.set_bad_frames(counts_.bad_frames() + 1);
      counts_.set_bad_bytes(counts_.bad_bytes() + event.bad_bytes);
      break;
    case FrameEventKind::connected:
      counts_.set_connections(counts_.connections() + 1);
      break;
    case FrameEventKind::disconnected:
      counts_.set_disconnections(counts_.disconnections() + 1);
      if (event.bad_bytes > 0) {  // an unfinished frame cut off by the disconnect
        counts_.set_bad_frames(counts_.bad_frames() + 1);
        counts_.set_bad_bytes(counts_.bad_bytes() + event.bad_bytes);
      }
      break;
    case FrameEventKind::ping_sent:
      pings_[next_ping_slot_] = {event.ping_id, event.host_time_ns, false};
      next_ping_slot_ = (next_ping_slot_ + 1) % pings_.size();
      break;
  }
}

void DeviceAssembler::on_message(const proto::DeviceMessage& message, std::int64_t host_time_ns) {
  counts_.set_messages(counts_.messages() + 1);
  switch (message.body_case()) {
    case proto::DeviceMessage::kHello: on_hello(message.hello()); break;
    case proto::DeviceMessage::kSamples: on_samples(message.samples(), host_time_ns); break;
    case proto::DeviceMessage::kStatus:
      counts_.set_battery_percent(message.status().battery_percent());
      counts_.set_lead_off_mask(message.status().lead_off_mask());
      break;
    case proto::DeviceMessage::kEndOfSession: on_end_of_session(message.end_of_session()); break;
    case proto::DeviceMessage::kPong: on_pong(message.pong(), host_time_ns); break;
    case proto::DeviceMessage::BODY_NOT_SET: break;
  }
}

DeviceAssembler::Stream* DeviceAssembler::find_stream(std::uint32_t stream_id) {
  for (auto& s : streams_) {
    if (s.stream_id == stream_id) return &s;
  }
  return nullptr;
}

DeviceAssembler::Stream& DeviceAssembler::stream(std::uint32_t stream_id) {
  if (auto* s = find_stream(stream_id)) return *s;
  Stream& s = streams_.emplace_back();
  s.stream_id = stream_id;
  s.name = "stream" + std::to_string(stream_id);
  return s;
}

StreamView DeviceAssembler::view(const Stream& s) const {
  return {s.stream_id, &s.name, s.channels, s.rate_hz};
}

void DeviceAssembler::on_hello(const proto::Hello& hello) {
  const bool new_session = !has_session_ || hello.session_id() != session_id_;
  hello_ = hello;
  has_hello_ = true;
  counts_.set_device_id(hello.device_id());
  counts_.set_firmware(hello.firmware());
  counts_.set_site(std::string(site_name(hello.site())));
  if (new_session) {
    has_session_ = true;
    session_id_ = hello.session_id();
    counts_.set_sessions(counts_.sessions() + 1);
    clock_.reset();
    for (auto& s : streams_) {
      s.index_known = false;
      s.sequence_known = false;
    }
  }
  if (sink_ != nullptr) sink_->on_hello(hello, new_session);
  for (const auto& info : hello.streams()) {
    Stream& s = stream(info.stream_id());
    if (!info.name().empty()) s.name = info.name();
    s.named_by_hello = true;
    if (info.channels_size() > 0) s.channels = static_cast<std::uint32_t>(info.channels_size());
    if (std::isfinite(info.rate_hz()) && info.rate_hz() > 0) s.rate_hz = info.rate_hz();
    if (!s.index_known) {
      s.index_known = true;
      s.next_index = info.next_sample_index();
    }
    if (!s.sequence_known) {
      s.sequence_known = true;
      s.next_sequence = info.next_sequence();
    }
  }
}

void DeviceAssembler::count_gap(Stream& s, std::uint64_t first_index, std::uint64_t time_points) {
  s.counts.set_lost_samples(s.counts.lost_samples() + time_points * s.channels);
  s.counts.set_gaps(s.counts.gaps() + 1);
  if (sink_ != nullptr) sink_->on_gap(view(s), first_index, time_points);
}

void DeviceAssembler::on_samples(const proto::SampleBlock& block, std::int64_t host_time_ns) {
  Stream& s = stream(block.stream_id());
  const std::uint64_t values = static_cast<std::uint64_t>(block.samples_size());
  const std::uint64_t time_points = block.time_points();
  // A block whose size does not match its own time_points, or the stream's channel count, is
  // inconsistent: drop it (its samples count as lost once the next block shows the gap).
  if (time_points == 0 || values % time_points != 0 ||
      (s.channels != 0 && values / time_points != s.channels) ||
      block.first_sample_index() > std::numeric_limits<std::uint64_t>::max() - time_points) {
    s.counts.set_invalid_frames(s.counts.invalid_frames() + 1);
    return;
  }
  if (s.channels == 0) s.channels = static_cast<std::uint32_t>(values / time_points);

  // Blocks, by sequence number. A backwards jump (duplicate or reordering) counts nothing.
  if (s.sequence_known) {
    const std::uint32_t missing = block.sequence() - s.next_sequence;  // wraps at 2^32
    if (missing != 0 && missing < (1u << 31)) s.counts.set_bad_frames(s.counts.bad_frames() + missing);
    if (missing < (1u << 31)) s.next_sequence = block.sequence() + 1;
  } else {
    s.sequence_known = true;
    s.next_sequence = block.sequence() + 1;
  }

  std::uint64_t first = block.first_sample_index();
  std::uint64_t skip = 0;
  if (!s.index_known) {
    s.index_known = true;
    s.next_index = first;
  }
  if (first > s.next_index) {
    count_gap(s, s.next_index, first - s.next_index);
  } else if (first < s.next_index) {
    skip = std::min(s.next_index - first, time_points);
    s.counts.set_duplicate_samples(s.counts.duplicate_samples() + skip * s.channels);
    if (skip == time_points) return;
  }
  const std::uint64_t accepted = time_points - skip;
  if (!s.counted_any) {
    s.counted_any = true;
    s.first_index_counted = first + skip;
  }
  s.counts.set_frames(s.counts.frames() + 1);
  s.counts.set_samples(s.counts.samples() + accepted * s.channels);
  s.next_index = first + time_points;

  double device_time_us = static_cast<double>(block.device_time_us());
  if (s.rate_hz > 0) {
    const double period_us = 1e6 / s.rate_hz;
    // The block can leave the device only once its last sample exists.
    clock_.add_arrival(static_cast<std::uint64_t>(std::llround(
                           device_time_us + static_cast<double>(time_points - 1) * period_us)),
                       host_time_ns);
    device_time_us += static_cast<double>(skip) * period_us;
  }
  if (sink_ != nullptr) {
    const auto offset = static_cast<std::size_t>(skip * s.channels);
    sink_->on_samples(view(s), first + skip, static_cast<std::uint64_t>(std::llround(device_time_us)),
                      std::span<const std::int32_t>(block.samples().data() + offset,
                                                    static_cast<std::size_t>(values) - offset));
  }
}

void DeviceAssembler::on_end_of_session(const proto::EndOfSession& end) {
  counts_.set_end_of_session(counts_.end_of_session() + 1);
  if (has_session_ && end.session_id() != session_id_) return;  // another session's leftovers
  for (const auto& total : end.totals()) {
    Stream* s = find_stream(total.stream_id());
    if (s == nullptr || !s->index_known) continue;
    if (total.time_points() > s->next_index) {
      count_gap(*s, s->next_index, total.time_points() - s->next_index);
      s->next_index = total.time_points();
    }
    if (s->sequence_known && total.blocks() > s->next_sequence &&
        total.blocks() - s->next_sequence < (1u << 31)) {
      s->counts.set_bad_frames(s->counts.bad_frames() + (total.blocks() - s->next_sequence));
      s->next_sequence = static_cast<std::uint32_t>(total.blocks());
    }
  }
}

void DeviceAssembler::on_pong(const proto::TimeSyncPong& pong, std::int64_t host_time_ns) {
  for (auto& ping : pings_) {
    if (!ping.used && ping.ping_id == pong.ping_id()) {
      ping.used = true;
      if (host_time_ns >= ping.host_send_ns &&
          pong.device_send_time_us() >= pong.device_receive_time_us()) {
        clock_.add_round_trip(ping.host_send_ns, pong.device_receive_time_us(),
                              pong.device_send_time_us(), host_time_ns);
      }
      return;
    }
  }
}

proto::DeviceStats DeviceAssembler::stats() const {
  proto::DeviceStats out = counts_;
  for (const auto& s : streams_) {
    proto::StreamStats st = s.counts;
    st.set_name(s.name);
    st.set_stream_id(s.stream_id);
    st.set_channels(s.channels);
    st.set_rate_hz(s.rate_hz);
    st.set_first_sample_index(s.first_index_counted);
    st.set_next_sample_index(s.next_index);
    auto& slot = (*out.mutable_streams())[s.name];
    if (slot.name().empty()) {
      slot = std::move(st);
    } else {  // two stream ids under one name (e.g. renamed across sessions): add up
      slot.set_samples(slot.samples() + st.samples());
      slot.set_lost_samples(slot.lost_samples() + st.lost_samples());
      slot.set_frames(slot.frames() + st.frames());
      slot.set_bad_frames(slot.bad_frames() + st.bad_frames());
      slot.set_gaps(slot.gaps() + st.gaps());
      slot.set_duplicate_samples(slot.duplicate_samples() + st.duplicate_samples());
      slot.set_invalid_frames(slot.invalid_frames() + st.invalid_frames());
    }
  }
  if (clock_.has_estimate()) *out.mutable_clock() = clock_.fit();
  return out;
}

}  // namespace spasmwatch::ingest
