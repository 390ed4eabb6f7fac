// System tests of the service side: the real daemon with the simulated wearable, its local API
// (Unix socket and loopback TCP), the CLI through the daemon, SIGKILL at random moments with a
// client writing through the API, SIGHUP reloads, and the systemd notification protocol.
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include <gtest/gtest.h>

#include <atomic>
#include <csignal>
#include <filesystem>
#include <fstream>
#include <mutex>
#include <random>
#include <set>
#include <sstream>
#include <thread>

#include "api.pb.h"
#include "api/api_client.hpp"
#include "common/proto_json.hpp"
#include "process.hpp"
#include "store/store.hpp"

namespace spasmwatch {
namespace {

using namespace std::chrono_literals;
using boost::beast::http::verb;
using testing::Process;
namespace fs = std::filesystem;

class ApiSystemTest : public ::testing::Test {
 protected:
  void SetUp() override {
    char tmpl[] = "/tmp/sw-api-XXXXXX";
    ASSERT_NE(mkdtemp(tmpl), nullptr);
    dir_ = tmpl;
    // Defaults (token file, socket) land in the test directory, never in the user's.
    ::setenv("XDG_DATA_HOME", path("xdg-data").c_str(), 1);
    ::setenv("XDG_RUNTIME_DIR", path("xdg-run").c_str(), 1);
  }
  void TearDown() override {
    if (!HasFailure()) {
      fs::remove_all(dir_);
    } else {
      std::cerr << "logs kept in " << dir_ << "\n";
    }
  }

  std::string path(const std::string& name) const { return dir_ + "/" + name; }
  api::Address socket_address() const { return {path("api.sock"), "", 0, ""}; }

  // Waits (bounded) until the daemon answers on its socket.
  bool wait_for_api(Process& daemon, std::chrono::milliseconds timeout) const {
    const auto deadline = std::chrono::steady_clock::now() + timeout;
    while (std::chrono::steady_clock::now() < deadline) {
      if (!daemon.running()) return false;
      try {
        if (api::Client(socket_address(), 2s).request(verb::get, "/v1/status").status == 200) return true;
      } catch (const api::ClientError&) {
      }
      std::this_thread::sleep_for(20ms);
    }
    return false;
  }

  proto::ApiStatus status() const {
    const auto r = api::Client(socket_address(), 5s).request(verb::get, "/v1/status");
    proto::ApiStatus s;
    std::string error;
    EXPECT_EQ(r.status, 200u) << r.body;
    EXPECT_TRUE(from_json(r.body, s, error)) << error;
    return s;
  }

  // Polls the status until `ready` holds for it (bounded).
  template <class Ready>
  bool wait_for_status(Ready ready, std::chrono::milliseconds timeout) const {
    const auto deadline = std::chrono::steady_clock::now() + timeout;
    while (std::chrono::steady_clock::now() < deadline) {
      try {
        if (ready(status())) return true;
      } catch (const api::ClientError&) {
      }
      std::this_thread::sleep_for(50ms);
    }
    return false;
  }

  static std::uint64_t emg_samples(const proto::ApiStatus& s, const std::string& device) {
    const auto& devices = s.ingest().devices();
    if (!devices.contains(device)) return 0;
    const auto& streams = devices.at(device).streams();
    return streams.contains("emg") ? streams.at("emg").samples() : 0;
  }

