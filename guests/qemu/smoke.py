#!/usr/bin/env python3
"""Boot the cached guest images under qemu-system-riscv64 and check them.

QEMU is only a reference here (it shows the images are sound, so a failure
under Trapeze is Trapeze's); Trapeze never depends on it. Run after
guests/build.sh:

    python3 guests/qemu/smoke.py            # all checks
    python3 guests/qemu/smoke.py --quick    # shell + trapeze.run=hello only

Prints one PASS/FAIL line per check with timings, then "N passed, N failed".
"""
import argparse
import os
import shutil
import subprocess
import sys
import time

import pexpect

GUESTS = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
MARKER = "trapeze-init: ready"
PROMPT = "~ # "
CMDLINE = "console=ttyS0 earlycon=sbi panic=-1"


def paths():
    out = subprocess.run([os.path.join(GUESTS, "build.sh"), "--print-paths"],
                         check=True, capture_output=True, text=True).stdout
    return dict(line.split("=", 1) for line in out.splitlines() if "=" in line)


class Guest:
    """One QEMU run; times are seconds since QEMU was started."""

    def __init__(self, p, smp=1, append="", disk=None, log=None, initrd="INITRAMFS"):
        args = ["-M", "virt", "-m", "512M", "-smp", str(smp), "-nographic",
                "-no-reboot", "-kernel", p["KERNEL"]]
        if disk:
            # virtio-blk-device is the virtio-mmio transport (the kernel has no PCI).
            args += ["-drive", f"if=none,id=hd0,format=raw,snapshot=on,file={disk}",
                     "-device", "virtio-blk-device,drive=hd0"]
            append = "root=/dev/vda rw " + append
        else:
            args += ["-initrd", p[initrd]]
        args += ["-append", f"{CMDLINE} {append}".strip()]
        self.start = time.monotonic()
        self.child = pexpect.spawn("qemu-system-riscv64", args, encoding="utf-8",
                                   codec_errors="replace", timeout=60, logfile=log)

    def now(self):
        return time.monotonic() - self.start

    def expect(self, pattern, timeout=60):
        self.child.expect_exact(pattern, timeout=timeout)
        return self.now()

    def run(self, command, want, timeout=60):
        """Type a command at the prompt; wait for regex `want` in its output.
        Lines arrive as "\r\r\n": the guest's "\r\n" plus the host pty's own \r."""
        self.child.sendline(command)
        self.child.expect(want, timeout=timeout)
        self.expect(PROMPT, timeout)

    def wait_exit(self, timeout=60):
        self.child.expect(pexpect.EOF, timeout=timeout)
        self.child.close()
        return self.now()

    def kill(self):
        if self.child.isalive():
            self.child.terminate(force=True)


def read_expected():
    expected = {}
    with open(os.path.join(GUESTS, "bench", "expected.txt")) as f:
        for line in f:
            if line.strip() and not line.startswith("#"):
                expected[line.split(":", 1)[0]] = line.strip()
    return expected


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--quick", action="store_true")
    opts = ap.parse_args()
    if not shutil.which("qemu-system-riscv64"):
        subprocess.run(["apt-get", "install", "-y", "-qq", "qemu-system-misc"], check=True)
    p = paths()
    logpath = os.path.join(p["TRAPEZE_CACHE"], "logs", "qemu-smoke.log")
    log = open(logpath, "w")
    results = []

    def check(name, fn):
        log.write(f"\n===== {name} =====\n")
        try:
            detail = fn()
            results.append(True)
            print(f"PASS {name}: {detail}", flush=True)
        except Exception as e:  # report and go on to the next check
            results.append(False)
            msg = (str(e).splitlines() or [""])[0][:200]
            print(f"FAIL {name}: {type(e).__name__}: {msg} (log: {logpath})", flush=True)

    def shell(smp, disk=None):
        def go():
            g = Guest(p, smp=smp, disk=disk and p["ROOTFS"], log=log)
            try:
                t_marker = g.expect(MARKER)
                g.expect(PROMPT)
                t0 = g.now()
                g.run("echo hi-$((6*7))", r"\nhi-42\r")
                t_cmd = g.now() - t0
                # cttyhack gave the shell the UART as controlling tty (job control).
                g.run("tty", r"\n/dev/ttyS0\r")
                g.run("grep -c ^processor /proc/cpuinfo", rf"\n{smp}\r")
                if disk:
                    g.run("grep ' / ' /proc/mounts", r"\n/dev/root / ext4 rw")
                g.child.sendline("poweroff -f")
                t_exit = g.wait_exit()
                return (f"marker at {t_marker:.2f}s, echo round trip {t_cmd*1000:.0f}ms, "
                        f"{smp} cpu(s) seen, qemu exited at {t_exit:.2f}s")
            finally:
                g.kill()
        return go

    def run_prog(name, args, want, initrd="INITRAMFS"):
        def go():
            g = Guest(p, append=f"trapeze.run={name} -- {args}".strip(), log=log,
                      initrd=initrd)
            try:
                t_marker = g.expect(MARKER)
                g.expect(want, timeout=120)
                t_out = g.now()
                g.expect("trapeze-run: exit=0")
                t_exit = g.wait_exit()
                return (f"marker at {t_marker:.2f}s, output at {t_out:.2f}s "
                        f"(+{t_out - t_marker:.2f}s), qemu exited at {t_exit:.2f}s")
            finally:
                g.kill()
        return go

    check("initramfs shell, -smp 1", shell(1))
    check("trapeze.run=hello", run_prog("hello", "a b", "hello from trapeze guest: a b (argc=3)"))
    if not opts.quick:
        check("initramfs shell, -smp 2", shell(2))
        check("ext4 root on virtio-blk", shell(1, disk=True))
        check("uncompressed initramfs, trapeze.run=hello",
              run_prog("hello", "", "hello from trapeze guest: (argc=1)", initrd="INITRAMFS_RAW"))
        for name, line in read_expected().items():
            check(f"trapeze.run={name}", run_prog(name, "", line))

    passed = sum(results)
    print(f"{passed} passed, {len(results) - passed} failed")
    return 0 if passed == len(results) else 1


if __name__ == "__main__":
    sys.exit(main())
