#!/usr/bin/env python3
"""Virtualization benchmark: the same guest workloads under every --virt mode, relative to bare.

Usage:
    python3 Benchmarks/virtualization.py                 # 3 runs per case, median
    python3 Benchmarks/virtualization.py --runs 5 --json /tmp/virt.json
    python3 Benchmarks/virtualization.py --modes bare,hw+nested --workloads fork,syscall

Like Adams and Agesen's comparison of software and hardware virtualization, each workload runs
on bare hardware and under each VMM technique, and the table shows time relative to bare next
to the exits that explain it. Workloads (guests/bench/vmm-workload.c, in the default
initramfs):

  boot      host time from start to the init's "trapeze-init: ready" marker
  fork      fork + exec + wait, 200 times
  fault     mmap 4 MiB, touch every page, munmap, 20 times
  syscall   200,000 getppid system calls
  compute   integer work, no system calls

Workload times are the guest's own "time:" lines (the guest clock is the host's monotonic
clock through the CLINT). A workload's exits are those of its run minus those of a run of the
trivial "vmm-workload exit 0" in the same mode, so boot and power-off are not counted; the
boot row shows the exits of that trivial run. Results lines must be identical in every mode
(a mismatch is reported as FAIL). Modes: bare, trap+shadow (trap-and-emulate, shadow paging),
bt+shadow (binary translation of the guest kernel: its sensitive instructions call the VMM,
counted as callouts next to the exits), hw+shadow (emulated H extension, shadow paging as without EPT), hw+nested (H extension,
two-stage translation).
"""
import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
CMDLINE = "console=ttyS0 panic=-1"
WORKLOADS = ["boot", "fork", "fault", "syscall", "compute"]
MODES = {
    "bare": ["--virt", "bare"],
    "trap+shadow": ["--virt", "trap", "--mmu", "shadow"],
    "bt+shadow": ["--virt", "bt", "--mmu", "shadow"],
    "hw+shadow": ["--virt", "hw", "--mmu", "shadow"],
    "hw+nested": ["--virt", "hw", "--mmu", "nested"],
}
READY = "trapeze-init: ready"


class RunFailed(Exception):
    pass


def run_guest(opts, mode, program_args):
    """One trapeze run of `vmm-workload ARGS`; returns (console text, seconds to READY, stats)."""
    with tempfile.NamedTemporaryFile(suffix=".json", delete=False) as f:
        stats_path = f.name
    cmd = [opts.trapeze, "run", *MODES[mode], "--stats-json", stats_path,
           "--cmdline", f"{CMDLINE} trapeze.run=vmm-workload -- {program_args}"]
    start = time.monotonic()
    ready_at = None
    out = []
    try:
        proc = subprocess.Popen(cmd, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                                stderr=subprocess.PIPE, text=True, errors="replace")
        deadline = start + opts.timeout
        for line in proc.stdout:
            out.append(line)
            if ready_at is None and READY in line:
                ready_at = time.monotonic() - start
            if time.monotonic() > deadline:
                proc.kill()
                raise RunFailed(f"{mode}: timed out after {opts.timeout} s")
        proc.wait(timeout=max(1, deadline - time.monotonic()))
        text = "".join(out)
        if proc.returncode != 0 or "trapeze-run: exit=0" not in text:
            raise RunFailed(f"{mode} vmm-workload {program_args}: exit {proc.returncode}\n"
                            + "".join(out[-10:]) + proc.stderr.read()[-2000:])
        with open(stats_path) as f:
            stats = json.load(f)
        return text, ready_at, stats
    finally:
        os.unlink(stats_path)


def exits_of(stats):
    return (stats.get("vmm") or {}).get("exits", {})


def callouts_of(stats):
    return (stats.get("vmm") or {}).get("callouts", {})


def parse(text, workload):
    result = [l.strip() for l in text.splitlines() if l.startswith(workload + ":")]
    times = [l.split() for l in text.splitlines() if l.startswith("time: " + workload + " ")]
    if len(result) != 1 or len(times) != 1:
        raise RunFailed(f"no result/time line for {workload}:\n{text[-1500:]}")
    return result[0], int(times[0][2]) / 1e6


