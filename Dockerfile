# syntax=docker/dockerfile:1
#
# Rapport: build with `docker build -t rapport .`, run with `docker run -p 3000:3000 rapport`
# (PGlite in /data) or with DATABASE_URL set (PostgreSQL). Any CLI command works too:
#   docker run --rm -e DATABASE_URL=... rapport keys create --workspace x
# Mount a volume on /data to keep the PGlite database; a named volume takes the image's ownership
# of /data (the `node` user), a bind mount must be writable by uid 1000.

# Override with --build-arg, e.g. a digest-pinned node:20-bookworm-slim@sha256:...
ARG NODE_IMAGE=node:20-bookworm-slim

# ---- build: full install, compile TypeScript, then drop the dev dependencies ----
FROM ${NODE_IMAGE} AS build
WORKDIR /app
COPY package.json package-lock.json ./
RUN npm ci --no-audit --no-fund
COPY tsconfig.json tsconfig.build.json ./
COPY src ./src
RUN npm run build \
 && npm prune --omit=dev --no-audit --no-fund

# ---- runtime: production node_modules and the compiled output only ----
FROM ${NODE_IMAGE} AS runtime
ENV NODE_ENV=production \
    HOST=0.0.0.0 \
    PORT=3000 \
    DATA_DIR=/data
WORKDIR /app
# Application files stay owned by root (read-only to the app); only /data is writable by `node`.
COPY --from=build /app/node_modules ./node_modules
COPY --from=build /app/dist ./dist
COPY bin ./bin
COPY migrations ./migrations
COPY package.json ./
RUN mkdir -p /data && chown node:node /data
USER node
EXPOSE 3000
# No curl in the slim image: node's own fetch probes the liveness endpoint.
HEALTHCHECK --interval=30s --timeout=5s --start-period=30s --retries=3 \
  CMD ["node", "-e", "fetch('http://127.0.0.1:'+(process.env.PORT||3000)+'/healthz').then(r=>process.exit(r.ok?0:1),()=>process.exit(1))"]
# The server drains in-flight requests on SIGTERM (SHUTDOWN_TIMEOUT_MS, default 10 s).
STOPSIGNAL SIGTERM
ENTRYPOINT ["node", "bin/rapport.js"]
CMD ["serve"]
