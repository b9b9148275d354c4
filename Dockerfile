# The prediction API (python -m digitlens serve) on $PORT, default 8000, with $WEB_CONCURRENCY worker processes.
FROM python:3.11-slim
WORKDIR /app
COPY requirements.txt .
# Serving runs the LiteRT model: TensorFlow (~1.5 GB), the dashboard's packages and the review store's are left out.
RUN grep -v -E "^(tensorflow|streamlit|plotly|pandas|umap-learn)" requirements.txt > api-requirements.txt \
    && pip install --no-cache-dir -r api-requirements.txt
COPY digitlens digitlens
COPY model model
ENV PORT=8000 WEB_CONCURRENCY=2
EXPOSE 8000
HEALTHCHECK --interval=30s --timeout=3s \
    CMD python -c "import os, urllib.request; urllib.request.urlopen(f'http://127.0.0.1:{os.environ[\"PORT\"]}/health')"
CMD python -m digitlens serve --host 0.0.0.0 --port $PORT --workers $WEB_CONCURRENCY
