# Two commands for a newcomer: `make demo` (set up, start the app) and `make test` (set up, run
# every test). Both create .venv if there is none and install the project from its own files.
PYTHON ?= python3
VENV   ?= .venv
PY     := $(VENV)/bin/python
STAMP  := $(VENV)/.installed-stamp
PORT   ?= 8501

.PHONY: setup demo test lint bench browser-deps clean

$(STAMP): pyproject.toml constraints.txt
	@test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install -e '.[test]' -c constraints.txt
	@touch $(STAMP)

setup: $(STAMP)

demo: setup
	$(VENV)/bin/streamlit run app.py --server.port $(PORT)

# Debian's Chromium for the real-browser test, and Noto CJK so Chinese renders in it (not boxes);
# installed only when missing and only as root.
browser-deps:
	@missing=""; command -v chromium >/dev/null 2>&1 || missing="chromium"; \
	  dpkg -s fonts-noto-cjk >/dev/null 2>&1 || missing="$$missing fonts-noto-cjk"; \
	  if [ -n "$$missing" ]; then \
	    if [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then \
	      (apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq $$missing >/dev/null) \
	        || echo "WARNING: could not install$$missing; browser tests may be skipped"; \
	    else echo "WARNING: missing$$missing and not root: browser tests may be skipped"; fi; \
	  fi

test: setup browser-deps
	$(PY) -m pytest

# Measures everything and rewrites docs/benchmarks.md (about 20 min with cached indexes; see benchmarks/README.md).
bench: setup browser-deps
	$(PY) -m benchmarks

lint: setup
	$(VENV)/bin/ruff check .

clean:
	rm -rf $(VENV) .pytest_cache .ruff_cache .cache
