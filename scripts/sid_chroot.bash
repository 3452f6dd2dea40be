# scripts/sid_chroot.bash — the newest Home Assistant for scripts/test, scripts/e2e and scripts/demo:
# a host Python >= 3.14.2 if there is one, else a Debian sid chroot kept outside the repo (root only).
# Sourced, not run (except by itself, for --run-private below). The caller sets `repo` (the repo's
# absolute path) and `sid_tag` (the prefix of messages), and may define `die`.
#
# Functions:
#   latest_python          print the newest host Python >= 3.14.2, or fail
#   sid_root               print the chroot's path
#   sid_ready              whether the chroot is built and its venv is up to date (nothing to build)
#   sid_prepare [try]      as root: take the lock (fd 9; waits, or with `try` returns 2 when it is
#                          busy), remove mounts left by a killed run, build the chroot when needed
#   sid_run_private ARGS   run VAR=value... COMMAND... in the chroot, in a mount namespace of its own
#   in_chroot ROOT ARGS    run a command in the chroot (the caller mounts what it needs)
# DEVELOPERS.md ("The sid chroot") describes the layout, the lock and the mounts.

declare -F die > /dev/null || die() {
    echo "${sid_tag:-chroot}: $*" >&2
    exit 1
}
sid_lib=$(realpath "${BASH_SOURCE[0]}")

# ---------------------------------------------------------------------------------------------
# --latest-ha on the host: the newest Python >= 3.14.2 found (PATH first, then pyenv installs).
# ---------------------------------------------------------------------------------------------
latest_python() {
    local best="" best_ver="" cand ver
    for cand in python3.16 python3.15 python3.14 python3 \
        $(ls -d "${PYENV_ROOT:-$HOME/.pyenv}"/versions/3.1[4-9]*/bin/python3 2>/dev/null); do
        command -v "$cand" >/dev/null 2>&1 || continue
        ver=$("$cand" -c 'import sys; print("%d.%03d.%03d" % sys.version_info[:3])' 2>/dev/null) || continue
        [[ "$ver" < "3.014.002" ]] && continue
        if [[ -z "$best_ver" || "$ver" > "$best_ver" ]]; then best=$(command -v "$cand"); best_ver=$ver; fi
    done
    [[ -n "$best" ]] && echo "$best"
}

# ---------------------------------------------------------------------------------------------
# --latest-ha in a Debian sid chroot (root only). Layout, outside the repo so fresh clones reuse it:
#   $HPR_CHROOT            the chroot; /opt/venv in it is the venv, /src the repo (bind mount)
#   $HPR_CHROOT.lock       flock: one run at a time builds, mounts and tests
#   $HPR_CHROOT.partial    a build under way; renamed to $HPR_CHROOT when complete
#   $HPR_CHROOT.build.log  debootstrap and apt output of the last build
#   $HPR_CHROOT/.hpr-chroot-ok  written last; holds $recipe; missing or different means rebuild
# ---------------------------------------------------------------------------------------------
# Packages: the interpreter and venv; a C toolchain and Python headers for any dependency that has
# no wheel for this Python (with HA 2026.10.4 none needed compiling; two pure-Python sdists are
# built, mock-open and PyRIC); git for pip's VCS requirements.
chroot_packages=(python3 python3-venv python3-dev gcc libc6-dev git)
recipe="hpr-chroot v1: debootstrap --variant=minbase sid; apt-get install ${chroot_packages[*]}"
ca_bundle=/etc/ssl/certs/ca-certificates.crt
# Packages the e2e's Home Assistant in the chroot must not try to install (scripts/e2e passes them
# as `hass --skip-pip-packages`): the voice pipeline's. From 2026.x Home Assistant loads
# assist_satellite, and so assist_pipeline, in every installation; these two have no wheels for
# Python 3.14 and need a C++ compiler the chroot lacks. Each start would try three builds of each
# (over a minute, past the start-up time-outs on the fast clock); skipped, assist_pipeline just
# fails to set up, which the e2e does not mind. The demo cannot skip them (without them the
# frontend's list of actions fails and it never loads): scripts/demo installs g++ and builds them.
sid_skip_pip_packages=pymicro-vad,pyspeex-noise

# Unmount everything mounted strictly below $1, deepest first (reverse sort puts children first).
unmount_under() {
    local dir mp
    dir=$(realpath -m "$1")
    awk -v p="$dir/" 'index($5, p) == 1 { print $5 }' /proc/self/mountinfo | sort -r |
        while read -r mp; do
            mp=$(printf '%b' "$mp") # mountinfo writes a space as \040
            umount "$mp" 2>/dev/null || umount -l "$mp" || echo "$sid_tag: could not unmount $mp" >&2
        done
}

