# syntax=docker/dockerfile:1
# The tinyMLaaS compiler images (DESIGN.md, contract 3): one target per model kind, one shared base stage.
#
#   docker buildx build --target compiler-export-sq -t tinyruntime/compiler-export-sq .
#   docker run --rm -v "$PWD/md:/work/md" -v "$PWD/data:/work/data:ro" tinyruntime/compiler-export-sq
#
# Each image runs `tinyruntime_compile --md md --data data` in /work: md/ holds the trained model
# (config.json + model.safetensors) and runtime_info.json, data/ the calibration images (static only);
# it writes md/model.bin. TINYRUNTIME_COMPILER makes an image refuse a runtime_info.json that asks for
# another kind. Versions come from settings.ini's pinned `requirements` line (torch and torchvision from
# PyTorch's CPU-only index); the notebook and test tools (dev_requirements) are not installed.

ARG PYTHON_VERSION=3.11
FROM python:${PYTHON_VERSION}-slim AS base
SHELL ["/bin/bash", "-o", "pipefail", "-c"]
ENV PYTHONDONTWRITEBYTECODE=1 PYTHONUNBUFFERED=1 PIP_DISABLE_PIP_VERSION_CHECK=1
WORKDIR /opt/tinyruntime
COPY settings.ini ./
# CPU-only torch once, in its own layer (the largest, and the one the build cache keeps)
RUN --mount=type=cache,target=/root/.cache/pip \
    sed -n 's/^requirements *= *//p' settings.ini | tr ' ' '\n' | grep -E '^(torch|torchvision)==' \
    | xargs pip install --index-url https://download.pytorch.org/whl/cpu
# the rest of the runtime dependencies (not the notebook and test tools)
RUN --mount=type=cache,target=/root/.cache/pip \
    sed -n 's/^requirements *= *//p' settings.ini | tr ' ' '\n' | grep -vE '^(torch|torchvision)==' \
    | xargs pip install
COPY setup.py README.md ./
COPY tinyruntime ./tinyruntime
RUN pip install --no-cache-dir --no-deps . && tinyruntime_compile --help > /dev/null
WORKDIR /work

FROM base AS compiler-export-vanilla
ENV TINYRUNTIME_COMPILER=vanilla
CMD ["tinyruntime_compile", "--md", "md", "--data", "data"]

FROM base AS compiler-export-dq
ENV TINYRUNTIME_COMPILER=dq
CMD ["tinyruntime_compile", "--md", "md", "--data", "data"]

FROM base AS compiler-export-sq
ENV TINYRUNTIME_COMPILER=sq
CMD ["tinyruntime_compile", "--md", "md", "--data", "data"]
