# docsearch: `make run` to try it, `make test` to check it. `make help` lists every target.
SHELL := /bin/bash
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
export DOCSEARCH_HOME ?= $(CURDIR)/.docsearch
export HF_HUB_OFFLINE := 1
export TOKENIZERS_PARALLELISM := false
SCIFACT ?= $(CURDIR)/../shared/datasets/scifact

.DEFAULT_GOAL := help
.PHONY: help setup run test gate lint format bench fit-relevance fit-answerability bench-chat bench-cli bench-gpu bench-loop bench-load bench-mixture bench-online bench-ready bench-scale bench-sync browser-deps samba-deps clean

help: ## list the targets
	@grep -E '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | awk -F':.*## ' '{printf "  make %-14s %s\n", $$1, $$2}'

$(STAMP): pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e '.[dev]'
	touch $(STAMP)

setup: $(STAMP) ## create or update the virtual environment .venv, migrate the product's store to the newest schema
	$(BIN)/docsearch migrate

browser-deps: ## install Debian's Chromium for the browser tests (needs root)
	@command -v chromium >/dev/null || { apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium chromium-driver >/dev/null; }

run: setup ## build, evaluate and promote the default index if none serves, then start the Dagster (3000), MLflow (5000) and search (8501) UIs and the REST API (8000)
	$(BIN)/python scripts/serve.py

samba-deps: ## install Debian's Samba (smbd) for the SMB source tests (needs root)
	@command -v smbd >/dev/null || test -x /usr/sbin/smbd || { apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq samba >/dev/null; }

test: setup browser-deps samba-deps ## lint, check the layer contracts (import-linter), run the whole test suite
	$(BIN)/ruff check .
	$(BIN)/lint-imports
	$(BIN)/pytest

gate: setup ## CI for data and models: build the sample index, fail below the floor or a regression against data/gate_baseline.json (UPDATE=1 records a new baseline)
	$(BIN)/docsearch gate $(if $(UPDATE),--update-baseline,)

lint: setup ## ruff lint and format check, layer contracts
	$(BIN)/ruff check .
	$(BIN)/lint-imports
	$(BIN)/ruff format --check .

format: setup ## format the code
	$(BIN)/ruff format .
	$(BIN)/ruff check --fix .

ANCHORS ?= $(CURDIR)/../shared/tools/anchor_baselines.py

bench: setup ## every labeled set's TUNE and REPORT parts per method beside the public-library anchors of the same run (SciFact, the sample and its independent questions, the municipality, MEDLINE, LISA, NPL), SciFact throughput and latency (JSON)
	$(BIN)/python -m evaluation.bench --dataset $(SCIFACT) --anchors $(ANCHORS)

fit-relevance: setup ## fit the relevance models (ranking, calibration, floor) on the TUNE parts of every labeled set and store them with the product (search/retrieval/relevance_models.json)
	DOCSEARCH_EVAL_SCIFACT=$(SCIFACT) $(BIN)/python -m evaluation.relevance_fit

fit-answerability: setup ## fit the chat's answer-or-decline model on the dev halves of every labeled question set and store it with the product (search/chat/answerability.json; JSON with the test halves' figures)
	$(BIN)/python -m evaluation.answerability_fit

bench-chat: setup ## chat answers on each labeled question set (the sample's own, the sample's independent questions, the municipality's, SQuAD 2.0's, never fitted on): answer, citation, no-answer and follow-up accuracy per dev and test half, distorted sentences (one JSON per set)
	$(BIN)/python -m evaluation.bench_chat --dataset data/sample
	$(BIN)/python -m evaluation.bench_chat --dataset data/sample --questions data/sample/independent/chat_questions.jsonl
	$(BIN)/python -m evaluation.bench_chat --dataset data/municipality
	$(BIN)/python -m evaluation.bench_chat --dataset data/squad2

CALLS ?= 5

bench-cli: setup ## wall time of docsearch commands, each a fresh process: users list, and a search with and without the REST API serving (median of CALLS=5; BASELINE=DIR, a source tree of an earlier docsearch, is timed in the same run; JSON)
	$(BIN)/python -m scripts.bench_cli --calls $(CALLS) --share-from $(DOCSEARCH_HOME) $(if $(BASELINE),--baseline $(BASELINE),)

bench-ready: setup ## a start of the app and the API as make run does: seconds until ready (API warmed up, first search page rendered), then chat turns through the API and the app's service (JSON)
	$(BIN)/python -m scripts.bench_ready --share-from $(DOCSEARCH_HOME)

