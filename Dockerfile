FROM python:3.11-slim

ENV PYTHONDONTWRITEBYTECODE=1 PYTHONUNBUFFERED=1 PIP_NO_CACHE_DIR=1
WORKDIR /app
COPY pyproject.toml README.md ./
COPY statuspage statuspage
COPY workers workers
COPY static static
RUN pip install -e . && useradd --system --uid 1000 statuspage \
    && mkdir -p /data && chown statuspage /data
USER statuspage
ENV STATUSPAGE_DATA_DIR=/data STATUSPAGE_PUBLISH_DIR=/data/public
EXPOSE 8000
CMD ["gunicorn", "--bind", "0.0.0.0:8000", "--workers", "4", "--threads", "4", "statuspage.wsgi:app"]
