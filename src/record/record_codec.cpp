#include "record/record_codec.hpp"

#include <limits>
#include <stdexcept>

#include <google/protobuf/io/coded_stream.h>

#include "protocol/crc32c.hpp"
#include "record/byte_io.hpp"
#include "record/sample_codec.hpp"

namespace spasmwatch::record::detail {
namespace {

// Codes stored for link events and frame errors. Spelled out (rather than casting the enums) so
// that reordering the in-memory enums can never change what files mean; -Wswitch flags a new enum
// value here.

std::uint8_t kind_code(protocol::FrameEventKind kind) {
  switch (kind) {
    case protocol::FrameEventKind::bad_frame:
      return std::uint8_t{1};
    case protocol::FrameEventKind::connected:
      return std::uint8_t{2};
    case protocol::FrameEventKind::disconnected:
      return std::uint8_t{3};
    case protocol::FrameEventKind::ping_sent:
      return std::uint8_t{4};
    case protocol::FrameEventKind::message:
      break;
  }
  throw std::invalid_argument("record: message events are not link events");
}

bool kind_from_code(std::uint8_t code, protocol::FrameEventKind& kind) {
  switch (code) {
    case 1:
      kind = protocol::FrameEventKind::bad_frame;
      return true;
    case 2:
      kind = protocol::FrameEventKind::connected;
      return true;
    case 3:
      kind = protocol::FrameEventKind::disconnected;
      return true;
    case 4:
      kind = protocol::FrameEventKind::ping_sent;
      return true;
    default:
      return false;
  }
}

std::uint8_t error_code(protocol::FrameError error) {
  using protocol::FrameError;
  switch (error) {
    case FrameError::none:
      return 0;
    case FrameError::cobs_invalid:
      return 1;
    case FrameError::too_short:
      return 2;
    case FrameError::crc_mismatch:
      return 3;
    case FrameError::oversize:
      return 4;
    case FrameError::parse_failed:
      return 5;
    case FrameError::invalid_message:
      return 6;
  }
  throw std::invalid_argument("record: unknown FrameError value");
}

bool error_from_code(std::uint8_t code, protocol::FrameError& error) {
  using protocol::FrameError;
  constexpr FrameError kByCode[] = {
      FrameError::none,     FrameError::cobs_invalid, FrameError::too_short,      FrameError::crc_mismatch,
      FrameError::oversize, FrameError::parse_failed, FrameError::invalid_message};
  if (code >= std::size(kByCode)) return false;
  error = kByCode[code];
  return true;
}

// Difference of two values taken modulo 2^64 / 2^32, as a signed number: any pair round-trips.
std::int64_t wrapping_diff(std::uint64_t actual, std::uint64_t predicted) {
  return static_cast<std::int64_t>(actual - predicted);
}
std::int64_t wrapping_diff32(std::uint32_t actual, std::uint32_t predicted) {
  return static_cast<std::int32_t>(actual - predicted);
}

bool fits_int32(std::int64_t v) {
  return v >= std::numeric_limits<std::int32_t>::min() && v <= std::numeric_limits<std::int32_t>::max();
}

bool has_unknown_fields(const google::protobuf::Message& message) {
  return !message.GetReflection()->GetUnknownFields(message).empty();
}

constexpr std::size_t kFieldsBound = 7 * kMaxVarint64Bytes;  // every non-sample field of a record

}  // namespace

// ---- stream prediction ------------------------------------------------------------------------

StreamSlot StreamPredictor::predict(std::uint32_t stream_id) const {
  const StreamSlot& slot = slots_[stream_id % kStreamSlots];
  if (slot.used && slot.stream_id == stream_id) return slot;
  return StreamSlot{};
}

void StreamPredictor::update(const proto::SampleBlock& block) {
  StreamSlot& slot = slots_[block.stream_id() % kStreamSlots];
  const bool continues = slot.used && slot.stream_id == block.stream_id();
  slot.device_step_us = continues ? block.device_time_us() - slot.device_time_us : 0;
  slot.used = true;
  slot.stream_id = block.stream_id();
  slot.next_sequence = block.sequence() + 1;
  slot.next_first_index = block.first_sample_index() + block.time_points();
  slot.device_time_us = block.device_time_us();
  slot.time_points = block.time_points();
  const SampleLayout layout =
      sample_layout(static_cast<std::size_t>(block.samples_size()), block.time_points());
  slot.channels = layout.length == block.time_points() ? layout.channels : 0;
}

// ---- encoding ---------------------------------------------------------------------------------

RecordEncoder::RecordEncoder() {
  body_.resize(64 * 1024);
}

std::uint8_t* RecordEncoder::reserve_body(std::size_t bytes) {
  if (body_.size() < bytes) body_.resize(bytes);  // grows to the high-water mark, then stays
  return body_.data();
}

bool RecordEncoder::encode(const protocol::FrameEvent& event, std::vector<std::uint8_t>& out) {
  last_samples_ = 0;
  RecordType type = RecordType::link_event;
  std::size_t body_size = 0;
  if (event.kind == protocol::FrameEventKind::message) {
    if (event.message == nullptr) {
      throw std::invalid_argument("record: message event without a message");
    }
    const proto::DeviceMessage& message = *event.message;
    const bool plain_samples = message.has_samples() &&
                               message.samples().samples_size() <= static_cast<int>(kMaxBlockSamples) &&
                               !has_unknown_fields(message) && !has_unknown_fields(message.samples());
    if (plain_samples) {
      type = RecordType::samples;
      body_size = encode_samples_body(event);
    } else {
      if (message.ByteSizeLong() + kFieldsBound > kMaxRecordBodyBytes) return false;
      type = RecordType::message;
      body_size = encode_message_body(event);
    }
    if (message.has_samples()) last_samples_ = static_cast<std::size_t>(message.samples().samples_size());
  } else {
    body_size = encode_link_body(event);
  }

  std::uint8_t header[kMaxRecordHeaderBytes];
  std::uint8_t* h = put_varint(header, body_size);
  *h++ = static_cast<std::uint8_t>(type);
  const std::span<const std::uint8_t> checked(header, h);
  *h++ = static_cast<std::uint8_t>(protocol::crc32c(checked));
  const std::span<const std::uint8_t> head(header, h);
  const std::span<const std::uint8_t> body(body_.data(), body_size);
  const std::uint32_t crc = protocol::crc32c(body, protocol::crc32c(head));
  std::uint8_t trailer[kRecordCrcBytes];
  put_u32_le(trailer, crc);

  out.insert(out.end(), head.begin(), head.end());
  out.insert(out.end(), body.begin(), body.end());
  out.insert(out.end(), std::begin(trailer), std::end(trailer));
  return true;
}

std::size_t RecordEncoder::encode_samples_body(const protocol::FrameEvent& event) {
  const proto::SampleBlock& block = event.message->samples();
  const std::span<const std::int32_t> samples(block.samples().data(),
                                              static_cast<std::size_t>(block.samples_size()));
  std::uint8_t* const begin =
      reserve_body(kFieldsBound + max_encoded_sample_bytes(samples.size(), block.time_points()));
  const StreamSlot predicted = streams_.predict(block.stream_id());
  const std::uint64_t predicted_count = static_cast<std::uint64_t>(block.time_points()) * predicted.channels;

  std::uint8_t* p = begin;
  p = put_signed_varint(p, wrapping_diff(static_cast<std::uint64_t>(event.host_time_ns),
                                         static_cast<std::uint64_t>(last_host_time_ns_)));
  p = put_varint(p, block.stream_id());
  p = put_signed_varint(p, wrapping_diff32(block.sequence(), predicted.next_sequence));
  p = put_signed_varint(p, wrapping_diff(block.first_sample_index(), predicted.next_first_index));
  p = put_signed_varint(
      p, wrapping_diff(block.device_time_us(), predicted.device_time_us + predicted.device_step_us));
  p = put_signed_varint(p, wrapping_diff32(block.time_points(), predicted.time_points));
  p = put_signed_varint(p, wrapping_diff(samples.size(), predicted_count));
  p += record::encode_samples(samples, block.time_points(), p);

  streams_.update(block);
  last_host_time_ns_ = event.host_time_ns;
  return static_cast<std::size_t>(p - begin);
}

std::size_t RecordEncoder::encode_message_body(const protocol::FrameEvent& event) {
  const proto::DeviceMessage& message = *event.message;
  const std::size_t message_size = message.ByteSizeLong();
  std::uint8_t* const begin = reserve_body(kMaxVarint64Bytes + message_size);
  std::uint8_t* p = begin;
  p = put_signed_varint(p, wrapping_diff(static_cast<std::uint64_t>(event.host_time_ns),
                                         static_cast<std::uint64_t>(last_host_time_ns_)));
  p = message.SerializeWithCachedSizesToArray(p);
  last_host_time_ns_ = event.host_time_ns;
  return static_cast<std::size_t>(p - begin);
}

std::size_t RecordEncoder::encode_link_body(const protocol::FrameEvent& event) {
  std::uint8_t* const begin = reserve_body(kFieldsBound);
  std::uint8_t* p = begin;
  p = put_signed_varint(p, wrapping_diff(static_cast<std::uint64_t>(event.host_time_ns),
                                         static_cast<std::uint64_t>(last_host_time_ns_)));
  *p++ = kind_code(event.kind);
  *p++ = error_code(event.error);
  p = put_varint(p, event.bad_bytes);
  p = put_varint(p, event.ping_id);
  last_host_time_ns_ = event.host_time_ns;
  return static_cast<std::size_t>(p - begin);
}

// ---- framing ----------------------------------------------------------------------------------

RecordFrame frame_record(std::span<const std::uint8_t> bytes) {
  using Status = RecordFrame::Status;
  std::uint64_t body_size = 0;
  std::size_t length_bytes = 0;
  for (std::size_t i = 0;; ++i) {
    if (i == 4) return {Status::corrupt, 0, "record length field longer than 4 bytes"};
    if (i >= bytes.size()) return {Status::need_more, bytes.size() + 1, {}};
    body_size |= static_cast<std::uint64_t>(bytes[i] & 0x7Fu) << (7 * i);
    if ((bytes[i] & 0x80u) == 0) {
      length_bytes = i + 1;
      break;
    }
  }
  const std::size_t header_bytes = length_bytes + 2;
  if (bytes.size() < header_bytes) return {Status::need_more, header_bytes, {}};
  const auto check = static_cast<std::uint8_t>(protocol::crc32c(bytes.first(length_bytes + 1)));
  if (kVerifyChecksums && bytes[length_bytes + 1] != check) {
    return {Status::corrupt, 0, "record header check failed"};
  }
  if (body_size > kMaxRecordBodyBytes) return {Status::corrupt, 0, "record length above 16 MiB"};
  const std::size_t total = header_bytes + static_cast<std::size_t>(body_size) + kRecordCrcBytes;
  if (bytes.size() < total) return {Status::need_more, total, {}};
  const std::uint32_t stored = get_u32_le(bytes.data() + total - kRecordCrcBytes);
  if (kVerifyChecksums && protocol::crc32c(bytes.first(total - kRecordCrcBytes)) != stored) {
    return {Status::corrupt, 0, "record CRC mismatch"};
  }
  return {Status::complete, total, {}};
}

// ---- decoding ---------------------------------------------------------------------------------

RecordDecoder::RecordDecoder() {
  samples_message_.mutable_samples()->mutable_samples()->Reserve(4096);
}

RecordDecoder::Result RecordDecoder::fail(std::string_view problem) {
  problem_ = problem;
  return Result::malformed;
}

RecordDecoder::Result RecordDecoder::decode(std::span<const std::uint8_t> record,
                                            protocol::FrameEvent& event) {
  // The record was framed already: the length varint is valid and the sizes add up.
  std::size_t length_bytes = 1;
  while (record[length_bytes - 1] & 0x80u) ++length_bytes;
  const std::uint8_t type = record[length_bytes];
  const std::span<const std::uint8_t> body =
      record.subspan(length_bytes + 2, record.size() - length_bytes - 2 - kRecordCrcBytes);
  event = protocol::FrameEvent{};
  switch (type) {
    case static_cast<std::uint8_t>(RecordType::samples):
      return decode_samples_body(body, event);
    case static_cast<std::uint8_t>(RecordType::message):
      return decode_message_body(body, event);
    case static_cast<std::uint8_t>(RecordType::link_event):
      return decode_link_body(body, event);
    default:
      break;
  }
  if (type >= kFirstSkippableType) return Result::skipped;
  return fail("unknown record type");
}

RecordDecoder::Result RecordDecoder::decode_samples_body(std::span<const std::uint8_t> body,
                                                         protocol::FrameEvent& event) {
  ByteCursor in(body.data(), body.data() + body.size());
  std::int64_t host_delta = 0;
  std::uint32_t stream_id = 0;
  std::int64_t d_sequence = 0;
  std::int64_t d_first = 0;
  std::int64_t d_device_time = 0;
  std::int64_t d_time_points = 0;
  std::int64_t d_count = 0;
  if (!in.read_signed_varint(host_delta) || !in.read_varint32(stream_id) ||
      !in.read_signed_varint(d_sequence) || !in.read_signed_varint(d_first) ||
      !in.read_signed_varint(d_device_time) || !in.read_signed_varint(d_time_points) ||
      !in.read_signed_varint(d_count)) {
    return fail("sample record fields cut short");
  }
  if (!fits_int32(d_sequence) || !fits_int32(d_time_points)) {
    return fail("sample record field out of range");
  }
  const StreamSlot predicted = streams_.predict(stream_id);
  const std::uint32_t time_points = predicted.time_points + static_cast<std::uint32_t>(d_time_points);
  const std::uint64_t count =
      static_cast<std::uint64_t>(time_points) * predicted.channels + static_cast<std::uint64_t>(d_count);
  if (count > kMaxBlockSamples) return fail("sample record holds too many samples");

