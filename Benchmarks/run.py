#!/usr/bin/env python3
"""Side-by-side benchmark: the same kernel and initramfs under Trapeze and QEMU.

One command runs everything and prints a table of medians:

    python3 Benchmarks/run.py                 # 5 runs of each case, 1 hart
    python3 Benchmarks/run.py --quick         # 1 run of each case (smoke check)
    python3 Benchmarks/run.py --runs 9 --cpus 2 --json /tmp/bench.json
    python3 Benchmarks/run.py --cases blk      # block-device benchmark only (not a default case)
    python3 Benchmarks/run.py --cases net      # network benchmark only (not a default case; root)

Emulators (all boot the same Image + initramfs.cpio.gz, 512M of RAM, N harts):
  trapeze          Trapeze's default: the JIT (--exec jit), built-in SBI, no firmware
                   in RAM, the kernel starts in S-mode.
  trapeze-interp   the same with --exec interp: the pre-decoded interpreter, the
                   JIT's reference and fallback.
  trapeze-inline-io  (not in the default) the JIT with --io inline: device host I/O
                   on the harts' thread instead of the I/O thread.
  trapeze+opensbi  Trapeze with --firmware .../opensbi/generic/fw_jump.elf: OpenSBI
                   runs in M-mode first, like QEMU does (the like-for-like comparison).
  qemu+opensbi     qemu-system-riscv64 -M virt -bios default (QEMU's bundled OpenSBI),
                   TCG.

Cases (guest console on stdout, read incrementally and timestamped on arrival):
  boot→ready       process start to the "trapeze-init: ready" marker.
  boot→exit        process start to process exit, with trapeze.run=true (/init prints
                   the marker, runs /bin/true and powers off). Same runs as boot→ready.
  bench-*          trapeze.run=bench-*: time from the marker to the program's output
                   line, so boot is excluded. The line must equal guests/bench/expected.txt
                   exactly; a wrong answer is reported as FAIL and the exit status is 1.

  blk              not in the default --cases. Each run gets a fresh, fully written 64 MiB
                   raw image (zeros) in a temp dir as the guest's /dev/vda (trapeze:
                   --disk IMG; QEMU: -drive file=IMG,if=none,format=raw,id=d0 -device
                   virtio-blk-device,drive=d0) and runs trapeze.run=bench-blk, which
                   prints sequential write/read throughput (1 MiB requests over 32 MiB,
                   MiB/s) and random 4 KiB write/read IOPS (2000 each), timed in the
                   guest, and checks every block it reads back. Any ERROR line, a
                   missing measure or a missing "bench-blk: ok" is a FAIL. For these
                   metrics higher is better, so a Trapeze/QEMU ratio > 1 means Trapeze
                   is faster (the opposite of the time metrics).

  net              not in the default --cases; needs root, iproute2 and python3. Creates
                   a network namespace (deleted at the end) holding a TAP, tap0, with
                   the host address 10.0.2.2/24: nothing leaves the machine. Each run
                   starts a TCP sink on 10.0.2.2:5201 in the namespace and boots the
                   emulator there (trapeze: --net tap=tap0; QEMU: -netdev
                   tap,id=n0,ifname=tap0,script=no,downscript=no -device
                   virtio-net-device,netdev=n0) with trapeze.run=bench-net, which gives
                   eth0 10.0.2.15/24 and sends --net-mib MiB (default 64) of a
                   deterministic pattern over one TCP connection. Throughput is the
                   bytes over the sink's time from the first byte to the last, in MiB/s
                   (higher is better, like blk). The sink hashes the stream and compares
                   it with the pattern's hash: a wrong byte or count is a FAIL.

Runs are interleaved (round 1: A B C, round 2: B C A, ...) so a change in machine
load hits every emulator alike. Each run has a timeout (default 120 s) after which its
whole process group is killed. Stdlib only.
"""
import argparse
import datetime
import json
import os
import platform
import select
import shutil
import statistics
import tempfile
import subprocess
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.dirname(HERE)
MARKER = "trapeze-init: ready"
CMDLINE = "console=ttyS0 earlycon=sbi panic=-1"
FW_JUMP = "/usr/lib/riscv64-linux-gnu/opensbi/generic/fw_jump.elf"
BENCHES = ["bench-int", "bench-mem", "bench-fp", "bench-branch"]
from devices import (BLK_MEASURES, NET_GUEST, NET_HOST, NET_LABEL, NET_PORT, NET_TAP, RunFailed,  # noqa: E402
                     finish_sink, kill_group, make_disk, make_netns, parse_blk, start_sink)




