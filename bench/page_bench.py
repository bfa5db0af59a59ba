"""The audit's index.html with a whole stream of submissions: its size, first paint and every filter, in headless Chromium.

    python bench/page_bench.py [--submissions 1500] [--loads 5] [--keep DIR]
    python bench/page_bench.py --screenshot docs/audit-page.png

The input is records.json-shaped: the generated leaderboard of tests/data/records/make_records.py is
audited once, and its records are cycled into N made-up submissions (new names, dates, scores and
runs; each keeps its template's flags, plus up to four more drawn from the others; 40% keep no run: about
the real stream's density, 7,274 flags and 2,510 runs over 1,350 records).
The page is rendered by pgolf.review.output.page.audit_page, opened from disk --loads times, and timed
with the browser's Performance API: first paint and first contentful paint (paint entries),
DOMContentLoaded, and the page's own `pgolf-ready` mark (rows sortable and filterable); then a
verdict filter, a severity filter, two free-text filters and two sorts, each timed in the page
with performance.now(). Reports medians. --screenshot instead saves a screenshot of the page for
the generated leaderboard itself (README's picture).
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import platform
import random
import statistics
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from pgolf.review.output.page import audit_page  # noqa: E402
from pgolf.review.verbs import audit_to  # noqa: E402
from tests.browser import chrome  # noqa: E402
from tests.data.records.make_records import write_leaderboard  # noqa: E402

TIMINGS = """
const paint = Object.fromEntries(performance.getEntriesByType('paint').map(e => [e.name, e.startTime]));
const nav = performance.getEntriesByType('navigation')[0];
const ready = performance.getEntriesByName('pgolf-ready')[0];
return {first_paint: paint['first-paint'], first_contentful_paint: paint['first-contentful-paint'],
        dom_content_loaded: nav.domContentLoadedEventEnd, ready: ready ? ready.startTime : null};
"""

ACTIONS = """
function timed(f) { const t = performance.now(); f(); return performance.now() - t; }
function set(id, v) { const e = document.getElementById(id); e.value = v; e.dispatchEvent(new Event('input')); }
const sort = (i) => document.querySelectorAll('#subs thead button')[i].click();
return {verdict_filter: timed(() => set('f-verdict', 'error flag')),
        severity_filter: timed(() => { set('f-verdict', ''); set('f-severity', 'warn'); }),
        first_text_filter: timed(() => { set('f-severity', ''); set('f-text', 'over'); }),
        text_filter: timed(() => set('f-text', 'seed')),
        clear_filters: timed(() => set('f-text', '')),
        sort_mean: timed(() => sort(4)),
        sort_record: timed(() => sort(0))};
"""


def audited_records(root: Path) -> list[dict]:
    out = root / "audit"
    audit_to(out, write_leaderboard(root / "records"))
    return json.loads((out / "records.json").read_text())["records"]


def synthetic(templates: list[dict], n: int, seed: int = 0) -> list[dict]:
    """n records.json records cycled from `templates`, each renamed, redated, rescored, with more flags."""
    rng = random.Random(seed)
    pool = [f for t in templates for f in t["flags"]]
    start = dt.date(2026, 3, 17)
    out = []
    for i in range(n):
        t = templates[i % len(templates)]
        shift = rng.gauss(0, 0.02)
        logs = rng.random() > 0.4  # the real stream: 2,510 runs over 1,350 records; many folders hold no log
        values = [round(v + shift, 8) for v in t["values"]] if logs else []
        runs = [{**r, "val_bpb": round(r["val_bpb"] + shift, 8) if r["val_bpb"] is not None else None}
                for r in t["runs"]] if logs else []
        flags = t["flags"] + rng.sample(pool, rng.randint(0, 4))
        name = f"{start + dt.timedelta(days=i * 45 // n)}_Submission{i:04d}_{t['record'].split('_', 1)[1]}"
        out.append({**t, "record": name, "folder": f"records/track_10min_16mb/{name}",
                    "date": (start + dt.timedelta(days=i * 45 // n)).isoformat(), "values": values, "runs": runs,
                    "mean": statistics.fmean(values) if values else None, "flags": flags,
                    "n_errors": sum(f["severity"] == "error" for f in flags)})
    return out


def measure(page: Path, loads: int) -> dict[str, float]:
    driver = chrome()
    try:
        loaded = []
        for _ in range(loads):
            driver.get(page.as_uri())
            loaded.append(driver.execute_script(TIMINGS))
        acted = [driver.execute_script(ACTIONS) for _ in range(1)]
    finally:
        driver.quit()
    return {k: statistics.median(r[k] for r in loaded) for k in loaded[0]} | acted[0]


def screenshot(target: Path) -> None:
    target = target.resolve()
    with tempfile.TemporaryDirectory() as tmp:
        here = os.getcwd()
        os.chdir(tmp)  # relative paths, so the page shows `records/...`, not a temporary folder
        try:
            audited_records(Path("."))
        finally:
            os.chdir(here)
        driver = chrome(1400, 1500)
        try:
            driver.get((Path(tmp) / "audit" / "index.html").as_uri())
            driver.execute_script("""
              const row = Array.from(document.querySelectorAll('#subs tbody tr[data-i]'))
                .find(r => r.textContent.includes('OverCap'));
              row.click();
              document.getElementById('figure').scrollIntoView();""")
            target.parent.mkdir(parents=True, exist_ok=True)
            driver.save_screenshot(str(target))
        finally:
            driver.quit()
    print(f"wrote {target}")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--submissions", type=int, default=1500)
    ap.add_argument("--loads", type=int, default=5)
    ap.add_argument("--keep", type=Path, help="write the page here too")
    ap.add_argument("--screenshot", type=Path, help="save a screenshot of the generated leaderboard's page instead")
    args = ap.parse_args()
    if args.screenshot:
        screenshot(args.screenshot)
        return
    with tempfile.TemporaryDirectory() as tmp:
        records = synthetic(audited_records(Path(tmp)), args.submissions)
        page = Path(args.keep or tmp) / "index.html"
        page.parent.mkdir(parents=True, exist_ok=True)
        page.write_text(audit_page(records, 1.0))
        timings = measure(page, args.loads)
        print(f"{args.submissions} submissions, {sum(len(r['runs']) for r in records)} runs, "
              f"{sum(len(r['flags']) for r in records)} flags; index.html {page.stat().st_size / 1e6:.2f} MB")
        print(f"machine: {platform.machine()}, {platform.processor() or platform.system()}, "
              f"{__import__('os').cpu_count()} CPUs; median of {args.loads} loads, ms:")
        for k, v in timings.items():
            print(f"  {k:24s} {v:8.1f}")


if __name__ == "__main__":
    main()
