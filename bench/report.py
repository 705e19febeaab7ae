"""Turns bench/run.sh's measurements into a table and a JSON file.

Each figure: the median of the runs, with min and max; sidecert's ratio to
each peer where both measured the same thing."""
import json
import statistics
import sys
from collections import defaultdict

rows, out_path, machine = sys.argv[1], sys.argv[2], sys.argv[3]
values = defaultdict(list)
for line in open(rows):
    section, client, metric, value = line.rstrip("\n").split("\t")
    try:
        values[(section, client, metric)].append(float(value))
    except ValueError:
        values[(section, client, metric)].append(value)

figures = []
for (section, client, metric), vs in values.items():
    nums = [v for v in vs if isinstance(v, float)]
    if nums:
        figures.append({"section": section, "client": client, "metric": metric, "runs": len(nums),
                        "median": statistics.median(nums), "min": min(nums), "max": max(nums)})
    else:
        figures.append({"section": section, "client": client, "metric": metric, "runs": len(vs),
                        "median": vs[-1], "min": vs[0], "max": vs[-1]})

def median(section, client, metric):
    for f in figures:
        if (f["section"], f["client"], f["metric"]) == (section, client, metric):
            return f["median"]
    return None

# What the measuring chain itself costs (/usr/bin/time, bash -c and one exec,
# around a program that does nothing): taken off each client's wall time too.
for f in list(figures):
    harness = median(f["section"], "harness", "wall")
    if f["metric"] == "wall" and f["client"] != "harness" and harness is not None:
        figures.append({"section": f["section"], "client": f["client"], "metric": "wall_less_harness",
                        "runs": f["runs"], "median": f["median"] - harness, "min": f["min"] - harness,
                        "max": f["max"] - harness})

for f in figures:
    ours = median(f["section"], "sidecert", f["metric"])
    if f["client"] not in ("sidecert", "harness") and isinstance(ours, float) and isinstance(f["median"], float) and f["median"]:
        f["sidecert_ratio"] = ours / f["median"]

units = {"wall": "s", "wall_less_harness": "s", "cpu": "s", "rss_kib": "KiB", "rps": "req/s", "p99_ms": "ms", "mb": "MB",
         "challenge_under_1000_idle_s": "s", "after_validation": "s", "idle_rss_kib": "KiB", "idle_cpu_s": "s"}
units.update({m: "ms" for m in ("scrape_p50_ms_unloaded", "scrape_p99_ms_unloaded", "scrape_p50_ms_held_1000",
                                "scrape_p99_ms_held_1000")})
print(f"{'section':<13} {'client':<22} {'metric':<28} {'median':>10} {'min':>10} {'max':>10} {'sidecert/peer':>14}")
for f in sorted(figures, key=lambda f: (f["section"], f["metric"], f["client"] != "sidecert", f["client"])):
    def fmt(v):
        return f"{v:.3f}" if isinstance(v, float) and v < 100 else (f"{v:.0f}" if isinstance(v, float) else str(v))
    ratio = f"{f['sidecert_ratio']:.2f}" if "sidecert_ratio" in f else ""
    metric = f["metric"] + (f" ({units[f['metric']]})" if f["metric"] in units else "")
    print(f"{f['section']:<13} {f['client']:<22} {metric:<28} {fmt(f['median']):>10} {fmt(f['min']):>10} "
          f"{fmt(f['max']):>10} {ratio:>14}")
json.dump({"machine": machine, "figures": figures}, open(out_path, "w"), indent=1)
