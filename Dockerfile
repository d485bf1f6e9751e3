FROM python:3.11-slim

ENV PYTHONUNBUFFERED=1 \
    PYTHONDONTWRITEBYTECODE=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1 \
    DJANGO_SETTINGS_MODULE=kongchuo.settings.production

WORKDIR /app

# Dependencies alone first, so a source change does not reinstall them.
# packages = [] in pyproject.toml, so this installs only [project].dependencies.
COPY pyproject.toml /tmp/build/
RUN pip install --no-cache-dir /tmp/build && rm -rf /tmp/build

RUN groupadd --system app && useradd --system --gid app --home-dir /app --no-create-home app

# Source stays root-owned so the app user cannot rewrite its own code.
COPY . /app

# The key and the service URLs exist only for this command (production settings refuse to load
# without them; collectstatic connects to neither); the running image gets all three from its
# environment. media is created app-owned so a fresh named volume mounted there inherits that
# owner.
RUN SECRET_KEY=collectstatic-only DATABASE_URL=postgres://build@db.invalid/build \
    REDIS_URL=redis://broker.invalid:6379/0 python manage.py collectstatic --noinput \
    && mkdir -p /app/data/media \
    && chown app:app /app/data /app/data/media

USER app

EXPOSE 8000

CMD ["gunicorn", "kongchuo.wsgi:application", "--bind", "0.0.0.0:8000", "--workers", "3"]
