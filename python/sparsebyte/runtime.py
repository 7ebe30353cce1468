"""Python face of the C engine: load a .sbn, inspect its inputs/outputs, run it, profile it.

Threads: a Model may be shared by threads. run() is one engine call (sb_model_infer: inputs, run, outputs under the
model's lock in the C engine), so concurrent runs of one model are serialised and each gets its own result; the GIL
is released during engine calls, so separate models run in parallel. close() waits for calls in progress; every use
after it raises ModelClosedError."""

from __future__ import annotations

import json
import os
import threading
from collections.abc import Iterator, Mapping
from contextlib import contextmanager, suppress
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


class ModelClosedError(SparsebyteError):
    """The model was used after close() (or after its `with` block)."""


MAX_THREADS: int = lib.SB_MAX_THREADS


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
        self._ptr: Any = ffi.gc(out[0], lib.sb_model_free)
        # Guards the handle: calls in progress are counted so close() can wait for them and later calls can refuse.
        self._state = threading.Condition()
        self._busy = 0
        self._closed = False
        self._profile_lock = threading.RLock()  # profile() toggles a model-wide setting around its run
        ptr = self._ptr
        self.inputs = [self._io_info(ptr, lib.sb_model_input_info, i) for i in range(lib.sb_model_num_inputs(ptr))]
        self.outputs = [self._io_info(ptr, lib.sb_model_output_info, i) for i in range(lib.sb_model_num_outputs(ptr))]
        self._threads = 1
        self._keep = False
        self._profiling = False
        self._ran = False
        self.set_threads(threads)

    @contextmanager
    def _handle(self) -> Iterator[Any]:
        """The engine handle for one use; ModelClosedError once close() has begun."""
        with self._state:
            if self._closed:
                raise ModelClosedError(f"{self.source}: the model is closed (close() or the end of its with block "
                                       "freed it); load it again to use it", "closed")
            self._busy += 1
        try:
            yield self._ptr
        finally:
            with self._state:
                self._busy -= 1
                if self._busy == 0:
                    self._state.notify_all()

    @property
    def closed(self) -> bool:
        return self._closed

    # ---- info ----
    @staticmethod
    def _io_info(ptr: Any, fn: Any, index: int) -> TensorInfo:
        raw = ffi.new("sb_tensor_info*")
        _check(fn(ptr, index, raw))
        return _info(raw[0])

    @property
    def backend(self) -> str:
        return backend()

    @property
    def arena_bytes(self) -> int:
        with self._handle() as ptr:
            return int(lib.sb_model_arena_bytes(ptr))

    @property
    def weight_bytes(self) -> int:
        with self._handle() as ptr:
            return int(lib.sb_model_weight_bytes(ptr))

    @property
    def num_nodes(self) -> int:
        with self._handle() as ptr:
            return int(lib.sb_model_num_nodes(ptr))

    @property
    def format_version(self) -> tuple[int, int]:
        """(major, minor) .sbn format version the file declares."""
        major, minor = ffi.new("int*"), ffi.new("int*")
        with self._handle() as ptr:
            _check(lib.sb_model_format_version(ptr, major, minor), "format_version")
        return int(major[0]), int(minor[0])

    @property
    def metadata_bytes(self) -> bytes | None:
        """The METADATA section as stored (UTF-8 JSON), None when the file has none."""
        size = ffi.new("size_t*")
        with self._handle() as ptr:
            data = lib.sb_model_metadata(ptr, size)
            return None if data == ffi.NULL else bytes(ffi.buffer(data, size[0]))

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

    @staticmethod
    def _node_row(ptr: Any, index: int, raw: Any) -> dict[str, Any]:
        _check(lib.sb_model_node_profile(ptr, index, raw), f"node {index}")
        return {"name": _string(raw.name), "op": _string(raw.op), "kernel": _string(raw.kernel),
                "kernel_family": _string(raw.kernel_family), "time_ms": float(raw.time_ms), "macs": int(raw.macs),
                "dense_macs": int(raw.dense_macs)}

    @property
    def nodes(self) -> list[NodeInfo]:
        """Every node in execution order (the file's order), as the engine prepared it; no run needed."""
        raw = ffi.new("sb_node_profile*")
        with self._handle() as ptr:
            rows = [self._node_row(ptr, i, raw) for i in range(lib.sb_model_num_nodes(ptr))]
        return [NodeInfo(r["name"], r["op"], r["kernel"], r["kernel_family"], r["macs"], r["dense_macs"])
                for r in rows]

    def tensor_names(self) -> list[str]:
        """Every tensor of the graph (activations and constants), in the file's order."""
        raw = ffi.new("sb_tensor_info*")
        names = []
        with self._handle() as ptr:
            for i in range(lib.sb_model_num_tensors(ptr)):
                _check(lib.sb_model_tensor_info(ptr, i, raw))
                names.append(_string(raw.name))
        return names

    def __repr__(self) -> str:
        if self._closed:
            return f"<sparsebyte.Model {self.source}: closed>"
        ins = ", ".join(f"{t.name}{list(t.shape)}" for t in self.inputs)
        outs = ", ".join(f"{t.name}{list(t.shape)}" for t in self.outputs)
        return f"<sparsebyte.Model {self.source}: ({ins}) -> ({outs}), {self.num_nodes} nodes, {self.backend}>"

    # ---- settings ----
    @property
    def threads(self) -> int:
        return self._threads

    def set_threads(self, threads: int) -> None:
        """1..MAX_THREADS (256) threads per run; results do not depend on it."""
        if (not isinstance(threads, (int, np.integer)) or isinstance(threads, bool)
                or not 1 <= int(threads) <= MAX_THREADS):
            raise ArgumentError(f"threads must be an integer in 1..{MAX_THREADS}, got {threads!r}", "SB_ERR_ARGUMENT")
        with self._handle() as ptr:
            _check(lib.sb_model_set_threads(ptr, int(threads)), "set_threads")
        self._threads = int(threads)

    @property
    def keep_intermediates(self) -> bool:
        """Keep every intermediate tensor after run (no arena reuse) so tensor(name) can read it."""
        return self._keep

    @keep_intermediates.setter
    def keep_intermediates(self, enabled: bool) -> None:
        with self._handle() as ptr:
            _check(lib.sb_model_set_keep_intermediates(ptr, int(bool(enabled))), "keep_intermediates")
        self._keep = bool(enabled)

    @property
    def profiling(self) -> bool:
        return self._profiling

    @profiling.setter
    def profiling(self, enabled: bool) -> None:
        with self._profile_lock, self._handle() as ptr:
            _check(lib.sb_model_set_profiling(ptr, int(bool(enabled))), "profiling")
            self._profiling = bool(enabled)

    # ---- running ----
    def _as_input(self, info: TensorInfo, value: Any) -> np.ndarray:
        """float32 only, like onnxruntime (which refuses a double for a float input): a silent cast would hide a
        preprocessing mistake (float64 pixels, uint8 images not scaled)."""
        arr = np.asarray(value)
        if arr.dtype != np.float32:
            raise ArgumentError(f"input {info.name!r}: expected a float32 array (tensor(float)), got dtype "
                                f"{arr.dtype}; convert it with .astype(np.float32)", "SB_ERR_ARGUMENT")
        if tuple(arr.shape) != info.shape:
            raise ArgumentError(f"input {info.name!r}: expected shape {info.shape}, got {tuple(arr.shape)}",
                                "SB_ERR_ARGUMENT")
        return np.ascontiguousarray(arr)

    def _inputs(self, inputs: np.ndarray | Mapping[str, Any] | Any) -> list[np.ndarray]:
        """Every input checked and converted, in the model's order, before any reaches the engine."""
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
        return [self._as_input(info, value) for info, value in zip(self.inputs, values, strict=True)]

    def _read(self, ptr: Any, fn: Any, index: int, info: TensorInfo) -> np.ndarray:
        out = np.empty(info.shape, np.float32)
        _check(fn(ptr, index, ffi.from_buffer("float[]", out, require_writable=True), out.size),
               f"tensor {info.name!r}")
        return out

    def run(self, inputs: np.ndarray | Mapping[str, Any] | None = None) -> np.ndarray | dict[str, np.ndarray]:
        """Run on `inputs` (a float32 array for a one-input model, else {name: array}); None reuses the last inputs.
        Every input is checked (names, dtype float32, shape) before any is set, so a bad one changes nothing.

        Returns the output array, or {name: array} when the model has several outputs."""
        arrays = None if inputs is None else self._inputs(inputs)
        outs = [np.empty(t.shape, np.float32) for t in self.outputs]
        in_bufs = [ffi.from_buffer("float[]", a) for a in arrays] if arrays is not None else []
        out_bufs = [ffi.from_buffer("float[]", o, require_writable=True) for o in outs]
        in_ptrs = ffi.new("float*[]", in_bufs) if arrays is not None else ffi.NULL
        in_counts = ffi.new("size_t[]", [a.size for a in arrays]) if arrays is not None else ffi.NULL
        out_ptrs = ffi.new("float*[]", out_bufs)
        out_counts = ffi.new("size_t[]", [o.size for o in outs])
        with self._handle() as ptr:
            _check(lib.sb_model_infer(ptr, in_ptrs, in_counts, out_ptrs, out_counts), f"running {self.source}")
        self._ran = True
        if len(outs) == 1:
            return outs[0]
        return {t.name: o for t, o in zip(self.outputs, outs, strict=True)}

    def profile(self, inputs: np.ndarray | Mapping[str, Any] | None = None) -> list[dict[str, Any]]:
        """Run once with profiling on and return one dict per node (name, op, kernel, kernel_family, time_ms, macs,
        dense_macs).

        Without inputs the last inputs are reused (zeros if none were ever set)."""
        if inputs is None and not self._ran:
            inputs = {t.name: np.zeros(t.shape, np.float32) for t in self.inputs}
        with self._profile_lock:
            was_on = self._profiling
            self.profiling = True
            try:
                self.run(inputs)
                raw = ffi.new("sb_node_profile*")
                with self._handle() as ptr:
                    return [self._node_row(ptr, i, raw) for i in range(lib.sb_model_num_nodes(ptr))]
            finally:
                if not was_on:
                    with suppress(ModelClosedError):  # closed by another thread meanwhile: nothing to restore
                        self.profiling = False

    def tensor(self, name: str) -> np.ndarray:
        """Value of any tensor after run (intermediates need keep_intermediates = True before the run). With threads
        sharing the model this is the value of the latest run of any of them."""
        raw = ffi.new("sb_tensor_info*")
        with self._handle() as ptr:
            index = lib.sb_model_find_tensor(ptr, name.encode())
            if index < 0:
                raise ArgumentError(f"{self.source}: no tensor named {name!r}", "SB_ERR_ARGUMENT")
            _check(lib.sb_model_tensor_info(ptr, index, raw), f"tensor {name!r}")
            return self._read(ptr, lib.sb_model_get_tensor, index, _info(raw[0]))

    def close(self) -> None:
        """Free the engine model now (otherwise freed when garbage-collected). Waits for calls in progress on other
        threads; later calls raise ModelClosedError. Closing twice is fine."""
        state = getattr(self, "_state", None)
        if state is None:  # __init__ failed before the handle existed
            return
        with state:
            if self._closed:
                return
            self._closed = True
            state.wait_for(lambda: self._busy == 0)
            ffi.release(self._ptr)
            self._ptr = None

    def __enter__(self) -> Model:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
