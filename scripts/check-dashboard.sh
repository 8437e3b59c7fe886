#!/usr/bin/env bash
# Parses every query of a Grafana dashboard with promtool, by turning them
# into recording rules: a typo in a panel fails the build.
set -euo pipefail
dashboard=$1
rules=$(mktemp --suffix=.yml)
trap 'rm -f "$rules"' EXIT
python3 - "$dashboard" > "$rules" <<'PY'
import json, sys
d = json.load(open(sys.argv[1]))
print("groups:\n  - name: dashboard\n    rules:")
for i, p in enumerate(d["panels"]):
    for t in p.get("targets", []):
        print(f"      - record: dashboard_panel_{i}_{t['refId']}")
        print("        expr: " + json.dumps(t["expr"]))
PY
promtool check rules "$rules"
