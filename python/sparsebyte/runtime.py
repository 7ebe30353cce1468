"""Python face of the C engine: load a .sbn, inspect its inputs/outputs, run it, profile it."""

from __future__ import annotations

import json
import os
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import numpy as np

from ._engine import ffi, lib


class SparsebyteError(Exception):
    """An engine call failed. `status` is the engine's status name, `message` its explanation."""

    def __init__(self, message: str, status: str = "") -> None:
        super().__init__(message)
        self.message = message
        self.status = status


class FileError(SparsebyteError):
    """The model file could not be opened or read."""


class FormatError(SparsebyteError):
    """The bytes are not a valid .sbn file."""


class VersionError(FormatError):
    """The .sbn format version is not supported by this engine."""


class UnsupportedError(SparsebyteError):
    """A valid model that uses an operator or attribute this engine build cannot run."""


class NoMemoryError(SparsebyteError):
    """An allocation failed or a size cap was exceeded."""


class ArgumentError(SparsebyteError, ValueError):
    """A bad argument (input name, shape, dtype, thread count...)."""


_ERRORS: dict[int, type[SparsebyteError]] = {
    lib.SB_ERR_IO: FileError,
    lib.SB_ERR_FORMAT: FormatError,
    lib.SB_ERR_VERSION: VersionError,
    lib.SB_ERR_UNSUPPORTED: UnsupportedError,
    lib.SB_ERR_NOMEM: NoMemoryError,
    lib.SB_ERR_ARGUMENT: ArgumentError,
}


def _string(ptr: Any) -> str:
    return ffi.string(ptr).decode("utf-8", "replace") if ptr != ffi.NULL else ""


def _check(status: int, context: str = "") -> None:
    if status == lib.SB_OK:
        return
    message = _string(lib.sb_last_error()) or "no message"
    status_name = _string(lib.sb_status_name(status))
    if context and context not in message:
        message = f"{context}: {message}"
    raise _ERRORS.get(status, SparsebyteError)(message, status_name)


def backend() -> str:
    """Kernel set of this build: "scalar", "neon", "neon-simde", ..."""
    return _string(lib.sb_backend_name())


def engine_version() -> str:
    return _string(lib.sb_version_string())


@dataclass(frozen=True)
class TensorInfo:
    name: str
    shape: tuple[int, ...]

    @property
    def size(self) -> int:
        return int(np.prod(self.shape, dtype=np.int64))


def _info(raw: Any) -> TensorInfo:
    return TensorInfo(_string(raw.name), tuple(int(raw.dims[i]) for i in range(raw.rank)))


@dataclass(frozen=True)
class NodeInfo:
    """What the engine decided for one node at load: its op, the kernel dispatch chose (and that kernel's registry
    family, "" for built-in code such as "ref_concat"), and the multiply-accumulates it executes."""

    name: str
    op: str
    kernel: str
    kernel_family: str
    macs: int
    dense_macs: int


