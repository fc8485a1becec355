#!/usr/bin/env bash
# This project's own question files over the public corpora (tests/data/public):
#
#   scripts/eval_own_questions.sh [PUBLIC]   (default ../shared/eval/public; `make eval-public`)
#
# 1. squad_nearmiss.jsonl: 50 near misses over the SQuAD articles;
# 2. crosslingual.jsonl: questions in the other language than their documents, over one
#    collection of the DRCD and SQuAD articles together.
# Each collection is built into an empty temporary folder (the documents are linked, not
# copied), then `rag eval` prints its tables. Nothing in the checkout is written.
set -euo pipefail
CHECKOUT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
PUBLIC="$(cd "${1:-$CHECKOUT/../shared/eval/public}" && pwd)"
RAG="$CHECKOUT/.venv/bin/rag"
QUESTIONS="$CHECKOUT/tests/data/public"
WORK="$(mktemp -d "${TMPDIR:-/tmp}/own-questions.XXXXXX")"
trap 'rm -rf "$WORK"' EXIT

echo "==> near misses over the 15 SQuAD articles (building them: about 20 s)"
"$RAG" build --seeds "$PUBLIC/squad/docs" --index "$WORK/squad" --full > "$WORK/squad.log" 2>&1
"$RAG" eval --seeds "$PUBLIC/squad/docs" --index "$WORK/squad" \
  --questions "$QUESTIONS/squad_nearmiss.jsonl" 2>/dev/null

echo "==> across languages: DRCD and SQuAD articles in one collection (about 40 s to build)"
mkdir "$WORK/both"
ln -s "$PUBLIC"/drcd/docs/* "$PUBLIC"/squad/docs/* "$WORK/both/"
"$RAG" build --seeds "$WORK/both" --index "$WORK/both-index" --full > "$WORK/both.log" 2>&1
"$RAG" eval --seeds "$WORK/both" --index "$WORK/both-index" \
  --questions "$QUESTIONS/crosslingual.jsonl" 2>/dev/null
