#!/usr/bin/env bash
# Checks a Grafana dashboard's queries with promtool:
#  1. every query parses (each becomes a recording rule): a typo in a panel
#     fails the build;
#  2. a panel that shows circuit_breaker_state through value mappings shows,
#     for each breaker and replica, the state that replica applies, when
#     replicas disagree (any two states, shared or local): a query that
#     adds or takes the max of several replicas' state codes shows a state
#     no replica is in;
#  3. the queries of a panel that reads circuit_breaker_transitions_total
#     show each transition of the fleet once: the breaker's own
#     (cause="policy", counted by the replica that made it) and an
#     operator's override (cause="operator", counted by every replica).
# The checks run as promtool unit tests (promtool test rules) on series
# written here, so they need no Prometheus server.
set -euo pipefail
dashboard=$1
dir=$(mktemp -d)
trap 'rm -rf "$dir"' EXIT
python3 - "$dashboard" "$dir" <<'PY'
import json, os, sys

dashboard, out = sys.argv[1], sys.argv[2]
d = json.load(open(dashboard))
q = json.dumps  # a YAML double-quoted string is a JSON string

# 1. Every query as a recording rule.
with open(os.path.join(out, "parse.yml"), "w") as f:
    print("groups:\n  - name: dashboard\n    rules:", file=f)
    for i, p in enumerate(d["panels"]):
        for t in p.get("targets", []):
            print(f"      - record: dashboard_panel_{i}_{t['refId']}", file=f)
            print("        expr: " + q(t["expr"]), file=f)

STATES = ["closed", "open", "half_open", "forced_open", "forced_closed", "disabled"]
REPLICAS = ["demo1:8000", "demo2:8000"]
tests = []

# 2. State panels: two replicas in every pair of states, the second shared
# or local.
for p in d["panels"]:
    targets = [t for t in p.get("targets", []) if "circuit_breaker_state" in t["expr"]]
    mappings = (p.get("fieldConfig", {}).get("defaults", {}).get("mappings") or [])
    codes = {}
    for m in mappings:
        for value, o in m.get("options", {}).items():
            codes[o["text"]] = float(value)
    if not targets or not codes:
        continue
    series, expected = [], []
    for a in STATES:
        for b in STATES:
            for local in (False, True):
                breaker = f"{a}-{b}-{'local' if local else 'shared'}"
                for instance, state, src in ((REPLICAS[0], a, "shared"), (REPLICAS[1], b, "local" if local else "shared")):
                    for s in STATES:
                        series.append((f'circuit_breaker_state{{job="health-agent",instance="{instance}",breaker="{breaker}",state="{s}",source="{src}"}}',
                                       "1" if s == state else "0"))
                    text = f"{state} (local)" if src == "local" and f"{state} (local)" in codes else state
                    if text not in codes:
                        sys.exit(f"{dashboard}: panel {p['id']} ({p['title']}): no value mapping says {text!r}")
                    expected.append((f'{{breaker="{breaker}",instance="{instance}"}}', codes[text]))
    for t in targets:
        tests.append({"name": f"panel {p['id']} ({p['title']}) {t['refId']}: each replica's own state",
                      "series": series, "expr": t["expr"], "expected": expected})

# 3. Transition panels: replica 1 trips openai; an operator forces it open
# and every replica counts that; replicas 2 and 3 trip usda each in their
# local breaker (Redis down): two transitions.
three = REPLICAS + ["demo3:8000"]
counted = [  # instance, breaker, from, to, source, cause
    (three[0], "openai", "closed", "open", "shared", "policy"),
    *[(r, "openai", "open", "forced_open", "shared", "operator") for r in three],
    (three[1], "usda", "closed", "open", "local", "policy"),
    (three[2], "usda", "closed", "open", "local", "policy"),
]
fleet = {("openai", "closed", "open"): 1, ("openai", "open", "forced_open"): 1, ("usda", "closed", "open"): 2}
for p in d["panels"]:
    targets = [t for t in p.get("targets", []) if "circuit_breaker_transitions_total" in t["expr"]]
    if not targets:
        continue
    series = [(f'circuit_breaker_transitions_total{{job="health-agent",instance="{i}",breaker="{b}",from="{f}",to="{t}",source="{s}",cause="{c}"}}',
               "0 0 1 1 1 1") for i, b, f, t, s, c in counted]
    expr = "sum by (breaker, from, to) (" + " or ".join(f"({t['expr']})" for t in targets) + ")"
    expected = [(f'{{breaker="{b}",from="{f}",to="{t}"}}', float(n)) for (b, f, t), n in fleet.items()]
    tests.append({"name": f"panel {p['id']} ({p['title']}): each transition once", "series": series,
                  "expr": expr, "expected": expected})

with open(os.path.join(out, "semantics_test.yml"), "w") as f:
    print("rule_files: []\nevaluation_interval: 1m\ntests:", file=f)
    for t in tests:
        print(f"  # {t['name']}", file=f)
        print("  - interval: 1m\n    input_series:", file=f)
        for s, values in t["series"]:
            print(f"      - series: {q(s)}\n        values: {q(values)}", file=f)
        print("    promql_expr_test:", file=f)
        print(f"      - expr: {q(t['expr'])}\n        eval_time: 5m\n        exp_samples:", file=f)
        for labels, value in t["expected"]:
            print(f"          - labels: {q(labels)}\n            value: {value}", file=f)
print(f"{len(tests)} semantic checks", file=sys.stderr)
PY
promtool check rules "$dir/parse.yml"
promtool test rules "$dir/semantics_test.yml"