def measure(opts):
    samples = {}  # (mode, workload) -> {"seconds": [...], "exits": [...], "result": str}
    for run in range(opts.runs):
        for mode in opts.modes:
            base_text, ready, base_stats = run_guest(opts, mode, "exit 0")
            base_exits = exits_of(base_stats)
            base_callouts = callouts_of(base_stats)
            rec = samples.setdefault((mode, "boot"), {"seconds": [], "exits": [], "callouts": [], "result": "ready"})
            rec["seconds"].append(ready)
            rec["exits"].append(base_exits)
            rec["callouts"].append(base_callouts)
            print(f"  run {run + 1}/{opts.runs} {mode:11} boot     {ready:7.3f} s", flush=True)
            for w in opts.workloads:
                if w == "boot":
                    continue
                text, _, stats = run_guest(opts, mode, w)
                result, seconds = parse(text, w)
                # Boot and power-off differ a little between runs (timer ticks): never below 0.
                exits = {k: max(0, v - base_exits.get(k, 0)) for k, v in exits_of(stats).items()}
                callouts = {k: max(0, v - base_callouts.get(k, 0)) for k, v in callouts_of(stats).items()}
                rec = samples.setdefault((mode, w), {"seconds": [], "exits": [], "callouts": [], "result": result})
                if rec["result"] != result:
                    raise RunFailed(f"{mode} {w}: result changed between runs: {rec['result']} vs {result}")
                rec["seconds"].append(seconds)
                rec["exits"].append(exits)
                rec["callouts"].append(callouts)
                print(f"  run {run + 1}/{opts.runs} {mode:11} {w:8} {seconds:7.3f} s  "
                      f"{sum(exits.values()):>9} exits  {sum(callouts.values()):>9} callouts", flush=True)
    return samples


def median_exits(list_of_dicts):
    keys = set().union(*list_of_dicts) if list_of_dicts else set()
    return {k: int(statistics.median(d.get(k, 0) for d in list_of_dicts)) for k in keys}


def report(opts, samples):
    rows = []
    failures = []
    for w in opts.workloads:
        base = samples.get(("bare", w))
        for mode in opts.modes:
            rec = samples.get((mode, w))
            if rec is None:
                continue
            t = statistics.median(rec["seconds"])
            ratio = t / statistics.median(base["seconds"]) if base else float("nan")
            exits = median_exits(rec["exits"])
            total = sum(exits.values())
            calls = sum(median_exits(rec["callouts"]).values())
            top = ", ".join(f"{k} {v}" for k, v in sorted(exits.items(), key=lambda kv: -kv[1])[:3] if v > 0)
            same = base is None or rec["result"] == base["result"]
            if not same:
                failures.append(f"{mode} {w}: {rec['result']} != bare {base['result']}")
            rows.append((w, mode, t, ratio, total, calls, top, same))
    print()
    print(f"{'workload':8}  {'mode':11}  {'time':>9}  {'vs bare':>7}  {'exits':>9}  {'callouts':>9}  top exit reasons")
    for w, mode, t, ratio, total, calls, top, same in rows:
        flag = "" if same else "  FAIL: result differs from bare"
        print(f"{w:8}  {mode:11}  {t:8.3f}s  {ratio:6.2f}x  {total:>9}  {calls:>9}  {top}{flag}")
    return rows, failures


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0],
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--runs", type=int, default=3, help="runs of each case per mode (default 3)")
    ap.add_argument("--modes", default=",".join(MODES), help="comma-separated: " + ",".join(MODES))
    ap.add_argument("--workloads", default=",".join(WORKLOADS), help="comma-separated: " + ",".join(WORKLOADS))
    ap.add_argument("--timeout", type=float, default=300, help="seconds per run (default 300)")
    ap.add_argument("--trapeze", default=os.path.join(REPO, ".build", "release", "trapeze"))
    ap.add_argument("--json", metavar="FILE", help="write all raw samples here")
    opts = ap.parse_args()
    opts.modes = [m for m in opts.modes.split(",") if m]
    opts.workloads = [w for w in opts.workloads.split(",") if w]
    for m in opts.modes:
        if m not in MODES:
            sys.exit(f"--modes: unknown mode {m}; choose from {', '.join(MODES)}")
    for w in opts.workloads:
        if w not in WORKLOADS:
            sys.exit(f"--workloads: unknown workload {w}; choose from {', '.join(WORKLOADS)}")
    if "bare" not in opts.modes:
        opts.modes.insert(0, "bare")
    if not os.access(opts.trapeze, os.X_OK):
        sys.exit(f"{opts.trapeze} is missing; build it: swift build -c release --product trapeze")
    print(f"virtualization benchmark: modes {','.join(opts.modes)}, workloads {','.join(opts.workloads)}, "
          f"{opts.runs} run(s) each", flush=True)
    try:
        samples = measure(opts)
    except RunFailed as e:
        sys.exit(f"FAIL: {e}")
    rows, failures = report(opts, samples)
    if opts.json:
        with open(opts.json, "w") as f:
            json.dump({f"{m}/{w}": rec for (m, w), rec in samples.items()}, f, indent=1, sort_keys=True)
    if failures:
        sys.exit("FAIL: " + "; ".join(failures))


if __name__ == "__main__":
    main()
