#include "detect/device_pipeline.hpp"

#include <gtest/gtest.h>

#include "signal_model.hpp"

namespace spasmwatch::detect {
namespace {

struct Recording {
  proto::Hello hello;
  std::vector<std::int32_t> emg, acc;
  int channels = 2;
  double emg_rate = 1000, acc_rate = 100;
};

Recording simulate(const std::string& scenario, proto::BodySite site, double seconds, std::uint64_t seed) {
  sim::SignalConfig c;
  c.scenario = scenario;
  c.site = site;
  c.duration_s = seconds;
  c.seed = seed;
  sim::SignalModel model(c);
  Recording r;
  r.emg.resize(static_cast<std::size_t>(seconds * r.emg_rate) * 2);
  r.acc.resize(static_cast<std::size_t>(seconds * r.acc_rate) * 3);
  model.generate_emg(r.emg);
  model.generate_acc(r.acc);
  r.hello.set_device_id("test");
  r.hello.set_session_id(42);
  r.hello.set_site(site);
  auto* emg = r.hello.add_streams();
  emg->set_stream_id(0);
  emg->set_name("emg");
  emg->set_rate_hz(r.emg_rate);
  for (int i = 0; i < 2; ++i) {
    auto* ch = emg->add_channels();
    ch->set_kind(proto::EMG);
    ch->set_unit("uV");
    ch->set_scale(sim::SignalModel::kEmgScaleUv);
  }
  auto* acc = r.hello.add_streams();
  acc->set_stream_id(1);
  acc->set_name("acc");
  acc->set_rate_hz(r.acc_rate);
  for (int i = 0; i < 3; ++i) {
    auto* ch = acc->add_channels();
    ch->set_kind(static_cast<proto::ChannelKind>(proto::ACCEL_X + i));
    ch->set_unit("g");
    ch->set_scale(sim::SignalModel::kAccScaleG);
  }
  return r;
}

// Feeds the recording in EMG blocks of `emg_points` and accelerometer blocks of `acc_points`,
// in device-time order, and returns every event as serialized bytes.
std::vector<std::string> detect_all(const Recording& r, std::size_t emg_points, std::size_t acc_points) {
  std::vector<std::string> events;
  DevicePipeline pipeline("dev", DetectorConfig{}, [&](const proto::Event& e) { events.push_back(e.SerializeAsString()); });
  pipeline.on_hello(r.hello, true);
  const std::string emg_name = "emg", acc_name = "acc";
  const ingest::StreamView emg{0, &emg_name, 2, r.emg_rate};
  const ingest::StreamView acc{1, &acc_name, 3, r.acc_rate};
  const std::size_t emg_total = r.emg.size() / 2, acc_total = r.acc.size() / 3;
  std::size_t e = 0, a = 0;
  while (e < emg_total || a < acc_total) {
    const double te = e < emg_total ? static_cast<double>(e) / r.emg_rate : 1e300;
    const double ta = a < acc_total ? static_cast<double>(a) / r.acc_rate : 1e300;
    if (te <= ta) {
      const std::size_t n = std::min(emg_points, emg_total - e);
      pipeline.on_samples(emg, e, static_cast<std::uint64_t>(te * 1e6), std::span(r.emg).subspan(2 * e, 2 * n));
      e += n;
    } else {
      const std::size_t n = std::min(acc_points, acc_total - a);
      pipeline.on_samples(acc, a, static_cast<std::uint64_t>(ta * 1e6), std::span(r.acc).subspan(3 * a, 3 * n));
      a += n;
    }
  }
  pipeline.finish();
  return events;
}

TEST(DevicePipeline, AnyBlockSplitGivesIdenticalEvents) {
  const auto r = simulate("clonus", proto::CALF, 150, 3);
  const auto reference = detect_all(r, 20, 10);
  ASSERT_FALSE(reference.empty());
  for (const auto& [emg_points, acc_points] :
       std::vector<std::pair<std::size_t, std::size_t>>{{1, 1}, {7, 3}, {64, 7}, {4096, 64}, {4096, 4096}}) {
    EXPECT_EQ(detect_all(r, emg_points, acc_points), reference) << emg_points << "/" << acc_points;
  }
}

TEST(DevicePipeline, DetectsMainsFrequencyFromTheSignal) {
  for (const double mains : {50.0, 60.0}) {
    sim::SignalConfig c;
    c.scenario = "quiet-rest";
    c.site = proto::CALF;
    c.duration_s = 10;
    c.mains_hz = mains;
    sim::SignalModel model(c);
    Recording r = simulate("quiet-rest", proto::CALF, 10, 1);
    model.generate_emg(r.emg);
    DevicePipeline pipeline("dev", DetectorConfig{}, [](const proto::Event&) {});
    pipeline.on_hello(r.hello, true);
    const std::string name = "emg";
    pipeline.on_samples({0, &name, 2, 1000}, 0, 0, r.emg);
    EXPECT_EQ(pipeline.mains_hz(), mains);
  }
}

TEST(DevicePipeline, EventIdsAreStableUuids) {
  const auto a = hashed_uuid("dev/1/1000");
  EXPECT_EQ(a, hashed_uuid("dev/1/1000"));
  EXPECT_NE(a, hashed_uuid("dev/1/1001"));
  ASSERT_EQ(a.size(), 36u);
  EXPECT_EQ(a[14], '8');  // version 8
  EXPECT_TRUE(a[19] == '8' || a[19] == '9' || a[19] == 'a' || a[19] == 'b');
}

}  // namespace
}  // namespace spasmwatch::detect
