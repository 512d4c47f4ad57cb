# One image for every role (API, worker, CLI); docker-compose.yml picks the command.
FROM python:3.11-slim

ARG TORCH_VERSION=2.13.0
ENV PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1

# PyPI's Linux torch wheel is the CUDA build: it uses the GPU that the NVIDIA container
# toolkit passes in, and the CPU otherwise. Installed first so nothing else picks torch.
RUN pip install "torch==${TORCH_VERSION}"

WORKDIR /app
COPY pyproject.toml README.md ./
COPY api api
COPY core core
COPY worker worker
COPY cornu cornu
RUN pip install ".[server]" "torch==${TORCH_VERSION}"

RUN useradd --create-home --uid 10001 cornu
USER cornu
ENV CORNU_HOME=/home/cornu/.cornu

EXPOSE 8000
CMD ["cornu", "api", "--host", "0.0.0.0", "--port", "8000"]
