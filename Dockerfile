# One image for every Conveyor process; compose.yaml picks the command.

# The console is built in a stage of its own: Node and node_modules stay out of the final image.
FROM node:20-slim AS console
WORKDIR /console
COPY app/console/package.json app/console/package-lock.json ./
RUN npm ci --no-audit --no-fund
COPY app/console ./
RUN npx vite build

FROM python:3.11-slim

ENV PYTHONDONTWRITEBYTECODE=1 PYTHONUNBUFFERED=1 \
    UV_PROJECT_ENVIRONMENT=/opt/venv UV_PYTHON_DOWNLOADS=never UV_COMPILE_BYTECODE=1 \
    PATH=/opt/venv/bin:$PATH

RUN pip install --no-cache-dir "uv==0.13.9"
WORKDIR /srv/conveyor

# Dependencies first, so a code change does not reinstall them.
COPY pyproject.toml uv.lock README.md ./
# No extras: the image uses real servers (compose.yaml), not the embedded ones, nor the test tools.
RUN uv sync --frozen --no-install-project --no-dev

COPY app ./app
COPY workers ./workers
COPY scheduler ./scheduler
COPY sql ./sql
COPY --from=console /console/dist ./app/console/dist
RUN uv sync --frozen --no-dev

RUN useradd --system --uid 10001 conveyor && mkdir -p /data && chown conveyor /data
USER conveyor
ENV CONVEYOR_DATA_ROOT=/data
EXPOSE 8000
CMD ["conveyor", "api", "--host", "0.0.0.0"]
