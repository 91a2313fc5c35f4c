# wearable-data-pipeline — every target works from a fresh clone with only Python 3.11+.
# `make help` lists them.

PYTHON ?= python3
VENV   ?= .venv
BIN    := $(VENV)/bin
WEARABLE := $(BIN)/wearable
# Re-install when the dependency pins or the project metadata change.
INSTALL_STAMP := $(VENV)/.installed

export DBT_SEND_ANONYMOUS_USAGE_STATS := false
export PREFECT_SERVER_ANALYTICS_ENABLED := false
export DO_NOT_TRACK := 1

.DEFAULT_GOAL := help
.PHONY: help venv install lint format test up down db-status ingest generate-csv ingest-api \
        generate-events dbt docs run report schedule watch prefect-ui demo bench stop clean \
        test-spark lake-export bench-spark

help: ## List the targets
	@grep -hE '^[a-zA-Z_-]+:.*?## ' $(MAKEFILE_LIST) | \
		awk 'BEGIN {FS = ":.*?## "}; {printf "  \033[36m%-16s\033[0m %s\n", $$1, $$2}'

# Python caches each module's bytecode when it first imports it. Where PYTHONDONTWRITEBYTECODE
# is set (CI images often set it) every process would instead compile again what it imports:
# seconds for Prefect's server and dbt, at every start. The cache lands in .venv/ and in
# __pycache__/ folders, which git ignores.
unexport PYTHONDONTWRITEBYTECODE

# The venv is made without pip: ensurepip spends seconds installing and compiling one. uv
# (pinned in requirements.txt) goes in with the pip that comes with Python (`pip --python`,
# pip 22.3+), or where there is none with one from ensurepip. uv then installs the pins - pip
# among them, so `pip install` in the activated venv stays in it - without compiling all
# 11,000 modules (only the ~4,000 that run are ever compiled, on first import). Without uv (a
# platform with no uv wheel) pip installs everything, only slower.
$(BIN)/python:
	$(PYTHON) -m venv --without-pip $(VENV)

venv: $(BIN)/python ## Create the virtual environment in .venv

UV_PIN = $$(grep -E '^uv==' requirements.txt)
PIP_QUIET := --quiet --disable-pip-version-check

$(INSTALL_STAMP): $(BIN)/python pyproject.toml requirements.txt
	@[ -x $(BIN)/uv ] \
		|| $(PYTHON) -m pip --python $(BIN)/python install $(PIP_QUIET) "$(UV_PIN)" 2>/dev/null \
		|| { $(BIN)/python -m ensurepip >/dev/null && \
			$(BIN)/python -m pip install $(PIP_QUIET) "$(UV_PIN)"; } \
		|| echo "uv could not be installed: installing with pip (slower)"
	@if [ -x $(BIN)/uv ]; then \
		$(BIN)/uv pip install --quiet --system-certs --python $(BIN)/python -r requirements.txt && \
		$(BIN)/uv pip install --quiet --system-certs --python $(BIN)/python --no-deps -e '.[test,bench]'; \
	else \
		$(BIN)/python -m pip install $(PIP_QUIET) -r requirements.txt && \
		$(BIN)/python -m pip install $(PIP_QUIET) --no-deps -e '.[test,bench]'; \
	fi
	@touch $(INSTALL_STAMP)

install: $(INSTALL_STAMP) ## Install the project, its pinned dependencies and test extras

lint: $(INSTALL_STAMP) ## ruff check + ruff format --check
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

format: $(INSTALL_STAMP) ## Apply ruff fixes and formatting
	$(BIN)/ruff check --fix .
	$(BIN)/ruff format .

# One worker per core, a test file at a time on each (a file's fixtures - a built dbt project,
# a Prefect server - stay in one worker); every worker starts its own embedded PostgreSQL.
# Files start in collection order (--no-loadscope-reorder), which tests/conftest.py sorts
# longest first: xdist's default (most tests first) would start the long few-test files last.
# Not --dist loadgroup: with pytest 9.2 it silently stops grouping (pytest-xdist issue #1386).
test: lint ## Set up and run the whole test suite (embedded PostgreSQL, real dbt and HTTP)
	$(BIN)/pytest -n auto --dist loadfile --no-loadscope-reorder

