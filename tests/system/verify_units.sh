#!/usr/bin/env bash
# Checks the systemd units with systemd-analyze (syntax, known directives, Type=notify set).
# The binary path is swapped for /bin/true: the unit is checked, not an installation.
set -euo pipefail
src=$(cd "$(dirname "$0")/../.." && pwd)/tools/systemd
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
for unit in spasmwatchd-system.service spasmwatchd.service; do
  grep -q '^Type=notify$' "$src/$unit" || { echo "$unit: not Type=notify" >&2; exit 1; }
  grep -q '^WatchdogSec=' "$src/$unit" || { echo "$unit: no WatchdogSec" >&2; exit 1; }
  for option in NoNewPrivileges=yes PrivateTmp=yes ProtectSystem=strict; do
    grep -q "^$option\$" "$src/$unit" || { echo "$unit: missing $option" >&2; exit 1; }
  done
done
# A user manager is not available here; the system verifier checks the directives of both.
sed -e 's|/usr/local/bin/spasmwatchd|/bin/true|' "$src/spasmwatchd-system.service" > "$work/spasmwatchd.service"
sed -e 's|%h/.local/bin/spasmwatchd|/bin/true|' -e 's|%E/|/etc/|' -e 's|%h/|/root/|g' -e 's|%t/|/run/|g' \
  -e 's|^WantedBy=default.target|WantedBy=multi-user.target|' "$src/spasmwatchd.service" > "$work/spasmwatchd-user.service"
out=$(systemd-analyze verify "$work/spasmwatchd.service" "$work/spasmwatchd-user.service" 2>&1 || true)
if [ -n "$out" ]; then
  echo "$out" >&2
  exit 1
fi
echo "units verified"
