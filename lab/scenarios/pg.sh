# shellcheck shell=bash
# herun-lab scenario "pg" (sourced by bin/herun-lab): the engine data path of issue 5.
#   herun-lab up --scenario pg [--prefix NAME] [--inventory FILE] [--json]
# Hosts (each in its own network namespace, named PREFIX-ROLE, FQDN ROLE.lab.example):
#   engine   the Manager: PostgreSQL 15 with the seeded `engine` and `ovirt_engine_history`
#            databases (lab/seed/*.sql), 10-setup-database.conf and the DWH conf files, the
#            DB-aware ovirt-engine stand-in (health page + REST API over the DB) running
#   db       a remote PostgreSQL (listen_addresses=localhost: the roles open it up)
#   dwh      the Data Warehouse machine (PostgreSQL, empty)
#   backup   the backup server (PostgreSQL present but unused; /var/backups/ovirt-engine)
#   he1      the HE host (`hosted_engine_1`); its PostgreSQL is where the new engine VM's
#            databases go on a restore/migration (engine-backup --provision-db)
# Every host runs its own cluster 15/main (pg_createcluster on the host's overlay root;
# fsync=off, this is a lab). Secrets (engine/DWH DB passwords, admin@internal) are random
# per lab, kept in STATE/secrets.yml (0600, for -e @file) and on the hosts only in 0600 files.
PG_ROLES=(engine db dwh backup he1)
PG_DOMAIN=lab.example

pg_names() { # PREFIX -> host names
  local r; for r in "${PG_ROLES[@]}"; do echo "$1-$r"; done
}

pg_inventory() { # P PREFIX
  local P=$1 PREFIX=$2 r
  echo
  for r in "${PG_ROLES[@]}"; do
    case $r in
      engine) echo "[engine]" ;; db) echo "[engine_db_server]" ;; dwh) echo "[dwh]" ;;
      backup) echo "[backup_server]" ;; he1) echo "[he_hosts]" ;;
    esac
    echo "$PREFIX-$r he_fqdn=$r.$PG_DOMAIN"
  done
  echo "[engine_new]"; echo "$PREFIX-he1 he_fqdn=he1.$PG_DOMAIN"
  echo
  echo "[all:vars]"
  echo "pg_lab_domain=$PG_DOMAIN"
  echo "pg_lab_secrets=$P/secrets.yml"
}

pg_setup() { # P PREFIX
  local P=$1 PREFIX=$2 r d hp a t0=$SECONDS
  local here; here=$(cd "$(dirname "$(readlink -f "$0")")/.." && pwd)
  declare -A AD=()
  for r in "${PG_ROLES[@]}"; do AD[$r]=$P/hosts/$PREFIX-$r; echo "$r" >"${AD[$r]}/role"; done
  local hosts_lines=''
  for r in "${PG_ROLES[@]}"; do hosts_lines+="$(cat "${AD[$r]}/addr") $r.$PG_DOMAIN $r $PREFIX-$r"$'\n'; done
  for r in "${PG_ROLES[@]}"; do
    hp=$(holder_pid "${AD[$r]}")
    { cat /etc/hosts; echo "# herun-lab scenario pg"; printf '%s' "$hosts_lines"; } >"/proc/$hp/root/etc/hosts"
    printf 'nameserver 127.0.0.1\noptions timeout:1 attempts:1\n' >"/proc/$hp/root/etc/resolv.conf"
    echo "$r.$PG_DOMAIN" >"/proc/$hp/root/etc/hostname"
    # the stand-ins: engine-backup everywhere, the DB-aware ovirt-engine on engine and he1
    local extra=()
    [[ $r == engine || $r == he1 ]] && extra=(--engine-db)
    "$here/lab/standins/install.sh" "/proc/$hp/root" --hostname "$r.$PG_DOMAIN" "${extra[@]}" >>"$P/standins.log" 2>&1 \
      || die "lab/standins/install.sh failed on $r: $(tail -5 "$P/standins.log")"
    # he1 stands in for the new engine VM too (guide 4.1): the deploy's VM power on/off
    # is this host's ovirt-engine service (started at "boot" only when it is enabled)
    if [[ $r == he1 ]]; then
      cat >"/proc/$hp/root/usr/lib/herun-standins/pg-engine-vm" <<'HOOK'
#!/bin/sh
# vm_hook of the pg scenario's he1: start|stop SHARED_STORAGE_DIR
case $1 in
  start) if ls /etc/rc[2345].d/S??ovirt-engine >/dev/null 2>&1; then /etc/init.d/ovirt-engine start; fi ;;
  stop) /etc/init.d/ovirt-engine stop ;;
