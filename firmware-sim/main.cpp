// wearable-sim: a simulated muscle-activity wearable speaking the device protocol over a
// pseudo-terminal or TCP, in real time or as fast as possible, with optional fault injection.
// Exit codes: 0 session completed, 1 bad command line, 2 link could not be established or
// failed for good, 130 interrupted (SIGINT/SIGTERM; summary still written).
#include <CLI/CLI.hpp>

#include <atomic>
#include <chrono>
#include <csignal>
#include <cstdio>
#include <fstream>
#include <iostream>
#include <random>

#include "common/body_site.hpp"
#include "common/proto_json.hpp"
#include "fault_injector.hpp"
#include "io/link.hpp"
#include "signal_model.hpp"
#include "sim_device.hpp"
#include "transport.hpp"

using namespace spasmwatch;

namespace {

std::atomic<bool> g_stop{false};
extern "C" void on_signal(int) { g_stop = true; }

double wall_s() {
  return std::chrono::duration<double>(std::chrono::steady_clock::now().time_since_epoch()).count();
}

}  // namespace

int main(int argc, char** argv) {
  CLI::App cli{"wearable-sim: a simulated EMG + accelerometer wearable"};
  std::string pty_link, connect_to, listen_on, scenario = "rest", site_text = "neck", side_text = "left";
  std::string faults_text, truth_path, summary_path, device_id;
  double duration_s = 60, speed = 1, emg_rate = 1000, acc_rate = 100, mains = 50;
  int channels = 2;
  std::uint64_t seed = 1;
  bool list = false;
  auto* transport_group = cli.add_option_group("transport", "exactly one of --pty, --connect, --listen");
  transport_group->add_option("--pty", pty_link, "Create a pseudo-terminal; make LINK a symlink to it");
  transport_group->add_option("--connect", connect_to, "Dial a listening daemon at HOST:PORT");
  transport_group->add_option("--listen", listen_on, "Listen on HOST:PORT for the daemon to connect");
  cli.add_option("--scenario", scenario, "Scenario (see --list-scenarios)");
  cli.add_flag("--list-scenarios", list, "List scenarios and exit");
  cli.add_option("--site", site_text, "Body site: neck, shoulder, upper_back, lower_back, thigh, calf, jaw, forearm");
  cli.add_option("--side", side_text, "left, right or midline");
  cli.add_option("--duration", duration_s, "Seconds of streaming")->check(CLI::Range(0.001, 30.0 * 86400));
  cli.add_option("--seed", seed, "Seed for signals, events and faults");
  cli.add_option("--speed", speed, "0 = as fast as possible, 1 = real time, 10 = ten times")->check(CLI::Range(0.0, 1e6));
  cli.add_option("--channels", channels, "EMG channels (1-8)")->check(CLI::Range(1, 8));
  cli.add_option("--emg-rate", emg_rate, "EMG sample rate: 500, 1000 or 2000 Hz")->check(CLI::IsMember({500.0, 1000.0, 2000.0}));
  cli.add_option("--acc-rate", acc_rate, "Accelerometer rate, 25-400 Hz")->check(CLI::Range(25.0, 400.0));
  cli.add_option("--mains", mains, "Mains frequency in the signal: 50, 60 or 0")->check(CLI::IsMember({0.0, 50.0, 60.0}));
  cli.add_option("--faults", faults_text, "e.g. ber=1e-5,drop=0.001,truncate=0.001,disconnect-every=30,drift-ppm=100");
  cli.add_option("--truth", truth_path, "Write ground-truth events (CSV) here");
  cli.add_option("--summary", summary_path, "Write a JSON summary here at exit");
  cli.add_option("--device-id", device_id, "Device id (default sim-SEED)");
  try {
    cli.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    return cli.exit(e) == 0 ? 0 : 1;
  }
  if (list) {
    for (const auto name : sim::scenario_names()) {
      std::cout << name << "\t" << sim::scenario_description(name) << "\n";
    }
    return 0;
  }
  const int transports = !pty_link.empty() + !connect_to.empty() + !listen_on.empty();
  if (transports != 1) {
    std::cerr << "wearable-sim: give exactly one of --pty LINK, --connect HOST:PORT, --listen HOST:PORT\n";
    return 1;
  }

  sim::SignalConfig config;
  sim::FaultSettings faults;
  std::unique_ptr<sim::SignalModel> model;
  std::unique_ptr<sim::Transport> transport;
  try {
    const auto site = parse_site(site_text);
    if (!site) throw std::invalid_argument("unknown --site '" + site_text + "'");
    const auto side = parse_side(side_text);
    if (!side) throw std::invalid_argument("unknown --side '" + side_text + "' (left, right, midline)");
    config.scenario = scenario;
    config.site = *site;
    config.side = *side;
    config.seed = seed;
    config.emg_channels = channels;
    config.emg_rate_hz = emg_rate;
    config.acc_rate_hz = acc_rate;
    config.mains_hz = mains;
    config.duration_s = duration_s;
    faults = sim::parse_faults(faults_text);
    model = std::make_unique<sim::SignalModel>(config);
    if (!pty_link.empty()) {
      transport = sim::make_pty_transport(pty_link);
    } else {
      const auto ep = io::parse_endpoint(connect_to.empty() ? listen_on : connect_to);
      transport = connect_to.empty() ? sim::make_tcp_server_transport(ep.host, ep.port)
                                     : sim::make_tcp_client_transport(ep.host, ep.port);
    }
  } catch (const std::exception& e) {
    std::cerr << "wearable-sim: " << e.what() << "\n";
    return 1;
  }
  if (!truth_path.empty()) {
    std::ofstream truth(truth_path);
    if (!truth) {
      std::cerr << "wearable-sim: cannot write " << truth_path << "\n";
      return 1;
    }
    sim::write_truth_csv(truth, *model);
  }

  sim::DeviceSettings settings;
  settings.device_id = device_id.empty() ? "sim-" + std::to_string(seed) : device_id;
  settings.drift_ppm = faults.drift_ppm;
  settings.session_id = std::random_device{}() | (static_cast<std::uint64_t>(std::random_device{}()) << 32);
  sim::SimDevice device(*model, settings);
  sim::FaultInjector injector(faults, seed);

  std::signal(SIGINT, on_signal);
  std::signal(SIGTERM, on_signal);
  std::signal(SIGPIPE, SIG_IGN);

  auto& summary = device.summary();
  summary.set_site(std::string(site_name(config.site)));
  std::uint64_t other_damaged = 0;
  std::vector<sim::OutgoingFrame> out;
  std::vector<std::uint8_t> in;

  try {
    if (!transport->open(60, g_stop)) {
      std::cerr << "wearable-sim: could not open " << transport->describe() << "\n";
      return g_stop ? 130 : 2;
    }
  } catch (const std::exception& e) {
    std::cerr << "wearable-sim: " << e.what() << "\n";
    return 2;
  }
  std::cerr << "wearable-sim: " << settings.device_id << " (" << scenario << ", " << site_text
            << ") on " << transport->describe() << ", waiting for the host's start\n";

  bool connected = true;
  double t = 0;  // true (simulated) time, seconds
  double last_wall = wall_s();
  double reconnect_at = 0;
  double next_disconnect = faults.disconnect_every_s > 0 ? faults.disconnect_every_s : 1e300;
  device.on_connected(t, out);
  int exit_code = 0;

  while (!device.finished() && !g_stop) {
    const double wall = wall_s();
    if (speed > 0) {
      t += (wall - last_wall) * speed;
    } else if (device.streaming()) {
      t = std::max(t, device.next_due_s());
      if (!connected) t = std::max(t, reconnect_at);
    } else {
      t += wall - last_wall;
    }
    last_wall = wall;

    if (connected) {
      in.clear();
      int wait_ms = 0;
      if (speed > 0 || !device.streaming()) {
        const double due_wall_s = speed > 0 ? (device.next_due_s() - t) / speed : 0.05;
        wait_ms = static_cast<int>(std::clamp(due_wall_s * 1000.0, 0.0, 50.0));
      }
      if (!transport->read_some(in, wait_ms)) {
        connected = false;
        reconnect_at = t + 0.5;
        std::cerr << "wearable-sim: host went away\n";
      } else if (!in.empty()) {
        // The wait above may have lasted a while: stamp commands (pings) with the current time.
        if (speed > 0 || !device.streaming()) {
          const double now = wall_s();
          t += (now - last_wall) * (speed > 0 ? speed : 1.0);
          last_wall = now;
        }
        device.on_host_bytes(in, t, out);
      }
    } else if (speed > 0) {
      std::this_thread::sleep_for(std::chrono::milliseconds(10));
    }

    if (connected && device.streaming() && device.streaming_time_s(t) >= next_disconnect) {
      transport->drain(5);
      transport->close();
      connected = false;
      reconnect_at = t + 1.0;
      next_disconnect += faults.disconnect_every_s;
      summary.set_disconnects(summary.disconnects() + 1);
      std::cerr << "wearable-sim: simulated unplug at " << t << " s\n";
    }
    if (!connected) device.advance(t, false, out);  // the device keeps sampling while unplugged
    if (!connected && t >= reconnect_at) {
      if (transport->open(30, g_stop)) {
        connected = true;
        device.on_connected(t, out);
      } else if (!g_stop) {
        std::cerr << "wearable-sim: could not reconnect " << transport->describe() << "\n";
        exit_code = 2;
        break;
      }
    }

    device.advance(t, connected, out);
    for (auto& frame : out) {
      if (injector.apply(frame.bytes)) {
        if (frame.stream >= 0) {
          auto& st = (*summary.mutable_streams())[frame.stream == 0 ? "emg" : "acc"];
          st.set_frames_damaged(st.frames_damaged() + 1);
          st.set_samples_in_damaged_frames(st.samples_in_damaged_frames() + frame.values);
        } else {
          ++other_damaged;
        }
      }
      if (!connected) continue;
      if (!transport->write_all(frame.bytes)) {
        connected = false;
        reconnect_at = t + 0.5;
        std::cerr << "wearable-sim: write failed, link down\n";
        continue;
      }
      summary.set_bytes_sent(summary.bytes_sent() + frame.bytes.size());
    }
    out.clear();
  }
  if (connected) transport->drain(5);
  transport->close();
  summary.set_other_frames_damaged(other_damaged);
  if (!summary_path.empty()) {
    const auto error = write_json_file(summary_path, summary);
    if (!error.empty()) std::cerr << "wearable-sim: " << error << "\n";
  }
  if (g_stop && exit_code == 0) exit_code = device.finished() ? 0 : 130;
  std::cerr << "wearable-sim: " << (device.finished() ? "session complete" : "stopped") << "\n";
  return exit_code;
}