def read_expected(path):
    expected = {}
    with open(path) as f:
        for line in f:
            if line.strip() and not line.startswith("#"):
                expected[line.split(":", 1)[0]] = line.strip()
    return expected


def default_guest_dir():
    cache = os.environ.get("TRAPEZE_CACHE") or os.path.expanduser("~/.cache/trapeze")
    return os.path.join(cache, "current")


def command_for(emu, opts, cmdline, disk=None, tap=None):
    """The emulator's command line; with `tap`, prefixed to run inside the net namespace."""
    prefix = [opts.ip, "netns", "exec", opts.netns] if tap else []
    if emu.startswith("trapeze"):
        cmd = [opts.trapeze, "run", "--kernel", opts.kernel, "--initrd", opts.initrd,
               "--cmdline", cmdline, "--memory", "512M", "--cpus", str(opts.cpus)]
        if emu == "trapeze+opensbi":
            cmd += ["--firmware", opts.firmware]
        if emu == "trapeze-interp":
            cmd += ["--exec", "interp"]
        if emu == "trapeze-inline-io":
            cmd += ["--io", "inline"]
        if disk:
            cmd += ["--disk", disk]
        if tap:
            cmd += ["--net", f"tap={tap}"]
        return prefix + cmd
    cmd = [opts.qemu, "-M", "virt", "-m", "512M", "-smp", str(opts.cpus), "-nographic",
           "-no-reboot", "-bios", "default", "-kernel", opts.kernel, "-initrd", opts.initrd,
           "-append", cmdline]
    if disk:
        cmd += ["-drive", f"file={disk},if=none,format=raw,id=d0",
                "-device", "virtio-blk-device,drive=d0"]
    if tap:
        cmd += ["-netdev", f"tap,id=n0,ifname={tap},script=no,downscript=no",
                "-device", "virtio-net-device,netdev=n0"]
    return prefix + cmd


def run_once(cmd, want_line, timeout):
    """Starts `cmd` with stdin from /dev/null and reads its stdout as it arrives.

    Returns a dict of seconds since just before the process was started: "ready" (the
    marker appeared), "line" (the line starting with want_line's "name:" prefix was
    complete; its text in "line_text"), "exit" (the process was reaped), plus "rc".
    Raises RunFailed on timeout (after killing the process group) or bad output."""
    t0 = time.monotonic()
    proc = subprocess.Popen(cmd, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, start_new_session=True)
    out = bytearray()
    err = bytearray()
    res = {}
    prefix = want_line.split(":", 1)[0] + ":" if want_line else None
    scan_from = 0  # start of the first line not yet checked for the wanted line
    fds = {proc.stdout.fileno(): out, proc.stderr.fileno(): err}
    deadline = t0 + timeout
    try:
        while fds:
            left = deadline - time.monotonic()
            if left <= 0:
                raise RunFailed(f"timeout after {timeout:.0f} s")
            ready, _, _ = select.select(list(fds), [], [], min(left, 1.0))
            now = time.monotonic() - t0
            for fd in ready:
                chunk = os.read(fd, 65536)
                if not chunk:
                    del fds[fd]
                    continue
                buf = fds[fd]
                buf += chunk
                if buf is not out:
                    continue
                if "ready" not in res and MARKER.encode() in out:
                    res["ready"] = now
                if prefix and "line" not in res and "ready" in res:
                    while True:
                        nl = out.find(b"\n", scan_from)
                        if nl < 0:
                            break
                        text = out[scan_from:nl].decode("utf-8", "replace").strip("\r\n ")
                        scan_from = nl + 1
                        if text.startswith(prefix):
                            res["line"] = now
                            res["line_text"] = text
                            break
        left = max(0.1, deadline - time.monotonic())
        try:
            res["rc"] = proc.wait(timeout=left)
        except subprocess.TimeoutExpired:
            raise RunFailed(f"timeout after {timeout:.0f} s (output closed, process still running)")
        res["exit"] = time.monotonic() - t0
    except BaseException as e:
        kill_group(proc)
        if isinstance(e, RunFailed):
            e.args = (e.args[0] + "\n" + tail(out, err),)
        raise
    finally:
        proc.stdout.close()
        proc.stderr.close()

    if "ready" not in res:
        raise RunFailed("no '%s' marker (rc=%s)\n%s" % (MARKER, res["rc"], tail(out, err)))
    if want_line:
        if "line" not in res:
            raise RunFailed(f"no '{prefix}' output line (rc={res['rc']})\n{tail(out, err)}")
        if res["line_text"] != want_line:
            raise RunFailed("WRONG ANSWER\n  got:      %s\n  expected: %s"
                            % (res["line_text"], want_line))
        if b"trapeze-run: exit=0" not in out:
            raise RunFailed(f"program did not report exit=0\n{tail(out, err)}")
    if res["rc"] != 0:
        raise RunFailed(f"exit status {res['rc']}\n{tail(out, err)}")
    res["out_text"] = out.decode("utf-8", "replace")
    return res


