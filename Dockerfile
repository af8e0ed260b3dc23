# Production image: the same image runs the web server, the RQ workers and the scheduler.
FROM python:3.11-slim

ENV PYTHONDONTWRITEBYTECODE=1 PYTHONUNBUFFERED=1 PIP_NO_CACHE_DIR=1
WORKDIR /app

COPY requirements.txt .
RUN pip install -r requirements.txt

COPY . .
# Production storage (hashed, compressed files for WhiteNoise); the keys are placeholders for the build only.
RUN HUB_DEBUG=0 HUB_SECRET_KEY=build-only HUB_CREDENTIALS_KEYS=build-only HUB_BUYER_DATA_KEYS=build-only-2 python manage.py collectstatic --noinput \
    && useradd --system --home /app hub && chown -R hub /app
USER hub

EXPOSE 8000
CMD ["gunicorn", "integration_hub.wsgi", "--bind", "0.0.0.0:8000", "--workers", "3", "--access-logfile", "-"]
