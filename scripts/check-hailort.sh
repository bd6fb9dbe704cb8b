#!/bin/sh
# check-hailort.sh - compiles the HailoRT backend against a HailoRT tree's
# headers, without the library or a device:
#
#   scripts/check-hailort.sh DIR        (make check-hailort HAILORT_INCLUDE=DIR)
#
# DIR is the directory holding hailo/hailort.h: libhailort/include of a
# hailo-ai/hailort checkout, or /usr/include of an installed HailoRT.  Every
# backend source is compiled with HDM_HAVE_HAILORT (C as gnu11, the GenAI
# binding as C++17, -Wall -Wextra -Werror) into a temporary directory, then
# the objects are checked against each other: every function of
# src/backends/hailort-rt.h must come out of hailort-capi.c or
# hailort-genai.cpp with C linkage.  Any HailoRT 5.x is accepted (the GenAI
# API grew between 5.0 and 5.2; what a release lacks, the backend answers
# "unsupported" at run time): the script says which version it compiled
# against and which GenAI features those headers have.  Prints PASS or
# FAIL.  Exit: 0 pass, 1 fail (also for headers that are not 5.x), 2 usage,
# 77 skipped (--skip-if-unset with no DIR: how ctest runs it on machines
# without HailoRT headers).  When nothing beside the headers records the
# version (an include directory on its own), the release is judged by what
# its API declares, and the script says so.
set -eu

usage() {
    cat <<'USAGE'
usage: scripts/check-hailort.sh [--skip-if-unset] DIR

Compiles the HailoRT backend (src/backends/backend-hailort.c, hailort-*.c,
hailort-genai.cpp) against the HailoRT headers in DIR (the directory that
contains hailo/hailort.h) and reports the HailoRT version found there.

  make check-hailort HAILORT_INCLUDE=/path/to/hailort/hailort/libhailort/include

Environment: CC (default cc), CXX (default c++).
USAGE
}

skip_if_unset=0
if [ "${1:-}" = "--skip-if-unset" ]; then
    skip_if_unset=1
    shift
fi
case "${1:-}" in
-h | --help)
    usage
    exit 0
    ;;
esac
dir="${1:-}"
if [ -z "$dir" ]; then
    if [ "$skip_if_unset" = 1 ]; then
        echo "check-hailort: SKIPPED (no HailoRT include directory configured; pass -DHAILORT_INCLUDE=DIR to cmake)"
        exit 77
    fi
    usage >&2
    exit 2
fi
if [ ! -f "$dir/hailo/hailort.h" ]; then
    echo "check-hailort: FAIL: $dir/hailo/hailort.h not found (DIR must hold hailo/hailort.h)" >&2
    exit 1
fi

root=$(cd "$(dirname "$0")/.." && pwd)
dir=$(cd "$dir" && pwd)
cc=${CC:-cc}
cxx=${CXX:-c++}
tmp=$(mktemp -d "${TMPDIR:-/tmp}/check-hailort.XXXXXX")
trap 'rm -rf "$tmp"' EXIT INT TERM

# ---- the version of the headers ---------------------------------------------
# The headers carry no version macro (HAILORT_MAJOR_VERSION and friends are
# compile definitions of HailoRT's own build), so look where a tree or an
# install records it.
version_from_cmake_set() { # file: set(HAILORT_MAJOR_VERSION 5) ...
    maj=$(sed -n 's/^ *set(HAILORT_MAJOR_VERSION *\([0-9][0-9]*\)).*/\1/p' "$1" | head -n 1)
    min=$(sed -n 's/^ *set(HAILORT_MINOR_VERSION *\([0-9][0-9]*\)).*/\1/p' "$1" | head -n 1)
    rev=$(sed -n 's/^ *set(HAILORT_REVISION_VERSION *\([0-9][0-9]*\)).*/\1/p' "$1" | head -n 1)
    [ -n "$maj" ] && [ -n "$min" ] && [ -n "$rev" ] && echo "$maj.$min.$rev"
}

