#!/usr/bin/env python3
# SPDX-License-Identifier: ISC
# Copyright (c) 2026 The nfspamd authors
"""contrib/prometheus and contrib/grafana hold together.  TAP.

- the alert rules pass `promtool check rules`;
- the Grafana dashboard is JSON with panels, each query valid PromQL
  (checked by promtool as a recording rule; Grafana's $variables are
  inside label matchers, where PromQL takes them as text);
- every nfspamd metric the rules and the dashboard name is documented in
  a man page's list of metrics, so none refers to a name no program has.

Without promtool (Debian's prometheus package) the promtool checks are
skipped; the rest still runs.
"""

import json
import os
import re
import shutil
import subprocess
import sys
import tempfile

TOP = os.environ.get("top_srcdir") or os.path.join(
    os.path.dirname(os.path.abspath(__file__)), "..")
RULES = os.path.join(TOP, "contrib", "prometheus", "nfspamd-alerts.yml")
DASH = os.path.join(TOP, "contrib", "grafana", "nfspamd-dashboard.json")
MAN = os.path.join(TOP, "man")

n = 0
failed = 0


def ok(cond, desc, *diag):
    global n, failed
    n += 1
    print("%sok %d - %s" % ("" if cond else "not ", n, desc))
    if not cond:
        failed += 1
        for d in diag:
            for line in str(d).splitlines():
                print("# " + line)
    return cond


def skip(desc, why):
    global n
    n += 1
    print("ok %d - %s # SKIP %s" % (n, desc, why))


def documented():
    """Metric names in the man pages' .It Va lines."""
    names = set()
    for f in os.listdir(MAN):
        with open(os.path.join(MAN, f), encoding="utf-8") as fh:
            for line in fh:
                if line.startswith(".It Va "):
                    names.update(re.findall(r"\b(nfspamd_[a-z0-9_]+)", line))
    return names


def used(text):
    """nfspamd_* names in PromQL text, histogram suffixes taken off."""
    out = set()
    for m in re.findall(r"\b(nfspamd_[a-z0-9_]+)", text):
        out.add(re.sub(r"_(bucket|sum|count)$", "", m))
    return out


def promtool_rules(path):
    r = subprocess.run(["promtool", "check", "rules", path],
                       capture_output=True, text=True, timeout=60)
    return r.returncode == 0, (r.stdout + r.stderr).strip()


def main():
    promtool = shutil.which("promtool")
    with open(RULES, encoding="utf-8") as f:
        rules = f.read()
    if promtool:
        good, out = promtool_rules(RULES)
        ok(good, "promtool check rules: contrib/prometheus/nfspamd-alerts.yml",
           out)
    else:
        skip("promtool check rules", "no promtool")

    try:
        with open(DASH, encoding="utf-8") as f:
            dash = json.load(f)
        good = True
    except (OSError, ValueError) as e:
        dash, good = {}, False
        ok(False, "the Grafana dashboard is JSON", e)
    if good:
        ok(True, "the Grafana dashboard is JSON")
    exprs = []

    def walk(panels):
        for p in panels:
            for t in p.get("targets", []):
                exprs.append((p.get("title", "?"), t.get("expr", "")))
            walk(p.get("panels", []))
    walk(dash.get("panels", []))
    ok(len(exprs) >= 10 and all(e for _, e in exprs),
       "the dashboard has queries, none empty (%d)" % len(exprs))
    if promtool and exprs:
        with tempfile.TemporaryDirectory() as tmp:
            path = os.path.join(tmp, "dash.yml")
            with open(path, "w") as f:
                f.write("groups:\n  - name: dashboard\n    rules:\n")
                for i, (_, e) in enumerate(exprs):
                    f.write("      - record: dashboard:q%d\n" % i)
                    f.write("        expr: %s\n" % json.dumps(e))
            good, out = promtool_rules(path)
        ok(good, "every dashboard query is valid PromQL", out)
    else:
        skip("every dashboard query is valid PromQL", "no promtool")

    doc = documented()
    ok(len(doc) > 20, "the man pages list the metrics (%d names)" % len(doc))
    for what, text in (("alert rules", rules),
                       ("dashboard", "\n".join(e for _, e in exprs))):
        missing = sorted(used(text) - doc)
        ok(not missing, "every metric the %s name is documented" % what,
           "not in any man page: %s" % " ".join(missing))
    print("1..%d" % n)
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