bench-gpu: setup ## passages/s of the product's GPU encoder beside plain sentence-transformers, one run (JSON; says "no CUDA" without a GPU)
	TOKENIZERS_PARALLELISM=true $(BIN)/python -m evaluation.bench_gpu --dataset $(SCIFACT)

LOAD_SECONDS ?= 30
LOAD_USERS ?= 4

bench-load: setup ## LOAD_USERS readers through the app's services and LOAD_USERS locust users through the REST API (loopback) search, click and vote for LOAD_SECONDS: requests/s, p50/p95 ms, errors, every acknowledged event stored (JSON; exit 1 if one is missing)
	$(BIN)/python -m scripts.bench_load --seconds $(LOAD_SECONDS) --app-users $(LOAD_USERS) --api-users $(LOAD_USERS) --share-from $(DOCSEARCH_HOME)

N ?= 1000000

BACKEND ?= faiss

bench-scale: setup ## the index at N chunks (default 1,000,000; N=100000 for fewer) on BACKEND=faiss (default) or milvus (a temporary Milvus Lite file): a synthetic collection with SciFact's real MiniLM vectors mixed in (encoded once, cached under DOCSEARCH_HOME) through the product's build, write, load and search; build time, bytes on disk, load time, RSS of a fresh serving process, hybrid and 1%-filtered latency, dense recall@10 on synthetic and on real queries (JSON)
	$(BIN)/python -m evaluation.bench_scale --chunks $(N) --backend $(BACKEND)

SYNC_DOCS ?= 10000

bench-sync: setup ## a source of SYNC_DOCS small documents (default 10,000) on a local S3 server (moto): first sync, unchanged re-sync, one changed object (JSON: first_sync_s, noop_sync_s, one_change_sync_s; exit 1 if the unchanged re-sync takes over 5% of the first)
	$(BIN)/python -m scripts.bench_sync --documents $(SYNC_DOCS)

LOOP_HOME ?= $(DOCSEARCH_HOME)/bench-loop
TURNS ?= 1
SESSIONS ?= 2

bench-loop: setup ## the closed loop on SciFact from the untrained default: simulated feedback on train, retrain, before/after on test (JSON per turn; TURNS=2 for two; SESSIONS people ask each question, 2 by default: one person's click alone is no evidence)
	rm -rf $(LOOP_HOME) && mkdir -p $(LOOP_HOME) $(DOCSEARCH_HOME)/cache
	ln -s $(DOCSEARCH_HOME)/cache $(LOOP_HOME)/cache  # embeddings are shared; everything else starts fresh
	for turn in $$(seq $(TURNS)); do \
	  DOCSEARCH_HOME=$(LOOP_HOME) $(BIN)/docsearch simulate-feedback --dataset $(SCIFACT) --split train --sessions $(SESSIONS) --json && \
	  DOCSEARCH_HOME=$(LOOP_HOME) $(BIN)/docsearch retrain --dataset $(SCIFACT) --split test --json || exit 1; \
	done

SEEDS ?= 40
ONLINE_SPLIT ?= test
ONLINE_ARGS ?=

bench-online: setup ## online experiments on simulated people (SciFact test claims, SEEDS per pair): promotion rates of a better, an equal and a worse challenger, their win rates, queries to a decision, canary rollback of a broken release (JSON; runs bench-loop first when its home has no trained challenger; ONLINE_SPLIT=train ONLINE_ARGS=--held-back: the train claims the loop never trained on, where the test's design is chosen)
	test -f $(LOOP_HOME)/bench-loop.done || { $(MAKE) bench-loop && touch $(LOOP_HOME)/bench-loop.done; }
	DOCSEARCH_HOME=$(LOOP_HOME) $(BIN)/python -m scripts.bench_online --dataset $(SCIFACT) --split $(ONLINE_SPLIT) --seeds $(SEEDS) $(ONLINE_ARGS)

MIXTURE_WEIGHTS ?= 0.2 0.3 0.4 0.5 0.6 0.7 0.8 0.9 1.0

bench-mixture: setup ## after bench-loop: the challenger at each weight of the fine-tuned query side mixed with its start (the loop's fine-tuning again, seeded), scored on the held-back feedback (where the loop chooses), the held-back train claims and the test claims (JSON per weight)
	test -d $(LOOP_HOME)/training || $(MAKE) bench-loop
	DOCSEARCH_HOME=$(LOOP_HOME) $(BIN)/python -m scripts.mixture_sweep --dataset $(SCIFACT) --weights $(MIXTURE_WEIGHTS)

clean: ## remove the environment and all runtime state
	rm -rf $(VENV) .docsearch
