#!/usr/bin/env bash
# CI: the Docker image and the compose stack, tested for real.
#   1. a Docker engine and the stand-in base images (../shared/docker/prepare-engine.sh, as root);
#   2. build the image; run it; deploy/smoke.py against it; `docker stop` must exit 0;
#   3. `docker compose up` (3 replicas behind nginx, published on 127.0.0.1 only); deploy/smoke.py
#      through nginx; more than one replica must have served; a replica stopped under a steady
#      stream of requests fails none of them; every replica exits 0 when stopped; no log line
#      holds more than 120 characters of a long path, query or header the smoke test sent.
# Teardown always runs (trap) and removes only what this script made; it stops the engine only
# if this script started it.
set -euo pipefail
cd "$(dirname "$0")/.."
SHARED=$(cd ../shared/docker && pwd)
RUN_ID=ci-$$
IMAGE=loss-service:$RUN_ID
CONTAINER=loss-service-$RUN_ID
PROJECT=loss-service-$RUN_ID
# prepare-engine.sh writes this file only when it starts dockerd itself; stop-engine.sh stops
# the engine only when the file exists. A per-run file: an engine someone else started stays up.
export DOCKERD_PID_FILE=/tmp/loss-service-dockerd-$RUN_ID.pid

t0=$(date +%s)
step() { printf '[docker-test %4ss] %s\n' "$(( $(date +%s) - t0 ))" "$*"; }

teardown() {
  local status=$?
  step "teardown"
  [ -z "${load:-}" ] || kill "$load" 2>/dev/null || true
  if docker info >/dev/null 2>&1; then
    if [ "$status" -ne 0 ]; then
      docker logs --tail 30 "$CONTAINER" 2>&1 || true
      docker compose -p "$PROJECT" logs --no-color --tail 30 2>&1 || true
    fi
    docker rm -f "$CONTAINER" >/dev/null 2>&1 || true
    docker compose -p "$PROJECT" down --volumes --remove-orphans --rmi local >/dev/null 2>&1 || true
    docker image rm "$IMAGE" >/dev/null 2>&1 || true
  fi
  bash "$SHARED/stop-engine.sh" || true
  exit "$status"
}
trap teardown EXIT

free_port() { python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'; }

# Waits for a container's HEALTHCHECK to report healthy (bounded: 90 s).
wait_healthy() {
  for _ in $(seq 1 90); do
    case $(docker inspect -f '{{.State.Health.Status}}' "$1") in
      healthy) return 0 ;;
      unhealthy) break ;;
    esac
    sleep 1
  done
  echo "container $1 did not become healthy" >&2
  return 1
}

# `docker stop` sends SIGTERM: the server drains and must exit 0.
assert_exited_0() {
  local code
  code=$(docker inspect -f '{{.State.ExitCode}}' "$1")
  [ "$code" = 0 ] || { echo "container $1 exited with $code, not 0" >&2; return 1; }
}

step "engine and stand-in base images"
bash "$SHARED/prepare-engine.sh"

step "build $IMAGE"
docker build --quiet --tag "$IMAGE" . >/dev/null

step "run the image"
BODY_LIMIT=65536
docker run --detach --name "$CONTAINER" --publish 127.0.0.1::8000 --read-only --tmpfs /tmp \
  --env LOSS_SERVICE_MAX_BODY_BYTES=$BODY_LIMIT --env LOSS_SERVICE_DRAIN_SECONDS=1 "$IMAGE" >/dev/null
[ "$(docker exec "$CONTAINER" id -u)" != 0 ] || { echo "the image runs as root" >&2; exit 1; }
wait_healthy "$CONTAINER"
port=$(docker port "$CONTAINER" 8000/tcp)
port=${port%%$'\n'*}
port=${port##*:}
python3 deploy/smoke.py "http://127.0.0.1:$port" --body-limit $BODY_LIMIT --request-id "$RUN_ID-image"
docker stop --time 30 "$CONTAINER" >/dev/null
assert_exited_0 "$CONTAINER"
case $(docker logs "$CONTAINER" 2>&1) in
  *'"SIGTERM: /readyz answers 503'*) ;;
  *) echo "no drain on SIGTERM in the container's log" >&2; exit 1 ;;
esac
if docker logs "$CONTAINER" 2>&1 | grep -E 'Z{121}' | cut -c1-200; then
  echo "a log line holds the smoke test's long path, query or header (above, cut)" >&2; exit 1
fi

step "compose up: replicas behind nginx"
export LOSS_SERVICE_PUBLISH_PORT
LOSS_SERVICE_PUBLISH_PORT=$(free_port)
docker compose -p "$PROJECT" config --quiet
docker compose -p "$PROJECT" build --quiet
docker compose -p "$PROJECT" up --detach --no-build --wait --quiet-pull
replicas=$(docker compose -p "$PROJECT" ps --quiet loss-service | wc -l)
[ "$replicas" -ge 2 ] || { echo "only $replicas replica(s) running" >&2; exit 1; }
python3 deploy/smoke.py "http://127.0.0.1:$LOSS_SERVICE_PUBLISH_PORT" \
  --min-instances 2 --request-id "$RUN_ID-compose"

# The replicas' own JSON access logs: which of them served the smoke test's cross-entropy requests.
logs=$(docker compose -p "$PROJECT" logs --no-color loss-service)
served=$(grep -F "\"request_id\":\"$RUN_ID-compose-" <<<"$logs" | grep -F '"route":"/v1/cross-entropy/' \
  | cut -d' ' -f1 | sort -u | wc -l || true)
step "$served of $replicas replicas logged the smoke test's cross-entropy requests"
[ "$served" -ge 2 ] || { echo "the requests did not spread over the replicas" >&2; exit 1; }

step "no log line of nginx or a replica carries more than 120 characters a client sent"
if docker compose -p "$PROJECT" logs --no-color | grep -E 'Z{121}' | cut -c1-200; then
  echo "a log line holds the smoke test's long path, query or header (above, cut)" >&2; exit 1
fi
grep -qF '"path":"/v1/ZZZZ' <<<"$(docker compose -p "$PROJECT" logs --no-color nginx)" \
  || { echo "nginx did not log the long path in its clipped JSON format" >&2; exit 1; }

step "a replica stops while requests flow through nginx: not one may fail"
python3 deploy/smoke.py "http://127.0.0.1:$LOSS_SERVICE_PUBLISH_PORT" --steady 12 \
  --request-id "$RUN_ID-steady" &
load=$!
sleep 3
# (All of ps's output, then its first line: `| head -n 1` could kill ps with SIGPIPE.)
running=$(docker compose -p "$PROJECT" ps --quiet loss-service)
victim=${running%%$'\n'*}
docker stop --time 30 "$victim" >/dev/null
assert_exited_0 "$victim"
wait "$load"

step "compose stop: every replica drains and exits 0"
docker compose -p "$PROJECT" stop >/dev/null
for id in $(docker compose -p "$PROJECT" ps --all --quiet loss-service); do assert_exited_0 "$id"; done

step "passed"
