"""Turns bench/compare.sh's measurements into a side-by-side table and a JSON file.

Input rows (tab-separated): FIGURE  WHICH (before|now)  VALUE, where VALUE is a
number or "failed: REASON". Each figure is the median of its runs; a binary with
a failed run of a figure has that figure reported as failed, with the reason,
not as a number. Targets are issue 31's, judged only at the sizes it names."""
import json
import statistics
import sys

rows_path, out_path, meta_path = sys.argv[1:4]
meta = json.load(open(meta_path))
n_pebble, n_tenk = meta["sizes"]["pebble_lineages"], meta["sizes"]["tenk_lineages"]

# figure id -> (label, unit, target (op, value) or None, size the target is for)
FIGURES = [
    ("pebble_wall", f"{n_pebble:,} from Pebble: wall", "s", ("<=", 8), ("pebble", 1000)),
    ("pebble_user", f"{n_pebble:,} from Pebble: user CPU", "s", None, None),
    ("pebble_sys", f"{n_pebble:,} from Pebble: sys CPU", "s", None, None),
    ("pebble_peak", f"{n_pebble:,} from Pebble: peak RSS", "MiB", ("<=", 32), ("pebble", 1000)),
    ("pebble_ca_cpu", f"{n_pebble:,} from Pebble: Pebble's own CPU", "s", None, None),
    ("issuance_wall", "one issuance: wall", "s", None, None),
    ("issuance_cpu", "one issuance: CPU", "s", None, None),
    ("issuance_peak", "one issuance: peak RSS", "MiB", None, None),
    ("idle_rss", "idle RSS, one set", "MiB", ("<=", 4), None),
    ("image", "image size", "MB", ("<=", 6), None),
    ("tenk_start", f"{n_tenk:,} self-signed: start", "s", None, None),
    ("tenk_idle_rss", f"{n_tenk:,} self-signed: idle RSS", "MiB", ("<=", 64), ("tenk", 10000)),
    ("tenk_threads", f"{n_tenk:,} self-signed: threads", "", None, None),
    ("tenk_fds", f"{n_tenk:,} self-signed: descriptors", "", None, None),
    ("tenk_notice", f"{n_tenk:,} self-signed: notice a change", "s", ("<=", 1), ("tenk", 10000)),
]
SIZES = {"pebble": n_pebble, "tenk": n_tenk}

values = {}
for line in open(rows_path):
    figure, which, value = line.rstrip("\n").split("\t", 2)
    values.setdefault((figure, which), []).append(value)


def summary(figure, which):
    vs = values.get((figure, which), [])
    if not vs:
        return {"not_measured": True}
    failures = [v[len("failed: "):] for v in vs if v.startswith("failed: ")]
    if failures:
        return {"failed": failures[0], "runs": len(vs), "failed_runs": len(failures)}
    nums = [float(v) for v in vs]
    return {"median": statistics.median(nums), "min": min(nums), "max": max(nums), "runs": len(nums)}


def fmt(s, unit):
    if "not_measured" in s:
        return "-"
    if "failed" in s:
        return "FAILED"
    v = s["median"]
    if not unit:  # counts: threads, descriptors
        text = f"{v:.0f}" if v == int(v) else f"{v:.1f}"
    else:
        text = f"{v:.3f}" if v < 10 else (f"{v:.1f}" if v < 1000 else f"{v:.0f}")
    return text + (f" ({s['runs']})" if s["runs"] > 1 else "")


figures, failures = [], {}  # (which, reason) -> labels
print(f"{'figure':<40} {'unit':<4} {'before':>14} {'now':>14} {'now/before':>10}  target")
for fid, label, unit, target, target_size in FIGURES:
    before, now = summary(fid, "before"), summary(fid, "now")
    ratio = now["median"] / before["median"] if "median" in now and "median" in before and before["median"] else None
    verdict, target_text = None, ""
    if target:
        target_text = f"{target[0]} {target[1]}"
        if target_size and SIZES[target_size[0]] != target_size[1]:
            target_text += f" (at {target_size[1]:,}: not judged)"
        elif "not_measured" in now:
            target_text += " (not measured)"
        elif "median" in now:
            verdict = now["median"] <= target[1]
            target_text += " met" if verdict else " NOT met"
        else:
            target_text += " NOT met (failed)"
            verdict = False
    print(f"{label:<40} {unit:<4} {fmt(before, unit):>14} {fmt(now, unit):>14} "
          f"{(f'{ratio:.2f}' if ratio is not None else '-'):>10}  {target_text}")
    for which, s in (("before", before), ("now", now)):
        if "failed" in s:
            failures.setdefault((which, s["failed"]), []).append(label)
    figures.append({"figure": fid, "label": label, "unit": unit, "before": before, "now": now, "ratio": ratio,
                    "target": {"op": target[0], "value": target[1], "met": verdict} if target else None})
if failures:
    print("failed:")
    for (which, why), labels in failures.items():
        print(f"  {which}: {'; '.join(labels)}:\n    {why}")
print("(n): the median of n runs")
meta["figures"] = figures
json.dump(meta, open(out_path, "w"), indent=1)