# rm -rf a chroot folder, but never while anything is mounted under it (that would delete the
# mounted /dev or the repo), and never across file systems.
safe_rm() {
    local dir
    dir=$(realpath -m "$1")
    [[ "$dir" == /*/* ]] || die "refusing to delete '$dir'"
    [[ -e "$dir" ]] || return 0
    if awk -v p="$dir/" 'index($5, p) == 1 { found = 1 } END { exit !found }' /proc/self/mountinfo; then
        die "refusing to delete $dir: something is still mounted under it"
    fi
    rm -rf --one-file-system -- "$dir"
}

# The environment of a command in the chroot, in the array sid_env: only what is needed passes from
# the host. Host paths (pip's find-links, pyenv, a virtualenv) mean nothing in there, so they stay out.
chroot_env() {
    local v
    sid_env=(
        HOME=/root PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin
        LANG=C.UTF-8 LC_ALL=C.UTF-8 TERM="${TERM:-dumb}" DEBIAN_FRONTEND=noninteractive
        CI="${CI:-}"
        # The host CA bundle, copied in: the registries may sit behind a TLS proxy with its own CA.
        PIP_CERT="$ca_bundle" SSL_CERT_FILE="$ca_bundle" REQUESTS_CA_BUNDLE="$ca_bundle"
        CURL_CA_BUNDLE="$ca_bundle" GIT_SSL_CAINFO="$ca_bundle"
        PIP_DISABLE_PIP_VERSION_CHECK=1 PIP_DEFAULT_TIMEOUT="${PIP_DEFAULT_TIMEOUT:-120}"
    )
    for v in http_proxy https_proxy no_proxy HTTP_PROXY HTTPS_PROXY NO_PROXY \
        PIP_INDEX_URL PIP_EXTRA_INDEX_URL PIP_TRUSTED_HOST PYTEST_ADDOPTS; do
        # file:// indexes are host folders; leave them behind.
        if [[ -n "${!v:-}" && "${!v}" != *file:* ]]; then sid_env+=("$v=${!v}"); fi
    done
}

# Run a command in chroot $1 with that clean environment.
in_chroot() {
    local root=$1
    shift
    chroot_env
    chroot "$root" /usr/bin/env -i "${sid_env[@]}" "$@"
}

# Files the chroot takes from the host at every build and run (the host's may change).
refresh_host_files() {
    local root=$1
    mkdir -p "$root/etc/ssl/certs"
    cp "$ca_bundle" "$root$ca_bundle"
    cp -L /etc/resolv.conf "$root/etc/resolv.conf" 2>/dev/null || true
}

# /proc, /sys (read-only), /dev, /dev/pts and a fresh /dev/shm. Each bind is made private at once so
# nothing mounted below it can propagate back to the host's /dev (on hosts where / is shared).
bind_private() {
    # bind_private SRC DST [ro]
    mkdir -p "$2"
    mount --bind "$1" "$2"
    mount --make-private "$2"
    if [[ "${3:-}" == ro ]]; then mount -o remount,bind,ro "$2"; fi
}

mount_basics() {
    local root=$1
    mount -t proc proc "$root/proc"
    bind_private /sys "$root/sys" ro
    bind_private /dev "$root/dev"
    bind_private /dev/pts "$root/dev/pts"
    mount -t tmpfs -o mode=1777 tmpfs "$root/dev/shm"
}

build_chroot() {
    local root=$1 tmp=$1.partial log=$1.build.log t0=$SECONDS
    unmount_under "$tmp"
    safe_rm "$tmp" # an interrupted earlier build
    echo "$sid_tag: building the Debian sid chroot in $root (about 1-5 min; log $log)"
    : >"$log"
    debootstrap --variant=minbase sid "$tmp" >>"$log" 2>&1 ||
        { tail -n 30 "$log" >&2; die "debootstrap failed (log $log)"; }
    echo "$sid_tag: debootstrap done in $((SECONDS - t0)) s"
    # The mirror may serve a snapshot whose Release file is past its Valid-Until date; debootstrap
    # does not check that, apt does. Accept it: signatures are still checked.
    echo 'Acquire::Check-Valid-Until "false";' >"$tmp/etc/apt/apt.conf.d/99hpr-no-valid-until"
    refresh_host_files "$tmp"
    mount_basics "$tmp"
    local t1=$SECONDS
    { in_chroot "$tmp" apt-get update &&
        in_chroot "$tmp" apt-get install -y --no-install-recommends "${chroot_packages[@]}"; } >>"$log" 2>&1 ||
        { tail -n 30 "$log" >&2; unmount_under "$tmp"; die "apt-get in the chroot failed (log $log)"; }
    unmount_under "$tmp"
    echo "$sid_tag: apt-get install in the chroot done in $((SECONDS - t1)) s"
    mkdir -p "$tmp/src" "$tmp/opt"
    echo "$recipe" >"$tmp/.hpr-chroot-ok" # last: marks the build complete
    unmount_under "$root"
    safe_rm "$root"
    mv "$tmp" "$root"
    echo "$sid_tag: chroot built in $((SECONDS - t0)) s"
}

chroot_cleanup() {
    # EXIT trap: always unmount, after success, failure or Ctrl-C.
    [[ -n "${chroot_root:-}" ]] || return 0
    unmount_under "$chroot_root"
    unmount_under "$chroot_root.partial"
}


sid_root() {
    realpath -m "${HPR_CHROOT:-/var/cache/heat-pump-reset/sid}"
}

# Whether the chroot can be used at once: root, built by this recipe, its venv made from the current
# requirements_test.txt (the stamp scripts/setup writes). Nothing is locked or changed.
sid_ready() {
    local root
    root=$(sid_root)
    [[ $EUID -eq 0 && -f "$root/.hpr-chroot-ok" && "$(cat "$root/.hpr-chroot-ok")" == "$recipe" ]] ||
        return 1
    command -v unshare > /dev/null || return 1
    [[ "$(cat "$root/opt/venv/.requirements.sha256" 2> /dev/null)" == \
        "$(sha256sum "$repo/requirements_test.txt" | cut -d' ' -f1)" ]]
}

# As root: install debootstrap if missing, take $root.lock on fd 9 (wait up to 60 min; with `try`,
# return 2 at once when another run holds it), unmount what a killed run left, build the chroot
# when it is missing or stale, and copy the host's CA bundle and resolv.conf in. Sets chroot_root
# and an EXIT trap that unmounts (chroot_cleanup).
sid_prepare() {
    local mode=${1:-wait} root
    [[ $EUID -eq 0 ]] ||
        die "the newest Home Assistant needs root here (debootstrap, chroot, mount): no host Python >= 3.14.2"
    root=$(sid_root)
    if ! command -v debootstrap > /dev/null; then
        # A fresh machine lacks it; install it as .ci/run does, so this stays the only command typed.
        command -v apt-get > /dev/null ||
            die "debootstrap is missing and there is no apt-get: install debootstrap"
        echo "$sid_tag: installing debootstrap"
        DEBIAN_FRONTEND=noninteractive apt-get update -qq ||
            die "apt-get update failed: apt-get install -y debootstrap by hand"
        DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends debootstrap > /dev/null ||
            die "could not install debootstrap: apt-get install -y debootstrap by hand"
    fi
    mkdir -p "$(dirname "$root")"

    exec 9> "$root.lock"
    if ! flock -n 9; then
        if [[ "$mode" == try ]]; then
            exec 9>&-
            return 2
        fi
        echo "$sid_tag: another run holds $root.lock; waiting (up to 60 min)"
        flock -w 3600 9 || die "gave up waiting for $root.lock"
    fi
    chroot_root=$root
    trap chroot_cleanup EXIT
    trap 'exit 130' INT
    trap 'exit 143' TERM
    trap 'exit 129' HUP
    unmount_under "$root" # left over from a run that was killed outright

    if [[ "${HPR_CHROOT_REBUILD:-}" == 1 ]]; then
        echo "$sid_tag: HPR_CHROOT_REBUILD=1: rebuilding $root"
        build_chroot "$root"
    elif [[ ! -f "$root/.hpr-chroot-ok" || "$(cat "$root/.hpr-chroot-ok")" != "$recipe" ]]; then
        build_chroot "$root"
    else
        echo "$sid_tag: using the chroot $root (built $(date -r "$root/.hpr-chroot-ok" '+%Y-%m-%d %H:%M'))"
    fi
    refresh_host_files "$root"
}

# After sid_prepare: run `VAR=value... COMMAND ARGS...` in the chroot (clean environment plus those
# variables), in a mount namespace of its own (unshare): /proc, /sys, /dev, /dev/pts, /dev/shm and the
# repo at /src are mounted there only. Other runs do not see these mounts (scripts/test's clean-up of
# leftover mounts cannot pull them away), and they vanish with the command's last process, also
# after a kill -9. The command gets the lock's fd 9; this shell closes its own copy, so the lock is
# held exactly as long as the command keeps fd 9 open (scripts/demo closes it once it is set up).
# Ctrl-C, TERM and HUP reach the command as SIGTERM. Returns the command's exit code.
sid_run_private() {
    local pid rc=0
    command -v unshare > /dev/null || die "unshare (util-linux) is missing"
    unshare --mount --propagation private /bin/bash "$sid_lib" --run-private "$chroot_root" "$repo" "$@" &
    pid=$!
    exec 9>&-
    # The lock is the command's now; a run of scripts/test may take it (and mount) once it is
    # released, so this shell must not unmount anything under the chroot any more.
    chroot_root=""
    trap "kill -TERM $pid 2> /dev/null || true" INT TERM HUP
    while :; do
        rc=0
        wait "$pid" || rc=$?
        # A trapped signal interrupts `wait` (status > 128) while the command still runs.
        kill -0 "$pid" 2> /dev/null || break
    done
    trap - INT TERM HUP
    return "$rc"
}

# Entry point of sid_run_private, inside the new mount namespace: mount, then become the command.
if [[ "${BASH_SOURCE[0]}" == "$0" && "${1:-}" == --run-private ]]; then
    set -euo pipefail
    sid_tag=chroot
    root=$2 repo=$3
    shift 3
    mount_basics "$root"
    bind_private "$repo" "$root/src"
    chroot_env
    exec chroot "$root" /usr/bin/env -i "${sid_env[@]}" "$@"
fi
