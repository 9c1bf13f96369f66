#!/bin/sh
# The dashboard image's entrypoint: renders the project's nginx.conf (and, when
# TLS is asked for, nginx-tls.conf) and the browser's runtime config.json from
# environment variables, checks the result with `nginx -t`, then runs nginx in
# the foreground. The API URL is decided here, at container start, never at
# build time, and the browser always talks to its own origin (/api/v1), which
# nginx proxies to BACKEND_URL: a Docker host name the browser cannot resolve
# never reaches it.
#
# Environment (defaults in brackets):
#   BACKEND_URL        the SSE service, http://host[:port] [http://sse-nginx:80]
#   DASHBOARD_LISTEN   nginx's listen address [3001]
#   API_BASE           the API base the page uses [/api/v1]
#   HEALTH_POLL_MS, STATS_POLL_MS   polling intervals [5000, 10000]
#   CSP_CONNECT_SRC    CSP connect-src ['self' blob:]; add an origin here when the
#                      dashboard's settings point the API elsewhere
#   TLS_LISTEN         e.g. 3443: also serve HTTPS with HTTP/2 [off]
#   TLS_CERTIFICATE, TLS_CERTIFICATE_KEY   PEM files [a self-signed pair made at start]
# Paths (for tests of this script outside the image):
#   DASHBOARD_ROOT [/usr/share/dashboard], DASHBOARD_TEMPLATES [/etc/dashboard],
#   NGINX_RUNTIME_DIR [/var/run/dashboard], NGINX_USER [nginx; empty: none]
set -eu

fail() {
    echo "dashboard: $*" >&2
    exit 64
}

: "${BACKEND_URL:=http://sse-nginx:80}"
: "${DASHBOARD_LISTEN:=3001}"
: "${API_BASE:=/api/v1}"
: "${HEALTH_POLL_MS:=5000}"
: "${STATS_POLL_MS:=10000}"
: "${CSP_CONNECT_SRC:='self' blob:}"
: "${TLS_LISTEN:=}"
: "${TLS_CERTIFICATE:=}"
: "${TLS_CERTIFICATE_KEY:=}"
: "${DASHBOARD_ROOT:=/usr/share/dashboard}"
: "${DASHBOARD_TEMPLATES:=/etc/dashboard}"
: "${NGINX_RUNTIME_DIR:=/var/run/dashboard}"
NGINX_USER=${NGINX_USER-nginx}

# nginx talks plain HTTP to the service inside the network: host:port only.
case "$BACKEND_URL" in
    http://*) ;;
    *) fail "BACKEND_URL must start with http:// (got '$BACKEND_URL'), e.g. http://sse-nginx:80" ;;
esac
BACKEND_ADDRESS=${BACKEND_URL#http://}
BACKEND_ADDRESS=${BACKEND_ADDRESS%/}
case "$BACKEND_ADDRESS" in
    '' | */* | *'?'* | *'#'* | *@* | *' '*)
        fail "BACKEND_URL must be an origin only, like http://sse-nginx:80 (got '$BACKEND_URL'); the dashboard adds /api/v1" ;;
    *:*) ;;
    *) BACKEND_ADDRESS="$BACKEND_ADDRESS:80" ;;
esac
for value in "$HEALTH_POLL_MS" "$STATS_POLL_MS"; do
    case "$value" in
        '' | *[!0-9]*) fail "HEALTH_POLL_MS and STATS_POLL_MS are milliseconds (digits only), got '$value'" ;;
    esac
done
case "$API_BASE" in
    *'"'* | *\\*) fail "API_BASE must not contain quotes or backslashes (got '$API_BASE')" ;;
esac

mkdir -p "$NGINX_RUNTIME_DIR/tls"
rm -f "$NGINX_RUNTIME_DIR"/tls/*.conf
export BACKEND_ADDRESS DASHBOARD_LISTEN DASHBOARD_ROOT NGINX_RUNTIME_DIR CSP_CONNECT_SRC
# shellcheck disable=SC2016 # the names are envsubst's, not the shell's
envsubst '${DASHBOARD_LISTEN} ${DASHBOARD_ROOT} ${BACKEND_ADDRESS} ${NGINX_RUNTIME_DIR} ${CSP_CONNECT_SRC}' \
    <"$DASHBOARD_TEMPLATES/nginx.conf" >"$NGINX_RUNTIME_DIR/nginx.conf"

if [ -n "$TLS_LISTEN" ]; then
    if [ -z "$TLS_CERTIFICATE" ]; then
        TLS_CERTIFICATE="$NGINX_RUNTIME_DIR/self-signed.crt"
        TLS_CERTIFICATE_KEY="$NGINX_RUNTIME_DIR/self-signed.key"
        openssl req -x509 -newkey rsa:2048 -nodes -days 30 -subj /CN=localhost \
            -addext "subjectAltName=DNS:localhost,IP:127.0.0.1" \
            -keyout "$TLS_CERTIFICATE_KEY" -out "$TLS_CERTIFICATE" 2>/dev/null ||
            fail "openssl could not make a self-signed certificate"
        echo "dashboard: TLS with a self-signed certificate (browsers will warn once)" >&2
    fi
    [ -n "$TLS_CERTIFICATE_KEY" ] || fail "TLS_CERTIFICATE is set but TLS_CERTIFICATE_KEY is not"
    export TLS_LISTEN TLS_CERTIFICATE TLS_CERTIFICATE_KEY
    # shellcheck disable=SC2016
    envsubst '${TLS_LISTEN} ${TLS_CERTIFICATE} ${TLS_CERTIFICATE_KEY}' \
        <"$DASHBOARD_TEMPLATES/nginx-tls.conf" >"$NGINX_RUNTIME_DIR/tls/listener.conf"
fi

# The browser's runtime settings; the build's pre-compressed copy would be stale.
printf '{\n  "api_base": "%s",\n  "health_poll_ms": %s,\n  "stats_poll_ms": %s\n}\n' \
    "$API_BASE" "$HEALTH_POLL_MS" "$STATS_POLL_MS" >"$DASHBOARD_ROOT/config.json"
rm -f "$DASHBOARD_ROOT/config.json.gz"

globals="daemon off;"
if [ -n "$NGINX_USER" ]; then
    globals="daemon off; user $NGINX_USER;"
    chown -R "$NGINX_USER" "$NGINX_RUNTIME_DIR"
fi
nginx -t -q -p "$NGINX_RUNTIME_DIR" -c "$NGINX_RUNTIME_DIR/nginx.conf" -g "$globals" ||
    fail "the rendered nginx configuration does not load (see above)"
echo "dashboard: serving on $DASHBOARD_LISTEN${TLS_LISTEN:+ and https on $TLS_LISTEN}, /api/ -> $BACKEND_URL" >&2
exec nginx -p "$NGINX_RUNTIME_DIR" -c "$NGINX_RUNTIME_DIR/nginx.conf" -g "$globals"
