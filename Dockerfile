# hookflow: one image, two processes (docker-compose.yml runs it as hookflow-api and hookflow-worker).
# Build: docker build -t hookflow:local .

# --- build: TypeScript -> dist/ (devDependencies only live in this stage) ---
FROM node:24-bookworm-slim AS build
WORKDIR /app
COPY package.json package-lock.json ./
RUN npm ci --no-audit --no-fund
COPY tsconfig.json ./
COPY src ./src
# rootDir is the repo root, so src/api/server.ts becomes dist/src/api/server.js.
RUN npx tsc -p tsconfig.json

# --- runtime ---
FROM node:24-bookworm-slim
ENV NODE_ENV=production \
    HOOKFLOW_CONFIG=/app/hookflow.config.yaml
WORKDIR /app
COPY package.json package-lock.json ./
# The worker bundles the workflow code with webpack at start-up; that bundler is a runtime
# dependency of @temporalio/worker, so production dependencies are enough.
RUN npm ci --omit=dev --no-audit --no-fund && npm cache clean --force
COPY --from=build /app/dist ./dist
# The console's templates and static files sit beside its compiled code.
COPY src/console/templates ./dist/src/console/templates
COPY src/console/assets ./dist/src/console/assets
# Default config; compose mounts the deployment's own over it.
COPY hookflow.config.yaml ./
USER node
EXPOSE 3000
CMD ["node", "dist/src/api/server.js"]
