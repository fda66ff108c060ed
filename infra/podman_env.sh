# Sourced by infra/image_build.sh and infra/image_test.sh: podman on this machine (docs/deployment.md).
# Docker's engine is absent here; Debian's podman + runc build and run the same Dockerfile.
# shellcheck shell=bash

INFRA_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
REPO_DIR=$(dirname "$INFRA_DIR")
export CONTAINERS_CONF=${CONTAINERS_CONF:-$INFRA_DIR/containers.conf}
FDA_IMAGE=${FDA_IMAGE:-localhost/fda:latest}
# Nothing can be pulled here, so the base is a Debian bookworm made with debootstrap (python3 is 3.11).
BASE_IMAGE=${BASE_IMAGE:-localhost/debian:bookworm-minbase}
PODMAN=(podman --runtime runc)

log() { printf '[%s] %s\n' "$(basename "$0")" "$*" >&2; }

# podman, runc and debootstrap from apt, once (needs root; a no-op when they are there).
ensure_tools() {
    local missing=()
    command -v podman >/dev/null || missing+=(podman)
    command -v runc >/dev/null || missing+=(runc)
    command -v debootstrap >/dev/null || missing+=(debootstrap)
    # `podman run --init` (image_test.sh, compose's init: true) needs it; podman does not depend on it
    [[ -x /usr/libexec/podman/catatonit ]] || command -v catatonit >/dev/null || missing+=(catatonit)
    ((${#missing[@]} == 0)) && return 0
    if [[ $(id -u) -ne 0 ]] || ! command -v apt-get >/dev/null; then
        log "missing ${missing[*]}: install them (Debian: apt-get install -y podman runc debootstrap catatonit)"
        return 1
    fi
    log "installing ${missing[*]} with apt-get"
    apt-get update -qq
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
}

# The local base image, made once: debootstrap minbase bookworm (~1 min), imported into podman.
ensure_base_image() {
    if "${PODMAN[@]}" image exists "$BASE_IMAGE"; then
        return 0
    fi
    if [[ $BASE_IMAGE != localhost/debian:* ]]; then
        log "base image $BASE_IMAGE is not here; podman will try to pull it"
        return 0
    fi
    local suite=${BASE_IMAGE#localhost/debian:}
    suite=${suite%%-*}
    local rootfs
    rootfs=$(mktemp -d /var/tmp/fda-rootfs.XXXXXX)
    log "creating $BASE_IMAGE with debootstrap --variant=minbase $suite"
    if ! debootstrap --variant=minbase "$suite" "$rootfs" "${DEBIAN_MIRROR:-http://deb.debian.org/debian}" \
        >"$rootfs.log" 2>&1; then
        tail -20 "$rootfs.log" >&2
        rm -rf "$rootfs"
        return 1
    fi
    rm -rf "$rootfs"/var/cache/apt/archives/*.deb "$rootfs"/var/lib/apt/lists/*
    tar -C "$rootfs" -c . | "${PODMAN[@]}" import --change 'CMD ["/bin/bash"]' - "$BASE_IMAGE" >/dev/null
    rm -rf "$rootfs" "$rootfs.log"
    log "created $BASE_IMAGE"
}

# Build arguments and mounts that let the build use this machine's pip setup: the local CPU torch
# wheel folder, file:// package mirrors, and the CA bundle of the TLS-inspecting proxy. Elsewhere none
# of these exist and the Dockerfile's defaults apply (PyPI + download.pytorch.org/whl/cpu).
local_build_args() {
    BUILD_ARGS=(--build-arg "BASE_IMAGE=$BASE_IMAGE")
    if compgen -G "${FDA_WHEELS_DIR:-/opt/wheels}/torch-*.whl" >/dev/null; then
        BUILD_ARGS+=(-v "${FDA_WHEELS_DIR:-/opt/wheels}:/wheels:ro" --build-arg TORCH_INDEX_URL=)
    fi
    local extra=() url root
    for url in $(pip config get global.extra-index-url 2>/dev/null || true); do
        if [[ $url == file://* && -d ${url#file://} ]]; then
            # the index pages link to ../files: mount the mirror's root at the same path
            root=$(dirname "${url#file://}")
            BUILD_ARGS+=(-v "$root:$root:ro")
            extra+=("$url")
        fi
    done
    if ((${#extra[@]})); then
        BUILD_ARGS+=(--build-arg "PIP_EXTRA_INDEXES=${extra[*]}")
    fi
    if [[ -f /etc/ssl/certs/ca-certificates.crt ]]; then
        BUILD_ARGS+=(-v /etc/ssl/certs/ca-certificates.crt:/run/host-ca.crt:ro --build-arg CA_CERT=/run/host-ca.crt)
    fi
}
