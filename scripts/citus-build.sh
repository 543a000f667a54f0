#!/usr/bin/env bash
# Builds Citus from the vendored source (../shared/vendor) against Debian's PostgreSQL 15 and
# installs it into that PostgreSQL's lib/ and extension/ folders. Debian ships no Citus, and CI
# machines reach only Debian's and npm's registries. Installing does not load it anywhere: only
# clusters started with shared_preload_libraries='citus' (scripts/citus-cluster.sh) use it.
# Needs root (apt-get, make install). Skips the build when this exact version is already installed.
set -euo pipefail

VERSION=13.2.2
ROOT=$(cd "$(dirname "$0")/.." && pwd)
TARBALL=${CITUS_TARBALL:-$ROOT/../shared/vendor/citus-$VERSION.tar.gz}
PG_CONFIG=${PG_CONFIG:-/usr/lib/postgresql/15/bin/pg_config}

installed() {
  [ -x "$PG_CONFIG" ] || return 1
  local so
  so="$("$PG_CONFIG" --pkglibdir)/citus.so"
  # citus_version() is compiled in as "Citus <version> on …": the library itself says what it is.
  [ -f "$so" ] && grep -aq "Citus $VERSION " "$so"
}

if installed; then
  echo "citus $VERSION is already installed in $("$PG_CONFIG" --pkglibdir)"
  exit 0
fi
[ -f "$TARBALL" ] || { echo "citus-build: no source at $TARBALL" >&2; exit 1; }

PACKAGES=(build-essential postgresql-server-dev-15 libcurl4-openssl-dev liblz4-dev libzstd-dev libkrb5-dev
  libssl-dev libselinux1-dev libxslt1-dev libpam0g-dev libreadline-dev zlib1g-dev autoconf flex bison)
apt_install() {
  DEBIAN_FRONTEND=noninteractive apt-get install -y -q -o DPkg::Lock::Timeout=600 "${PACKAGES[@]}"
}
# A fresh machine may have no package lists yet; an update is only needed then.
apt_install || { apt-get update -q -o DPkg::Lock::Timeout=600 && apt_install; }

WORK=$(mktemp -d)
trap 'rm -rf "$WORK"' EXIT
tar -xzf "$TARBALL" -C "$WORK"
cd "$WORK/citus-$VERSION"
# PostgreSQL 15.20 exports have_createdb_privilege() (commands/dbcommands.h), which this Citus
# release still defines for PostgreSQL 15 as a static function: a conflicting declaration. Where the
# server exports it, Citus's copy is renamed out of the way and its one caller uses the server's.
if grep -q 'have_createdb_privilege' "$("$PG_CONFIG" --includedir-server)/commands/dbcommands.h"; then
  sed -i 's/^have_createdb_privilege(void)$/citus_own_have_createdb_privilege(void)/' src/include/pg_version_compat.h
fi
./configure PG_CONFIG="$PG_CONFIG" --quiet
make -s -j"$(nproc)"
make -s install
installed || { echo "citus-build: citus.so $VERSION not found after install" >&2; exit 1; }
echo "citus $VERSION installed in $("$PG_CONFIG" --pkglibdir)"
