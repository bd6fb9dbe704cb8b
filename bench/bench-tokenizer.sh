#!/usr/bin/env bash
# bench/bench-tokenizer.sh BUILD_DIR - the "CLIP tokenizer" section: the real
# CLIP tokenizer.json on the HF reference corpus of tests/data/cliptext (all
# lines, then the ASCII ones only).
set -euo pipefail
build=$1
here=$(cd "$(dirname "$0")" && pwd)
bin=$build/bin/bench-tokenizer
[ -x "$bin" ] || { echo "bench-tokenizer.sh: $bin is missing (build first)" >&2; exit 1; }
data=$here/../tests/data/cliptext
echo "## CLIP tokenizer"
echo
echo "Command: \`bench/run.sh BUILD_DIR tokenizer\` (runs \`bench-tokenizer\` on tests/data/cliptext)."
echo
"$bin" "$data/clip-tokenizer.json.gz" "$data/hf-corpus.jsonl.gz" --runs 5
echo
"$bin" "$data/clip-tokenizer.json.gz" "$data/hf-corpus.jsonl.gz" --runs 5 --ascii
echo
