"""engine/tvm/sb_tvm.h mirrors the tvm_ffi packed-call ABI without TVM's headers: check it against the real ones."""

from __future__ import annotations

import subprocess
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]

CHECK = r"""
#include <stddef.h>
#include <tvm/ffi/c_api.h>
#include "sb_tvm.h"
#define SAME(a, b, f) _Static_assert(offsetof(a, f) == offsetof(b, f), #f)
_Static_assert(sizeof(sb_dl_tensor) == sizeof(DLTensor), "DLTensor size");
SAME(sb_dl_tensor, DLTensor, data); SAME(sb_dl_tensor, DLTensor, device); SAME(sb_dl_tensor, DLTensor, ndim);
SAME(sb_dl_tensor, DLTensor, dtype); SAME(sb_dl_tensor, DLTensor, shape); SAME(sb_dl_tensor, DLTensor, strides);
SAME(sb_dl_tensor, DLTensor, byte_offset);
_Static_assert(sizeof(sb_ffi_any) == sizeof(TVMFFIAny), "TVMFFIAny size");
_Static_assert(offsetof(sb_ffi_any, v) == offsetof(TVMFFIAny, v_int64), "TVMFFIAny payload");
_Static_assert(kTVMFFIDLTensorPtr == 7, "DLTensor type index");
_Static_assert(kDLCPU == 1 && kDLFloat == 2 && kDLInt == 0, "dlpack codes");
int main(void) { return 0; }
"""


def test_structs_match_tvm_ffi_headers(tmp_path: Path) -> None:
    import tvm_ffi

    root = Path(tvm_ffi.__file__).parent
    src = tmp_path / "abi.c"
    src.write_text(CHECK)
    for cc in ("gcc", "aarch64-linux-gnu-gcc"):
        proc = subprocess.run([cc, "-std=c11", "-Wall", "-Werror", "-c", str(src), "-o", str(tmp_path / "abi.o"),
                               f"-I{root / 'include'}", f"-I{root / '3rdparty/dlpack/include'}",
                               f"-I{REPO / 'engine/tvm'}", f"-I{REPO / 'engine/kernels'}"],
                              capture_output=True, text=True)
        assert proc.returncode == 0, f"{cc}: {proc.stderr}"
