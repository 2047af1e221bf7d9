# shellcheck shell=bash
# Shared helpers for guests/build.sh. Sourced, not executed.
#
# Cache layout (see docs/guests.md):
#   $CACHE/<artifact>/<key>/   one finished artifact; appears only by an atomic rename
#   $CACHE/current/            stable symlinks to the artifacts of the last build
#   $CACHE/logs/<artifact>-<key>.log   full output of the last build of that key
#   $CACHE/tmp/                work trees; anything here is garbage if no build runs

GUESTS_DIR=${GUESTS_DIR:-$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)}
CACHE=${TRAPEZE_CACHE:-$HOME/.cache/trapeze}
CROSS=riscv64-linux-gnu-
# shellcheck disable=SC2034  # JOBS and CROSS are used by the builders
JOBS=$(nproc)
BUILD_START=$SECONDS

# Every helper prints with a timestamp and the seconds since build.sh started,
# so a slow stage is obvious in CI logs.
log()  { printf '[%s +%4ss] %s\n' "$(date +%H:%M:%S)" "$((SECONDS - BUILD_START))" "$*" >&2; }
die()  { log "ERROR: $*"; exit 1; }

# run_logged LOGFILE WHAT CMD...: append CMD's output to LOGFILE. Long steps
# print a heartbeat every 30 s so a slow build does not look hung. On failure
# show the tail and say where the whole log is, because make's real error is
# rarely the last line alone.
run_logged() {
    local logfile=$1 what=$2 pid rc=0 last=$SECONDS; shift 2
    printf '\n### %s: %s\n' "$what" "$*" >>"$logfile"
    # Own session (and so process group), so on_exit can stop make and all
    # its compilers at once if build.sh is interrupted or killed.
    setsid "$@" >>"$logfile" 2>&1 </dev/null &
    pid=$!
    RUN_PID=$pid
    while kill -0 "$pid" 2>/dev/null; do
        sleep 1
        if ((SECONDS - last >= 30)); then
            log "  ... $what: still running ($(wc -l <"$logfile") log lines)"
            last=$SECONDS
        fi
    done
    wait "$pid" || rc=$?
    RUN_PID=
    if ((rc != 0)); then
        log "FAILED: $what (exit $rc)"
        echo "----- last 40 lines of $logfile -----" >&2
        tail -n 40 "$logfile" >&2
        echo "----- end of log tail -----" >&2
        die "$what failed; full log: $logfile"
    fi
}

# ---------------------------------------------------------------- keys

pkg_version() { dpkg-query -W -f='${Version}' "$1" 2>/dev/null || echo none; }

# The cross-compiler identity: its banner carries the Debian revision, and the
# libc headers/static libs come from a separately versioned package.
cross_cc_id() {
    echo "cc $("${CROSS}gcc" --version | head -n1)"
    echo "libc libc6-dev-riscv64-cross $(pkg_version libc6-dev-riscv64-cross)"
}

# recipe_files PATH...: one line per input file, path relative to guests/ so a
# checkout in another directory gets the same key.
recipe_files() {
    local f
    for f in "$@"; do
        [[ -f $f ]] || die "key input missing: $f"
        printf 'file %s %s\n' "${f#"$GUESTS_DIR"/}" "$(sha256sum <"$f" | cut -c1-64)"
    done
}

# key_of: read a recipe on stdin, print its 16-hex-digit key. 64 bits is plenty
# for a handful of cache entries and keeps paths short.
key_of() { sha256sum | cut -c1-16; }

# ---------------------------------------------------------------- cache

# artifact_dir NAME KEY: where a finished artifact lives.
artifact_dir() { echo "$CACHE/$1/$2"; }

# new_workdir NAME: set WORKDIR to a new scratch dir on the cache filesystem
# (so the final rename is atomic); removed on exit whatever happens. Not
# called as $(...): the list of dirs to clean up must live in this shell.
WORKDIRS=()
RUN_PID=
# On any exit stop a step still running in the background (see run_logged)
# before its work dir is deleted under it.
on_exit() {
    local d
    if [[ -n $RUN_PID ]]; then
        kill -TERM -- "-$RUN_PID" 2>/dev/null || true
        wait "$RUN_PID" 2>/dev/null || true
    fi
    for d in "${WORKDIRS[@]}"; do rm -rf "$d"; done
}
trap on_exit EXIT
trap 'exit 130' INT
trap 'exit 143' TERM
new_workdir() {
    mkdir -p "$CACHE/tmp"
    WORKDIR=$(mktemp -d "$CACHE/tmp/$1.XXXXXX")
    chmod 755 "$WORKDIR"   # apt-get source downloads as user _apt; let it in
    WORKDIRS+=("$WORKDIR")
}

