"""TVM kernel generation (docs/tvm.md): layer-specialised kernels compiled by TVM for aarch64 (NEON) and wasm32
(SIMD128), linked into a model-specific engine runner and picked per node through the engine's sb_tvm_lookup hook.

`import tvm` happens only inside the functions that compile, so the rest of the package works without TVM."""

from .layers import Layer, read_layers

__all__ = ["Layer", "read_layers"]