def tail(out, err, n=12):
    lines = out.decode("utf-8", "replace").replace("\r", "").splitlines()[-n:]
    text = "  stdout (last lines):\n" + "\n".join("    " + l for l in lines)
    e = err.decode("utf-8", "replace").strip()
    if e:
        text += "\n  stderr:\n" + "\n".join("    " + l for l in e.splitlines()[-n:])
    return text


def fmt(s):
    if s is None:
        return "—"
    if isinstance(s, str):
        return s
    return f"{s * 1000:.0f} ms" if s < 10 else f"{s:.2f} s"


def machine_facts(opts):
    cpu = "?"
    try:
        with open("/proc/cpuinfo") as f:
            for line in f:
                if line.startswith("model name"):
                    cpu = line.split(":", 1)[1].strip()
                    break
    except OSError:
        pass
    try:
        qv = subprocess.run([opts.qemu, "--version"], capture_output=True, text=True).stdout
        qv = qv.splitlines()[0] if qv else "?"
    except OSError:
        qv = "not found"
    return {"date": datetime.datetime.now().astimezone().isoformat(timespec="seconds"),
            "nproc": os.cpu_count(), "cpu": cpu, "loadavg": os.getloadavg(),
            "kernel": platform.release(), "qemu": qv}


def main():
    g = default_guest_dir()
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0],
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--runs", type=int, default=5, help="runs of each case per emulator (default 5)")
    ap.add_argument("--quick", action="store_true", help="1 run of each case (smoke check)")
    ap.add_argument("--cpus", type=int, default=1, help="harts (default 1)")
    ap.add_argument("--timeout", type=float, default=120, help="seconds per run (default 120)")
    ap.add_argument("--json", metavar="FILE", help="write all raw samples here")
    ap.add_argument("--cases", default="boot," + ",".join(BENCHES),
                    help="comma-separated subset of: boot," + ",".join(BENCHES) +
                    ",blk,net (blk and net are not in the default: block-device and network "
                    "benchmarks, see above)")
    ap.add_argument("--emulators", default="trapeze,trapeze-interp,trapeze+opensbi,qemu+opensbi",
                    help="comma-separated subset of the default, or trapeze-inline-io (the JIT with "
                         "--io inline: device I/O on the harts' thread, to compare with the I/O thread)")
    ap.add_argument("--trapeze", default=os.path.join(REPO, ".build", "release", "trapeze"))
    ap.add_argument("--qemu", default="qemu-system-riscv64")
    ap.add_argument("--kernel", default=os.path.join(g, "Image"))
    ap.add_argument("--initrd", default=os.path.join(g, "initramfs.cpio.gz"))
    ap.add_argument("--firmware", default=FW_JUMP, help="OpenSBI for trapeze+opensbi")
    ap.add_argument("--expected", default=os.path.join(REPO, "guests", "bench", "expected.txt"))
    ap.add_argument("--net-mib", type=int, default=64, help="MiB the net case sends per run (default 64)")
    ap.add_argument("--ip", default=shutil.which("ip") or "/usr/sbin/ip", help="iproute2's ip (net case)")
    opts = ap.parse_args()
    if opts.quick:
        opts.runs = 1
    emus = [e for e in opts.emulators.split(",") if e]
    cases = [c for c in opts.cases.split(",") if c]
    for e in emus:
        if e not in ("trapeze", "trapeze-interp", "trapeze-inline-io", "trapeze+opensbi", "qemu+opensbi"):
            ap.error(f"unknown emulator {e}")
    for c in cases:
        if c not in ("boot", "blk", "net") and c not in BENCHES:
            ap.error(f"unknown case {c}")
    for path in (opts.kernel, opts.initrd) + ((opts.trapeze,) if any(e.startswith("trapeze") for e in emus) else ()):
        if not os.path.exists(path):
            sys.exit(f"run.py: missing {path} (build: swift build -c release --product trapeze; "
                     "guests: guests/build.sh)")
    expected = read_expected(opts.expected)
    # Pin the inputs: guests/build.sh repoints current/ and other builds replace
    # .build/release/trapeze while this runs, so resolve links and copy the binary.
    opts.kernel = os.path.realpath(opts.kernel)
    opts.initrd = os.path.realpath(opts.initrd)
    if "net" in cases:
        if os.geteuid() != 0:
            sys.exit("run.py: the net case makes a network namespace and a TAP: run it as root")
        if not os.path.exists(opts.ip):
            sys.exit(f"run.py: the net case needs {opts.ip} (apt-get install iproute2)")
    snapdir = tempfile.mkdtemp(prefix="trapeze-bench-")
    opts.snapdir = snapdir  # the blk case's disk image lives here too
    opts.netns = None
    if any(e.startswith("trapeze") for e in emus):
        snap = os.path.join(snapdir, "trapeze")
        shutil.copy2(opts.trapeze, snap)
        opts.trapeze_source = opts.trapeze
        opts.trapeze = snap
    try:
        if "net" in cases:
            make_netns(opts)
        return measure(opts, emus, cases, expected)
    finally:
        if opts.netns:
            subprocess.run([opts.ip, "netns", "del", opts.netns], capture_output=True)
        shutil.rmtree(snapdir, ignore_errors=True)


