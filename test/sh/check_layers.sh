#!/usr/bin/env bash
# test/sh/check_layers.sh -- the source files call each other in layers: no
# cycle of calls between the files of a layered tree (src/pipeline, whose
# layers incetl.h lists in order).
#
# The graph comes from the built objects, so it sees every call the
# compiler kept (static functions are private, and a symbol counts once
# per file): for each object, the global functions and variables it
# defines (nm: T, D, B, R) and those it uses (U); file A -> file B when A
# uses something B defines.  tsort reports any cycle; the script prints it
# with the names that tie each arrow, and fails.
#
# Run from a built tree (make test runs it in its build directory):
#     make && bash test/sh/check_layers.sh [TREE...]
# src/cow is not layered yet (its files still call each other in a circle:
# bash test/sh/check_layers.sh src/cow shows it); it joins the default list
# when it is.
set -euo pipefail
export LC_ALL=C

cd "${INCETL_SRC:-$(dirname "${BASH_SOURCE[0]}")/../..}"
status=0

check_tree() {
    local dir=$1 o defs uses edges
    defs=$(mktemp) uses=$(mktemp) edges=$(mktemp)
    shopt -s nullglob
    local objs=("$dir"/*.o)
    if [ ${#objs[@]} -eq 0 ]; then
        echo "FAIL: no objects in $dir: build first (make)" >&2
        exit 1
    fi
    for o in "${objs[@]}"; do
        nm "$o" | awk -v f="${o%.o}.c" '$(NF-1) ~ /^[TDBR]$/ {print $NF, f}' >>"$defs"
        nm "$o" | awk -v f="${o%.o}.c" '$1 == "U" {print $2, f}' >>"$uses"
    done
    # user file, defining file, symbol
    join <(sort "$uses") <(sort "$defs") |
        awk '$2 != $3 {print $2, $3, $1}' | sort -u >"$edges"
    local cycle
    cycle=$(awk '{print $1, $2}' "$edges" | sort -u | tsort 2>&1 >/dev/null | grep -v 'input contains a loop' || true)
    if [ -n "$cycle" ]; then
        echo "FAIL: a cycle of calls between the files of $dir:"
        local files
        files=$(echo "$cycle" | sed 's/^tsort: //')
        while read -r a b sym; do
            if echo "$files" | grep -qx "$a" && echo "$files" | grep -qx "$b"; then
                echo "  $a -> $b: $sym"
            fi
        done <"$edges"
        status=1
    else
        echo "ok  no cycle of calls between the files of $dir ($(awk '{print $1, $2}' "$edges" | sort -u | wc -l) arrows)"
    fi
    rm -f "$defs" "$uses" "$edges"
}

trees=("$@")
[ ${#trees[@]} -gt 0 ] || trees=(src/pipeline src/cow)
for t in "${trees[@]}"; do
    check_tree "$t"
done
exit $status
