"""cffi API-mode build of the engine (placeholder, replaced by the bindings work)."""
from cffi import FFI

ffibuilder = FFI()
ffibuilder.cdef("int sb_dummy(void);")
ffibuilder.set_source("sparsebyte._engine", "int sb_dummy(void) { return 42; }")