def git_state():
    try:
        head = subprocess.run(["git", "-C", REPO, "rev-parse", "--short", "HEAD"],
                              capture_output=True, text=True).stdout.strip()
        dirty = subprocess.run(["git", "-C", REPO, "status", "--porcelain", "--", "Sources"],
                               capture_output=True, text=True).stdout.strip()
        return head + (" (Sources/ modified)" if dirty else "")
    except OSError:
        return "?"


def measure(opts, emus, cases, expected):
    facts = machine_facts(opts)
    facts["git"] = git_state()
    if hasattr(opts, "trapeze_source"):
        st = os.stat(opts.trapeze_source)
        facts["trapeze_binary"] = "%s (built %s)" % (
            opts.trapeze_source,
            datetime.datetime.fromtimestamp(st.st_mtime).astimezone().isoformat(timespec="seconds"))
    print(f"# {facts['date']}  nproc={facts['nproc']}  cpu={facts['cpu']}  "
          f"load={' '.join('%.2f' % x for x in facts['loadavg'])}")
    print(f"# {facts['qemu']}; {opts.runs} run(s) per case, {opts.cpus} hart(s), "
          f"timeout {opts.timeout:.0f} s; repo {facts['git']}")
    print(f"# kernel {opts.kernel}\n# initrd {opts.initrd}")

    # metric name -> emulator -> list of seconds; failures[metric][emu] = message
    metrics = []
    samples = {}
    raw = []
    failures = {}
    for case in cases:
        if case == "boot":
            metrics += ["boot→ready", "boot→exit (run=true)"]
        elif case == "blk":
            metrics += [label for _, _, label in BLK_MEASURES]
        elif case == "net":
            metrics.append(NET_LABEL)
        else:
            metrics.append(f"{case} (after ready)")
    for m in metrics:
        samples[m] = {e: [] for e in emus}

    total = len(cases) * opts.runs * len(emus)
    n = 0
    for case in cases:
        if case == "blk":
            cmdline = f"{CMDLINE} trapeze.run=bench-blk"
            want = None
        elif case == "net":
            # init passes the words after "--" to the program.
            cmdline = f"{CMDLINE} trapeze.run=bench-net -- {opts.net_mib} {NET_HOST} {NET_PORT} {NET_GUEST}"
            want = None
        else:
            cmdline = f"{CMDLINE} trapeze.run={'true' if case == 'boot' else case}"
            want = None if case == "boot" else expected[case]
        dead = set()  # emulators that failed this case: skip their remaining runs
        for r in range(opts.runs):
            order = emus[r % len(emus):] + emus[:r % len(emus)]
            for emu in order:
                n += 1
                label = f"[{n}/{total}] {case} run {r + 1}/{opts.runs} {emu}"
                if emu in dead:
                    print(f"{label}: skipped (failed earlier)", flush=True)
                    continue
                print(f"{label} ... ", end="", flush=True)
                disk = None
                if case == "blk":
                    disk = os.path.join(opts.snapdir, "disk.img")
                    make_disk(disk)
                cmd = command_for(emu, opts, cmdline, disk, NET_TAP if case == "net" else None)
                sink = None
                try:
                    if case == "net":
                        sink = start_sink(opts)
                    res = run_once(cmd, want, opts.timeout)
                    if case == "blk":
                        blk = parse_blk(res["out_text"])
                    if case == "net":
                        net = finish_sink(sink, res["out_text"])
                except RunFailed as e:
                    if sink:
                        kill_group(sink)
                    dead.add(emu)
                    msg = str(e)
                    print(f"FAIL: {msg}", flush=True)
                    first = msg.splitlines()[0]
                    for m in metrics:
                        if m.startswith(case) or (case == "blk" and m.startswith("blk ")):
                            failures.setdefault(m, {})[emu] = first
                    raw.append({"case": case, "emulator": emu, "run": r + 1, "command": cmd,
                                "error": msg})
                    continue
                rec = {"case": case, "emulator": emu, "run": r + 1, "command": cmd,
                       "ready_s": res["ready"], "exit_s": res["exit"], "rc": res["rc"]}
                if case == "net":
                    rec["net"] = net
                    samples[NET_LABEL][emu].append(net["MiBps"])
                    print(f"{net['MiBps']:.1f} MiB/s ({net['bytes']} bytes in {net['host_s']:.3f} s on the host, "
                          f"{net['guest_s']:.3f} s in the guest) intact", flush=True)
                elif case == "blk":
                    rec["blk"] = blk
                    for key, _, label in BLK_MEASURES:
                        samples[label][emu].append(blk[key])
                    print(", ".join(f"{k} {blk[k]:.1f}" for k, _, _ in BLK_MEASURES) + " ok",
                          flush=True)
                elif case == "boot":
                    samples["boot→ready"][emu].append(res["ready"])
                    samples["boot→exit (run=true)"][emu].append(res["exit"])
                    print(f"ready {fmt(res['ready'])}, exit {fmt(res['exit'])}", flush=True)
                else:
                    d = res["line"] - res["ready"]
                    rec["line_s"] = res["line"]
                    rec["output"] = res["line_text"]
                    rec["bench_s"] = d
                    samples[f"{case} (after ready)"][emu].append(d)
                    print(f"{fmt(d)} (ready {fmt(res['ready'])}, exit {fmt(res['exit'])}) ok",
                          flush=True)
                raw.append(rec)

    facts["loadavg_end"] = os.getloadavg()
    print(f"# load at end: {' '.join('%.2f' % x for x in facts['loadavg_end'])}")

    # The table.
    med = {m: {e: (statistics.median(v) if v else None) for e, v in samples[m].items()}
           for m in metrics}
    qemu = "qemu+opensbi"
    headers = ["case"] + [f"{e} median" for e in emus]
    if qemu in emus:
        headers += [f"{e}/qemu" for e in emus if e != qemu]
    rows = []
    for m in metrics:
        row = [m]
        higher_better = m.startswith("blk ") or m.startswith("net ")
        for e in emus:
            if e in failures.get(m, {}):
                row.append("FAIL")
            elif higher_better:
                row.append("—" if med[m][e] is None else f"{med[m][e]:.1f}")
            else:
                row.append(fmt(med[m][e]))
        if qemu in emus:
            for e in emus:
                if e == qemu:
                    continue
                a, b = med[m][e], med[m][qemu]
                row.append(f"{a / b:.2f}x" + (" ↑" if higher_better else "")
                           if a is not None and b else "—")
        rows.append(row)
    widths = [max(len(str(x)) for x in col) for col in zip(headers, *rows)]
    print()
    print("  ".join(h.ljust(w) for h, w in zip(headers, widths)))
    print("  ".join("-" * w for w in widths))
    for row in rows:
        print("  ".join(str(x).ljust(w) for x, w in zip(row, widths)))
    print(f"(medians of {opts.runs} run(s); ratio > 1 means slower than QEMU for times"
          + ("; for the blk and net rows, marked ↑, higher is better, so ratio > 1 means FASTER than QEMU)"
             if "blk" in cases or "net" in cases else ")"))

    if opts.json:
        with open(opts.json, "w") as f:
            json.dump({"machine": facts, "runs": opts.runs, "cpus": opts.cpus,
                       "kernel": opts.kernel, "initrd": opts.initrd, "firmware": opts.firmware,
                       "medians_s": med, "samples_s": samples, "failures": failures,
                       "raw": raw}, f, indent=1, ensure_ascii=False)
        print(f"raw samples: {opts.json}")

    if failures:
        print("\nFAILED:", file=sys.stderr)
        for m, by in failures.items():
            for e, msg in by.items():
                print(f"  {m} / {e}: {msg}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    try:
        sys.exit(main())
    except KeyboardInterrupt:
        sys.exit(130)
