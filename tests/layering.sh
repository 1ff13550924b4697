#!/bin/sh
# layering.sh: the architecture check (build-aux/layering.py) run on src/,
# one TAP line per rule family.  HACKING.md, "The layering check".
: "${top_srcdir:=$(cd "$(dirname "$0")/.." && pwd)}"
: "${PYTHON3:=python3}"
exec "$PYTHON3" "$top_srcdir/build-aux/layering.py" --tap "$top_srcdir/src"
