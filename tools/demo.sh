#!/usr/bin/env bash
# The README's demo command: installs dependencies, builds, then runs a simulated wearable on a
# pseudo-terminal with spasmwatchd reading it, printing live what arrives. Ctrl-C stops both.
# Options: --scenario NAME (default day-neck), --site SITE (default neck), --duration SECONDS
# (default 3600), --faults SPEC (default light bit errors and byte drops).
set -euo pipefail
cd "$(dirname "$0")/.."
scenario=day-neck site=neck duration=3600 faults="ber=1e-6,drop=1e-5,drift-ppm=50"
while [ $# -gt 0 ]; do
  case "$1" in
    --scenario) scenario=$2; shift 2 ;;
    --site) site=$2; shift 2 ;;
    --duration) duration=$2; shift 2 ;;
    --faults) faults=$2; shift 2 ;;
    *) echo "demo: unknown option $1 (known: --scenario --site --duration --faults)" >&2; exit 1 ;;
  esac
done
bash tools/setup.sh
bash tools/build.sh

work=$(mktemp -d /tmp/spasmwatch-demo-XXXXXX)
chmod 700 "$work"
sim_pid=""
daemon_pid=""
cleanup() {
  [ -n "$daemon_pid" ] && kill -TERM "$daemon_pid" 2>/dev/null && wait "$daemon_pid" 2>/dev/null || true
  [ -n "$sim_pid" ] && kill -TERM "$sim_pid" 2>/dev/null && wait "$sim_pid" 2>/dev/null || true
  echo "demo: recordings, statistics and ground truth are in $work"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

if ! ./build/firmware-sim/wearable-sim --list-scenarios | cut -f1 | grep -qx "$scenario"; then
  scenario=rest
fi
echo "demo: wearable-sim ($scenario, $site, ${duration}s real time) on a pseudo-terminal -> spasmwatchd"
echo "demo: events are stored in the default database as they are detected; from a second terminal"
echo "      (the CLI talks to this daemon through its API socket) try"
echo "        build/src/app/spasmwatch status"
echo "        build/src/app/spasmwatch annotate symptom --pain 6 --site $site --text 'stiff after the call'"
echo "        build/src/app/spasmwatch events       # the annotation shows beside the events"
./build/firmware-sim/wearable-sim --pty "$work/wearable" --scenario "$scenario" --site "$site" \
  --duration "$duration" --speed 1 --faults "$faults" --truth "$work/truth.csv" \
  --summary "$work/sim-summary.json" 2>"$work/sim.log" &
sim_pid=$!
for _ in $(seq 100); do [ -e "$work/wearable" ] && break; sleep 0.1; done
./build/src/app/spasmwatchd --device "wearable=serial:$work/wearable" --record-dir "$work/recordings" \
  --stats-json "$work/stats.json" --status-interval 2 &
daemon_pid=$!
wait "$sim_pid" || true
sim_pid=""
sleep 1
