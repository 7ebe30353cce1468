"""`adb:SERIAL`: an Android phone (or any adb target) over USB or TCP: adb push, adb shell, adb pull.

The static aarch64 runner needs no NDK or app: /data/local/tmp is writable and executable from `adb shell`."""

from __future__ import annotations

import subprocess
from pathlib import Path

from .base import DeviceError
from .remote import RemoteDevice

DEFAULT_DIR = "/data/local/tmp/sparsebyte"


class AdbDevice(RemoteDevice):
    tool = "adb"
    install_hint = "install Android platform-tools, e.g. apt-get install -y adb"

    def __init__(self, serial: str | None = None, directory: str = DEFAULT_DIR) -> None:
        self.serial = serial
        self.name = f"adb:{serial}" if serial else "adb"
        self.directory = directory

    def _adb(self, *args: str) -> list[str]:
        return ["adb", *(["-s", self.serial] if self.serial else []), *args]

    def push(self, local: Path, remote: str) -> None:
        self._call(self._adb("push", str(local), remote), f"adb push {local.name}")

    def pull(self, remote: str, local: Path) -> None:
        self._call(self._adb("pull", remote, str(local)), f"adb pull {remote}")

    def shell(self, command: str) -> subprocess.CompletedProcess:
        return self._call(self._adb("shell", command), f"adb shell `{command[:80]}`")

    def check_arch(self) -> str:
        state = self._call(self._adb("get-state"), "adb get-state (is the device connected and authorized?)")
        if state.stdout.strip() != "device":
            raise DeviceError(f"{self.name}: adb reports the device as {state.stdout.strip()!r}, not 'device'")
        return super().check_arch()

