FROM python:3.11-slim
WORKDIR /app
COPY pyproject.toml README.md ./
COPY graph graph
COPY ingest ingest
COPY resolve resolve
COPY analytics analytics
COPY api api
RUN pip install --no-cache-dir .
RUN useradd --create-home cdp
USER cdp
EXPOSE 8000
CMD ["cdp", "serve", "--host", "0.0.0.0", "--port", "8000"]
