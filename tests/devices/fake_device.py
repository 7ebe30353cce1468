"""A fake `adb`, `ssh` and `scp` for the transport tests: the desktop side is real (the real commands are issued),
the device is a directory on this machine.

Installed as executables named adb/ssh/scp on PATH (device_support.install_fake_tools). Every call is appended to
$FAKE_DEVICE_LOG as a JSON line. Files pushed land under $FAKE_DEVICE_ROOT (absolute device paths keep their path
below it; relative ones are relative to it, as to a login's home over ssh). Shell commands run with sh in that
directory; the one thing this x86 machine cannot do natively, executing the aarch64 runner, goes through
qemu-aarch64. `uname -m` answers $FAKE_DEVICE_ARCH (default aarch64); adb knows only the serial $FAKE_DEVICE_SERIAL.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

ROOT = Path(os.environ["FAKE_DEVICE_ROOT"])
ANDROID_TMP = "/data/local/tmp"
RUNNER = "./sparsebyte-run"


def record(tool: str, args: list[str]) -> None:
    with open(os.environ["FAKE_DEVICE_LOG"], "a", encoding="utf-8") as log:
        log.write(json.dumps({"tool": tool, "args": args}) + "\n")


def device_path(remote: str) -> Path:
    return ROOT / remote.lstrip("/")


def device_shell(command: str) -> int:
    if command.strip() == "uname -m":
        print(os.environ.get("FAKE_DEVICE_ARCH", "aarch64"))
        return 0
    command = command.replace(ANDROID_TMP, str(ROOT) + ANDROID_TMP)
    command = command.replace(RUNNER, f"qemu-aarch64 {RUNNER}")
    return subprocess.run(["sh", "-c", command], cwd=ROOT).returncode


def copy(src: Path, dst: Path) -> int:
    if not src.is_file():
        print(f"fake device: {src}: No such file or directory", file=sys.stderr)
        return 1
    dst.parent.mkdir(parents=True, exist_ok=True)
    shutil.copy2(src, dst)
    return 0


def adb(args: list[str]) -> int:
    serial = None
    if args[:1] == ["-s"]:
        serial, args = args[1], args[2:]
    known = os.environ.get("FAKE_DEVICE_SERIAL", "FAKE0001")
    if serial not in (None, known):
        print(f"adb: device '{serial}' not found", file=sys.stderr)
        return 1
    command, rest = args[0], args[1:]
    if command == "get-state":
        print("device")
        return 0
    if command == "push":
        return copy(Path(rest[0]), device_path(rest[1]))
    if command == "pull":
        return copy(device_path(rest[0]), Path(rest[1]))
    if command == "shell":
        return device_shell(" ".join(rest))
    print(f"fake adb: unsupported command {command}", file=sys.stderr)
    return 1


def strip_options(args: list[str], valued: tuple[str, ...], flags: tuple[str, ...] = ()) -> list[str]:
    out, i = [], 0
    while i < len(args):
        if args[i] in valued:
            i += 2
        elif args[i] in flags:
            i += 1
        else:
            out.append(args[i])
            i += 1
    return out


def ssh(args: list[str]) -> int:
    host, *command = strip_options(args, ("-o", "-p"))
    return device_shell(" ".join(command))


def scp(args: list[str]) -> int:
    src, dst = strip_options(args, ("-o", "-P"), ("-q",))
    local_or_device = [device_path(p.split(":", 1)[1]) if ":" in p else Path(p) for p in (src, dst)]
    return copy(*local_or_device)


if __name__ == "__main__":
    tool, argv = sys.argv[1], sys.argv[2:]
    record(tool, argv)
    sys.exit({"adb": adb, "ssh": ssh, "scp": scp}[tool](argv))
