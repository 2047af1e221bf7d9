"""The device cases of Benchmarks/run.py: virtio-blk (`--cases blk`) and virtio-net
(`--cases net`): the disk image, bench-blk's output, the network namespace and the TCP sink
that times and checks what bench-net sends."""
import json
import os
import select
import signal
import subprocess
import sys


class RunFailed(Exception):
    pass


BLK_IMAGE_BYTES = 64 << 20
NET_LABEL = "net guest→host TCP (MiB/s)"
NET_TAP = "tap0"
NET_HOST, NET_GUEST, NET_PORT = "10.0.2.2", "10.0.2.15", 5201
# The TCP sink for the net case, run inside the namespace: argv = port, MiB expected.
# Prints "listening" once it listens, then one JSON line: bytes received, monotonic
# seconds of the first and last byte, and whether the stream equals bench-net's pattern
# (chunk i of 1 MiB: little-endian i, then SplitMix64-finalized words 1..131071).
NET_SINK = r'''
import hashlib, json, socket, struct, sys, time
port, mib = int(sys.argv[1]), int(sys.argv[2])
M = (1 << 64) - 1
def pattern(j):
    z = (j * 0x9e3779b97f4a7c15) & M
    z = ((z ^ (z >> 30)) * 0xbf58476d1ce4e5b9) & M
    z = ((z ^ (z >> 27)) * 0x94d049bb133111eb) & M
    return z ^ (z >> 31)
body = struct.pack("<131071Q", *(pattern(j) for j in range(1, 131072)))
want = hashlib.sha256()
for i in range(mib):
    want.update(struct.pack("<Q", i)); want.update(body)
s = socket.socket()
s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
s.bind(("%s", port)); s.listen(1); s.settimeout(float(sys.argv[3]))
print("listening", flush=True)
c = s.accept()[0]; c.settimeout(float(sys.argv[3]))
c.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4 << 20)
buf = bytearray(1 << 20); view = memoryview(buf)
got = hashlib.sha256(); n = 0; first = last = None
while True:
    k = c.recv_into(buf)
    if k == 0: break
    last = time.monotonic()
    if first is None: first = last
    got.update(view[:k]); n += k
c.close()
print(json.dumps({"bytes": n, "first": first, "last": last,
                  "intact": n == mib << 20 and got.digest() == want.digest()}), flush=True)
''' % NET_HOST
# bench-blk's measures: (line key, value key, metric label).
BLK_MEASURES = [("seq-write", "MiBps", "blk seq-write (MiB/s)"),
                ("seq-read", "MiBps", "blk seq-read (MiB/s)"),
                ("rand-write", "IOPS", "blk rand-write 4K (IOPS)"),
                ("rand-read", "IOPS", "blk rand-read 4K (IOPS)"),
                ("fsync+compute", "kept", "blk compute kept during fsync (%)")]


def kill_group(proc):
    """Kills the process group of a process this script started, and reaps it."""
    if proc.poll() is None:
        try:
            os.killpg(proc.pid, signal.SIGKILL)
        except ProcessLookupError:
            pass
    try:
        proc.wait(timeout=10)
    except subprocess.TimeoutExpired:
        pass


def host(cmd):
    """Runs a setup command; a failure stops the benchmark with its output."""
    r = subprocess.run(cmd, capture_output=True, text=True)
    if r.returncode != 0:
        sys.exit(f"run.py: `{' '.join(cmd)}` failed ({r.returncode}): {(r.stderr or r.stdout).strip()}")


def make_netns(opts):
    """The net case's namespace: lo and tap0 (NET_HOST/24) up; nothing routes out of it."""
    opts.netns = f"trapeze-bench-{os.getpid()}"
    subprocess.run([opts.ip, "netns", "del", opts.netns], capture_output=True)
    host([opts.ip, "netns", "add", opts.netns])
    host([opts.ip, "-n", opts.netns, "link", "set", "lo", "up"])
    host([opts.ip, "-n", opts.netns, "tuntap", "add", "dev", NET_TAP, "mode", "tap"])
    host([opts.ip, "-n", opts.netns, "addr", "add", f"{NET_HOST}/24", "dev", NET_TAP])
    host([opts.ip, "-n", opts.netns, "link", "set", NET_TAP, "up"])


def start_sink(opts):
    """Starts the TCP sink in the namespace and waits until it listens."""
    proc = subprocess.Popen([opts.ip, "netns", "exec", opts.netns, sys.executable, "-c", NET_SINK,
                             str(NET_PORT), str(opts.net_mib), str(opts.timeout)],
                            stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                            start_new_session=True, text=True)
    ready, _, _ = select.select([proc.stdout], [], [], 30)
    line = proc.stdout.readline() if ready else ""
    if line.strip() != "listening":
        kill_group(proc)
        raise RunFailed("TCP sink did not start: " + line + proc.stderr.read())
    return proc


def finish_sink(proc, out_text):
    """The sink's verdict after the guest finished: MiB/s by the host's clock."""
    try:
        out, err = proc.communicate(timeout=30)
    except subprocess.TimeoutExpired:
        kill_group(proc)
        raise RunFailed("TCP sink did not finish (the guest never closed its connection)")
    try:
        res = json.loads(out.strip().splitlines()[-1])
    except (ValueError, IndexError):
        raise RunFailed(f"TCP sink failed: {out.strip()} {err.strip()}")
    if not res["intact"]:
        raise RunFailed(f"WRONG DATA: the sink got {res['bytes']} bytes that do not match bench-net's pattern")
    sent = [l for l in out_text.replace("\r", "").splitlines() if l.startswith("bench-net: sent ")]
    if not sent or int(sent[-1].split()[2]) != res["bytes"]:
        raise RunFailed("bench-net did not report sending what the sink received: " + (sent[-1] if sent else "no line"))
    if "trapeze-run: exit=0" not in out_text:
        raise RunFailed("bench-net did not report exit=0")
    guest_us = int(sent[-1].split()[5])
    return {"bytes": res["bytes"], "host_s": res["last"] - res["first"], "guest_s": guest_us / 1e6,
            "MiBps": res["bytes"] / (1 << 20) / (res["last"] - res["first"])}


def make_disk(path):
    """A fresh raw image of BLK_IMAGE_BYTES zeros, fully written (no holes) and synced."""
    chunk = bytes(1 << 20)
    with open(path, "wb") as f:
        for _ in range(BLK_IMAGE_BYTES // len(chunk)):
            f.write(chunk)
        f.flush()
        os.fsync(f.fileno())


def parse_blk(text):
    """bench-blk's measures from the console text: {line key: value}. Raises RunFailed
    on an ERROR line, a missing measure or a missing final "ok" line."""
    vals = {}
    ok = False
    for line in text.replace("\r", "").splitlines():
        line = line.strip()
        if not line.startswith("bench-blk: "):
            continue
        words = line.split()
        if len(words) > 1 and words[1] == "ERROR":
            raise RunFailed("WRONG ANSWER / I/O error: " + line)
        if len(words) > 1 and words[1] == "ok":
            ok = True
        for key, vkey, _ in BLK_MEASURES:
            if len(words) > 2 and words[1] == key and words[2].startswith(vkey + "="):
                vals[key] = float(words[2].split("=", 1)[1])
    missing = [k for k, _, _ in BLK_MEASURES if k not in vals]
    if missing or not ok:
        raise RunFailed("bench-blk output incomplete (missing %s)"
                        % (", ".join(missing) if missing else "'bench-blk: ok'"))
    if "trapeze-run: exit=0" not in text:
        raise RunFailed("bench-blk did not report exit=0")
    return vals