find_version() {
    # 1. a header that defines it (some packagers generate one)
    maj=$(grep -rhs '#define HAILORT_MAJOR_VERSION' "$dir/hailo" | awk '{print $3}' | head -n 1)
    if [ -n "$maj" ]; then
        min=$(grep -rhs '#define HAILORT_MINOR_VERSION' "$dir/hailo" | awk '{print $3}' | head -n 1)
        rev=$(grep -rhs '#define HAILORT_REVISION_VERSION' "$dir/hailo" | awk '{print $3}' | head -n 1)
        echo "$maj.$min.$rev (hailo headers)"
        return
    fi
    # 2. a source tree: libhailort/CMakeLists.txt next to include/
    if [ -f "$dir/../CMakeLists.txt" ] && v=$(version_from_cmake_set "$dir/../CMakeLists.txt"); then
        echo "$v (libhailort/CMakeLists.txt)"
        return
    fi
    # 3. an install: HailoRTConfigVersion.cmake or the versioned library
    for f in "$dir"/../lib/cmake/HailoRT/HailoRTConfigVersion.cmake \
        "$dir"/../lib/*/cmake/HailoRT/HailoRTConfigVersion.cmake; do
        if [ -f "$f" ]; then
            v=$(sed -n 's/^ *set(PACKAGE_VERSION *"\([0-9.]*\)").*/\1/p' "$f" | head -n 1)
            [ -n "$v" ] && echo "$v ($(basename "$f"))" && return
        fi
    done
    for f in "$dir"/../lib/libhailort.so.* "$dir"/../lib/*/libhailort.so.*; do
        if [ -f "$f" ]; then
            echo "${f##*libhailort.so.} ($(basename "$f"))"
            return
        fi
    done
    # 4. a git checkout
    if v=$(git -C "$dir" describe --tags 2>/dev/null); then
        echo "$v (git describe)"
        return
    fi
    # 5. nothing records it (an include directory on its own): judge the
    #    release by what its API declares.
    llm="$dir/hailo/genai/llm/llm.hpp"
    if ! grep -qs 'genai' "$dir/hailo/hailort.hpp"; then
        echo "4.x or older (not recorded in $dir; judged by its API: no GenAI in hailort.hpp)"
    elif grep -qs 'tools_json_strings' "$llm"; then
        echo "5.2 or later (not recorded in $dir; judged by its API: LLM tools)"
    elif [ -f "$dir/hailo/genai/speech2text/speech2text.hpp" ]; then
        echo "5.1 (not recorded in $dir; judged by its API: Speech2Text, no LLM tools)"
    elif grep -qs 'prompt_json_strings' "$llm"; then
        echo "5.0.1 (not recorded in $dir; judged by its API: structured messages, no Speech2Text)"
    else
        echo "5.0.0 (not recorded in $dir; judged by its API: no structured messages)"
    fi
}

version=$(find_version)
n_status=$(grep -c 'HAILO_STATUS__X([0-9]' "$dir/hailo/hailort.h" || true)
last_status=$(grep 'HAILO_STATUS__X([0-9]' "$dir/hailo/hailort.h" | tail -n 1 |
    sed 's/.*HAILO_STATUS__X(\([0-9]*\), *\([A-Z0-9_]*\).*/\2 = \1/')
genai=""
for h in llm/llm.hpp vlm/vlm.hpp speech2text/speech2text.hpp; do
    [ -f "$dir/hailo/genai/$h" ] && genai="$genai ${h%%/*}"
done
echo "HailoRT headers: $dir"
echo "HailoRT version: $version"
echo "HailoRT API:     $n_status status codes (last $last_status); GenAI:${genai:- none}"
case "$version" in
[0-9]*)
    if [ "${version%%.*}" != 5 ]; then
        echo "check-hailort: FAIL: these are HailoRT ${version%% (*} headers; the backend needs HailoRT 5.x" >&2
        exit 1
    fi
    ;;
esac
if ! grep -q 'genai' "$dir/hailo/hailort.hpp" 2>/dev/null; then
    echo "check-hailort: FAIL: these are not HailoRT 5.x headers ($dir/hailo/hailort.hpp has no GenAI API, as in HailoRT 4.x); the backend needs HailoRT 5.x" >&2
    exit 1
fi

