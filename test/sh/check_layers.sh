#!/usr/bin/env bash
# test/sh/check_layers.sh -- the source files call each other in layers: no
# cycle of calls between the files of src/pipeline (whose layers incetl.h
# lists in order) nor of src/cow (doc/incetl_cow.md, Source map), and no
# cycle of includes between the project's headers.
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

# Includes of the project's own headers (src/include) form no cycle either.
check_includes() {
    local edges f inc cycle
    edges=$(mktemp)
    for f in src/include/*.h src/include/*/*.h src/*.c src/*/*.c; do
        [ -e "$f" ] || continue
        grep -o '^#include "[^"]*"' "$f" | sed 's/^#include "\(.*\)"/\1/' | while read -r inc; do
            if [ -e "src/include/$inc" ]; then echo "$f src/include/$inc"; fi
        done
    done | sort -u >"$edges"
    cycle=$(tsort "$edges" 2>&1 >/dev/null | grep -v 'input contains a loop' || true)
    if [ -n "$cycle" ]; then
        echo "FAIL: a cycle of includes between the project's headers:"
        echo "$cycle" | sed 's/^tsort: /  /'
        status=1
    else
        echo "ok  no cycle of includes between the project's headers ($(wc -l <"$edges") includes)"
    fi
    rm -f "$edges"
}
check_includes

trees=("$@")
[ ${#trees[@]} -gt 0 ] || trees=(src/pipeline src/cow)
for t in "${trees[@]}"; do
    check_tree "$t"
done
exit $status
