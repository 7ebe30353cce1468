"""Where a .sbn runs: `host`, `qemu` (emulated aarch64, instruction counts), `node` (the WebAssembly build in node),
`adb[:SERIAL]` (Android), `ssh:[user@]host[:port]` (Raspberry Pi, any aarch64 Linux). `get_device(spec)` makes one
from its --device spec; `run_model(path, inputs, device)` runs numpy arrays on one from Python:

    from sparsebyte.devices import run_model
    outputs, report = run_model("model.sbn", x, "qemu")  # {output name: array}, the runner's JSON report
"""

from __future__ import annotations

import os
import tempfile
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import numpy as np

from .adb import AdbDevice
from .base import Device, DeviceError, DeviceRun, RunOptions, ToolMissing
from .host import HostDevice
from .local import LocalDevice, NodeDevice
from .qemu import QemuDevice
from .remote import RemoteDevice
from .ssh import SshDevice

__all__ = ["AdbDevice", "Device", "DeviceError", "DeviceRun", "HostDevice", "LocalDevice", "NodeDevice",
           "QemuDevice", "RemoteDevice", "RunOptions", "SshDevice", "ToolMissing", "get_device", "run_model",
           "write_inputs", "DEVICE_HELP"]

DEVICE_HELP = "host | qemu | node | adb[:SERIAL] | ssh:[USER@]HOST[:PORT]"


def get_device(spec: str, directory: str | None = None, count_insns: bool = True) -> Device:
    """A device from its spec; ValueError naming the spec when it is not one of DEVICE_HELP."""
    kind, _, rest = spec.partition(":")
    if spec == "host":
        return HostDevice()
    if spec == "qemu":
        return QemuDevice(count_insns=count_insns)
    if spec == "node":
        return NodeDevice()
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


def write_inputs(model: Any, inputs: np.ndarray | Mapping[str, np.ndarray] | None,
                 directory: Path) -> list[Path]:
    """`inputs` (one array for a one-input model, {input name: array}, or None: no files) as float32 .npy files in
    the input order of `model` (a sparsebyte.Model) in `directory`; ValueError naming what does not fit."""
    names = [t.name for t in model.inputs]
    if inputs is None:
        return []
    if isinstance(inputs, Mapping):
        if sorted(inputs) != sorted(names):
            raise ValueError(f"inputs: expected names {names}, got {sorted(inputs)}")
        values = [inputs[n] for n in names]
    else:
        if len(names) != 1:
            raise ValueError(f"the model has inputs {names}: pass a dict")
        values = [inputs]
    files = []
    for i, (info, value) in enumerate(zip(model.inputs, values, strict=True)):
        arr = np.ascontiguousarray(value, dtype=np.float32)
        if arr.shape != tuple(info.shape):
            raise ValueError(f"input {info.name!r}: expected shape {tuple(info.shape)}, got {arr.shape}")
        files.append(directory / f"input{i}.npy")
        np.save(files[-1], arr)
    return files


def run_model(model: str | os.PathLike, inputs: np.ndarray | Mapping[str, np.ndarray] | None = None,
              device: str | Device = "host", options: RunOptions | None = None) -> tuple[dict[str, np.ndarray],
                                                                                      dict[str, Any]]:
    """Run `model` on a device; returns ({output name: array}, the runner's JSON report).

    inputs: one array (single-input models), {input name: array}, or None for the runner's seeded random inputs;
    shapes are checked on the host first (ValueError). device: a spec of DEVICE_HELP (made without instruction
    counting: a run, not a profile) or a Device (QemuDevice() counts). options: default one run, no warm-up.
    DeviceError (ToolMissing for an absent program) when the device cannot run it."""
    from ..runtime import Model

    host = Model(model)
    target = get_device(device, count_insns=False) if isinstance(device, str) else device
    with tempfile.TemporaryDirectory(prefix="sparsebyte-inputs-") as tmp:
        files = write_inputs(host, inputs, Path(tmp))
        result = target.run(Path(model), files, len(host.outputs), options or RunOptions(warmup=0, repeat=1))
    outputs = {t.name: a.reshape(t.shape) for t, a in zip(host.outputs, result.outputs, strict=True)}
    return outputs, result.report
