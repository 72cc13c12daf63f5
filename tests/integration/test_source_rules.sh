#!/usr/bin/env bash
# The small source checks CONVENTIONS.md prefers to a long document: banned functions,
# exit() and printing outside the CLI, SPDX headers, no GEOS non-_r API.
set -e
. "$(dirname "$0")/lib.sh"
cd "$KD_SOURCE_DIR"
files=$(git ls-files 'src/*.c' 'src/*.h' 'include/*.h' 2>/dev/null || find src include -name '*.[ch]')
# banned everywhere (thread-unsafe or unbounded): strtok gmtime localtime strerror rand
# sprintf strcpy atoi, and setlocale
hits=$(grep -nE '\b(strtok|gmtime|localtime|strerror|rand|sprintf|strcpy|atoi|setlocale)\s*\(' $files | grep -vE '^\S+:[0-9]+:\s*(/\*|\*)' || true)
expect_eq "banned functions" "" "$hits"
# library code never exits or prints to stdout/stderr: only src/cli does
lib=$(printf '%s\n' $files | grep -v '^src/cli/')
hits=$(grep -nE '\b(exit|abort|_exit)\s*\(|\b(printf|puts)\s*\(|fprintf\s*\(\s*std(out|err)' $lib | grep -vE '^\S+:[0-9]+:\s*(/\*|\*)' || true)
expect_eq "exit or printing outside src/cli" "" "$hits"
# every file says its licence
missing=$(for f in $files; do head -1 "$f" | grep -q 'SPDX-License-Identifier' || echo "$f"; done)
expect_eq "files without an SPDX line" "" "$missing"
# GEOS only through its reentrant API
hits=$(grep -nE '\bGEOS[A-Za-z_]+\s*\(' $files | grep -vE 'GEOS[A-Za-z_]*_r\s*\(' || true)
expect_eq "GEOS calls without _r" "" "$hits"
done_testing
