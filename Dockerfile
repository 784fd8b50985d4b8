# cardiosynth worker image: the Faust worker with the HTTP API on :8000, running as a non-root user.
FROM python:3.11-slim

ENV PYTHONDONTWRITEBYTECODE=1 PYTHONUNBUFFERED=1 PIP_NO_CACHE_DIR=1 \
    WEB_HOST=0.0.0.0 DATA_DIR=/app/data MODELS_DIR=/models STATE_DIR=/var/lib/cardiosynth

RUN useradd --create-home --uid 10001 cardiosynth \
    && mkdir -p /models /var/lib/cardiosynth \
    && chown cardiosynth:cardiosynth /models /var/lib/cardiosynth

WORKDIR /app
# The CPU build of torch first, so sdv does not pull the CUDA build.
RUN pip install torch==2.13.0 --index-url https://download.pytorch.org/whl/cpu
COPY pyproject.toml requirements.lock README.md ./
COPY cardiosynth ./cardiosynth
COPY worker ./worker
COPY agents ./agents
COPY web ./web
COPY models_store ./models_store
COPY warehouse ./warehouse
COPY synthesis ./synthesis
COPY broker ./broker
COPY analysis ./analysis
RUN pip install -c requirements.lock .
COPY data ./data

USER cardiosynth
EXPOSE 8000
HEALTHCHECK --interval=15s --timeout=5s --start-period=60s --retries=5 \
    CMD python -c "import urllib.request; urllib.request.urlopen('http://127.0.0.1:8000/health', timeout=4)"
CMD ["cardiosynth", "worker", "-l", "info"]