SPARK_STAMP := $(VENV)/.installed-spark

# The spark extra (dbt-spark, pyspark: ~300 MB) only for the Spark targets, with uv as
# make install does, pip as its fallback.
$(SPARK_STAMP): $(INSTALL_STAMP)
	@if [ -x $(BIN)/uv ]; then \
		$(BIN)/uv pip install --quiet --system-certs --python $(BIN)/python -e '.[spark]'; \
	else \
		$(BIN)/python -m pip install --quiet -e '.[spark]'; \
	fi
	@touch $(SPARK_STAMP)

test-spark: lint $(SPARK_STAMP) ## Install the spark extra (Java 17 needed) and run the Spark and parity tests
	$(BIN)/pytest -m spark tests/spark

lake-export: $(INSTALL_STAMP) ## Copy new raw loads and events to the Parquet lake (WEARABLE_LAKE_DIR)
	$(WEARABLE) lake export

bench-spark: $(SPARK_STAMP) ## The transform benchmark's data on PostgreSQL and on Spark, two sizes (slow)
	$(BIN)/python bench/spark.py

up: ## Start PostgreSQL 16 in Docker (then export DATABASE_URL, see .env.example)
	docker compose up -d --wait

down: ## Stop the Docker PostgreSQL
	docker compose down

db-status: $(INSTALL_STAMP) ## Show which database is used and whether it is up
	$(WEARABLE) db status

generate-csv: $(INSTALL_STAMP) ## Write synthetic Fitbit-format CSVs into data/
	$(WEARABLE) generate-csv --users 20 --days 30 --seed 42 --out data/synthetic

ingest: $(INSTALL_STAMP) ## Load every CSV under data/ into the raw tables
	$(WEARABLE) ingest

ingest-api: $(INSTALL_STAMP) ## Run the event API on 127.0.0.1:8000 (foreground)
	$(WEARABLE) serve

generate-events: $(INSTALL_STAMP) ## Post synthetic events to the running API
	$(WEARABLE) generate-events --users 20 --days 30 --seed 42 --duplicate-rate 0.02 --invalid-rate 0.02

dbt: $(INSTALL_STAMP) ## dbt build (seed, run, test) with the resolved connection
	$(WEARABLE) dbt build

docs: $(INSTALL_STAMP) ## Generate dbt docs into dbt/target
	$(WEARABLE) dbt docs generate

run: $(INSTALL_STAMP) ## Run the Prefect flow: migrate, ingest, dbt seed, run, test
	$(WEARABLE) run

report: $(INSTALL_STAMP) ## Write the HTML report (charts) of the last four weeks with data
	$(WEARABLE) report

schedule: $(INSTALL_STAMP) ## Run the flow every night at 02:00, served by Prefect (foreground)
	$(WEARABLE) schedule --cron "0 2 * * *"

watch: $(INSTALL_STAMP) ## Run the flow whenever CSV files land in data/ (foreground)
	$(WEARABLE) watch

prefect-ui: $(INSTALL_STAMP) ## Print the Prefect UI's address (starting its server if needed)
	$(WEARABLE) prefect url

demo: $(INSTALL_STAMP) ## Everything end to end on generated data, with a summary
	$(WEARABLE) demo

bench: $(INSTALL_STAMP) ## Run the benchmarks (slow; not part of make test)
	$(BIN)/python bench/csv_ingest.py
	$(BIN)/python bench/api_load.py
	$(BIN)/python bench/transform.py
	$(BIN)/python bench/pipeline.py
	$(BIN)/python bench/demo.py

stop: ## Stop everything running in the background: API, watch, schedule, dbt worker, Prefect, database
	$(WEARABLE) stop

clean: ## Stop everything, then remove local state (.wearable, dbt/target)
	-$(WEARABLE) stop
	rm -rf .wearable dbt/target dbt/logs .pytest_cache .ruff_cache
