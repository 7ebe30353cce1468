"""Where a .sbn runs: `host`, `qemu` (emulated aarch64, instruction counts), `adb[:SERIAL]` (Android),
`ssh:[user@]host[:port]` (Raspberry Pi, any aarch64 Linux). `get_device(spec)` makes one from its --device spec."""

from __future__ import annotations

from .adb import AdbDevice
from .base import Device, DeviceError, DeviceRun, RemoteDevice, RunOptions
from .host import HostDevice
from .qemu import QemuDevice
from .ssh import SshDevice

__all__ = ["AdbDevice", "Device", "DeviceError", "DeviceRun", "HostDevice", "QemuDevice", "RemoteDevice",
           "RunOptions", "SshDevice", "get_device", "DEVICE_HELP"]

DEVICE_HELP = "host | qemu | adb[:SERIAL] | ssh:[USER@]HOST[:PORT]"


def get_device(spec: str, directory: str | None = None, count_insns: bool = True) -> Device:
    """A device from its spec; ValueError naming the spec when it is not one of DEVICE_HELP."""
    kind, _, rest = spec.partition(":")
    if spec == "host":
        return HostDevice()
    if spec == "qemu":
        return QemuDevice(count_insns=count_insns)
    if kind == "adb":
        if _ and not rest:
            raise ValueError(f"--device {spec!r}: adb:SERIAL needs a serial (see `adb devices`), or just adb")
        return AdbDevice(rest or None, **({"directory": directory} if directory else {}))
    if kind == "ssh":
        host, _, port = rest.partition(":")
        if not host or host.startswith("-") or (port and not port.isdigit()):
            raise ValueError(f"--device {spec!r}: expected ssh:[USER@]HOST[:PORT]")
        return SshDevice(host, int(port) if port else None, **({"directory": directory} if directory else {}))
    raise ValueError(f"--device {spec!r}: expected {DEVICE_HELP}")
