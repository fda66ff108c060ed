#!/usr/bin/env bash
# Build the image with podman here: `make image` (or infra/image_build.sh [--cold] [podman build args...]).
#   --cold   ignore the layer cache (what a first build costs)
# Env: FDA_IMAGE (tag, default localhost/fda:latest), BASE_IMAGE (default: the local debootstrap image).
# Prints the build time and the image size on its last line.
set -euo pipefail
source "$(dirname "$0")/podman_env.sh"

extra=()
for arg in "$@"; do
    case "$arg" in
        --cold) extra+=(--no-cache) ;;
        *) extra+=("$arg") ;;
    esac
done

ensure_tools
ensure_base_image
local_build_args

cd "$REPO_DIR"
t0=$SECONDS
# --format docker keeps HEALTHCHECK (the OCI image format has no field for it).
"${PODMAN[@]}" build --format docker -f infra/Dockerfile --ignorefile infra/Dockerfile.dockerignore \
    "${BUILD_ARGS[@]}" "${extra[@]}" -t "$FDA_IMAGE" .
size=$("${PODMAN[@]}" image inspect "$FDA_IMAGE" --format '{{.Size}}')
awk -v img="$FDA_IMAGE" -v s=$((SECONDS - t0)) -v b="$size" \
    'BEGIN { printf "built %s in %d s; size %.2f GB (%.0f bytes)\n", img, s, b / 1e9, b }'