# ---- the GenAI features of these headers ------------------------------------------
# hailort-genai.cpp finds them at compile time (member detection); the same
# probes here say what a Pi with this HailoRT will and will not do.
feature() { # name snippet
    printf '#include <hailo/hailort.hpp>\nusing namespace hailort;\nusing namespace hailort::genai;\n%s\n' "$2" \
        >"$tmp/probe.cpp"
    if "$cxx" -std=c++17 -fsyntax-only -I"$dir" "$tmp/probe.cpp" >/dev/null 2>&1; then
        features="$features $1"
    else
        missing="$missing $1"
    fi
}
features=""
missing=""
feature vlm-messages 'auto f(VLM &v, LLMGeneratorParams &p, std::vector<std::string> &m, std::vector<MemoryView> &x) { return v.generate(p, m, x); }'
feature llm-messages 'auto f(LLM &l, LLMGeneratorParams &p, std::vector<std::string> &m) { return l.generate(p, m); }'
feature llm-tools 'auto f(LLM &l, LLMGeneratorParams &p, std::vector<std::string> &m) { return l.generate(p, m, m); }'
feature abort 'auto f(LLMGeneratorCompletion &c) { return c.abort(); }'
feature context-usage 'auto f(LLM &l) { return l.get_context_usage_size(); }'
feature stop-tokens 'auto f(LLM &l) { return l.get_stop_tokens(); }'
feature recovery-sequence 'auto f(LLM &l) { return l.get_generation_recovery_sequence(); }'
feature optimize-memory 'void f(VLMParams &p) { p.set_optimize_memory_on_device(false); }'
feature speech2text '#include <hailo/genai/speech2text/speech2text.hpp>
auto f(Speech2Text &s) { return s.create_generator_params(); }'
echo "GenAI features: ${features:- none}"
if [ -n "$missing" ]; then
    echo "  missing:${missing} (vlm/llm need *-messages; without llm-tools an llm request with"
    echo "  tools answers unsupported; without abort a generation cannot be stopped early;"
    echo "  without speech2text whisper models answer unsupported)"
fi

# ---- compile --------------------------------------------------------------------
fail=0
compile() { # compiler std source
    obj="$tmp/$(basename "$3").o"
    if "$1" -std="$2" -Wall -Wextra -Werror -DHDM_HAVE_HAILORT -D_GNU_SOURCE \
        -I"$dir" -I"$root/include" -I"$root/src" -c "$3" -o "$obj" 2>"$tmp/log"; then
        printf '  %-40s ok\n' "${3#"$root"/}"
    else
        printf '  %-40s FAILED\n' "${3#"$root"/}"
        sed 's/^/    /' "$tmp/log"
        fail=1
    fi
}

echo "Compiling against it:"
for src in backend-hailort.c hailort-capi.c hailort-dense.c hailort-genai-glue.c \
    hailort-status.c hailort-layout.c hailort-prompt.c; do
    compile "$cc" gnu11 "$root/src/backends/$src"
done
compile "$cxx" c++17 "$root/src/backends/hailort-genai.cpp"

# ---- the C/C++ boundary -------------------------------------------------------------
if [ "$fail" = 0 ] && command -v nm >/dev/null 2>&1; then
    # Every function hailort-rt.h declares must come out of the C++ file unmangled.
    sed -n 's/^[a-z].*[ *]\(hrt_[a-z0-9_]*\)(.*/\1/p' "$root/src/backends/hailort-rt.h" |
        sort -u >"$tmp/wanted"
    nm "$tmp/hailort-genai.cpp.o" "$tmp/hailort-capi.c.o" | awk '$2 == "T" {print $3}' |
        sort -u >"$tmp/defined"
    missing=$(comm -23 "$tmp/wanted" "$tmp/defined")
    if [ -n "$missing" ] || [ ! -s "$tmp/wanted" ]; then
        echo "  functions of hailort-rt.h not defined with C linkage by hailort-genai.cpp / hailort-capi.c:"
        echo "$missing" | sed 's/^/    /'
        fail=1
    else
        echo "  C/C++ boundary: all $(wc -l <"$tmp/wanted" | tr -d ' ') functions of hailort-rt.h defined with C linkage"
    fi
    nm "$tmp"/*.o | awk '$1 == "U" && $2 ~ /^hailo_/ {print $2}' | sort -u >"$tmp/capi"
    echo "  HailoRT C API used: $(tr '\n' ' ' <"$tmp/capi")"
fi

if [ "$fail" = 0 ]; then
    echo "check-hailort: PASS (compiled against HailoRT $version, $("$cc" --version | head -n 1) and $("$cxx" --version | head -n 1))"
    exit 0
fi
echo "check-hailort: FAIL"
exit 1
