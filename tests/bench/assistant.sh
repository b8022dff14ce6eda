#!/bin/bash
# The procedure assistant on its evaluation set (tests/data/assistant_eval.tsv): top-1 and
# top-3 accuracy, and how often it rightly says "I don't know".  Measures, never asserts.
set -eu
build=${1:-build}
top=$(cd "$(dirname "$0")/../.." && pwd)
"$build/motcuactl" ask --catalogue "$top/data/procedures.json" --eval "$top/tests/data/assistant_eval.tsv" 2>/dev/null