class Model:
    """A loaded .sbn model.

    >>> m = Model("mobilenet_v2.sbn", threads=2)
    >>> logits = m.run(np.zeros(m.inputs[0].shape, np.float32))
    """

    def __init__(self, path_or_bytes: str | os.PathLike | bytes | bytearray | memoryview, threads: int = 1) -> None:
        out = ffi.new("sb_model**")
        if isinstance(path_or_bytes, (bytes, bytearray, memoryview)):
            data = bytes(path_or_bytes)
            self.source = f"<{len(data)} bytes>"
            _check(lib.sb_model_load_memory(ffi.from_buffer(data), len(data), out), "loading model from memory")
        else:
            path = os.fspath(path_or_bytes)
            self.source = path
            if not os.path.exists(path):
                raise FileError(f"{path}: no such file", "SB_ERR_IO")
            _check(lib.sb_model_load_file(path.encode(), out), path)
        self._ptr = ffi.gc(out[0], lib.sb_model_free)
        self.inputs = [self._io_info(lib.sb_model_input_info, i) for i in range(lib.sb_model_num_inputs(self._ptr))]
        self.outputs = [self._io_info(lib.sb_model_output_info, i) for i in range(lib.sb_model_num_outputs(self._ptr))]
        self._threads = 1
        self._keep = False
        self._profiling = False
        self._ran = False
        self.set_threads(threads)

    # ---- info ----
    def _io_info(self, fn: Any, index: int) -> TensorInfo:
        raw = ffi.new("sb_tensor_info*")
        _check(fn(self._ptr, index, raw))
        return _info(raw[0])

    @property
    def backend(self) -> str:
        return backend()

    @property
    def arena_bytes(self) -> int:
        return int(lib.sb_model_arena_bytes(self._ptr))

    @property
    def weight_bytes(self) -> int:
        return int(lib.sb_model_weight_bytes(self._ptr))

    @property
    def num_nodes(self) -> int:
        return int(lib.sb_model_num_nodes(self._ptr))

    @property
    def format_version(self) -> tuple[int, int]:
        """(major, minor) .sbn format version the file declares."""
        major, minor = ffi.new("int*"), ffi.new("int*")
        _check(lib.sb_model_format_version(self._ptr, major, minor), "format_version")
        return int(major[0]), int(minor[0])

    @property
    def metadata_bytes(self) -> bytes | None:
        """The METADATA section as stored (UTF-8 JSON), None when the file has none."""
        size = ffi.new("size_t*")
        ptr = lib.sb_model_metadata(self._ptr, size)
        return None if ptr == ffi.NULL else bytes(ffi.buffer(ptr, size[0]))

    @property
    def metadata(self) -> dict[str, Any]:
        """The METADATA JSON object written by the converter (producer, source, per-layer notes); {} when absent.
        FormatError when it is not a JSON object (the engine checks only its CRC)."""
        raw = self.metadata_bytes
        if raw is None:
            return {}
        try:
            value = json.loads(raw.decode("utf-8"))
        except (UnicodeDecodeError, json.JSONDecodeError) as e:
            raise FormatError(f"{self.source}: METADATA is not JSON: {e}", "SB_ERR_FORMAT") from e
        if not isinstance(value, dict):
            raise FormatError(f"{self.source}: METADATA is not a JSON object", "SB_ERR_FORMAT")
        return value

    def _node_row(self, index: int, raw: Any) -> dict[str, Any]:
        _check(lib.sb_model_node_profile(self._ptr, index, raw), f"node {index}")
        return {"name": _string(raw.name), "op": _string(raw.op), "kernel": _string(raw.kernel),
                "kernel_family": _string(raw.kernel_family), "time_ms": float(raw.time_ms), "macs": int(raw.macs),
                "dense_macs": int(raw.dense_macs)}

    @property
    def nodes(self) -> list[NodeInfo]:
        """Every node in execution order (the file's order), as the engine prepared it; no run needed."""
        raw = ffi.new("sb_node_profile*")
        rows = [self._node_row(i, raw) for i in range(self.num_nodes)]
        return [NodeInfo(r["name"], r["op"], r["kernel"], r["kernel_family"], r["macs"], r["dense_macs"])
                for r in rows]

    def tensor_names(self) -> list[str]:
        """Every tensor of the graph (activations and constants), in the file's order."""
        raw = ffi.new("sb_tensor_info*")
        names = []
        for i in range(lib.sb_model_num_tensors(self._ptr)):
            _check(lib.sb_model_tensor_info(self._ptr, i, raw))
            names.append(_string(raw.name))
        return names

    def __repr__(self) -> str:
        ins = ", ".join(f"{t.name}{list(t.shape)}" for t in self.inputs)
        outs = ", ".join(f"{t.name}{list(t.shape)}" for t in self.outputs)
        return f"<sparsebyte.Model {self.source}: ({ins}) -> ({outs}), {self.num_nodes} nodes, {self.backend}>"

    # ---- settings ----
    @property
    def threads(self) -> int:
        return self._threads

    def set_threads(self, threads: int) -> None:
        if not isinstance(threads, (int, np.integer)) or isinstance(threads, bool) or threads < 1:
            raise ArgumentError(f"threads must be a positive integer, got {threads!r}", "SB_ERR_ARGUMENT")
        _check(lib.sb_model_set_threads(self._ptr, int(threads)), "set_threads")
        self._threads = int(threads)

    @property
    def keep_intermediates(self) -> bool:
        """Keep every intermediate tensor after run (no arena reuse) so tensor(name) can read it."""
        return self._keep

    @keep_intermediates.setter
    def keep_intermediates(self, enabled: bool) -> None:
        _check(lib.sb_model_set_keep_intermediates(self._ptr, int(bool(enabled))), "keep_intermediates")
        self._keep = bool(enabled)

    @property
    def profiling(self) -> bool:
        return self._profiling

    @profiling.setter
    def profiling(self, enabled: bool) -> None:
        _check(lib.sb_model_set_profiling(self._ptr, int(bool(enabled))), "profiling")
        self._profiling = bool(enabled)

    # ---- running ----
    def _as_input(self, info: TensorInfo, value: Any) -> np.ndarray:
        arr = np.asarray(value)
        if arr.dtype.kind not in "fiu":
            raise ArgumentError(f"input {info.name!r}: expected a float32 array, got dtype {arr.dtype}",
                                "SB_ERR_ARGUMENT")
        if tuple(arr.shape) != info.shape:
            raise ArgumentError(f"input {info.name!r}: expected shape {info.shape}, got {tuple(arr.shape)}",
                                "SB_ERR_ARGUMENT")
        return np.ascontiguousarray(arr, dtype=np.float32)

    def _set_inputs(self, inputs: np.ndarray | Mapping[str, Any] | Any) -> None:
        if isinstance(inputs, Mapping):
            names = [t.name for t in self.inputs]
            unknown = sorted(set(inputs) - set(names))
            missing = [n for n in names if n not in inputs]
            if unknown or missing:
                raise ArgumentError(f"inputs: expected names {names}; unknown {unknown}, missing {missing}",
                                    "SB_ERR_ARGUMENT")
            values = [inputs[n] for n in names]
        else:
            if len(self.inputs) != 1:
                raise ArgumentError(f"the model has {len(self.inputs)} inputs {[t.name for t in self.inputs]}: "
                                    "pass a dict {name: array}", "SB_ERR_ARGUMENT")
            values = [inputs]
        for index, (info, value) in enumerate(zip(self.inputs, values, strict=True)):
            arr = self._as_input(info, value)
            _check(lib.sb_model_set_input(self._ptr, index, ffi.from_buffer("float[]", arr), arr.size),
                   f"input {info.name!r}")

    def _read(self, fn: Any, index: int, info: TensorInfo) -> np.ndarray:
        out = np.empty(info.shape, np.float32)
        _check(fn(self._ptr, index, ffi.from_buffer("float[]", out, require_writable=True), out.size),
               f"tensor {info.name!r}")
        return out

    def run(self, inputs: np.ndarray | Mapping[str, Any] | None = None) -> np.ndarray | dict[str, np.ndarray]:
        """Run on `inputs` (an array for a one-input model, else {name: array}); None reuses the last inputs.

        Returns the output array, or {name: array} when the model has several outputs."""
        if inputs is not None:
            self._set_inputs(inputs)
        _check(lib.sb_model_run(self._ptr), f"running {self.source}")
        self._ran = True
        outs = {t.name: self._read(lib.sb_model_get_output, i, t) for i, t in enumerate(self.outputs)}
        return next(iter(outs.values())) if len(outs) == 1 else outs

    def profile(self, inputs: np.ndarray | Mapping[str, Any] | None = None) -> list[dict[str, Any]]:
        """Run once with profiling on and return one dict per node (name, op, kernel, kernel_family, time_ms, macs,
        dense_macs).

        Without inputs the last inputs are reused (zeros if none were ever set)."""
        if inputs is None and not self._ran:
            inputs = {t.name: np.zeros(t.shape, np.float32) for t in self.inputs}
        was_on = self._profiling
        self.profiling = True
        try:
            self.run(inputs)
            raw = ffi.new("sb_node_profile*")
            return [self._node_row(i, raw) for i in range(self.num_nodes)]
        finally:
            if not was_on:
                self.profiling = False

    def tensor(self, name: str) -> np.ndarray:
        """Value of any tensor after run (intermediates need keep_intermediates = True before the run)."""
        index = lib.sb_model_find_tensor(self._ptr, name.encode())
        if index < 0:
            raise ArgumentError(f"{self.source}: no tensor named {name!r}", "SB_ERR_ARGUMENT")
        raw = ffi.new("sb_tensor_info*")
        _check(lib.sb_model_tensor_info(self._ptr, index, raw), f"tensor {name!r}")
        return self._read(lib.sb_model_get_tensor, index, _info(raw[0]))

    def close(self) -> None:
        """Free the engine model now (otherwise freed when garbage-collected)."""
        if getattr(self, "_ptr", None) is not None:
            ffi.release(self._ptr)
            self._ptr = None

    def __enter__(self) -> Model:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