# publish NAME KEY STAGEDIR RECIPE: move a complete staging dir into place.
# rename(2) of a directory is atomic, so a key dir either exists complete or
# not at all; an interrupted build leaves only a tmp/ dir behind.
publish() {
    local name=$1 key=$2 stage=$3 recipe=$4 dest
    dest=$(artifact_dir "$name" "$key")
    printf '%s\n' "$recipe" >"$stage/recipe.txt"
    mkdir -p "$CACHE/$name"
    mv -T "$stage" "$dest"
}

# ensure_artifact NAME: make sure artifact NAME exists for the current inputs
# and record its directory in ART[NAME]. A builder file lib/NAME.sh defines:
#   NAME_deps           ensure_artifact its prerequisites (may be empty)
#   NAME_recipe         print the key inputs, one per line
#   NAME_build W S L    build in work dir W, leave results in S, log to L
declare -A ART=()
ensure_artifact() {
    local name=$1 recipe key dir work logfile t0=$SECONDS
    [[ -n ${ART[$name]:-} ]] && return 0
    "${name}_deps"
    recipe=$("${name}_recipe")
    key=$(key_of <<<"$recipe")
    dir=$(artifact_dir "$name" "$key")
    if [[ -d $dir ]]; then
        log "$name: cached ($dir)"
    else
        mkdir -p "$CACHE/logs"
        logfile=$CACHE/logs/$name-$key.log
        : >"$logfile"
        log "$name: building (key $key, log $logfile)"
        new_workdir "$name"
        work=$WORKDIR
        mkdir "$work/out"
        "${name}_build" "$work" "$work/out" "$logfile"
        publish "$name" "$key" "$work/out" "$recipe"
        rm -rf "$work"
        log "$name: built in $((SECONDS - t0)) s -> $dir"
    fi
    ART[$name]=$dir
}

# link_current NAME TARGET: point $CACHE/current/NAME at TARGET (relative, so
# the whole cache dir can be moved), replacing any old link atomically.
link_current() {
    local name=$1 target=$2 tmp
    mkdir -p "$CACHE/current"
    tmp="$CACHE/current/.$name.$$"
    ln -sfn "../${target#"$CACHE"/}" "$tmp"
    mv -Tf "$tmp" "$CACHE/current/$name"
}

# ---------------------------------------------------------------- apt

as_root() { if [[ $EUID -eq 0 ]]; then "$@"; else sudo "$@"; fi; }

APT_UPDATED=0
apt_update_once() {
    [[ $APT_UPDATED == 1 ]] && return 0
    log "apt-get update"
    # Another apt may be running (machine provisioning); wait for its lock.
    as_root apt-get -o DPkg::Lock::Timeout=600 update -qq >&2 || die "apt-get update failed"
    APT_UPDATED=1
}

# ensure_packages PKG...: install whatever dpkg does not report as installed.
ensure_packages() {
    local missing=() p
    for p in "$@"; do
        dpkg -s "$p" >/dev/null 2>&1 || missing+=("$p")
    done
    ((${#missing[@]})) || return 0
    log "installing missing packages: ${missing[*]}"
    apt_update_once
    as_root env DEBIAN_FRONTEND=noninteractive apt-get -o DPkg::Lock::Timeout=600 \
        install -y -qq --no-install-recommends "${missing[@]}" >&2 ||
        die "apt-get install ${missing[*]} failed"
}

# ensure_deb_src: `apt-get source` needs deb-src lines for the Debian archive.
# Debian 12 images ship either a one-line sources.list or the deb822
# debian.sources; we add a separate file mirroring the deb entries rather than
# editing the system's own.
ensure_deb_src() {
    apt-cache showsrc busybox 2>/dev/null | grep -q '^Package:' && return 0
    local f=/etc/apt/sources.list.d/trapeze-deb-src
    if [[ -f /etc/apt/sources.list.d/debian.sources ]]; then
        log "adding deb-src entries ($f.sources, from debian.sources)"
        sed 's/^Types:.*/Types: deb-src/' /etc/apt/sources.list.d/debian.sources |
            as_root tee "$f.sources" >/dev/null
    elif grep -qs '^deb ' /etc/apt/sources.list; then
        log "adding deb-src entries ($f.list, from sources.list)"
        sed -n 's/^deb /deb-src /p' /etc/apt/sources.list | as_root tee "$f.list" >/dev/null
    else
        die "no Debian apt source found to derive a deb-src entry from"
    fi
    APT_UPDATED=0
    apt_update_once
    apt-cache showsrc busybox 2>/dev/null | grep -q '^Package:' ||
        die "deb-src added but 'apt-cache showsrc busybox' still finds nothing"
}

# src_version PKG: the newest version of a source package that apt can fetch
# (what `apt-get source PKG` would download).
src_version() {
    local v best=
    while read -r v; do
        if [[ -z $best ]] || dpkg --compare-versions "$v" gt "$best"; then best=$v; fi
    done < <(apt-cache showsrc "$1" | sed -n 's/^Version: //p')
    [[ -n $best ]] || die "apt knows no source package $1"
    echo "$best"
}
