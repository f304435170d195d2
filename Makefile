# Gufei Exchange — `make run` sets everything up and serves the demo; `make test` runs the tests.
PYTHON ?= python3.11
VENV := .venv
BIN := $(VENV)/bin
PORT ?= 5000
STAMP := $(VENV)/.installed
FLASK := $(BIN)/flask --app wsgi

.PHONY: run test install migrate seed translations translations-update serve-prod worker lint clean geo-network

$(BIN)/python:
	@command -v $(PYTHON) >/dev/null 2>&1 || { echo "Python 3.11 is required ($(PYTHON) not found)"; exit 1; }
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip

$(STAMP): requirements.txt | $(BIN)/python
	$(BIN)/pip install --quiet -r requirements.txt
	touch $(STAMP)

install: $(STAMP) translations

translations: $(STAMP)
	$(BIN)/pybabel compile -d app/translations

translations-update: $(STAMP)
	$(BIN)/pybabel extract -F babel.cfg -k _l -k lazy_gettext --sort-output --no-location --omit-header -o app/translations/messages.pot .
	$(BIN)/pybabel update -i app/translations/messages.pot -d app/translations --no-fuzzy-matching --ignore-obsolete
	$(FLASK) translations fill-en

migrate: install
	$(BIN)/alembic upgrade head

seed: migrate
	$(FLASK) seed-demo --if-empty

run: seed
	$(FLASK) run --host 127.0.0.1 --port $(PORT)

test: install
	$(BIN)/python -m pytest $(PYTEST_ARGS)

serve-prod: migrate
	$(BIN)/gunicorn --config gunicorn.conf.py wsgi:app

# One worker process per core; --beat also runs the periodic jobs: stale-run sweep, allocation expiry, audit checkpoints.
worker: install
	$(BIN)/celery --app app.worker worker --beat --schedule instance/celerybeat-schedule --loglevel INFO

lint: install
	$(BIN)/ruff check .

clean:
	rm -rf $(VENV) .pytest_cache

# Rebuild geo/data/osm_network.npz and app/static/geo/*.geojson from OpenStreetMap (scgraph-data).
# The big package goes into build/ only (--no-deps: the build parses its data, never imports it).
geo-network: $(STAMP)
	$(BIN)/pip install --quiet --no-deps --target build/scgraph -r geo/data/requirements-build.txt
	$(BIN)/python -m geo.data.build_osm build/scgraph
