# The dashboard image. Stage 1 builds the release bundle with the same pinned
# toolchain and the same commands as the project's tests (scripts/setup,
# scripts/build-bundle); stage 2 is nginx with the bundle, the project's
# nginx.conf as a template and an entrypoint that renders it at container start.
#
# Not built on the machine this project is developed on (it runs no Docker
# engine): the build steps are exactly the scripts the tests run, the
# entrypoint is run by the tests against Debian's nginx, and this file is
# checked with hadolint (README, "Docker").

FROM rust:1.95-bookworm AS builder
WORKDIR /src
# The toolchain: wasm32 target, trunk, wasm-bindgen-cli at the locked version,
# wasm-split-cli (the parts loaded on demand), npm packages (ECharts, esbuild,
# binaryen's wasm-opt) from package-lock.json.
COPY . .
RUN ./scripts/setup --build-only && ./scripts/build-bundle

FROM nginx:1.25-alpine
# openssl: the self-signed certificate when TLS_LISTEN is set without one.
RUN apk add --no-cache openssl=~3
COPY --from=builder /src/dist /usr/share/dashboard
COPY nginx.conf nginx-tls.conf nginx-instance.conf nginx-prometheus.conf /etc/dashboard/
COPY docker/entrypoint.sh /usr/local/bin/dashboard-entrypoint
ENV BACKEND_URL=http://sse-nginx:80 \
    DASHBOARD_LISTEN=3001 \
    API_BASE=/api/v1 \
    HEALTH_POLL_MS=5000 \
    STATS_POLL_MS=10000
EXPOSE 3001
HEALTHCHECK --interval=15s --timeout=3s --start-period=5s --retries=3 \
    CMD ["wget", "-q", "-O", "/dev/null", "http://127.0.0.1:3001/health"]
ENTRYPOINT ["/usr/local/bin/dashboard-entrypoint"]
