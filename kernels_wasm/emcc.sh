#!/bin/sh
# emcc with the environment Debian's emscripten needs here: its tools load node modules (acorn) from Debian's
# node path, which the machine's own node does not search by default.
export NODE_PATH="${NODE_PATH:-/usr/share/nodejs}"
exec emcc "$@"