  proto::SampleBlock& block = *samples_message_.mutable_samples();
  block.set_stream_id(stream_id);
  block.set_sequence(predicted.next_sequence + static_cast<std::uint32_t>(d_sequence));
  block.set_first_sample_index(predicted.next_first_index + static_cast<std::uint64_t>(d_first));
  block.set_device_time_us(predicted.device_time_us + predicted.device_step_us +
                           static_cast<std::uint64_t>(d_device_time));
  block.set_time_points(time_points);
  auto& samples = *block.mutable_samples();
  samples.Resize(static_cast<int>(count), 0);
  const SampleDecodeError error = decode_samples({in.position(), in.remaining()}, time_points,
                                                 {samples.mutable_data(), static_cast<std::size_t>(count)});
  if (error != SampleDecodeError::none) return fail(to_string(error));

  streams_.update(block);
  last_host_time_ns_ = static_cast<std::int64_t>(static_cast<std::uint64_t>(last_host_time_ns_) +
                                                 static_cast<std::uint64_t>(host_delta));
  event.kind = protocol::FrameEventKind::message;
  event.host_time_ns = last_host_time_ns_;
  event.message = &samples_message_;
  return Result::event;
}

proto::DeviceMessage* RecordDecoder::parse_reusing(std::span<const std::uint8_t> bytes) {
  // A serialized DeviceMessage starts with its body field: tag byte (field << 3 | 2). Merging the
  // bytes into a message that holds only that body, emptied, gives exactly what parsing into a
  // fresh message gives (the first field sets the same body), but reuses the body's buffers.
  const unsigned field = bytes.empty() ? 0 : bytes[0] >> 3;
  const bool known_body = !bytes.empty() && (bytes[0] & 7u) == 2 && field >= 1 && field <= 5;
  const int size = static_cast<int>(bytes.size());  // below 16 MiB
  if (!known_body) {
    proto::DeviceMessage& message = messages_[0];
    return message.ParseFromArray(bytes.data(), size) ? &message : nullptr;
  }
  proto::DeviceMessage& message = messages_[field];
  message.GetReflection()->MutableUnknownFields(&message)->Clear();
  switch (field) {
    case proto::DeviceMessage::kHello:
      message.mutable_hello()->Clear();
      break;
    case proto::DeviceMessage::kSamples:
      message.mutable_samples()->Clear();
      break;
    case proto::DeviceMessage::kStatus:
      message.mutable_status()->Clear();
      break;
    case proto::DeviceMessage::kEndOfSession:
      message.mutable_end_of_session()->Clear();
      break;
    default:
      message.mutable_pong()->Clear();
      break;
  }
  google::protobuf::io::CodedInputStream input(bytes.data(), size);
  const bool parsed = message.MergeFromCodedStream(&input) && input.ConsumedEntireMessage();
  return parsed ? &message : nullptr;
}

RecordDecoder::Result RecordDecoder::decode_message_body(std::span<const std::uint8_t> body,
                                                         protocol::FrameEvent& event) {
  ByteCursor in(body.data(), body.data() + body.size());
  std::int64_t host_delta = 0;
  if (!in.read_signed_varint(host_delta)) return fail("message record fields cut short");
  const std::span<const std::uint8_t> bytes(in.position(), in.remaining());
  proto::DeviceMessage* message = parse_reusing(bytes);
  if (message == nullptr) return fail("message record holds an invalid protobuf message");
  last_host_time_ns_ = static_cast<std::int64_t>(static_cast<std::uint64_t>(last_host_time_ns_) +
                                                 static_cast<std::uint64_t>(host_delta));
  event.kind = protocol::FrameEventKind::message;
  event.host_time_ns = last_host_time_ns_;
  event.message = message;
  return Result::event;
}

RecordDecoder::Result RecordDecoder::decode_link_body(std::span<const std::uint8_t> body,
                                                      protocol::FrameEvent& event) {
  ByteCursor in(body.data(), body.data() + body.size());
  std::int64_t host_delta = 0;
  std::uint8_t kind = 0;
  std::uint8_t error = 0;
  if (!in.read_signed_varint(host_delta) || !in.read_u8(kind) || !in.read_u8(error) ||
      !in.read_varint32(event.bad_bytes) || !in.read_varint32(event.ping_id)) {
    return fail("link event record fields cut short");
  }
  if (!in.at_end()) return fail("bytes left after a link event record");
  if (!kind_from_code(kind, event.kind)) return fail("unknown link event kind");
  if (!error_from_code(error, event.error)) return fail("unknown frame error code");
  last_host_time_ns_ = static_cast<std::int64_t>(static_cast<std::uint64_t>(last_host_time_ns_) +
                                                 static_cast<std::uint64_t>(host_delta));
  event.host_time_ns = last_host_time_ns_;
  return Result::event;
}

}  // namespace spasmwatch::record::detail
