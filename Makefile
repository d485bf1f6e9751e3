# The two commands of the README: `make run` and `make test`. `make bench` for benchmarks.
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
PORT ?= 8000
STAMP := $(VENV)/.installed

.PHONY: install run test lint bench clean

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -e '.[dev]'
	touch $(STAMP)

install: $(STAMP)

# Web, Celery worker and Celery beat on SQLite and a file-system broker: no other server.
run: install
	$(PY) manage.py migrate --noinput
	$(PY) manage.py seed_demo --if-empty
	$(PY) manage.py load_divisions
	@echo "控辍保学台账: http://127.0.0.1:$(PORT)/  (演示账号见 README)"
	@trap 'kill 0' INT TERM EXIT; \
	$(VENV)/bin/celery -A kongchuo worker -Q celery,interactive,nightly,comparisons,reminders --loglevel=INFO --concurrency=1 --pool=solo & \
	$(VENV)/bin/celery -A kongchuo beat --loglevel=INFO & \
	$(PY) manage.py runserver 127.0.0.1:$(PORT)

lint: install
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .
	$(PY) manage.py makemigrations --check --dry-run
	DJANGO_SETTINGS_MODULE=kongchuo.settings.production SECRET_KEY=check-deploy-$$(head -c 32 /dev/urandom | od -An -tx1 | tr -d ' \n') \
		DATABASE_URL=postgres://check-deploy@db.invalid:5432/check-deploy REDIS_URL=redis://broker.invalid:6379/0 \
		FIELD_ENCRYPTION_KEYS=$$(head -c 32 /dev/urandom | base64 | tr '+/' '-_') \
		LOOKUP_HASH_KEY=$$(head -c 32 /dev/urandom | base64 | tr '+/' '-_') \
		ALLOWED_HOSTS=kongchuo.example.gov.cn $(PY) manage.py check --deploy --fail-level WARNING

# One test process per CPU (pytest-xdist); TEST_WORKERS=0 runs them in this process.
TEST_WORKERS ?= auto
test: lint
	$(VENV)/bin/pytest -n $(TEST_WORKERS)

bench: install
	$(PY) benchmarks/run.py

clean:
	rm -rf $(VENV) data
