# Two commands do everything on a fresh machine with python3:
#   make run    set up, run the pipeline on the default data (dvc repro), say where to look
#   make test   set up, run the test suite
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
# dvc.yaml runs `python -m ...`: that must be this environment's python.
export PATH := $(abspath $(BIN)):$(PATH)

.PHONY: setup setup-gpu run test lint ui server clean

setup: $(STAMP)

# The lock pins every package; uv installs it in seconds where pip takes minutes. Bytecode
# is compiled once here: where PYTHONDONTWRITEBYTECODE is set (CI images often set it),
# every process would otherwise recompile TensorFlow's and MLflow's sources on import.
$(STAMP): requirements.lock pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --disable-pip-version-check uv==0.13.8
	$(BIN)/uv pip install --quiet --compile-bytecode --python $(BIN)/python -r requirements.lock
	$(BIN)/uv pip install --quiet --python $(BIN)/python --no-deps -e .
	touch $(STAMP)

# TensorFlow for an NVIDIA GPU (the `gpu` extra) in place of the pinned CPU build; every
# other package stays at its locked version. `make setup` after a change to requirements.lock
# puts the CPU build back: run this again then.
setup-gpu: setup
	$(BIN)/uv pip uninstall --python $(BIN)/python tensorflow-cpu
	echo tensorflow-cpu > $(VENV)/gpu-excludes.txt
	$(BIN)/uv pip install --python $(BIN)/python --excludes $(VENV)/gpu-excludes.txt \
		--constraints requirements.lock -e ".[gpu]"

run: setup
	$(BIN)/dvc repro
	$(BIN)/lstm-doctor show

test: setup
	$(BIN)/pytest

lint: setup
	$(BIN)/ruff check src tests bench studies examples
	$(BIN)/ruff format --check src tests bench studies examples

ui: setup
	$(BIN)/mlflow ui --backend-store-uri sqlite:///mlflow.db --host 127.0.0.1 --port 5000

# A team's tracking server: SQL store + proxied artifacts, so clients need only its URL
# (MLFLOW_TRACKING_URI=http://127.0.0.1:5000). PostgreSQL instead of the SQLite file:
#   make server SERVER_STORE=postgresql+psycopg://user:password@host:5432/mlflow
SERVER_STORE ?= sqlite:///mlflow-server/mlflow.db
SERVER_ARTIFACTS ?= mlflow-server/artifacts
SERVER_HOST ?= 127.0.0.1
SERVER_PORT ?= 5000
server: setup
	$(BIN)/lstm-doctor server --store '$(SERVER_STORE)' --artifacts '$(SERVER_ARTIFACTS)' \
		--host $(SERVER_HOST) --port $(SERVER_PORT)

clean:
	rm -rf outputs multirun data/prepared data/scaled data/windows models reports/plots