esac >/dev/null 2>&1
exit 0
HOOK
      chmod 0755 "/proc/$hp/root/usr/lib/herun-standins/pg-engine-vm"
      echo "vm_hook=/usr/lib/herun-standins/pg-engine-vm" >>"/proc/$hp/root/etc/herun-standins/standin.conf"
    fi
  done
  # one PostgreSQL 15 cluster per host, in parallel
  local jobs=() j
  for r in "${PG_ROLES[@]}"; do
    d=${AD[$r]}
    ( hx "$d" sh -c '
        set -e
        pg_dropcluster --stop 15 main >/dev/null 2>&1 || true
        pg_createcluster 15 main --locale=C.UTF-8 -e UTF8 -o fsync=off -o synchronous_commit=off -o full_page_writes=off \
          --start -- --auth-local=peer --auth-host=scram-sha-256 --no-sync >/dev/null
        mkdir -p /var/backups/ovirt-engine && chmod 0700 /var/backups/ovirt-engine' </dev/null >"$P/pg-$r.log" 2>&1 \
      || die "PostgreSQL set-up failed on $r: $(tail -5 "$P/pg-$r.log")" ) &
    jobs+=($!)
  done
  for j in "${jobs[@]}"; do wait "$j" || die "scenario pg: a PostgreSQL cluster failed to start"; done
  say "scenario pg: PostgreSQL clusters up after $((SECONDS - t0))s"
  # secrets
  local epw dpw apw salt
  epw=$(openssl rand -hex 16); dpw=$(openssl rand -hex 16); apw=$(openssl rand -hex 12); salt=$(openssl rand -hex 8)
  (umask 077; printf 'engine_restore_db_password: "%s"\nengine_restore_dwh_db_password: "%s"\nengine_restore_admin_password: "%s"\n' "$epw" "$dpw" "$apw" >"$P/secrets.yml")
  # the engine's databases, seeded (passwords on stdin only)
  d=${AD[engine]}
  hx "$d" runuser -u postgres -- psql -X -q -v ON_ERROR_STOP=1 -d postgres >"$P/seed.log" 2>&1 <<SQL || die "seeding failed: $(tail -5 "$P/seed.log")"
SET log_statement = 'none';
CREATE ROLE engine LOGIN PASSWORD '$epw';
CREATE ROLE ovirt_engine_history LOGIN PASSWORD '$dpw';
CREATE DATABASE engine OWNER engine TEMPLATE template0 ENCODING 'UTF8' LC_COLLATE 'C.UTF-8' LC_CTYPE 'C.UTF-8';
CREATE DATABASE ovirt_engine_history OWNER ovirt_engine_history TEMPLATE template0 ENCODING 'UTF8' LC_COLLATE 'C.UTF-8' LC_CTYPE 'C.UTF-8';
SQL
  ( { echo 'SET ROLE engine;'; cat "$here/lab/seed/engine.sql"
      printf "INSERT INTO vdc_options (option_name, option_value) VALUES ('AdminPasswordHash', '%s\$%s');\n" "$salt" \
        "$(printf '%s%s' "$salt" "$apw" | sha256sum | cut -d' ' -f1)"; echo 'ANALYZE;'; } \
      | hx "$d" runuser -u postgres -- psql -X -q -v ON_ERROR_STOP=1 -d engine >>"$P/seed.log" 2>&1 || die "seeding engine failed: $(tail -5 "$P/seed.log")" ) &
  local s1=$!
  ( { echo 'SET ROLE ovirt_engine_history;'; cat "$here/lab/seed/dwh.sql"; echo 'ANALYZE;'; } \
      | hx "$d" runuser -u postgres -- psql -X -q -v ON_ERROR_STOP=1 -d ovirt_engine_history >>"$P/seed.log" 2>&1 || die "seeding DWH failed: $(tail -5 "$P/seed.log")" ) &
  local s2=$!
  wait $s1 || die "seeding failed"; wait $s2 || die "seeding failed"
  say "scenario pg: databases seeded after $((SECONDS - t0))s"
  hp=$(holder_pid "$d")
  local R=/proc/$hp/root
  mkdir -p "$R/etc/ovirt-engine/engine.conf.d" "$R/etc/ovirt-engine-dwh/ovirt-engine-dwhd.conf.d" "$R/var/lib/ovirt-engine" "$R/var/lib/ovirt-engine-dwh"
  pg_conf_lines() { # PREFIX user password db
    printf '%s_DB_HOST="localhost"\n%s_DB_PORT="5432"\n%s_DB_USER="%s"\n%s_DB_PASSWORD="%s"\n%s_DB_DATABASE="%s"\n%s_DB_SECURED="False"\n%s_DB_SECURED_VALIDATION="False"\n%s_DB_DRIVER="org.postgresql.Driver"\n%s_DB_URL="jdbc:postgresql://${%s_DB_HOST}:${%s_DB_PORT}/${%s_DB_DATABASE}?sslfactory=org.postgresql.ssl.NonValidatingFactory"\n' \
      "$1" "$1" "$1" "$2" "$1" "$3" "$1" "$4" "$1" "$1" "$1" "$1" "$1" "$1" "$1"
  }
  (
    umask 077
    pg_conf_lines ENGINE engine "$epw" engine >"$R/etc/ovirt-engine/engine.conf.d/10-setup-database.conf"
    pg_conf_lines DWH ovirt_engine_history "$dpw" ovirt_engine_history >"$R/etc/ovirt-engine/engine.conf.d/10-setup-dwh-database.conf"
    { pg_conf_lines DWH ovirt_engine_history "$dpw" ovirt_engine_history; pg_conf_lines ENGINE engine "$epw" engine; } \
      >"$R/etc/ovirt-engine-dwh/ovirt-engine-dwhd.conf.d/10-setup-database.conf"
  )
  printf 'ENGINE_FQDN=engine.%s\n' "$PG_DOMAIN" >"$R/etc/ovirt-engine/engine.conf.d/10-setup-protocols.conf"
  hx "$d" sh -c 'update-rc.d ovirt-engine defaults >/dev/null 2>&1 || true; /etc/init.d/ovirt-engine start' </dev/null >>"$P/seed.log" 2>&1 \
    || die "ovirt-engine did not start on engine: $(tail -5 "$P/seed.log")"
  local i ok=0
  for ((i = 0; i < 100; i++)); do
    if hx "$d" curl -sk --max-time 2 https://localhost/ovirt-engine/services/health </dev/null 2>/dev/null | grep -q 'DB Up!'; then ok=1; break; fi
    sleep 0.1
  done
  [[ $ok == 1 ]] || die "scenario pg: the engine health page is not up: $(hx "$d" curl -sk --max-time 2 https://localhost/ovirt-engine/services/health </dev/null 2>&1; tail -3 "$R/var/log/ovirt-engine/engine.log")"
  echo "$PREFIX" >"$P/pg_prefix"
  say "scenario pg: engine healthy after $((SECONDS - t0))s"
}
