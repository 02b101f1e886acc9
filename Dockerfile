# keyhole container image: `keyhole serve` as a non-root user, config from a mounted file plus environment variables,
# data (the SQLite database) in a volume.
#
#   docker build -t keyhole .
#   docker run -d -p 8787:8787 \
#     -v "$PWD/keyhole.json:/etc/keyhole/keyhole.json:ro" -v keyhole-data:/var/lib/keyhole \
#     -e KEYHOLE_MASTER_KEY -e KEYHOLE_ADMIN_TOKEN -e CRM_CLIENT_SECRET keyhole
#
# The config must listen on 0.0.0.0 inside the container and keep its database under /var/lib/keyhole
# (examples/docker/keyhole.json). Keep KEYHOLE_MASTER_KEY out of the image and out of the volume's backups.
#
# What was tested (2026-12-01, podman 4.3 on Debian 12, in a sandbox without access to Docker Hub):
#   NOT tested: the default base node:20-bookworm-slim could not be pulled. Instead NODE_IMAGE was a stand-in built
#   locally (debootstrap --variant=minbase bookworm + the host's Node 20.20.2 and npm in /usr/local, plus the sandbox's
#   egress CA and npm_config_nodedir, which only that sandbox needs) and:
#     podman build --format docker --isolation chroot --network host --build-arg NODE_IMAGE=<stand-in> -t keyhole .
#   built all three stages (better-sqlite3 compiled in the install stage; no oidc-provider, keytar or typescript in the
#   image). `podman --runtime runc run` (crun cannot run here: cgroup v1) with the mounted examples/docker/keyhole.json,
#   a volume and env: keyhole listened as uid 999 (keyhole), the database was created 0600 in the volume, discovery
#   answered 200, `podman healthcheck run` exited 0, `grants list --url` and `check --config` ran in the container,
#   and `podman stop` ended it with exit code 0. The periodic HEALTHCHECK schedule was not observed (podman schedules it
#   through systemd, absent here). `docker build` itself was not run: no Docker daemon.
# NODE_IMAGE lets a build use a local or mirrored Node 20 base; the default is the official slim image.
ARG NODE_IMAGE=node:20-bookworm-slim

# ---- build: compile TypeScript and pack the package exactly as npm would publish it --------------------------------
FROM ${NODE_IMAGE} AS build
RUN apt-get update && apt-get install -y --no-install-recommends python3 make g++ ca-certificates \
  && rm -rf /var/lib/apt/lists/*
WORKDIR /src
COPY package.json package-lock.json ./
# Dependencies first (cached while only sources change); scripts off: `prepare` would build before the sources exist.
RUN npm ci --ignore-scripts --no-audit --no-fund
COPY tsconfig.json tsconfig.build.json keyhole.schema.json CHANGELOG.md README.md SECURITY.md ./
COPY bin ./bin
COPY src ./src
COPY views ./views
COPY examples/demo ./examples/demo
RUN npm run build && npm pack --ignore-scripts --pack-destination /tmp && mv /tmp/mcp-keyhole-*.tgz /tmp/mcp-keyhole.tgz

# ---- install: the production dependencies only (no oidc-provider, no keytar: no keychain in a container) -----------
FROM ${NODE_IMAGE} AS install
RUN apt-get update && apt-get install -y --no-install-recommends python3 make g++ \
  && rm -rf /var/lib/apt/lists/*
WORKDIR /opt/keyhole
COPY --from=build /tmp/mcp-keyhole.tgz /tmp/
RUN echo '{"name":"keyhole-image","private":true}' > package.json \
  && npm install --omit=optional --omit=dev --no-audit --no-fund /tmp/mcp-keyhole.tgz \
  && npm cache clean --force

# ---- runtime ----------------------------------------------------------------------------------------------------------
FROM ${NODE_IMAGE}
ENV NODE_ENV=production
COPY --from=install /opt/keyhole /opt/keyhole
RUN groupadd --system keyhole && useradd --system --gid keyhole --home-dir /var/lib/keyhole --shell /usr/sbin/nologin keyhole \
  && mkdir -p /var/lib/keyhole /etc/keyhole && chown keyhole:keyhole /var/lib/keyhole
USER keyhole
WORKDIR /var/lib/keyhole
VOLUME ["/var/lib/keyhole"]
EXPOSE 8787
# /healthz answers 200 while the process serves (/readyz is for load balancers: it checks the database and keyring).
# The image was run (above) with the earlier probe, /.well-known/oauth-authorization-server; /healthz came later and
# was not run in the container. Node's fetch, because the slim image has no curl.
# KEYHOLE_HEALTHCHECK_URL overrides it (e.g. https://127.0.0.1:8443/healthz with listen.tls and a trusted certificate).
ENV KEYHOLE_HEALTHCHECK_URL=http://127.0.0.1:8787/healthz
HEALTHCHECK --interval=30s --timeout=5s --start-period=10s --retries=3 \
  CMD ["node", "-e", "fetch(process.env.KEYHOLE_HEALTHCHECK_URL).then((r) => process.exit(r.ok ? 0 : 1), () => process.exit(1))"]
ENTRYPOINT ["node", "/opt/keyhole/node_modules/mcp-keyhole/bin/keyhole.js"]
CMD ["serve", "--config", "/etc/keyhole/keyhole.json"]
