#!/usr/bin/env bash
# Installs the Debian packages the test suite needs. For CI on a fresh Debian 12, run as root.
#
# Contract:
# - Idempotent: installs only missing packages; runs `apt-get update` once, and only if something
#   is missing. A second run changes nothing.
# - Leaves no system slapd or PostgreSQL running: the tests start their own on random loopback
#   ports (test/support/slapd.ts, test/support/postgres.ts), and a system slapd on port 389 or a
#   cluster on 5432 would only confuse someone debugging them. The same holds for the servers of
#   docs/integrations/ (dovecot, apache2, freeradius, nginx): stopped and disabled after install.
#
# Usage: .ci/install-system-packages.sh [--dry-run]   (--dry-run: say what is missing, change nothing)
set -euo pipefail

PACKAGES=(
  slapd          # slapd, slappasswd, /etc/ldap/schema, modules back_mdb, pw-sha2, argon2
  ldap-utils     # ldapwhoami and friends, used by the tests as a service would
  slapd-contrib  # module pw-pbkdf2
  postgresql-15  # /usr/lib/postgresql/15/bin (what the `postgresql` metapackage means on Debian 12)
  mariadb-server # mariadbd and mariadb-install-db: COmanage Registry databases on MySQL/MariaDB
  chromium       # browser tests
  fonts-liberation  # a font for chromium (a Recommends we would otherwise skip); without one, text renders as boxes
  # Operations (docs/operations.md): systemd-analyze for deploy/tessera.service, apache2-utils for the
  # reverse-proxy recipe's password file, openssl for the throwaway CAs of the TLS tests
  apache2-utils systemd openssl
  # docs/integrations/: each recipe's test runs the real server in the foreground on a loopback port
  dovecot-imapd dovecot-ldap         # IMAP: passdb ldap (auth_bind, and a per-service attribute)
  apache2                            # HTTP Basic: mod_authnz_ldap + mod_dav
  freeradius freeradius-utils        # RADIUS: radiusd and radtest
  freeradius-rest freeradius-ldap    # rlm_rest (the verification API) and rlm_ldap
  nginx                              # forward authentication (auth_request)
  git                                # a real git client over smart HTTP
  curl                               # speaks IMAP and WebDAV in the tests
)
POLICY_RC_D=/usr/sbin/policy-rc.d

main() {
  local dry_run=false
  case "${1:-}" in
    --dry-run) dry_run=true ;;
    '') ;;
    *) echo "usage: $0 [--dry-run]" >&2; exit 2 ;;
  esac

  local missing=()
  local package
  for package in "${PACKAGES[@]}"; do
    is_installed "$package" || missing+=("$package")
  done
  if ((${#missing[@]} == 0)); then
    echo "system packages: all present"
    exit 0
  fi
  echo "system packages: missing ${missing[*]}"
  if $dry_run; then exit 0; fi
  if [[ $(id -u) != 0 ]]; then
    echo "run as root to install them" >&2
    exit 1
  fi
  install_packages "${missing[@]}"
  stop_services "${missing[@]}"
  echo "system packages: installed ${missing[*]}"
}

is_installed() {
  [[ $(dpkg-query -W -f='${db:Status-Status}' "$1" 2>/dev/null) == installed ]]
}

install_packages() {
  export DEBIAN_FRONTEND=noninteractive
  # Maintainer scripts start services through invoke-rc.d, which asks policy-rc.d first; 101 means
  # "forbidden". Docker images often ship one already; only a policy-rc.d we made is removed again.
  if [[ ! -e $POLICY_RC_D ]]; then
    printf '#!/bin/sh\nexit 101\n' >"$POLICY_RC_D"
    chmod 755 "$POLICY_RC_D"
    trap 'rm -f "$POLICY_RC_D"' EXIT
  fi
  # A fresh slapd gets no default database (dc=nodomain) either: nothing for a system slapd to serve.
  if [[ " $* " == *' slapd '* ]]; then
    echo 'slapd slapd/no_configuration boolean true' | debconf-set-selections
  fi
  apt-get update -qq
  apt-get install -y -qq --no-install-recommends "$@"
}

# policy-rc.d covers sysvinit-style starts; on a host running systemd, units may still be started
# or enabled, so stop and disable the services of the packages installed just now.
stop_services() {
  local service package
  for package in "$@"; do
    case "$package" in
      slapd) service=slapd ;;
      postgresql-15) service=postgresql ;;
      mariadb-server) service=mariadb ;;
      dovecot-imapd) service=dovecot ;;
      apache2) service=apache2 ;;
      freeradius) service=freeradius ;;
      nginx) service=nginx ;;
      *) continue ;;
    esac
    if [[ -d /run/systemd/system ]]; then
      systemctl disable --now "$service" >/dev/null 2>&1 || true
    else
      service "$service" stop >/dev/null 2>&1 || true
    fi
  done
}

main "$@"
