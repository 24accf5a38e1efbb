# syntax=docker/dockerfile:1
# JTS auth server. Build: docker build -t jts-auth-server .
# Keys are mounted at run time (see docker-compose.yml), never baked into the image.

# Node.js 26, the Active LTS line (since 2026-10-28, end of life 2029-04-30). Debian slim (glibc): bcrypt's
# prebuilt N-API binaries need glibc. .ci/run runs the test suite on this major too (it reads it from here).
ARG NODE_IMAGE=node:26-slim

# --- build: full dependencies, compile TypeScript (the verifier package, the server, the page's client)
FROM ${NODE_IMAGE} AS build
WORKDIR /app
COPY package.json package-lock.json ./
# The verifier package is an npm workspace the server depends on: npm ci links it into node_modules.
COPY packages/verifier/package.json ./packages/verifier/
RUN npm ci --no-audit --no-fund
COPY tsconfig.json tsconfig.build.json tsconfig.client.json ./
COPY packages/verifier/tsconfig.json ./packages/verifier/
COPY packages/verifier/src ./packages/verifier/src
COPY scripts ./scripts
COPY src ./src
COPY public ./public
RUN npm run build

# --- runtime: production dependencies only, non-root ------------------------------------------
FROM ${NODE_IMAGE} AS runtime
ENV NODE_ENV=production \
    PORT=3000 \
    HOST=0.0.0.0
WORKDIR /app
COPY package.json package-lock.json ./
COPY packages/verifier/package.json ./packages/verifier/
# bcrypt ships prebuilt binaries for linux x64/arm64 (glibc), so no compiler is needed here.
RUN npm ci --omit=dev --no-audit --no-fund && npm cache clean --force
# node_modules/@jts-auth/verifier links to packages/verifier: the server imports its build from there.
COPY --from=build /app/packages/verifier/dist ./packages/verifier/dist
COPY --from=build /app/dist ./dist
COPY --from=build /app/public ./public
# `npm run user|keygen|db:migrate` call it first; without src/ it has nothing to build.
COPY --from=build /app/scripts/ensure-built.mjs ./scripts/
# The server only reads /app/keys (mounted read-only); nothing in /app is writable by it.
USER node
EXPOSE 3000
# Slim images have no curl: ask /healthz with node itself.
HEALTHCHECK --interval=15s --timeout=3s --start-period=10s --retries=3 \
  CMD ["node", "-e", "require('http').get({host:'127.0.0.1',port:process.env.PORT,path:'/healthz',timeout:2000},r=>process.exit(r.statusCode===200?0:1)).on('error',()=>process.exit(1))"]
# node as PID 1 receives SIGTERM directly and drains (see SHUTDOWN_DELAY / SHUTDOWN_TIMEOUT).
CMD ["node", "dist/server.js"]
