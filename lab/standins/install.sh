#!/bin/sh
# Install the oVirt stand-ins into a host root.
#   lab/standins/install.sh ROOT [--shared DIR] [--hostname NAME] [--version 4.0|4.1]
#                                [--engine-listen ADDR] [--engine-port N] [--vm-hook CMD]
#                                [--engine-db] [--engine-version V]
# engine-backup (engine_backup.py) is always installed. --engine-db makes
# /etc/init.d/ovirt-engine the DB-aware service of engine_db_service.py (scenario pg).
# ROOT is the host's root directory ("/" for the current one). DIR is the shared
# storage root seen by every HE host at the same path (the lab bind-mounts one
# machine directory there in each host).
set -eu
[ $# -ge 1 ] || { echo "usage: $0 ROOT [--shared DIR] [--hostname NAME] [--version V] [--engine-listen ADDR] [--engine-port N] [--vm-hook CMD]" >&2; exit 2; }
root=${1%/}; shift
here=$(cd "$(dirname "$0")" && pwd)
shared=/var/lib/herun-standins/shared; hostname=; version=4.0; listen=0.0.0.0; port=443; hook=
engine_db=0; engine_version=4.0.6.3
while [ $# -gt 0 ]; do
  case $1 in
    --shared) shared=$2; shift 2 ;;
    --hostname) hostname=$2; shift 2 ;;
    --version) version=$2; shift 2 ;;
    --engine-listen) listen=$2; shift 2 ;;
    --engine-port) port=$2; shift 2 ;;
    --vm-hook) hook=$2; shift 2 ;;
    --engine-db) engine_db=1; shift ;;
    --engine-version) engine_version=$2; shift 2 ;;
    *) echo "install.sh: unknown option $1" >&2; exit 2 ;;
  esac
done
lib=/usr/lib/herun-standins
mkdir -p "$root$lib" "$root/usr/sbin" "$root/usr/bin" "$root/etc/init.d" "$root/etc/herun-standins" "$root/var/lib/herun-standins"
cp "$here/ovirt_standin.py" "$root$lib/ovirt_standin.py"
chmod 0755 "$root$lib/ovirt_standin.py"
wrap() { # wrap DEST PROGRAM
  printf '#!/bin/sh\nexec /usr/bin/python3 %s/ovirt_standin.py %s "$@"\n' "$lib" "$2" > "$root$1"
  chmod 0755 "$root$1"
}
wrap /usr/sbin/hosted-engine hosted-engine
wrap /usr/bin/engine-setup engine-setup
for s in ovirt-ha-agent ovirt-ha-broker vdsmd ovirt-engine; do
  cat > "$root/etc/init.d/$s" <<INIT
#!/bin/sh
### BEGIN INIT INFO
# Provides:          $s
# Required-Start:    \$remote_fs
# Required-Stop:     \$remote_fs
# Default-Start:     2 3 4 5
# Default-Stop:      0 1 6
# Short-Description: $s (herun lab stand-in)
### END INIT INFO
exec /usr/bin/python3 $lib/ovirt_standin.py service $s "\$@"
INIT
  chmod 0755 "$root/etc/init.d/$s"
done
{
  echo "# herun lab stand-in configuration"
  echo "shared_dir=$shared"
  echo "version=$version"
  echo "engine_listen=$listen"
  echo "engine_port=$port"
  [ -z "$hostname" ] || echo "hostname=$hostname"
  [ -z "$hook" ] || echo "vm_hook=$hook"
} > "$root/etc/herun-standins/standin.conf"
# engine-backup, and with --engine-db the DB-aware ovirt-engine service
cp "$here/engine_backup.py" "$here/engine_db_service.py" "$root$lib/"
chmod 0755 "$root$lib/engine_backup.py" "$root$lib/engine_db_service.py"
printf '#!/bin/sh\nexec /usr/bin/python3 %s/engine_backup.py "$@"\n' "$lib" > "$root/usr/bin/engine-backup"
chmod 0755 "$root/usr/bin/engine-backup"
mkdir -p "$root/usr/share/ovirt-engine"
echo "$engine_version" > "$root/usr/share/ovirt-engine/version"
if [ "$engine_db" = 1 ]; then
  cat > "$root/etc/init.d/ovirt-engine" <<INIT
#!/bin/sh
### BEGIN INIT INFO
# Provides:          ovirt-engine
# Required-Start:    \$remote_fs
# Required-Stop:     \$remote_fs
# Default-Start:     2 3 4 5
# Default-Stop:      0 1 6
# Short-Description: ovirt-engine, DB-aware (herun lab stand-in)
### END INIT INFO
exec /usr/bin/python3 $lib/engine_db_service.py "\$@"
INIT
  chmod 0755 "$root/etc/init.d/ovirt-engine"
fi
[ ! -f "$here/dwh_standin.py" ] || /usr/bin/python3 "$here/dwh_standin.py" install "$root" "$lib"
