# Two commands for a fresh clone:  `make lab`  and  `make test`.
# Both create .venv if it is missing and install the course into it.
#
# TORCH_SPEC is installed before everything else. The default, torch==2.13.0, has a
# CPU build on our package index; a bare `torch` would pull a CUDA build of several GB.
# Override it for another build, e.g. `make lab TORCH_SPEC="torch==2.13.0 --index-url ..."`.
# constraints.txt holds the versions the lessons' numbers were measured with.

PYTHON ?= python3
VENV ?= .venv
TORCH_SPEC ?= torch==2.13.0
BIN := $(VENV)/bin
STAMP := $(VENV)/.course-installed
# Tests never reach a model or dataset hub: everything they need is embedded.
# Two test workers share the cores, so each uses one thread: torch threads that outnumber
# the free cores wait on each other and run many times slower, not faster. For the same reason
# an experiment trains its runs in one process here, and `course grade` grades one exercise at
# a time (COURSE_WORKERS=1; tests/experiments test the helper processes themselves).
TEST_ENV := HF_HUB_OFFLINE=1 HF_HUB_DISABLE_TELEMETRY=1 TOKENIZERS_PARALLELISM=false \
	MPLBACKEND=Agg OMP_NUM_THREADS=1 MKL_NUM_THREADS=1 COURSE_WORKERS=1

.PHONY: setup lab test claims-500 lint clean

setup: $(STAMP)

$(STAMP): pyproject.toml constraints.txt
	@$(PYTHON) -c 'import sys; sys.exit(0 if sys.version_info >= (3, 11) else "Python >= 3.11 is needed (transformers 5 and trl 1 require it); run: make PYTHON=python3.11 ...")'
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet $(TORCH_SPEC)
	$(BIN)/python -m pip install --quiet -e ".[dev,lab]" -c constraints.txt
	# Colab's own versions of what the course uses (tests/colab_pip_freeze.txt), beside the
	# venv's: tests/test_colab_install.py runs the course on them too. huggingface_hub is
	# what pip picks there (datasets needs >= 1.31, Colab's transformers < 2).
	$(BIN)/python -m pip install --quiet --no-deps --upgrade --target $(VENV)/colab \
		ipywidgets==7.7.1 widgetsnbextension==3.6.10 ipython_genutils==0.2.0 \
		transformers==5.15.0 tokenizers==0.22.2 peft==0.20.0 accelerate==1.14.0 \
		huggingface_hub==1.33.0
	$(BIN)/python -m ipykernel install --sys-prefix --name python3 --display-name "Python 3 (course)" >/dev/null
	touch $@

# Root (containers, some cloud machines) needs --allow-root; everyone else does not.
LAB_ARGS ?= $(if $(filter 0,$(shell id -u)),--allow-root)

lab: setup
	$(BIN)/jupyter lab --ServerApp.root_dir=. --LabApp.default_url=/lab/tree/lessons $(LAB_ARGS)

test: setup
	$(BIN)/ruff check course_lib tests benchmarks
	$(TEST_ENV) $(BIN)/python -m pytest -n 2 --dist loadgroup --durations=25

# Claims that take many of the recipe's 500-step runs: lesson 07's figures (54 runs, about
# 20 min on 2 cores; kept in lessons/runs/experiments, so a second call takes seconds) and
# lesson 04's seeds 1 and 2 (4 runs, about 2 min). Not part of `test`: they would make it
# about 20 minutes longer.
claims-500: setup
	$(TEST_ENV) COURSE_WORKERS= $(BIN)/python -m pytest -m recipe_steps \
		tests/notebooks/test_lesson07_claims.py tests/notebooks/test_lesson_claims.py

lint: setup
	$(BIN)/ruff check course_lib tests benchmarks

clean:
	rm -rf $(VENV) .pytest_cache build dist *.egg-info