  std::string dir_;
};

// The main path: sim -> daemon -> store, live stream, TCP token rule, and the CLI through the
// daemon (annotate, events, status) without --db.
TEST_F(ApiSystemTest, CliAndStreamWorkThroughTheRunningDaemon) {
  const std::string link = path("wearable");
  Process sim({SW_SIM, "--pty", link, "--scenario", "clonus", "--site", "calf", "--duration", "600", "--speed", "30",
               "--seed", "21", "--faults", "drop=0.0005"},
              path("sim"));
  ASSERT_TRUE(testing::wait_for_path(link, 10s)) << sim.err();
  const int port = testing::free_port();
  Process daemon({SW_DAEMON, "--device", "calf=serial:" + link + "@921600", "--record-dir", path("rec"), "--db",
                  path("data/events.db"), "--api-socket", path("api.sock"), "--api-listen",
                  "127.0.0.1:" + std::to_string(port), "--status-interval", "0"},
                 path("daemon"));
  ASSERT_TRUE(wait_for_api(daemon, 15s)) << daemon.err();

  // Owner-only: socket, token file.
  struct stat st {};
  ASSERT_EQ(::stat(path("api.sock").c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 0777, 0600u);
  const std::string token_file = path("xdg-data/spasmwatch/api-token");
  ASSERT_EQ(::stat(token_file.c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 0777, 0600u);
  std::string token = testing::read_file(token_file);
  token.erase(token.find_last_not_of('\n') + 1);

  // TCP: refused without the token, served with it.
  const api::Address tcp{"", "127.0.0.1", static_cast<std::uint16_t>(port), ""};
  EXPECT_EQ(api::Client(tcp, 5s).request(verb::get, "/v1/events").status, 401u);
  api::Address tcp_token = tcp;
  tcp_token.token = token;
  EXPECT_EQ(api::Client(tcp_token, 5s).request(verb::get, "/v1/events").status, 200u);

  // Live stream: a provisional event, then the same event final.
  api::StreamReader stream(socket_address(), "", 10s);
  std::set<std::string> provisional;
  std::string final_id;
  const auto deadline = std::chrono::steady_clock::now() + 60s;
  while (final_id.empty() && std::chrono::steady_clock::now() < deadline) {
    const auto m = stream.next(1s);
    if (!m) continue;
    if (m->event == "provisional") provisional.insert(m->id);
    if (m->event == "final" && provisional.contains(m->id)) final_id = m->id;
  }
  ASSERT_FALSE(final_id.empty()) << "no provisional-then-final event within 60 s";

  // A final event seen on the stream is already stored.
  api::Client client(socket_address(), 5s);
  const auto got = client.request(verb::get, "/v1/events/" + final_id);
  ASSERT_EQ(got.status, 200u) << got.body;

  // The CLI through the daemon: no --db.
  const std::vector<std::string> via = {"--api-socket", path("api.sock")};
  const auto cli = [&](std::vector<std::string> args, const std::string& log, std::string* out, std::string* err) {
    args.insert(args.begin(), SW_CLI);
    args.insert(args.end(), via.begin(), via.end());
    return testing::run(args, path(log), 30s, out, err);
  };
  std::string out, err;
  ASSERT_EQ(cli({"annotate", "symptom", "--pain", "7", "--site", "calf", "--event", final_id}, "a1", &out, &err), 0)
      << err;
  const std::string annotation_id = out.substr(0, out.find('\n'));
  EXPECT_EQ(annotation_id.size(), 36u) << out;
  ASSERT_EQ(cli({"annotate", "feedback", "--event", final_id, "--reject"}, "a2", &out, &err), 0) << err;
  EXPECT_EQ(cli({"annotate", "symptom", "--pain", "11"}, "a3", &out, &err), 2);
  EXPECT_NE(err.find("--pain"), std::string::npos) << err;

  ASSERT_EQ(cli({"events", "--json"}, "e1", &out, &err), 0) << err;
  bool found = false;
  std::istringstream lines(out);
  for (std::string line; std::getline(lines, line);) {
    proto::StoredEvent e;
    std::string error;
    ASSERT_TRUE(from_json(line, e, error)) << error;
    if (e.event().id() != final_id) continue;
    found = true;
    EXPECT_EQ(e.annotations_size(), 2);
    EXPECT_EQ(e.feedback().verdict(), proto::EventFeedback::REJECT);
  }
  EXPECT_TRUE(found) << out;

  // The people's table is a timeline: an unlinked annotation shows between the events.
  ASSERT_EQ(cli({"annotate", "treatment", "--what", "heat", "--text", "heat pack"}, "a5", &out, &err), 0) << err;
  ASSERT_EQ(cli({"events"}, "e3", &out, &err), 0) << err;
  EXPECT_NE(out.find("treatment heat, heat pack"), std::string::npos) << out;
  EXPECT_NE(out.find("symptom   pain 7, calf"), std::string::npos) << out;

  ASSERT_EQ(cli({"status"}, "s1", &out, &err), 0) << err;
  EXPECT_NE(out.find("spasmwatchd 0."), std::string::npos) << out;
  EXPECT_NE(out.find("calf"), std::string::npos) << out;
  EXPECT_NE(out.find("annotations"), std::string::npos) << out;

  // With the daemon gone and its socket named explicitly, the CLI says so.
  daemon.signal(SIGTERM);
  ASSERT_EQ(daemon.wait(20s).value_or(-1), 0) << daemon.err();
  EXPECT_FALSE(fs::exists(path("api.sock"))) << "the socket is removed at exit";
  {
    // Gaps and per-minute signal quality were stored beside the events.
    SystemClock clock;
    auto store = store::Store::open(path("data/events.db"), clock, {.read_only = true});
    const auto counts = store.counts();
    EXPECT_GT(counts.gaps(), 0u);
    EXPECT_GT(counts.lost_samples(), 0u);
    EXPECT_GT(counts.quality_minutes(), 0u);
    EXPECT_GT(counts.quality_lost_samples(), 0u);
    EXPECT_GT(counts.quality_bad_frames(), 0u);
  }
  EXPECT_EQ(cli({"events"}, "e2", &out, &err), 3);
  EXPECT_NE(err.find("no spasmwatchd answers"), std::string::npos) << err;
  // And --db reads the same data from the file.
  EXPECT_EQ(testing::run({SW_CLI, "annotations", "--json", "--db", path("data/events.db")}, path("a4"), 30s, &out, &err),
            0)
      << err;
  EXPECT_NE(out.find(annotation_id), std::string::npos);
  sim.signal(SIGTERM);
  (void)sim.wait(10s);
}

// SIGKILL at random moments while a client writes through the API, 20 times: every acknowledged
// annotation and every final event the stream delivered (published only after its write was
// acknowledged) is in the file, integrity_check passes, and each restarted daemon resumes ingest.
TEST_F(ApiSystemTest, SigkillTwentyTimesLosesNothingAcknowledged) {
  const int sim_port = testing::free_port();
  Process sim({SW_SIM, "--listen", "127.0.0.1:" + std::to_string(sim_port), "--scenario", "clonus", "--site", "calf",
               "--duration", "36000", "--speed", "60", "--seed", "33"},
              path("sim"));
  const std::string db = path("data/events.db");
  std::set<std::string> acknowledged_annotations;
  std::set<std::string> acknowledged_finals;
  std::mt19937 random(20261124);
  std::uint64_t resumed = 0;
  for (int round = 0; round < 20; ++round) {
    SCOPED_TRACE("round " + std::to_string(round));
    Process daemon({SW_DAEMON, "--device", "calf=tcp:127.0.0.1:" + std::to_string(sim_port), "--record-dir",
                    path("rec"), "--db", db, "--api-socket", path("api.sock"), "--api-listen", "none",
                    "--status-interval", "0"},
                   path("daemon-" + std::to_string(round)));
    ASSERT_TRUE(wait_for_api(daemon, 15s)) << daemon.err();
    // Resumes ingest without help: the wearable reconnects and samples arrive.
    if (wait_for_status([](const proto::ApiStatus& s) { return emg_samples(s, "calf") > 0; }, 15s)) ++resumed;

    std::atomic<bool> stop{false};
    std::mutex mutex;
    std::thread listener([&] {
      try {
        api::StreamReader stream(socket_address(), "state=final", 5s);
        while (!stop) {
          const auto m = stream.next(100ms);
          if (m && m->event == "final") {
            const std::lock_guard lock(mutex);
            acknowledged_finals.insert(m->id);
          }
        }
      } catch (const api::ClientError&) {
        // The daemon was killed under the stream.
      }
    });
    std::thread writer([&] {
      for (int i = 0; !stop && i < 10'000; ++i) {
        const std::string body = R"({"kind":"NOTE","text":"round )" + std::to_string(round) + " note " +
                                 std::to_string(i) + "\"}";
        try {
          const auto r = api::Client(socket_address(), 5s).request(verb::post, "/v1/annotations", body);
          if (r.status != 201) continue;
          proto::Annotation a;
          std::string error;
          if (from_json(r.body, a, error)) {
            const std::lock_guard lock(mutex);
            acknowledged_annotations.insert(a.id());
          }
        } catch (const api::ClientError&) {
          // Killed mid-request: not acknowledged, so no promise was made.
        }
        std::this_thread::sleep_for(2ms);
      }
    });
    std::this_thread::sleep_for(std::chrono::milliseconds(std::uniform_int_distribution<int>(200, 1500)(random)));
    daemon.signal(SIGKILL);
    const auto status = daemon.wait(10s);
    stop = true;
    writer.join();
    listener.join();
    ASSERT_TRUE(status.has_value());
    EXPECT_EQ(*status, 128 + SIGKILL);

    SystemClock clock;
    auto store = store::Store::open(db, clock);  // read-write: also recovers the WAL like a restart
    EXPECT_EQ(store.integrity_check(), "ok");
    const std::lock_guard lock(mutex);
    for (const auto& id : acknowledged_annotations) {
      EXPECT_TRUE(store.get_annotation(id).has_value()) << "acknowledged annotation " << id << " lost";
    }
    for (const auto& id : acknowledged_finals) {
      const auto e = store.get_event(id);
      ASSERT_TRUE(e.has_value()) << "final event " << id << " seen on the stream but not stored";
      EXPECT_EQ(e->event().state(), proto::FINAL);
    }
  }
  EXPECT_EQ(resumed, 20u) << "each restarted daemon received samples again";
  EXPECT_GT(acknowledged_annotations.size(), 40u);
  EXPECT_GT(acknowledged_finals.size(), 0u) << "the clonus scenario produces final events";
  std::cerr << acknowledged_annotations.size() << " acknowledged annotations and " << acknowledged_finals.size()
            << " acknowledged final events survived 20 SIGKILLs\n";
  sim.signal(SIGTERM);
  (void)sim.wait(10s);
}

void write_config(const std::string& file, const std::vector<std::pair<std::string, std::string>>& devices,
                  const std::string& record_dir = "") {
  std::ofstream out(file, std::ios::trunc);
  out << (record_dir.empty() ? "record = false\n" : "record_dir = \"" + record_dir + "\"\n");
  out << "store = false\nstatus_interval_s = 0\n";
  for (const auto& [name, link] : devices) out << "\n[[devices]]\nname = \"" << name << "\"\nserial = \"" << link << "\"\n";
}

// SIGHUP applies the config file's new device list; unchanged devices are not touched.
TEST_F(ApiSystemTest, SighupReloadsDevicesWithoutDisturbingOthers) {
  const std::string link_a = path("wearable-a"), link_b = path("wearable-b");
  Process sim_a({SW_SIM, "--pty", link_a, "--scenario", "rest", "--duration", "120", "--speed", "1", "--seed", "1"},
                path("sim-a"));
  Process sim_b({SW_SIM, "--pty", link_b, "--scenario", "rest", "--duration", "120", "--speed", "1", "--seed", "2"},
                path("sim-b"));
  ASSERT_TRUE(testing::wait_for_path(link_a, 10s));
  ASSERT_TRUE(testing::wait_for_path(link_b, 10s));
  const std::string config = path("spasmwatchd.toml");
  write_config(config, {{"a", link_a}}, path("rec"));
  Process daemon({SW_DAEMON, "--config", config, "--api-socket", path("api.sock"), "--api-listen", "none"},
                 path("daemon"));
  ASSERT_TRUE(wait_for_api(daemon, 15s)) << daemon.err();
  ASSERT_TRUE(wait_for_status([](const proto::ApiStatus& s) { return emg_samples(s, "a") > 0; }, 15s)) << daemon.err();

  write_config(config, {{"a", link_a}, {"b", link_b}}, path("rec"));
  daemon.signal(SIGHUP);
  ASSERT_TRUE(wait_for_status([](const proto::ApiStatus& s) { return emg_samples(s, "b") > 0; }, 15s)) << daemon.err();
  auto s = status();
  EXPECT_EQ(s.reloads(), 1u);
  EXPECT_EQ(s.ingest().devices().at("a").connections(), 1u) << "a untouched";
  EXPECT_EQ(s.ingest().devices().at("a").disconnections(), 0u);
  const auto a_before = emg_samples(s, "a");

  // A broken file changes nothing.
  { std::ofstream(config, std::ios::trunc) << "devices = 5\n"; }
  daemon.signal(SIGHUP);
  std::this_thread::sleep_for(500ms);
  EXPECT_EQ(status().reloads(), 1u);
  EXPECT_NE(daemon.err().find("devices unchanged"), std::string::npos) << daemon.err();

  write_config(config, {{"b", link_b}}, path("rec"));
  daemon.signal(SIGHUP);
  ASSERT_TRUE(wait_for_status([](const proto::ApiStatus& st) { return st.reloads() == 2; }, 10s));
  s = status();
  EXPECT_EQ(s.ingest().devices().at("a").disconnections(), 1u) << "a closed";
  const std::string log = daemon.err();
  EXPECT_NE(log.find("a: recording " + path("rec") + "/a-"), std::string::npos) << log;
  EXPECT_NE(log.find(".swr closed"), std::string::npos) << "a's recording is closed: " << log;
  EXPECT_NE(log.find("b: recording to"), std::string::npos) << log;
  EXPECT_EQ(log.find("b: recording to"), log.rfind("b: recording to")) << "b's recording untouched: " << log;
  EXPECT_GE(emg_samples(s, "a"), a_before);
  EXPECT_EQ(s.ingest().devices().at("b").connections(), 1u) << "b untouched";
  EXPECT_EQ(s.ingest().devices().at("b").disconnections(), 0u);
  const auto b_now = emg_samples(s, "b");
  EXPECT_TRUE(wait_for_status([&](const proto::ApiStatus& st) { return emg_samples(st, "b") > b_now; }, 10s))
      << "b keeps streaming";

  daemon.signal(SIGTERM);
  EXPECT_EQ(daemon.wait(20s).value_or(-1), 0) << daemon.err();
}

// The systemd notification protocol on a real datagram socket: READY, WATCHDOG, RELOADING,
// STOPPING.
TEST_F(ApiSystemTest, NotifiesSystemdReadyWatchdogReloadAndStopping) {
  const std::string notify = path("notify.sock");
  const int fd = ::socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
  ASSERT_GE(fd, 0);
  sockaddr_un addr{};
  addr.sun_family = AF_UNIX;
  std::snprintf(addr.sun_path, sizeof addr.sun_path, "%s", notify.c_str());
  ASSERT_EQ(::bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr), 0);
  timeval tv{0, 200'000};
  ::setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);

  const std::string config = path("spasmwatchd.toml");
  write_config(config, {});
  ::setenv("NOTIFY_SOCKET", notify.c_str(), 1);
  ::setenv("WATCHDOG_USEC", "300000", 1);
  Process daemon({SW_DAEMON, "--config", config, "--api-socket", path("api.sock"), "--api-listen", "none"},
                 path("daemon"));
  ::unsetenv("NOTIFY_SOCKET");
  ::unsetenv("WATCHDOG_USEC");

  std::vector<std::string> messages;
  const auto collect_until = [&](const std::string& wanted, std::chrono::milliseconds timeout) {
    const auto deadline = std::chrono::steady_clock::now() + timeout;
    while (std::chrono::steady_clock::now() < deadline) {
      char buffer[4096];
      const auto n = ::recv(fd, buffer, sizeof buffer, 0);
      if (n <= 0) continue;
      messages.emplace_back(buffer, static_cast<std::size_t>(n));
      if (messages.back().find(wanted) != std::string::npos) return true;
    }
    return false;
  };
  ASSERT_TRUE(collect_until("READY=1", 15s)) << daemon.err();
  EXPECT_TRUE(wait_for_api(daemon, 5s)) << "READY comes after the API is up";
  int watchdogs = 0;
  const auto until = std::chrono::steady_clock::now() + 1500ms;
  while (std::chrono::steady_clock::now() < until) {
    char buffer[256];
    const auto n = ::recv(fd, buffer, sizeof buffer, 0);
    if (n > 0 && std::string(buffer, static_cast<std::size_t>(n)) == "WATCHDOG=1") ++watchdogs;
  }
  EXPECT_GE(watchdogs, 5) << "fed every 150 ms (half of WATCHDOG_USEC)";

  daemon.signal(SIGHUP);
  EXPECT_TRUE(collect_until("RELOADING=1", 5s));
  EXPECT_TRUE(collect_until("READY=1", 5s));
  daemon.signal(SIGTERM);
  EXPECT_TRUE(collect_until("STOPPING=1", 10s));
  EXPECT_EQ(daemon.wait(20s).value_or(-1), 0) << daemon.err();
  ::close(fd);
}

}  // namespace
}  // namespace spasmwatch
