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
#   BACKEND_INSTANCES  the instances behind BACKEND_URL, each watched on its own:
#                      "app-1=http://sse-app-1:8000,app-2=http://sse-app-2:8000" [none];
#                      each is proxied at /instances/<name>/ and listed in config.json
#   PROMETHEUS_URL     the Prometheus server that scrapes the service, e.g.
#                      http://sse-prometheus:9090 [none]: proxied at /prometheus/ (reads
#                      only, no credentials passed) and named in config.json
#   PROMETHEUS_JOB     the job label of the service's scrapes on that server [none: all]
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
# address_of VARIABLE URL: prints host:port of URL, or fails naming VARIABLE.
address_of() {
    case "$2" in
        http://*) ;;
        *) fail "$1 must start with http:// (got '$2'), e.g. http://sse-nginx:80" ;;
    esac
    address=${2#http://}
    address=${address%/}
    case "$address" in
        '' | */* | *'?'* | *'#'* | *@* | *' '*)
            fail "$1 must be an origin only, like http://sse-nginx:80 (got '$2'); the dashboard adds /api/v1" ;;
        *:*) echo "$address" ;;
        *) echo "$address:80" ;;
    esac
}
BACKEND_ADDRESS=$(address_of BACKEND_URL "$BACKEND_URL")
for value in "$HEALTH_POLL_MS" "$STATS_POLL_MS"; do
    case "$value" in
        '' | *[!0-9]*) fail "HEALTH_POLL_MS and STATS_POLL_MS are milliseconds (digits only), got '$value'" ;;
    esac
done
case "$API_BASE" in
    *'"'* | *\\*) fail "API_BASE must not contain quotes or backslashes (got '$API_BASE')" ;;
esac

mkdir -p "$NGINX_RUNTIME_DIR/tls" "$NGINX_RUNTIME_DIR/instances" "$NGINX_RUNTIME_DIR/prometheus"
rm -f "$NGINX_RUNTIME_DIR"/tls/*.conf "$NGINX_RUNTIME_DIR"/instances/*.conf "$NGINX_RUNTIME_DIR"/prometheus/*.conf

# The Prometheus server (nginx-prometheus.conf), when there is one.
: "${PROMETHEUS_URL:=}"
: "${PROMETHEUS_JOB:=}"
prometheus_json=""
if [ -n "$PROMETHEUS_URL" ]; then
    PROMETHEUS_ADDRESS=$(address_of PROMETHEUS_URL "$PROMETHEUS_URL")
    export PROMETHEUS_ADDRESS
    # shellcheck disable=SC2016 # the name is envsubst's, not the shell's
    envsubst '${PROMETHEUS_ADDRESS}' \
        <"$DASHBOARD_TEMPLATES/nginx-prometheus.conf" >"$NGINX_RUNTIME_DIR/prometheus/prometheus.conf"
    case "$PROMETHEUS_JOB" in
        *[!A-Za-z0-9_.:-]*) fail "PROMETHEUS_JOB must be a job label (letters, digits, _ - . :), got '$PROMETHEUS_JOB'" ;;
    esac
    prometheus_json=",\n  \"prometheus\": \"/prometheus\",\n  \"prometheus_job\": \"$PROMETHEUS_JOB\""
fi

# One location pair per instance (nginx-instance.conf), and config.json's list.
: "${BACKEND_INSTANCES:=}"
instances_json=""
set -f
old_ifs=$IFS
IFS=','
for item in $BACKEND_INSTANCES; do
    IFS=$old_ifs
    item=$(printf '%s' "$item" | tr -d ' \t')
    [ -n "$item" ] || continue
    name=${item%%=*}
    [ "$name" != "$item" ] || fail "BACKEND_INSTANCES: '$item' is not name=http://host:port (e.g. app-1=http://sse-app-1:8000)"
    case "$name" in
        '' | [!A-Za-z0-9]* | *[!A-Za-z0-9._-]*)
            fail "BACKEND_INSTANCES: '$name' is not an instance name: letters, digits, '.', '_' or '-', starting with a letter or digit" ;;
    esac
    [ "${#name}" -le 40 ] || fail "BACKEND_INSTANCES: the name '$name' is longer than 40 characters"
    [ ! -e "$NGINX_RUNTIME_DIR/instances/$name.conf" ] || fail "BACKEND_INSTANCES: $name is given twice"
    INSTANCE_ADDRESS=$(address_of "BACKEND_INSTANCES ($name)" "${item#*=}")
    INSTANCE_NAME=$name
    export INSTANCE_NAME INSTANCE_ADDRESS
    # shellcheck disable=SC2016 # the names are envsubst's, not the shell's
    envsubst '${INSTANCE_NAME} ${INSTANCE_ADDRESS}' \
        <"$DASHBOARD_TEMPLATES/nginx-instance.conf" >"$NGINX_RUNTIME_DIR/instances/$name.conf"
    instances_json="$instances_json${instances_json:+,}
    {\"name\": \"$name\", \"api_base\": \"/instances/$name/api/v1\"}"
    IFS=','
done
IFS=$old_ifs
set +f
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
printf '{\n  "api_base": "%s",\n  "health_poll_ms": %s,\n  "stats_poll_ms": %s,\n  "instances": [%s\n  ]%b\n}\n' \
    "$API_BASE" "$HEALTH_POLL_MS" "$STATS_POLL_MS" "$instances_json" "$prometheus_json" >"$DASHBOARD_ROOT/config.json"
rm -f "$DASHBOARD_ROOT/config.json.gz"

globals="daemon off;"
if [ -n "$NGINX_USER" ]; then
    globals="daemon off; user $NGINX_USER;"
    chown -R "$NGINX_USER" "$NGINX_RUNTIME_DIR"
fi
nginx -t -q -p "$NGINX_RUNTIME_DIR" -c "$NGINX_RUNTIME_DIR/nginx.conf" -g "$globals" ||
    fail "the rendered nginx configuration does not load (see above)"
echo "dashboard: serving on $DASHBOARD_LISTEN${TLS_LISTEN:+ and https on $TLS_LISTEN}, /api/ -> $BACKEND_URL${BACKEND_INSTANCES:+, instances $BACKEND_INSTANCES}${PROMETHEUS_URL:+, /prometheus/ -> $PROMETHEUS_URL}" >&2
exec nginx -p "$NGINX_RUNTIME_DIR" -c "$NGINX_RUNTIME_DIR/nginx.conf" -g "$globals"
