# The course's two commands:
#   make lab    set up (first time) and open the course in JupyterLab
#   make test   set up (first time) and run every test, notebooks included
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
JOBS ?= 2
CELL_TIMEOUT ?= 600

.PHONY: lab test setup chromium unit notebooks lessons demo bench clean

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e ".[test,apps,grading]"
	touch $(STAMP)

# Chromium for the browser test (tests/test_browser.py): Debian's package,
# installed when we are root with apt; elsewhere install it yourself, or the
# test is skipped (outside CI).
chromium:
	@command -v chromium >/dev/null || { [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null \
		&& apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium \
		|| echo "No chromium: the browser test will be skipped (apt-get install chromium)"; }

setup: $(STAMP) chromium

# Serves this checkout and opens lesson 00; LAB_ARGS go to `s2s-course lab`
# (e.g. LAB_ARGS=--instructor, or LAB_ARGS="--port 8890 --no-browser").
lab: $(STAMP)
	$(BIN)/s2s-course lab $(LAB_ARGS)

# Everything: lint, lessons in sync with solutions, unit tests, checks tests,
# the grader, and every notebook (solutions: all green; lessons: only check
# cells fail, each with NotImplementedError), in quick mode.
test: $(STAMP) chromium
	$(BIN)/ruff check s2s_helpers tests benchmarks
	$(BIN)/s2s-course make-lessons --check
	S2S_QUICK=$${S2S_QUICK:-1} $(BIN)/python -m pytest -n $(JOBS) --dist loadfile \
		--nbval-lax --nbval-current-env --nbval-cell-timeout=$(CELL_TIMEOUT) \
		tests solutions lessons

unit: $(STAMP)
	$(BIN)/python -m pytest -n $(JOBS) --dist loadfile tests

notebooks: $(STAMP)
	S2S_QUICK=$${S2S_QUICK:-1} $(BIN)/python -m pytest -n $(JOBS) --dist loadfile \
		--nbval-lax --nbval-current-env --nbval-cell-timeout=$(CELL_TIMEOUT) solutions lessons

lessons: $(STAMP)
	$(BIN)/s2s-course make-lessons

demo: $(STAMP)
	$(BIN)/s2s-course demo --out docs/images

bench: $(STAMP)
	$(BIN)/python -m benchmarks all

clean:
	rm -rf $(VENV) demo_output
