#!/usr/bin/python3
"""Lab stand-ins for the oVirt programs that cannot be installed here.

One file, several programs (the first argument names the program):
  hosted-engine ARGS...          the host-side CLI (contract: ovirt-contract.md)
  engine-setup ARGS...           validates OVESETUP_* answers, writes the DB conf
  service NAME start|stop|status  ovirt-ha-agent, ovirt-ha-broker, vdsmd, ovirt-engine
  engine-server                  the ovirt-engine HTTPS service (health, /api/hosts, /ca.crt)
  vdsm-loop                      background loop of the vdsmd stand-in (HA ticks, host deploys)

hosted-engine --deploy with OVEHOSTED_VM/cloudinitExecuteEngineSetup=False (guide 4.1) stops at
the OVEHOSTED_ENGINE_UP menu and reads the answer from stdin (or once from the answer file's
QUESTION/1/OVEHOSTED_ENGINE_UP) while the admin restores/installs the engine in the VM; see
he_wait_engine_installed. The VM's power is the vm_hook of standin.conf (start|stop SD).

Environment (tests):
  HE_STANDIN_ROOT    prefix for every host path (default: none, i.e. /)
  HE_STANDIN_SHARED  the shared storage root (default: shared_dir of standin.conf)
  HE_STANDIN_HOSTNAME  this host's name (default: hostname of standin.conf, else uname)
State: the host's own files under ROOT, the HA and engine state on the shared storage
(SHARED/<storage connection>/), guarded by an flock.
"""
import base64
import configparser
import fcntl
import hashlib
import http.server
import ipaddress
import json
import os
import re
import secrets
import shutil
import signal
import socket
import ssl
import subprocess
import sys
import tempfile
import time
import uuid
import zlib
from urllib.parse import urlparse, parse_qs
import xml.etree.ElementTree as ET

ROOT = os.environ.get('HE_STANDIN_ROOT', '').rstrip('/')


def rp(path):
    """A host path under the stand-in root."""
    return ROOT + path


CONF_FILE = '/etc/herun-standins/standin.conf'
HE_DIR = '/etc/ovirt-hosted-engine'
HE_CONF = HE_DIR + '/hosted-engine.conf'
HE_ANSWERS = HE_DIR + '/answers.conf'
STATE_DIR = '/var/lib/herun-standins'
CA_HOST_COPY = '/etc/pki/vdsm/libvirt-spice/ca-cert.pem'
CA_SUBJECT = 'C=EN, L=Test, O=Test, CN=TestCA'
SERVICES = ('ovirt-ha-agent', 'ovirt-ha-broker', 'vdsmd', 'ovirt-engine')


class Refused(Exception):
    """A refusal: message on stderr (stdout when to_stdout), exit code."""

    def __init__(self, msg, rc=1, to_stdout=False):
        super().__init__(msg)
        self.rc = rc
        self.to_stdout = to_stdout


def standin_conf():
    c = {'shared_dir': '/var/lib/herun-standins/shared', 'version': '4.0', 'engine_listen': '0.0.0.0',
         'engine_port': '443', 'hostname': '', 'vm_hook': ''}
    p = rp(CONF_FILE)
    if os.path.exists(p):
        with open(p) as f:
            for line in f:
                line = line.strip()
                if line and not line.startswith('#') and '=' in line:
                    k, v = line.split('=', 1)
                    c[k.strip()] = v.strip()
    if os.environ.get('HE_STANDIN_SHARED'):
        c['shared_dir'] = os.environ['HE_STANDIN_SHARED']
    for k in ('version', 'engine_port', 'engine_listen'):
        env = 'HE_STANDIN_' + k.upper()
        if os.environ.get(env):
            c[k] = os.environ[env]
    return c


CONF = standin_conf()


def my_hostname():
    return os.environ.get('HE_STANDIN_HOSTNAME') or CONF.get('hostname') or socket.getfqdn()


def is_40():
    return CONF['version'].startswith('4.0')


# ------------------------------------------------------------------ small file helpers

def read_kv(path):
    out = {}
    if not os.path.exists(path):
        return out
    with open(path) as f:
        for line in f:
            line = line.rstrip('\n')
            if line and not line.startswith('#') and '=' in line:
                k, v = line.split('=', 1)
                out[k] = v
    return out


def write_file(path, text, mode=0o644):
    os.makedirs(os.path.dirname(path), exist_ok=True)
    tmp = path + '.tmp%d' % os.getpid()
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, mode)
    with os.fdopen(fd, 'w') as f:
        f.write(text)
    os.chmod(tmp, mode)
    os.replace(tmp, path)


def write_json(path, data, mode=0o644):
    write_file(path, json.dumps(data, indent=1, sort_keys=True) + '\n', mode)


def read_json(path, default=None):
    try:
        with open(path) as f:
            return json.load(f)
    except FileNotFoundError:
        return default


def storage_dir(storage):
    key = re.sub(r'[^A-Za-z0-9._-]+', '_', storage).strip('_') or 'storage'
    return os.path.join(CONF['shared_dir'], key)


class Lock:
    def __init__(self, d):
        os.makedirs(d, exist_ok=True)
        self.f = open(os.path.join(d, '.lock'), 'a')

    def __enter__(self):
        fcntl.flock(self.f, fcntl.LOCK_EX)
        return self

    def __exit__(self, *a):
        fcntl.flock(self.f, fcntl.LOCK_UN)
        self.f.close()


# ------------------------------------------------------------------ otopi answer files

OTOPI_TYPES = ('none', 'bool', 'int', 'str', 'multi-str')
OTOPI_SECTIONS = ('environment:default', 'environment:init', 'environment:override', 'environment:enforce')
FQDN_RE = re.compile(r'^(?=.{1,253}$)([A-Za-z0-9]([A-Za-z0-9-]{0,61}[A-Za-z0-9])?)(\.[A-Za-z0-9]([A-Za-z0-9-]{0,61}[A-Za-z0-9])?)+$')
MAC_RE = re.compile(r'^[0-9a-fA-F]{2}(:[0-9a-fA-F]{2}){5}$')


def otopi_value(typ, raw, where):
    if typ not in OTOPI_TYPES:
        raise Refused('%s: unknown otopi type %r (allowed: %s)' % (where, typ, ', '.join(OTOPI_TYPES)))
    if typ == 'none':
        if raw != 'None':
            raise Refused('%s: type none takes only the value None' % where)
        return None
    if typ == 'bool':
        return raw not in ('0', 'f', 'F', 'false', 'False')
    if typ == 'int':
        try:
            return int(raw)
        except ValueError:
            raise Refused('%s: %r is not an int' % (where, raw))
    if typ == 'multi-str':
        return raw.split(',') if raw else []
    return raw


def parse_otopi(path):
    """[(section, key, type, value, lineno)] of an otopi answer file; refuses bad syntax."""
    if not os.path.exists(path):
        raise Refused('Configuration file %s does not exist' % path)
    out = []
    section = None
    with open(path) as f:
        for n, line in enumerate(f, 1):
            s = line.strip()
            where = '%s:%d' % (path, n)
            if not s or s.startswith('#') or s.startswith(';'):
                continue
            m = re.match(r'^\[(.+)\]$', s)
            if m:
                section = m.group(1)
                if section not in OTOPI_SECTIONS:
                    raise Refused('%s: unknown section [%s]' % (where, section))
                continue
            if section is None:
                raise Refused('%s: line outside of a section' % where)
            m = re.match(r'^([A-Za-z0-9_/]+)=([a-z-]+):(.*)$', s)
            if not m:
                raise Refused('%s: malformed line (expected KEY=type:value)' % where)
            key, typ, raw = m.groups()
            out.append((section, key, typ, otopi_value(typ, raw, where + ' ' + key), n))
    return out


def v_choice(*choices):
    def f(v):
        if v not in choices:
            return 'must be one of %s' % ', '.join(choices)
    return f


def v_fqdn(v):
    if not isinstance(v, str) or not FQDN_RE.match(v):
        return 'is not a valid FQDN'


def v_ipv4(v):
    try:
        ipaddress.IPv4Address(v)
    except Exception:
        return 'is not an IPv4 address'


def v_mac(v):
    if not isinstance(v, str) or not MAC_RE.match(v):
        return 'is not a MAC address'
    if int(v[:2], 16) & 1:
        return 'is a multicast MAC address'


def v_port(v):
    try:
        p = int(v)
    except (TypeError, ValueError):
        return 'is not a port number'
    if not 1 <= p <= 65535:
        return 'is not a port number'


def v_posint(v):
    try:
        p = int(v)
    except (TypeError, ValueError):
        return 'is not a number'
    if p < 1:
        return 'must be at least 1'


def v_conn(v):
    if not isinstance(v, str) or not re.match(r'^[^:/\s]+:/\S*$', v):
        return 'must be host:/path'


def v_cidr(v):
    try:
        ipaddress.IPv4Interface(v)
        if '/' not in v:
            return 'must be ADDRESS/PREFIX'
    except Exception:
        return 'is not ADDRESS/PREFIX'


def v_dns(v):
    parts = [x.strip() for x in v.split(',') if x.strip()]
    if len(parts) > 3:
        return 'holds more than 3 DNS servers'
    for p in parts:
        try:
            ipaddress.ip_address(p)
        except ValueError:
            return '%r is not an IP address' % p


def v_emails(v):
    for p in v.split(','):
        if not re.match(r'^[^@\s,]+@[^@\s,]+$', p.strip()):
            return '%r is not an e-mail address' % p


def v_cpu(v):
    if not re.match(r'^model_\w+$', v):
        return 'must be a CPU model name (model_...)'


def v_iqn(v):
    if not re.match(r'^(iqn\.\d{4}-\d{2}\.[^\s]+|eui\.[0-9A-Fa-f]{16})$', v):
        return 'is not an iSCSI target name (iqn.YYYY-MM.…)'


def v_any(v):
    return None


S, B, I, N = 'str', 'bool', 'int', 'none'
# key -> (allowed types, validator)
HE_KEYS = {
    'OVEHOSTED_CORE/deployProceed': ((B,), v_any),
    'OVEHOSTED_CORE/screenProceed': ((B,), v_any),
    'OVEHOSTED_CORE/confirmSettings': ((B,), v_any),
    'OVEHOSTED_STORAGE/domainType': ((S,), v_choice('nfs3', 'nfs4', 'glusterfs', 'iscsi', 'fc')),
    'OVEHOSTED_STORAGE/storageDomainConnection': ((S,), v_conn),
    'OVEHOSTED_STORAGE/storageDomainName': ((S,), v_any),
    'OVEHOSTED_STORAGE/mntOptions': ((S, N), v_any),
    'OVEHOSTED_STORAGE/iSCSIPortalIPAddress': ((S,), v_ipv4),
    'OVEHOSTED_STORAGE/iSCSIPortalPort': ((S, I), v_port),
    'OVEHOSTED_STORAGE/iSCSIPortalUser': ((S, N), v_any),
    'OVEHOSTED_STORAGE/iSCSIPortalPassword': ((S, N), v_any),
    'OVEHOSTED_STORAGE/iSCSITargetName': ((S,), v_iqn),
    'OVEHOSTED_STORAGE/LunID': ((S,), v_any),
    'OVEHOSTED_STORAGE/imgSizeGB': ((S, I), v_posint),
    'OVEHOSTED_NETWORK/bridgeIf': ((S,), v_any),
    'OVEHOSTED_NETWORK/bridgeName': ((S,), v_choice('ovirtmgmt', 'rhevm')),
    'OVEHOSTED_NETWORK/gateway': ((S,), v_ipv4),
    'OVEHOSTED_NETWORK/fqdn': ((S,), v_fqdn),
    'OVEHOSTED_NETWORK/firewallManager': ((S, N), v_choice('iptables', 'firewalld')),
    'OVEHOSTED_VM/vmBoot': ((S,), v_choice('disk', 'cdrom', 'pxe')),
    'OVEHOSTED_VM/ovfArchive': ((S, N), v_any),
    'OVEHOSTED_VM/vmMemSizeMB': ((S, I), v_posint),
    'OVEHOSTED_VM/vmVCpus': ((S, I), v_posint),
    'OVEHOSTED_VM/vmMACAddr': ((S,), v_mac),
    'OVEHOSTED_VM/emulatedMachine': ((S,), v_any),
    'OVEHOSTED_VM/cloudinitVMStaticCIDR': ((S, N), v_cidr),
    'OVEHOSTED_VM/cloudinitVMDNS': ((S, N), v_dns),
    'OVEHOSTED_VM/cloudinitVMETCHOSTS': ((B,), v_any),
    'OVEHOSTED_VM/cloudinitInstanceHostName': ((S,), v_fqdn),
    'OVEHOSTED_VM/cloudinitInstanceDomainName': ((S,), v_any),
    'OVEHOSTED_VM/cloudinitExecuteEngineSetup': ((B,), v_any),
    'OVEHOSTED_VM/automateVMShutdown': ((B,), v_any),
    'OVEHOSTED_VM/cloudinitRootPwd': ((S,), v_any),
    'OVEHOSTED_VM/cloudInitISO': ((S, N), v_any),
    'OVEHOSTED_ENGINE/adminPassword': ((S,), v_any),
    'OVEHOSTED_ENGINE/appHostName': ((S,), v_any),
    'OVEHOSTED_ENGINE/clusterName': ((S,), v_any),
    'OVEHOSTED_NOTIF/smtpServer': ((S,), v_any),
    'OVEHOSTED_NOTIF/smtpPort': ((S, I), v_port),
    'OVEHOSTED_NOTIF/sourceEmail': ((S,), v_emails),
    'OVEHOSTED_NOTIF/destEmail': ((S,), v_emails),
    'OVEHOSTED_VDSM/consoleType': ((S,), v_choice('vnc', 'spice')),
    'OVEHOSTED_VDSM/cpu': ((S,), v_cpu),
}
HE_SECRET_KEYS = ('OVEHOSTED_ENGINE/adminPassword', 'OVEHOSTED_VM/cloudinitRootPwd', 'OVEHOSTED_STORAGE/iSCSIPortalPassword')
# later releases only: refused by the 4.0 stand-in, accepted otherwise
HE_KEYS_LATER = {
    'OVEHOSTED_STORAGE/nfsVersion': ((S,), v_choice('v3', 'v4', 'v4_1', 'v4_2')),
}

SETUP_KEYS = {
    'OVESETUP_CONFIG/fqdn': ((S,), v_fqdn),
    'OVESETUP_CONFIG/adminPassword': ((S,), v_any),
    'OVESETUP_CONFIG/updateFirewall': ((B,), v_any),
    'OVESETUP_CONFIG/firewallManager': ((S, N), v_choice('iptables', 'firewalld')),
    'OVESETUP_DB/host': ((S,), v_any),
    'OVESETUP_DB/port': ((I, S), v_port),
    'OVESETUP_DB/user': ((S,), v_any),
    'OVESETUP_DB/password': ((S,), v_any),
    'OVESETUP_DB/database': ((S,), v_any),
    'OVESETUP_DB/secured': ((B,), v_any),
    'OVESETUP_DB/securedHostValidation': ((B,), v_any),
    'OVESETUP_ENGINE_CORE/enable': ((B,), v_any),
    'OVESETUP_PROVISIONING/postgresProvisioningEnabled': ((B,), v_any),
    'OVESETUP_PKI/organization': ((S,), v_any),
    'OVESETUP_DWH_CORE/enable': ((B,), v_any),
    'OVESETUP_DWH_DB/host': ((S,), v_any),
    'OVESETUP_DWH_DB/port': ((I, S), v_port),
    'OVESETUP_DWH_DB/user': ((S,), v_any),
    'OVESETUP_DWH_DB/password': ((S,), v_any),
    'OVESETUP_DWH_DB/database': ((S,), v_any),
    'OVESETUP_DWH_DB/secured': ((B,), v_any),
    'OVESETUP_DWH_DB/securedHostValidation': ((B,), v_any),
    'OVESETUP_DWH_DB/disconnectExistingDwh': ((B,), v_any),
    'OVESETUP_DWH_DB/performBackup': ((B,), v_any),
    'OVESETUP_DWH_PROVISIONING/postgresProvisioningEnabled': ((B,), v_any),
    'OVESETUP_DWH_CONFIG/remoteEngineConfigured': ((B,), v_any),
}


def validate_answers(entries, table, path):
    env = {}
    for section, key, typ, val, n in entries:
        where = '%s:%d' % (path, n)
        if key.startswith('QUESTION/'):
            if not re.match(r'^QUESTION/\d+/[A-Za-z0-9_]+$', key):
                raise Refused('%s: malformed prompt answer key %s' % (where, key))
            env[key] = val
            continue
        spec = table.get(key)
        if spec is None:
            raise Refused('%s: unknown answer key %s' % (where, key))
        types, check = spec
        if typ not in types:
            raise Refused('%s: %s has type %s, expected %s' % (where, key, typ, ' or '.join(types)))
        if val is not None:
            err = check(val)
            if err:
                shown = '********' if key in HE_SECRET_KEYS or key.endswith('assword') else repr(val)
                raise Refused('%s: %s=%s %s' % (where, key, shown, err))
        env[key] = val
    return env


def render_otopi(env):
    lines = ['[environment:default]']
    for k in sorted(env):
        v = env[k]
        if v is None:
            lines.append('%s=none:None' % k)
        elif isinstance(v, bool):
            lines.append('%s=bool:%s' % (k, 'True' if v else 'False'))
        elif isinstance(v, int):
            lines.append('%s=int:%d' % (k, v))
        elif isinstance(v, list):
            lines.append('%s=multi-str:%s' % (k, ','.join(v)))
        else:
            lines.append('%s=str:%s' % (k, v))
    return '\n'.join(lines) + '\n'


# ------------------------------------------------------------------ HA state

def he_conf():
    return read_kv(rp(HE_CONF))


def deployed():
    c = he_conf()
    return c if c.get('storage') and c.get('host_id') else None


def must_be_deployed():
    c = deployed()
    if not c:
        raise Refused('You must run deploy first', to_stdout=True)
    return c


def service_running(name):
    if name == 'vdsmd':
        pid = read_pid(rp(STATE_DIR + '/vdsmd.pid'))
        return pid is not None
    return os.path.exists(rp(STATE_DIR + '/services/' + name))


def read_pid(path):
    try:
        with open(path) as f:
            pid = int(f.read().strip())
        os.kill(pid, 0)
        return pid
    except (FileNotFoundError, ValueError, ProcessLookupError, PermissionError):
        return None


def now_ts():
    return int(time.time())


def ha_path(sd):
    return os.path.join(sd, 'ha.json')


def ha_load(sd):
    return read_json(ha_path(sd))


def ha_save(sd, ha):
    write_json(ha_path(sd), ha)


def host_score(h, ha):
    if not h.get('agent'):
        return 0
    if h.get('maintenance'):
        return 0
    s = 3400 - int(h.get('penalty', 0))
    return max(s, 0)


def host_state(hid, h, ha):
    if not h.get('agent'):
        return 'AgentStopped'
    if ha['global_maintenance']:
        return 'GlobalMaintenance'
    if h.get('maintenance'):
        return 'LocalMaintenance'
    if ha['vm']['host'] == hid:
        if ha['vm']['status'] == 'up':
            return 'EngineUp' if ha['vm'].get('health', 'good') == 'good' else 'EngineUpBadHealth'
        return 'EngineStarting'
    return 'EngineDown'


def vm_start_on(sd, ha, hid, paused=False):
    ha['vm'].update({'host': hid, 'status': 'paused' if paused else 'up', 'health': 'bad' if paused else 'good'})
    ha['engine_starts'] = ha.get('engine_starts', 0) + 1
    ensure_engine_server(sd, ha)


def vm_stop(ha, how='down'):
    ha['vm'].update({'host': None, 'status': how, 'health': 'bad'})


def tick(sd, ha):
    """The agents' decisions (synchronous: every stand-in call runs it)."""
    hosts = ha['hosts']
    for hid, h in hosts.items():
        h['score'] = host_score(h, ha)
        h['state'] = host_state(hid, h, ha)
        if h.get('agent'):
            h['ts'] = now_ts()
    if ha['global_maintenance']:
        return
    live = {hid: h for hid, h in hosts.items() if h.get('agent') and h['score'] > 0}
    cur = ha['vm']['host']
    best = max(live, key=lambda x: (live[x]['score'], -int(x)), default=None)
    if cur is None:
        if best is not None and ha['vm']['status'] != 'missing':
            vm_start_on(sd, ha, best)
    else:
        cs = hosts[cur]['score'] if cur in hosts else 0
        if best is not None and best != cur and (cs == 0 or live[best]['score'] >= cs + 800):
            ha['vm']['host'] = best
            ha['migrations'] = ha.get('migrations', 0) + 1
    for hid, h in hosts.items():
        h['state'] = host_state(hid, h, ha)


def ha_update(sd, fn):
    with Lock(sd):
        ha = ha_load(sd)
        if ha is None:
            raise Refused('Unable to read the hosted-engine metadata on the shared storage (%s)' % sd)
        r = fn(ha)
        tick(sd, ha)
        ha_save(sd, ha)
        return r, ha


def extra_metadata(hid, h, ha):
    ts = h.get('ts', 0)
    stamp = time.strftime('%a %b %d %H:%M:%S %Y', time.localtime(ts))
    return ('metadata_parse_version=1\nmetadata_feature_version=1\n'
            'timestamp=%d (%s)\nhost-id=%s\nscore=%d\nvm_conf_refresh_time=%d (%s)\n'
            'conf_on_shared_storage=True\nmaintenance=%s\nstate=%s\nstopped=%s\n') % (
        ts, stamp, hid, h['score'], ts, stamp, 'True' if h.get('maintenance') else 'False',
        h['state'], 'False' if h.get('agent') else 'True')


def engine_status(hid, ha):
    vm = ha['vm']
    if vm['host'] == hid:
        if vm['status'] == 'up':
            if vm.get('health', 'good') == 'good':
                return {'health': 'good', 'vm': 'up', 'detail': 'Up'}
            return {'reason': 'failed liveliness check', 'health': 'bad', 'vm': 'up', 'detail': 'Up'}
        return {'reason': 'bad vm status', 'health': 'bad', 'vm': 'up', 'detail': 'Paused'}
    return {'reason': 'vm not running on this host', 'health': 'bad', 'vm': 'down', 'detail': 'unknown'}


def status_json(ha):
    out = {}
    for hid in sorted(ha['hosts'], key=int):
        h = ha['hosts'][hid]
        extra = extra_metadata(hid, h, ha)
        out[hid] = {
            'conf_on_shared_storage': True,
            'live-data': bool(h.get('agent')),
            'extra': extra,
            'hostname': h['hostname'],
            'host-id': int(hid),
            'engine-status': engine_status(hid, ha),
            'score': h['score'],
            'stopped': not h.get('agent'),
            'maintenance': bool(h.get('maintenance')),
            'crc32': '%08x' % (zlib.crc32(extra.encode()) & 0xffffffff),
            'local_conf_timestamp': h.get('ts', 0),
            'host-ts': h.get('ts', 0),
        }
    out['global_maintenance'] = bool(ha['global_maintenance'])
    return out


def status_text(ha):
    js = status_json(ha)
    lines = []
    banner = '\n\n!! Cluster is in GLOBAL MAINTENANCE mode !!\n\n'
    if js['global_maintenance']:
        lines.append(banner)
    for hid in sorted((k for k in js if k != 'global_maintenance'), key=int):
        d = js[hid]
        lines.append('\n')
        if is_40():
            lines.append('--== Host %s status ==--\n\n' % hid)
        else:
            lines.append('--== Host %s (id: %s) status ==--\n\n' % (d['hostname'], hid))

        def row(label, value):
            lines.append('%s: %s\n' % (label.ljust(35), value))
        row('Status up-to-date', 'True' if d['live-data'] else 'False')
        row('Hostname', d['hostname'])
        row('Host ID', hid)
        row('Engine status', json.dumps(d['engine-status']) if d['live-data'] else 'unknown stale-data')
        row('Score', d['score'])
        row('stopped', 'True' if d['stopped'] else 'False')
        row('Local maintenance', 'True' if d['maintenance'] else 'False')
        row('crc32', d['crc32'])
        row('Host timestamp', d['host-ts'])
        lines.append('Extra metadata (valid at timestamp):\n')
        for kv in d['extra'].rstrip('\n').split('\n'):
            lines.append('\t%s\n' % kv)
    if js['global_maintenance']:
        lines.append(banner)
    return ''.join(lines)


# ------------------------------------------------------------------ engine side (PKI, server)

def openssl(*args):
    r = subprocess.run(['openssl'] + list(args), capture_output=True, text=True)
    if r.returncode != 0:
        raise Refused('openssl %s failed: %s' % (args[0], r.stderr.strip()))


def make_pki(pki, fqdn, listen):
    os.makedirs(pki, exist_ok=True)
    os.chmod(pki, 0o700)
    openssl('req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-days', '3650', '-keyout', pki + '/ca.key',
            '-out', pki + '/ca.pem', '-subj', '/C=EN/L=Test/O=Test/CN=TestCA',
            '-addext', 'basicConstraints=critical,CA:TRUE', '-addext', 'keyUsage=critical,keyCertSign,cRLSign')
    openssl('req', '-newkey', 'rsa:2048', '-nodes', '-keyout', pki + '/engine.key', '-out', pki + '/engine.csr',
            '-subj', '/C=EN/O=Test/CN=' + fqdn)
    san = 'subjectAltName=DNS:%s' % fqdn
    try:
        ipaddress.ip_address(listen)
        if listen not in ('0.0.0.0', '::'):
            san += ',IP:%s' % listen
    except ValueError:
        pass
    with open(pki + '/ext.cnf', 'w') as f:
        f.write(san + '\nbasicConstraints=CA:FALSE\nextendedKeyUsage=serverAuth\n')
    openssl('x509', '-req', '-in', pki + '/engine.csr', '-CA', pki + '/ca.pem', '-CAkey', pki + '/ca.key',
            '-CAcreateserial', '-days', '825', '-out', pki + '/engine.pem', '-extfile', pki + '/ext.cnf')
    os.chmod(pki + '/ca.pem', 0o644)


def engine_dir(sd):
    return os.path.join(sd, 'engine')


def engine_load(sd):
    return read_json(os.path.join(engine_dir(sd), 'engine.json'))


def engine_save(sd, e):
    write_json(os.path.join(engine_dir(sd), 'engine.json'), e, 0o600)


def pw_hash(pw, salt=None):
    salt = salt or secrets.token_hex(8)
    return salt + '$' + hashlib.sha256((salt + pw).encode()).hexdigest()


def pw_ok(pw, stored):
    salt = stored.split('$', 1)[0]
    return secrets.compare_digest(pw_hash(pw, salt), stored)


def ensure_engine_server(sd, ha):
    if CONF.get('vm_hook'):
        subprocess.run([CONF['vm_hook'], 'start', sd], check=False)
        return
    pidf = os.path.join(engine_dir(sd), 'server.pid')
    if read_pid(pidf):
        return
    if not os.path.exists(os.path.join(engine_dir(sd), 'pki', 'engine.pem')):
        return
    env = dict(os.environ, HE_STANDIN_SD=sd)
    p = subprocess.Popen([sys.executable, os.path.abspath(__file__), 'engine-server'], env=env,
                         stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                         start_new_session=True, close_fds=True)
    with open(pidf, 'w') as f:
        f.write(str(p.pid))
    # wait until it listens
    port = int(CONF['engine_port'])
    host = CONF['engine_listen'] if CONF['engine_listen'] not in ('0.0.0.0', '') else '127.0.0.1'
    for _ in range(50):
        try:
            socket.create_connection((host, port), timeout=0.2).close()
            break
        except OSError:
            time.sleep(0.1)


def stop_engine_server(sd):
    if CONF.get('vm_hook'):
        # the engine VM is a lab host: power it off
        subprocess.run([CONF['vm_hook'], 'stop', sd], check=False)
        return
    pid = read_pid(os.path.join(engine_dir(sd), 'server.pid'))
    if pid:
        try:
            os.kill(pid, signal.SIGTERM)
        except ProcessLookupError:
            pass


def host_xml(h):
    el = ET.Element('host', {'href': '/ovirt-engine/api/hosts/' + h['id'], 'id': h['id']})
    for k in ('name', 'address', 'status'):
        ET.SubElement(el, k).text = h[k]
    ET.SubElement(el, 'spm').text = 'true' if h.get('spm') else 'false'
    he = ET.SubElement(el, 'hosted_engine')
    ET.SubElement(he, 'configured').text = 'true' if h.get('hosted_engine') else 'false'
    return el


def fault(msg, detail):
    el = ET.Element('fault')
    ET.SubElement(el, 'reason').text = msg
    ET.SubElement(el, 'detail').text = detail
    return ET.tostring(el, encoding='unicode')


class EngineHandler(http.server.BaseHTTPRequestHandler):
    sd = None
    protocol_version = 'HTTP/1.1'

    def log_message(self, *a):
        pass

    def vm_up(self):
        ha = ha_load(self.sd) or {}
        vm = ha.get('vm', {})
        return vm.get('status') == 'up', vm.get('health') == 'good'

    def send(self, code, body, ctype='application/xml'):
        data = body.encode() if isinstance(body, str) else body
        self.send_response(code)
        self.send_header('Content-Type', ctype)
        self.send_header('Content-Length', str(len(data)))
        if code == 401:
            self.send_header('WWW-Authenticate', 'Basic realm="RESTAPI"')
        self.end_headers()
        self.wfile.write(data)

    def gate(self):
        up, _ = self.vm_up()
        if not up:   # the engine VM is down: nobody answers
            self.close_connection = True
            self.connection.close()
            return False
        return True

    def authed(self):
        e = engine_load(self.sd)
        h = self.headers.get('Authorization', '')
        if not h.startswith('Basic '):
            return False
        try:
            user, pw = base64.b64decode(h[6:]).decode().split(':', 1)
        except Exception:
            return False
        return user == 'admin@internal' and pw_ok(pw, e['admin_password'])

    def api_path(self):
        u = urlparse(self.path)
        p = u.path
        for pre in ('/ovirt-engine/api/hosts', '/api/hosts'):
            if p == pre or p.startswith(pre + '/'):
                return p[len(pre):].strip('/'), parse_qs(u.query)
        return None, None

    def do_GET(self):
        if not self.gate():
            return
        u = urlparse(self.path)
        _, healthy = self.vm_up()
        if u.path == '/ovirt-engine/services/health':
            if healthy:
                return self.send(200, 'DB Up!Welcome to Health Status!', 'text/html')
            return self.send(500, 'DB Down!', 'text/html')
        if u.path in ('/ca.crt', '/ovirt-engine/services/pki-resource'):
            with open(os.path.join(engine_dir(self.sd), 'pki', 'ca.pem'), 'rb') as f:
                return self.send(200, f.read(), 'application/x-x509-ca-cert')
        sub, _q = self.api_path()
        if sub is None:
            return self.send(404, fault('Not Found', u.path))
        if not self.authed():
            return self.send(401, fault('Unauthorized', 'Authentication required'))
        e = engine_load(self.sd)
        if sub == '':
            root = ET.Element('hosts')
            for h in e['hosts']:
                root.append(host_xml(h))
            return self.send(200, ET.tostring(root, encoding='unicode'))
        for h in e['hosts']:
            if h['id'] == sub:
                return self.send(200, ET.tostring(host_xml(h), encoding='unicode'))
        return self.send(404, fault('Not Found', 'Entity not found: ' + sub))

    def body(self):
        n = int(self.headers.get('Content-Length') or 0)
        return self.rfile.read(n).decode() if n else ''

    def do_POST(self):
        if not self.gate():
            return
        sub, q = self.api_path()
        if sub is None or sub != '':
            return self.send(404, fault('Not Found', self.path))
        if not self.authed():
            return self.send(401, fault('Unauthorized', 'Authentication required'))
        if not self.headers.get('Content-Type', '').startswith('application/xml'):
            return self.send(415, fault('Unsupported Media Type', 'Content-Type must be application/xml'))
        try:
            el = ET.fromstring(self.body())
        except ET.ParseError as ex:
            return self.send(400, fault('Bad Request', 'malformed XML: %s' % ex))
        if el.tag != 'host':
            return self.send(400, fault('Bad Request', 'expected a <host> element'))
        name, address = el.findtext('name'), el.findtext('address')
        if not name or not address:
            return self.send(400, fault('Incomplete parameters', 'Host [name|address] required for add'))
        if not el.findtext('root_password') and el.find('ssh') is None:
            return self.send(400, fault('Incomplete parameters', 'Host [root_password|ssh] required for add'))
        deploy_he = (q.get('deploy_hosted_engine') or ['false'])[0] == 'true'
        with Lock(self.sd):
            e = engine_load(self.sd)
            if any(h['name'] == name for h in e['hosts']):
                return self.send(409, fault('Operation Failed', 'Cannot add Host. The Host name is already in use, please choose a unique name and try again.'))
            if any(h['address'] == address for h in e['hosts']):
                return self.send(409, fault('Operation Failed', 'Cannot add Host. The Host address is already in use.'))
            h = {'id': str(uuid.uuid4()), 'name': name, 'address': address,
                 'status': 'installing', 'hosted_engine': deploy_he}
            e['hosts'].append(h)
            engine_save(self.sd, e)
            pend = os.path.join(CONF['shared_dir'], 'pending')
            os.makedirs(pend, exist_ok=True)
            write_json(os.path.join(pend, re.sub(r'[^A-Za-z0-9._-]', '_', address) + '.json'),
                       {'engine_id': h['id'], 'name': name, 'address': address, 'storage_dir': self.sd,
                        'hosted_engine': deploy_he}, 0o600)
        self.send(201, ET.tostring(host_xml(h), encoding='unicode'))

    def do_DELETE(self):
        if not self.gate():
            return
        sub, _q = self.api_path()
        if not sub:
            return self.send(404, fault('Not Found', self.path))
        if not self.authed():
            return self.send(401, fault('Unauthorized', 'Authentication required'))
        raw = self.body()
        force = False
        if raw.strip():
            if not self.headers.get('Content-Type', '').startswith('application/xml'):
                return self.send(415, fault('Unsupported Media Type', 'Content-Type must be application/xml'))
            try:
                el = ET.fromstring(raw)
            except ET.ParseError as ex:
                return self.send(400, fault('Bad Request', 'malformed XML: %s' % ex))
            if el.tag != 'action':
                return self.send(400, fault('Bad Request', 'expected an <action> element'))
            force = (el.findtext('force') or '').strip() == 'true'
        with Lock(self.sd):
            e = engine_load(self.sd)
            h = next((x for x in e['hosts'] if x['id'] == sub), None)
            if h is None:
                return self.send(404, fault('Not Found', 'Entity not found: ' + sub))
            if h['status'] not in ('maintenance',) and not force:
                return self.send(409, fault('Operation Failed', 'Cannot remove Host. Host is operational. Move it to maintenance first or use force.'))
            e['hosts'].remove(h)
            engine_save(self.sd, e)
        self.send(200, '<action><status>complete</status></action>')


def engine_vm_storage():
    """On the engine VM itself: the shared storage whose hosted engine has this host's FQDN."""
    root = CONF['shared_dir']
    me = my_hostname()
    try:
        names = sorted(os.listdir(root))
    except OSError:
        return None
    found = []
    for n in names:
        sd = os.path.join(root, n)
        ha = read_json(ha_path(sd)) if os.path.exists(ha_path(sd)) else None
        pem = os.path.join(engine_dir(sd), 'pki', 'engine.pem')
        if ha and ha.get('fqdn') == me and os.path.exists(pem):
            found.append(((ha.get('vm') or {}).get('status') == 'up', os.path.getmtime(pem), sd))
    # several deployments for one engine FQDN (lab tests): the running one, newest first
    return max(found)[2] if found else None


def engine_vm_service(act):
    """`/etc/init.d/ovirt-engine start|stop` inside the engine VM (lab: the VM host's boot).
    The deploy starts the VM before it has saved the HA metadata, so the server waits
    (up to 120 s) for a hosted engine with this FQDN to appear on the shared storage."""
    pidf = rp(STATE_DIR + '/engine-server.pid')
    pid = read_pid(pidf)
    if act in ('stop', 'restart') and pid:
        try:
            os.kill(pid, signal.SIGTERM)
        except ProcessLookupError:
            pass
        pid = None
    if act == 'stop':
        if os.path.exists(pidf):
            os.unlink(pidf)
        return 0
    if pid:
        return 0
    os.makedirs(rp(STATE_DIR), exist_ok=True)
    log = open(rp(STATE_DIR + '/engine-server.log'), 'a')
    p = subprocess.Popen([sys.executable, os.path.abspath(__file__), 'engine-server'], stdin=subprocess.DEVNULL,
                         stdout=log, stderr=log, start_new_session=True, close_fds=True)
    write_file(pidf, '%d\n' % p.pid)
    return 0


def engine_server():
    sd = os.environ.get('HE_STANDIN_SD')
    if not sd:
        for _ in range(1200):
            sd = engine_vm_storage()
            if sd:
                break
            time.sleep(0.1)
        else:
            print('engine-server: no hosted engine for %s on %s' % (my_hostname(), CONF['shared_dir']), file=sys.stderr)
            return 1
    EngineHandler.sd = sd
    pki = os.path.join(engine_dir(sd), 'pki')
    srv = http.server.ThreadingHTTPServer((CONF['engine_listen'], int(CONF['engine_port'])), EngineHandler)
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    ctx.load_cert_chain(pki + '/engine.pem', pki + '/engine.key')
    srv.socket = ctx.wrap_socket(srv.socket, server_side=True)
    signal.signal(signal.SIGTERM, lambda *a: sys.exit(0))
    srv.serve_forever()


# ------------------------------------------------------------------ hosted-engine

HE_LOCAL_KEYS = ('fqdn', 'vm_disk_id', 'vm_disk_vol_id', 'vmid', 'storage', 'nfs_version', 'mnt_options', 'conf',
                 'host_id', 'console', 'domainType', 'spUUID', 'sdUUID', 'connectionUUID', 'ca_cert', 'ca_subject',
                 'vdsm_use_ssl', 'gateway', 'bridge', 'network_test', 'metadata_volume_UUID', 'metadata_image_UUID',
                 'lockspace_volume_UUID', 'lockspace_image_UUID', 'conf_volume_UUID', 'conf_image_UUID',
                 'iqn', 'portal', 'user', 'password', 'port')
HA_KEYS = ('local_maintenance',)
BROKER_KEYS = ('smtp-server', 'smtp-port', 'source-email', 'destination-emails', 'state_transition')


def he_deploy(opts):
    if deployed():
        raise Refused('[ ERROR ] Hosted Engine is already deployed on this host (%s exists)' % HE_CONF)
    if 'config-append' not in opts:
        if not sys.stdin.isatty():
            raise Refused('[ ERROR ] Cannot ask the deploy questions: stdin is not a terminal; use --config-append=FILE')
        raise Refused('[ ERROR ] The interactive dialogue is not available in the stand-in; use --config-append=FILE')
    env = {}
    for path in opts['config-append']:
        env.update(validate_answers(parse_otopi(path), dict(HE_KEYS, **({} if is_40() else HE_KEYS_LATER)), path))
    # answers the dialogue would need
    required = ['OVEHOSTED_STORAGE/domainType', 'OVEHOSTED_NETWORK/bridgeIf', 'OVEHOSTED_NETWORK/fqdn',
                'OVEHOSTED_NETWORK/gateway', 'OVEHOSTED_ENGINE/adminPassword', 'OVEHOSTED_VM/vmBoot',
                'OVEHOSTED_VM/vmMACAddr']
    dt = env.get('OVEHOSTED_STORAGE/domainType')
    if dt in ('nfs3', 'nfs4', 'glusterfs'):
        required.append('OVEHOSTED_STORAGE/storageDomainConnection')
    elif dt == 'iscsi':
        required += ['OVEHOSTED_STORAGE/iSCSIPortalIPAddress', 'OVEHOSTED_STORAGE/iSCSITargetName', 'OVEHOSTED_STORAGE/LunID']
    elif dt == 'fc':
        required.append('OVEHOSTED_STORAGE/LunID')
    missing = [k for k in required if env.get(k) in (None, '')]
    if missing:
        raise Refused('[ ERROR ] No answer for %s and no terminal to ask it' % ', '.join(missing))
    if env.get('OVEHOSTED_VM/vmBoot') == 'disk' and not env.get('OVEHOSTED_VM/ovfArchive'):
        raise Refused('[ ERROR ] vmBoot=disk needs OVEHOSTED_VM/ovfArchive (the appliance OVA)')
    ova = env.get('OVEHOSTED_VM/ovfArchive')
    if ova and not os.path.exists(rp(ova)):
        raise Refused('[ ERROR ] The appliance OVA %s does not exist' % ova)
    iso = env.get('OVEHOSTED_VM/cloudInitISO')
    if iso and iso != 'generate' and not os.path.exists(rp(iso)):
        raise Refused('[ ERROR ] The cloud-init ISO %s does not exist' % iso)
    for k in ('OVEHOSTED_CORE/deployProceed', 'OVEHOSTED_CORE/confirmSettings'):
        if env.get(k) is False:
            raise Refused('[ ERROR ] Deployment aborted: %s is False' % k)
    fqdn = env['OVEHOSTED_NETWORK/fqdn']
    me = my_hostname()
    if fqdn == me:
        raise Refused('[ ERROR ] The engine FQDN %s is the FQDN of this host' % fqdn)
    if dt in ('nfs3', 'nfs4', 'glusterfs'):
        storage = env['OVEHOSTED_STORAGE/storageDomainConnection']
    elif dt == 'iscsi':
        storage = '%s:%s:%s' % (env['OVEHOSTED_STORAGE/iSCSIPortalIPAddress'], env['OVEHOSTED_STORAGE/iSCSITargetName'],
                                env['OVEHOSTED_STORAGE/LunID'])
    else:
        storage = 'fc:' + env['OVEHOSTED_STORAGE/LunID']
    sd = storage_dir(storage)
    # engine-setup not run by cloud-init (guide 4.1): the dialogue waits while the admin
    # installs or restores the engine in the VM (see he_wait_engine_installed)
    manual = env.get('OVEHOSTED_VM/cloudinitExecuteEngineSetup') is False
    if manual:
        sys.stdout.reconfigure(line_buffering=True)
        ha0 = ha_load(sd)
        if ha0 is not None and ha0.get('fqdn') != fqdn:
            raise Refused('[ ERROR ] The storage %s already holds a hosted engine for %s, not %s' % (storage, ha0['fqdn'], fqdn))
    print('[ INFO  ] Stage: Initializing')
    print('[ INFO  ] Stage: Environment setup')
    print('[ INFO  ] Stage: Setup validation')
    print('[ INFO  ] Stage: Transaction setup')
    if manual:
        he_wait_engine_installed(env, fqdn, sd)
    with Lock(sd):
        ha = ha_load(sd)
        if ha is None:
            first = True
            ids = {k: str(uuid.uuid4()) for k in ('vm_disk_id', 'vm_disk_vol_id', 'vmid', 'spUUID', 'sdUUID',
                                                  'connectionUUID', 'metadata_volume_UUID', 'metadata_image_UUID',
                                                  'lockspace_volume_UUID', 'lockspace_image_UUID',
                                                  'conf_volume_UUID', 'conf_image_UUID')}
            ha = {'global_maintenance': False, 'hosts': {}, 'ids': ids, 'fqdn': fqdn, 'storage': storage,
                  'domainType': dt, 'gateway': env['OVEHOSTED_NETWORK/gateway'], 'vm': {'host': None, 'status': 'down', 'health': 'bad'},
                  'appliance_version': CONF['version'], 'shared_config': {'broker': {
                      'smtp-server': env.get('OVEHOSTED_NOTIF/smtpServer', 'localhost'),
                      'smtp-port': str(env.get('OVEHOSTED_NOTIF/smtpPort', 25)),
                      'source-email': env.get('OVEHOSTED_NOTIF/sourceEmail', 'root@localhost'),
                      'destination-emails': env.get('OVEHOSTED_NOTIF/destEmail', 'root@localhost'),
                      'state_transition': 'maintenance|start|stop|migrate|up|down'}, 'ha': {}}}
            make_pki(os.path.join(engine_dir(sd), 'pki'), fqdn, CONF['engine_listen'])
            engine_save(sd, {'admin_password': pw_hash(env['OVEHOSTED_ENGINE/adminPassword']),
                             'cluster': env.get('OVEHOSTED_ENGINE/clusterName', 'Default'), 'hosts': []})
        else:
            first = False
            if ha['fqdn'] != fqdn:
                raise Refused('[ ERROR ] The storage %s already holds a hosted engine for %s, not %s' % (storage, ha['fqdn'], fqdn))
            if any(h['hostname'] == me for h in ha['hosts'].values()):
                raise Refused('[ ERROR ] Host %s is already part of this hosted-engine cluster' % me)
        hid = str(max([int(x) for x in ha['hosts']] + [0]) + 1)
        ha['hosts'][hid] = {'hostname': me, 'agent': True, 'maintenance': False, 'penalty': 0}
        e = engine_load(sd)
        e['hosts'].append({'id': str(uuid.uuid4()), 'name': env.get('OVEHOSTED_ENGINE/appHostName', 'hosted_engine_%s' % hid),
                           'address': me, 'status': 'up', 'hosted_engine': True, 'spm': first, 'he_host_id': hid})
        engine_save(sd, e)
        if manual:
            # the VM was started by the deploy itself, outside the HA agents; it is down
            # now (he_wait_vm_down) and the agents start it as a monitored service
            print('[ INFO  ] Enabling and starting HA services')
        write_host_files(env, ha, hid, storage, dt, sd)
        print('[ INFO  ] Stage: Closing up')
        tick(sd, ha)
        ha_save(sd, ha)
    if opts.get('generate-answer'):
        write_file(rp(opts['generate-answer'][0]), render_otopi(env), 0o600)
    print('[ INFO  ] Hosted Engine successfully %s' % ('set up' if manual else 'deployed'))
    return 0


ENGINE_UP_MENU = ('\n          The VM has been rebooted.\n'
                  '          To continue please install oVirt-Engine in the VM\n'
                  '          (Follow http://www.ovirt.org/Quick_Start_Guide for more info).\n\n'
                  '          Make a selection from the options below:\n'
                  '          (1) Continue setup - oVirt-Engine installation is ready and ovirt-engine service is up\n'
                  '          (2) Abort setup\n'
                  '          (3) Power off and restart the VM\n'
                  '          (4) Destroy VM and abort setup\n\n'
                  '          (1, 2, 3, 4)[1]: ')


def vm_hook(act, sd):
    """Power the deploy's engine VM on or off (lab: the vm_hook of standin.conf)."""
    if CONF.get('vm_hook'):
        subprocess.run([CONF['vm_hook'], act, sd], check=False, stdin=subprocess.DEVNULL,
                       stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)


def engine_get(fqdn, path, auth=None, timeout=5):
    """GET https://FQDN/PATH on the engine VM -> (status, body); (0, reason) when nothing answers."""
    import urllib.request
    import urllib.error
    ctx = ssl.create_default_context()
    ctx.check_hostname = False
    ctx.verify_mode = ssl.CERT_NONE
    req = urllib.request.Request('https://%s:%s%s' % (fqdn, CONF['engine_port'], path))
    if auth:
        req.add_header('Authorization', 'Basic ' + base64.b64encode(auth.encode()).decode())
    try:
        with urllib.request.urlopen(req, timeout=timeout, context=ctx) as r:
            return r.status, r.read().decode(errors='replace')
    except urllib.error.HTTPError as ex:
        return ex.code, ex.read().decode(errors='replace')
    except (OSError, ssl.SSLError) as ex:
        return 0, str(ex)


def engine_port_open(fqdn):
    try:
        socket.create_connection((fqdn, int(CONF['engine_port'])), timeout=1).close()
        return True
    except OSError:
        return False


def he_wait_engine_installed(env, fqdn, sd):
    """4.0 with OVEHOSTED_VM/cloudinitExecuteEngineSetup=False (guide 4.1, steps 7-17).
    The VM is created and started, then the dialogue question OVEHOSTED_ENGINE_UP waits
    (reading stdin; an answer file's QUESTION/1/OVEHOSTED_ENGINE_UP answers it once) while
    the admin installs or restores the engine in the VM and runs engine-setup.
    1 = continue: the engine's health page must answer "DB Up!" (else "Engine is still
    unreachable" and the question again), admin@internal must log in to the REST API with
    OVEHOSTED_ENGINE/adminPassword; 2 = abort; 3 = VM powered off and started again;
    4 = VM destroyed, abort. Then the VM must go down (automateVMShutdown: the deploy
    powers it off; else it waits for the admin's shutdown) before the HA services start it."""
    print('[ INFO  ] Creating VM')
    vm_hook('start', sd)
    print('          You can now connect to the VM with the following command:')
    print('                  /bin/remote-viewer vnc://localhost:5900')
    print('          If you need to reboot the VM you will need to start it manually using the command:')
    print('          hosted-engine --vm-start')
    print('          Please install and setup the engine in the VM.')
    preset = env.get('QUESTION/1/OVEHOSTED_ENGINE_UP')
    while True:
        sys.stdout.write(ENGINE_UP_MENU)
        sys.stdout.flush()
        if preset is not None:
            ans, preset = str(preset), None
            print(ans)
        else:
            line = sys.stdin.readline()
            if not line:
                vm_hook('stop', sd)
                raise Refused("[ ERROR ] Failed to execute stage 'Closing up': End of file reached while "
                              "waiting for an answer to OVEHOSTED_ENGINE_UP", to_stdout=True)
            ans = line.strip() or '1'
        if ans == '1':
            code, body = engine_get(fqdn, '/ovirt-engine/services/health')
            if code == 200 and 'DB Up!' in body:
                print('[ INFO  ] Engine replied: %s' % body.strip())
                break
            print('[ ERROR ] Engine is still unreachable (%s)' % (code or body))
            continue
        if ans == '2':
            raise Refused("[ ERROR ] Failed to execute stage 'Closing up': Setup aborted by user", to_stdout=True)
        if ans == '3':
            vm_hook('stop', sd)
            vm_hook('start', sd)
            print('[ INFO  ] The VM has been restarted')
            continue
        if ans == '4':
            vm_hook('stop', sd)
            raise Refused("[ ERROR ] Failed to execute stage 'Closing up': VM destroyed, setup aborted by user", to_stdout=True)
        print('[ ERROR ] Invalid value %r (1, 2, 3, 4)' % ans)
    print('[ INFO  ] Acquiring internal CA cert from the engine')
    code, body = engine_get(fqdn, '/ca.crt')
    if code != 200 or 'BEGIN CERTIFICATE' not in body:
        raise Refused("[ ERROR ] Failed to execute stage 'Closing up': Cannot acquire the engine CA (%s)" % (code or body),
                      to_stdout=True)
    print('[ INFO  ] Connecting to the Engine')
    code, body = engine_get(fqdn, '/ovirt-engine/api/hosts', 'admin@internal:' + env['OVEHOSTED_ENGINE/adminPassword'])
    if code != 200:
        raise Refused("[ ERROR ] Failed to execute stage 'Closing up': Cannot connect to the engine as admin@internal "
                      "(HTTP %s): check OVEHOSTED_ENGINE/adminPassword" % code, to_stdout=True)
    print('[ INFO  ] The VDSM Host is now operational')
    print('[ INFO  ] Saving hosted-engine configuration on the shared storage domain')
    if env.get('OVEHOSTED_VM/automateVMShutdown'):
        print('[ INFO  ] Shutting down the engine VM')
        vm_hook('stop', sd)
    else:
        print('          Please shutdown the VM allowing the system to launch it as a monitored service.')
        print('          The system will wait until the VM is down.')
    for _ in range(1800):
        if not engine_port_open(fqdn):
            break
        time.sleep(1)
    else:
        raise Refused("[ ERROR ] Failed to execute stage 'Closing up': the engine VM did not go down", to_stdout=True)


def write_host_files(env, ha, hid, storage, dt, sd):
    ids = ha['ids']
    conf = dict(ids)
    conf.update({
        'fqdn': ha['fqdn'], 'storage': storage, 'conf': '/var/run/ovirt-hosted-engine-ha/vm.conf', 'host_id': hid,
        'console': env.get('OVEHOSTED_VDSM/consoleType', 'vnc'), 'domainType': dt,
        'ca_cert': CA_HOST_COPY, 'ca_subject': '"%s"' % CA_SUBJECT, 'vdsm_use_ssl': 'true',
        'gateway': env['OVEHOSTED_NETWORK/gateway'], 'bridge': env.get('OVEHOSTED_NETWORK/bridgeName', 'ovirtmgmt'),
        'network_test': 'dns',
    })
    if dt in ('nfs3', 'nfs4'):
        conf['nfs_version'] = 'v3' if dt == 'nfs3' else 'v4'
    if dt in ('nfs3', 'nfs4', 'glusterfs'):
        conf['mnt_options'] = env.get('OVEHOSTED_STORAGE/mntOptions') or ''
    if dt == 'iscsi':
        conf.update({'iqn': env['OVEHOSTED_STORAGE/iSCSITargetName'], 'portal': '1',
                     'user': env.get('OVEHOSTED_STORAGE/iSCSIPortalUser') or '',
                     'password': env.get('OVEHOSTED_STORAGE/iSCSIPortalPassword') or '',
                     'port': str(env.get('OVEHOSTED_STORAGE/iSCSIPortalPort', 3260))})
    body = ''.join('%s=%s\n' % (k, conf[k]) for k in HE_LOCAL_KEYS if k in conf)
    write_file(rp(HE_CONF), body, 0o644)
    write_file(rp(HE_ANSWERS), render_otopi(env), 0o600)
    with open(os.path.join(engine_dir(sd), 'pki', 'ca.pem')) as f:
        write_file(rp(CA_HOST_COPY), f.read(), 0o644)
    for s in ('ovirt-ha-broker', 'ovirt-ha-agent'):
        set_service(s, True)
        enable_service(s, True)
    enable_service('vdsmd', True)


def enable_service(name, on):
    for lvl in '2345':
        d = rp('/etc/rc%s.d' % lvl)
        link = os.path.join(d, 'S01' + name)
        if on:
            os.makedirs(d, exist_ok=True)
            if not os.path.lexists(link):
                os.symlink('../init.d/' + name, link)
        elif os.path.lexists(link):
            os.unlink(link)


def set_service(name, on):
    p = rp(STATE_DIR + '/services/' + name)
    if on:
        write_file(p, 'running\n')
    elif os.path.exists(p):
        os.unlink(p)


def sd_of_host():
    c = must_be_deployed()
    return c, storage_dir(c['storage'])


def sync_agent_flag(c, ha):
    h = ha['hosts'].get(c['host_id'])
    if h is not None:
        h['agent'] = service_running('ovirt-ha-agent') and service_running('ovirt-ha-broker')


def he_command(fn):
    """Run fn(conf, ha, hid) under the shared lock, with the agent flag synced and a tick."""
    c, sd = sd_of_host()
    hid = c['host_id']

    def wrapped(ha):
        sync_agent_flag(c, ha)
        if hid not in ha['hosts']:
            raise Refused('This host (id %s) has no metadata on the shared storage: run --deploy again or --clean-metadata was used' % hid)
        return fn(c, ha, hid)
    r, ha = ha_update(sd, wrapped)
    return r, ha, sd


def he_vm_status(opts):
    _, ha, _ = he_command(lambda c, ha, hid: None)
    if 'json' in opts:
        print(json.dumps(status_json(ha)))
    else:
        sys.stdout.write(status_text(ha))
    return 0


def he_set_maintenance(opts):
    mode = opts.get('mode', [None])[0]
    if mode is None:
        raise Refused('Usage: hosted-engine --set-maintenance --mode=<mode>\n    --mode=global|local|none')
    if mode not in ('global', 'local', 'none'):
        raise Refused("Invalid value for --mode: '%s' (global, local or none)" % mode)

    def act(c, ha, hid):
        if mode == 'global':
            ha['global_maintenance'] = True
        elif mode == 'none':
            ha['global_maintenance'] = False
            ha['hosts'][hid]['maintenance'] = False
        else:
            if ha['vm']['host'] == hid and ha['vm']['status'] in ('up', 'paused'):
                others = [x for x, h in ha['hosts'].items()
                          if x != hid and h.get('agent') and not h.get('maintenance') and host_score(h, ha) > 0]
                if ha['global_maintenance'] or not others:
                    raise Refused('Unable to enter local maintenance mode: the engine VM is running on this host '
                                  'and cannot migrate away (%s)' % ('global maintenance is on' if ha['global_maintenance']
                                                                    else 'no other host can run it'))
            ha['hosts'][hid]['maintenance'] = True
    he_command(act)
    return 0


def he_vm_start(opts, paused=False):
    def act(c, ha, hid):
        if ha['vm']['host'] is not None:
            raise Refused('Virtual machine already exists (running on host %s)' % ha['vm']['host'])
        vm_start_on(os.path.dirname(ha_path(storage_dir(c['storage']))), ha, hid, paused)
    he_command(act)
    print('VM exists and is up' if not paused else 'VM exists and is paused')
    return 0


def he_vm_stop(opts, how):
    def act(c, ha, hid):
        if ha['vm']['host'] != hid:
            raise Refused('Virtual machine does not exist on this host: the engine VM is not running here')
        vm_stop(ha, 'down')
        ha['vm']['stopped_by'] = how
    _, ha, sd = he_command(act)
    if ha['vm']['host'] is None:
        stop_engine_server(sd)
    return 0


def require_global_and_down(ha, what, force=False):
    if not ha['global_maintenance'] and not force:
        raise Refused('%s requires the global maintenance mode: run hosted-engine --set-maintenance --mode=global first' % what)
    if ha['vm']['host'] is not None:
        raise Refused('%s requires the engine VM to be down (it runs on host %s)' % (what, ha['vm']['host']))


def he_reinit_lockspace(opts):
    def act(c, ha, hid):
        require_global_and_down(ha, 'Lockspace reinitialization', 'force' in opts)
        ha['lockspace_generation'] = ha.get('lockspace_generation', 0) + 1
    he_command(act)
    return 0


def he_clean_metadata(opts):
    target = opts.get('host-id', [None])[0]
    if target is not None and not re.match(r'^[1-9]\d*$', target):
        raise Refused('Invalid value for --host-id: %s (a positive integer)' % target)

    def act(c, ha, hid):
        require_global_and_down(ha, 'Metadata cleanup')
        t = target or hid
        h = ha['hosts'].get(t)
        if h is None:
            raise Refused('No metadata for host id %s' % t)
        if h.get('agent') and 'force-cleanup' not in opts:
            raise Refused('The agent of host id %s is still alive; stop ovirt-ha-agent there or use --force-cleanup' % t)
        del ha['hosts'][t]
    c, sd = sd_of_host()
    hid = c['host_id']

    def wrapped(ha):
        sync_agent_flag(c, ha)
        return act(c, ha, hid)
    ha_update(sd, wrapped)
    return 0


def he_storage_conn(opts, on):
    c, sd = sd_of_host()
    p = rp(STATE_DIR + '/storage-connected')
    if on:
        if not os.path.isdir(sd):
            raise Refused('Unable to connect the storage %s' % c['storage'])
        write_file(p, c['storage'] + '\n')
    elif os.path.exists(p):
        os.unlink(p)
    return 0


def he_console(opts):
    def act(c, ha, hid):
        if ha['vm']['host'] != hid:
            raise Refused('The engine VM is not running on this host')
    he_command(act)
    print('Use the password you\'ve set using --add-console-password for logging in')
    if not sys.stdin.isatty():
        raise Refused('No terminal for the console')
    return 0


def he_check_liveliness(opts):
    _, ha, _ = he_command(lambda c, ha, hid: None)
    if ha['vm']['status'] == 'up' and ha['vm'].get('health') == 'good':
        print('Hosted Engine is up!')
        return 0
    print('Hosted Engine is not up!')
    return 1


def he_add_console_password(opts):
    pw = opts.get('password', [None])[0]
    if pw is None:
        pw = os.environ.get('OVIRT_HOSTED_ENGINE_CONSOLE_PASSWORD')
    if pw is None and not sys.stdin.isatty():
        pw = sys.stdin.readline().rstrip('\n')
    if not pw:
        raise Refused('Please set a non-empty console password')

    def act(c, ha, hid):
        if ha['vm']['host'] != hid:
            raise Refused('The engine VM is not running on this host')
        ha['vm']['console_password'] = pw_hash(pw)
    he_command(act)
    return 0


def shared_config_type(opts, required):
    t = opts.get('type', [None])[0]
    if t is None and required:
        raise Refused('--type is required: he_local, he_shared, ha or broker')
    if t is not None and t not in ('he_local', 'he_shared', 'ha', 'broker'):
        raise Refused("Invalid value for --type: '%s' (he_local, he_shared, ha or broker)" % t)
    return t


def he_set_shared_config(opts, pos):
    if len(pos) != 2:
        raise Refused('Usage: hosted-engine --set-shared-config <key> <value> --type=<type>')
    key, value = pos
    t = shared_config_type(opts, True)
    allowed = {'he_local': HE_LOCAL_KEYS, 'he_shared': HE_LOCAL_KEYS, 'ha': HA_KEYS, 'broker': BROKER_KEYS}[t]
    if key not in allowed:
        raise Refused('Invalid configuration key %s for type %s' % (key, t))
    if t == 'he_local':
        c = must_be_deployed()
        c[key] = value
        write_file(rp(HE_CONF), ''.join('%s=%s\n' % kv for kv in c.items()))
        return 0

    def act(c, ha, hid):
        ha.setdefault('shared_config', {}).setdefault(t, {})[key] = value
    he_command(act)
    return 0


def he_get_shared_config(opts, pos):
    if len(pos) != 1:
        raise Refused('Usage: hosted-engine --get-shared-config <key> --type=<type>')
    key = pos[0]
    t = shared_config_type(opts, False)
    c = must_be_deployed()
    _, ha, _ = he_command(lambda c, ha, hid: None)
    shared = dict(c)
    types = [t] if t else ['he_local', 'he_shared', 'ha', 'broker']
    for ty in types:
        src = c if ty in ('he_local',) else (dict(shared, **ha.get('shared_config', {}).get('he_shared', {}))
                                              if ty == 'he_shared' else ha.get('shared_config', {}).get(ty, {}))
        if key in src:
            print('%s : %s, type : %s' % (key, src[key], ty))
            return 0
    raise Refused('Invalid configuration key %s' % key)


def he_upgrade_appliance(opts):
    def act(c, ha, hid):
        if not ha['global_maintenance']:
            raise Refused('[ ERROR ] Please enable global maintenance mode before upgrading')
        e = engine_load(os.path.dirname(ha_path(storage_dir(c['storage']))))
        me = next((h for h in e['hosts'] if h.get('he_host_id') == hid), None)
        if not me or not me.get('spm'):
            raise Refused('[ ERROR ] This host is not the SPM host: run the upgrade on the SPM host')
        if ha['vm']['host'] != hid:
            raise Refused('[ ERROR ] The engine VM is not running on this host: run the upgrade on the host running it')
        if ha.get('appliance_version', '3.6') != '3.6':
            raise Refused('[ ERROR ] The engine appliance is already at version %s' % ha.get('appliance_version'))
        ha['backup'] = {'appliance_version': ha['appliance_version'], 'vm_disk_id': ha['ids']['vm_disk_id']}
        fail = os.environ.get('HE_STANDIN_FAIL_UPGRADE') or os.path.exists(os.path.join(CONF['shared_dir'], 'fail-upgrade'))
        if fail:
            ha['vm'].update({'status': 'up', 'health': 'bad'})
            ha['upgrade'] = 'failed'
            return 'failed'
        ha['appliance_version'] = '4.0'
        ha['ids']['vm_disk_id'] = str(uuid.uuid4())
        ha['upgrade'] = 'done'
        return 'ok'
    r, _, _ = he_command(act)
    if r == 'failed':
        raise Refused('[ ERROR ] Failed to execute stage \'Closing up\': engine-setup failed on the new appliance')
    print('[ INFO  ] Hosted Engine successfully upgraded')
    return 0


def he_rollback_upgrade(opts):
    def act(c, ha, hid):
        if not ha['global_maintenance']:
            raise Refused('[ ERROR ] Please enable global maintenance mode before the rollback')
        if ha['vm']['host'] is not None:
            raise Refused('[ ERROR ] The engine VM is running: power it off first (--vm-poweroff)')
        b = ha.get('backup')
        if not b:
            raise Refused('[ ERROR ] No backup of the previous appliance to roll back to')
        ha['appliance_version'] = b['appliance_version']
        ha['ids']['vm_disk_id'] = b['vm_disk_id']
        ha['upgrade'] = 'rolled-back'
        del ha['backup']
    he_command(act)
    print('[ INFO  ] Hosted Engine successfully rolled back')
    return 0


ACTIONS = ['deploy', 'vm-start', 'vm-start-paused', 'vm-shutdown', 'vm-poweroff', 'vm-status', 'set-maintenance',
           'reinitialize-lockspace', 'clean-metadata', 'connect-storage', 'disconnect-storage', 'console',
           'check-deployed', 'check-liveliness', 'add-console-password', 'set-shared-config', 'get-shared-config',
           'upgrade-appliance', 'rollback-upgrade']
# action -> options it accepts (value options end with '=')
ACTION_OPTS = {
    'deploy': ('config-append=', 'generate-answer='), 'vm-status': ('json',), 'set-maintenance': ('mode=',),
    'reinitialize-lockspace': ('force',), 'clean-metadata': ('host-id=', 'force-cleanup'),
    'set-shared-config': ('type=',), 'get-shared-config': ('type=',), 'add-console-password': ('password=',),
}
POSITIONAL = {'set-shared-config': 2, 'get-shared-config': 1}
USAGE = 'Usage: hosted-engine [--help] <command> [<command-args>]\n    Commands: ' + ', '.join('--' + a for a in ACTIONS)


def hosted_engine(argv):
    actions = [a for a in ACTIONS if not (a in ('upgrade-appliance', 'rollback-upgrade') and not is_40())]
    if not argv or argv[0] in ('--help', '-h'):
        print(USAGE)
        return 0 if argv else 1
    action = None
    opts = {}
    pos = []
    for a in argv:
        if a.startswith('--'):
            name, eq, val = a[2:].partition('=')
            if name in actions and not eq:
                if action is not None:
                    raise Refused('Only one command at a time: --%s and --%s\n%s' % (action, name, USAGE))
                action = name
                continue
            if action is None:
                raise Refused('Invalid option: %s\n%s' % (a, USAGE))
            allowed = ACTION_OPTS.get(action, ())
            if name + '=' in allowed:
                if not eq or val == '':
                    raise Refused('Option --%s needs a value (--%s=VALUE)' % (name, name))
                if name != 'config-append' and name in opts:
                    raise Refused('Option --%s given twice' % name)
                opts.setdefault(name, []).append(val)
            elif name in allowed:
                if eq:
                    raise Refused('Option --%s takes no value' % name)
                opts[name] = True
            else:
                raise Refused('Invalid option for --%s: %s' % (action, a))
        else:
            if action is None or len(pos) >= POSITIONAL.get(action, 0):
                raise Refused('Unexpected argument: %s\n%s' % (a, USAGE))
            pos.append(a)
    if action is None:
        raise Refused(USAGE)
    if action == 'deploy':
        return he_deploy(opts)
    if action == 'set-maintenance':
        mode = opts.get('mode', [None])[0]
        if mode is not None and mode not in ('global', 'local', 'none'):
            raise Refused("Invalid value for --mode: '%s' (global, local or none)" % mode)
    if action == 'check-deployed':
        must_be_deployed()
        return 0
    must_be_deployed()
    table = {
        'vm-status': lambda: he_vm_status(opts),
        'set-maintenance': lambda: he_set_maintenance(opts),
        'vm-start': lambda: he_vm_start(opts),
        'vm-start-paused': lambda: he_vm_start(opts, paused=True),
        'vm-shutdown': lambda: he_vm_stop(opts, 'shutdown'),
        'vm-poweroff': lambda: he_vm_stop(opts, 'poweroff'),
        'reinitialize-lockspace': lambda: he_reinit_lockspace(opts),
        'clean-metadata': lambda: he_clean_metadata(opts),
        'connect-storage': lambda: he_storage_conn(opts, True),
        'disconnect-storage': lambda: he_storage_conn(opts, False),
        'console': lambda: he_console(opts),
        'check-liveliness': lambda: he_check_liveliness(opts),
        'add-console-password': lambda: he_add_console_password(opts),
        'set-shared-config': lambda: he_set_shared_config(opts, pos),
        'get-shared-config': lambda: he_get_shared_config(opts, pos),
        'upgrade-appliance': lambda: he_upgrade_appliance(opts),
        'rollback-upgrade': lambda: he_rollback_upgrade(opts),
    }
    return table[action]()


# ------------------------------------------------------------------ engine-setup

SETUP_DB_CONF = '/etc/ovirt-engine/engine.conf.d/10-setup-database.conf'
SETUP_DWH_CONF = '/etc/ovirt-engine/engine.conf.d/10-setup-dwh-database.conf'
SETUP_PROTO_CONF = '/etc/ovirt-engine/engine.conf.d/10-setup-protocols.conf'
DWHD_DB_CONF = '/etc/ovirt-engine-dwh/ovirt-engine-dwhd.conf.d/10-setup-database.conf'
DB_FIELDS = (('host', 'HOST'), ('port', 'PORT'), ('user', 'USER'), ('password', 'PASSWORD'), ('database', 'DATABASE'),
             ('secured', 'SECURED'), ('securedHostValidation', 'SECURED_VALIDATION'))


def read_setup_conf(path):
    """KEY="value" lines of an engine setup conf (values unquoted)."""
    out = {}
    if not os.path.exists(path):
        return out
    with open(path) as f:
        for line in f:
            line = line.strip()
            if not line or line.startswith('#') or '=' not in line:
                continue
            k, v = line.split('=', 1)
            if len(v) >= 2 and v[0] == v[-1] == '"':
                v = v[1:-1].replace('\\"', '"').replace('\\\\', '\\')
            out[k.strip()] = v
    return out


def setup_quote(v):
    return '"%s"' % str(v).replace('\\', '\\\\').replace('"', '\\"')


def db_aware_engine():
    """Scenario pg: /etc/init.d/ovirt-engine is the DB-aware service, so the engine has a real database."""
    try:
        with open(rp('/etc/init.d/ovirt-engine')) as f:
            return 'engine_db_service.py' in f.read()
    except OSError:
        return False


def setup_cred(env, section, existing, prefix):
    """Answers (OVESETUP_DB/... or OVESETUP_DWH_DB/...) over the existing setup conf, as engine-setup does."""
    c = {}
    for key, ck in DB_FIELDS:
        if section + '/' + key in env and env[section + '/' + key] is not None:
            c[key] = env[section + '/' + key]
        elif prefix + '_DB_' + ck in existing:
            v = existing[prefix + '_DB_' + ck]
            c[key] = (v == 'True') if key in ('secured', 'securedHostValidation') else v
    return c


def setup_psql(c, sql):
    """psql with the credentials in a private 0600 passfile; (rc, stdout, stderr)."""
    d = tempfile.mkdtemp(prefix='engine-setup.')
    try:
        pf = os.path.join(d, 'pgpass')
        fd = os.open(pf, os.O_WRONLY | os.O_CREAT, 0o600)
        os.write(fd, ('*:*:*:*:%s\n' % str(c['password']).replace('\\', '\\\\').replace(':', '\\:')).encode())
        os.close(fd)
        env = {'PATH': '/usr/bin:/bin', 'PGPASSFILE': pf, 'PGCONNECT_TIMEOUT': '5', 'LANG': 'C.UTF-8'}
        if c.get('secured'):
            env['PGSSLMODE'] = 'verify-full' if c.get('securedHostValidation') else 'require'
        argv = ['psql', '-X', '-w', '-q', '-At', '-v', 'ON_ERROR_STOP=1', '-h', str(c['host']), '-p', str(c.get('port', 5432)),
                '-U', str(c['user']), '-d', str(c['database'])]
        try:
            r = subprocess.run(argv, input=sql, capture_output=True, text=True, env=env, timeout=30, cwd='/')
        except (OSError, subprocess.TimeoutExpired) as ex:
            return 1, '', str(ex)
        return r.returncode, r.stdout.strip(), r.stderr.strip()
    finally:
        shutil.rmtree(d, ignore_errors=True)


def read_text(path):
    try:
        with open(path) as f:
            return f.read()
    except FileNotFoundError:
        return ''


def setup_conf_text(text, prefix, c):
    """Conf text with PREFIX_DB_* set from c, other lines kept (engine-setup rewrites only its keys)."""
    keys = {prefix + '_DB_HOST': c['host'], prefix + '_DB_PORT': str(c.get('port', 5432)), prefix + '_DB_USER': c['user'],
            prefix + '_DB_PASSWORD': c['password'], prefix + '_DB_DATABASE': c['database'],
            prefix + '_DB_SECURED': 'True' if c.get('secured') else 'False',
            prefix + '_DB_SECURED_VALIDATION': 'True' if c.get('securedHostValidation') else 'False',
            prefix + '_DB_DRIVER': 'org.postgresql.Driver',
            prefix + '_DB_URL': 'jdbc:postgresql://${%s_DB_HOST}:${%s_DB_PORT}/${%s_DB_DATABASE}?sslfactory=org.postgresql.ssl.NonValidatingFactory' % ((prefix,) * 3)}
    lines, seen = [], set()
    for line in text.splitlines(True):
        k = line.split('=', 1)[0].strip()
        if k in keys:
            if k not in seen:
                lines.append('%s=%s\n' % (k, setup_quote(keys[k])))
            seen.add(k)
        else:
            lines.append(line if line.endswith('\n') else line + '\n')
    for k, v in keys.items():
        if k not in seen:
            lines.append('%s=%s\n' % (k, setup_quote(v)))
    return ''.join(lines)


def write_setup_conf(path, text):
    """0600, written only when the content changes; True when written."""
    try:
        with open(path) as f:
            if f.read() == text:
                os.chmod(path, 0o600)
                return False
    except FileNotFoundError:
        pass
    write_file(path, text, 0o600)
    return True


def setup_check_db(what, c, section, provisioning):
    """Environment customization: connect with the credentials and look at the schema (scenario pg)."""
    rc, out, err = setup_psql(c, "SELECT count(*) FROM pg_tables WHERE schemaname = 'public'")
    if rc != 0:
        raise Refused("[ ERROR ] Failed to execute stage 'Environment customization': Cannot connect to %s database using "
                      "existing credentials: %s@%s:%s (%s)" % (what, c['user'], c['host'], c.get('port', 5432),
                                                              (err.splitlines() or ['psql rc %d' % rc])[-1]))
    if out == '0' and not provisioning:
        raise Refused("[ ERROR ] Failed to execute stage 'Environment customization': the %s database %s on %s is empty "
                      "(the lab stand-in configures restored databases only; restore with engine-backup first)"
                      % (what, c['database'], c['host']))
    return out != '0'


def engine_service(verb):
    r = subprocess.run([rp('/etc/init.d/ovirt-engine'), verb], stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    return r.returncode, r.stdout.strip()


def engine_setup(argv):
    files = []
    for a in argv:
        name, eq, val = a.partition('=')
        if name == '--config-append' and eq and val:
            files.append(val)
        elif a in ('--accept-defaults', '--offline', '--reconfigure-optional-components'):
            pass
        else:
            raise Refused('engine-setup: invalid option %s' % a)
    if not files:
        if not sys.stdin.isatty():
            raise Refused('[ ERROR ] Cannot run the setup dialogue without a terminal; use --config-append=FILE')
    env = {}
    for f in files:
        env.update(validate_answers(parse_otopi(f), SETUP_KEYS, f))
    real_db = db_aware_engine()
    print('[ INFO  ] Stage: Initializing')
    print('[ INFO  ] Stage: Environment setup')
    print("          Configuration files: %s" % files)
    print('[ INFO  ] Stage: Environment customization')
    writes = []
    if env.get('OVESETUP_ENGINE_CORE/enable', True):
        fqdn = env.get('OVESETUP_CONFIG/fqdn') or read_setup_conf(rp(SETUP_PROTO_CONF)).get('ENGINE_FQDN')
        if not fqdn:
            raise Refused('[ ERROR ] No answer for OVESETUP_CONFIG/fqdn and no terminal to ask it')
        existing = read_setup_conf(rp(SETUP_DB_CONF))
        c = setup_cred(env, 'OVESETUP_DB', existing, 'ENGINE')
        c.setdefault('host', 'localhost')
        c.setdefault('port', 5432)
        c.setdefault('user', 'engine')
        c.setdefault('database', 'engine')
        prov = env.get('OVESETUP_PROVISIONING/postgresProvisioningEnabled',
                       not existing and c['host'] in ('localhost', '127.0.0.1', '::1'))
        if not c.get('password'):
            if not prov:
                raise Refused('[ ERROR ] No answer for OVESETUP_DB/password and no terminal to ask it')
            c['password'] = secrets.token_hex(8)   # provisioning makes the role with a generated password
        print('          --== DATABASE CONFIGURATION ==--')
        if real_db:
            if setup_check_db('Engine', c, 'OVESETUP_DB', prov):
                print('          Skipping storing options as database already prepared')
            if os.path.exists(rp('/etc/pki/ovirt-engine/ca.pem')):
                print('          PKI is already configured')
        writes.append((rp(SETUP_DB_CONF), setup_conf_text(read_text(rp(SETUP_DB_CONF)), 'ENGINE', c)))
        preview = [('Database name', c['database']), ('Database secured connection', bool(c.get('secured'))),
                   ('Database host', c['host']), ('Database user name', c['user']),
                   ('Database host name validation', bool(c.get('securedHostValidation'))), ('Database port', c['port']),
                   ('Host FQDN', fqdn)]
        if env.get('OVESETUP_DWH_CORE/enable'):
            dexisting = read_setup_conf(rp(SETUP_DWH_CONF))
            d = setup_cred(env, 'OVESETUP_DWH_DB', dexisting, 'DWH')
            d.setdefault('host', 'localhost')
            d.setdefault('port', 5432)
            d.setdefault('user', 'ovirt_engine_history')
            d.setdefault('database', 'ovirt_engine_history')
            dprov = env.get('OVESETUP_DWH_PROVISIONING/postgresProvisioningEnabled',
                            not dexisting and d['host'] in ('localhost', '127.0.0.1', '::1'))
            if not d.get('password'):
                if not dprov:
                    raise Refused('[ ERROR ] No answer for OVESETUP_DWH_DB/password and no terminal to ask it')
                d['password'] = secrets.token_hex(8)
            if real_db:
                setup_check_db('DWH', d, 'OVESETUP_DWH_DB', dprov)
            writes.append((rp(SETUP_DWH_CONF), setup_conf_text(read_text(rp(SETUP_DWH_CONF)), 'DWH', d)))
            if os.path.isdir(rp(os.path.dirname(DWHD_DB_CONF))):
                # the dwhd conf holds both credential sets
                t = setup_conf_text(read_text(rp(DWHD_DB_CONF)), 'DWH', d)
                writes.append((rp(DWHD_DB_CONF), setup_conf_text(t, 'ENGINE', c)))
            preview += [('DWH database name', d['database']), ('DWH database host', d['host']), ('DWH database port', d['port'])]
        print('[ INFO  ] Stage: Setup validation')
        print('          --== CONFIGURATION PREVIEW ==--')
        for k, v in preview:
            print('          %-35s: %s' % (k, v))
        print('[ INFO  ] Stage: Transaction setup')
        if real_db and engine_service('status')[0] == 0:
            print('[ INFO  ] Stopping engine service')
            engine_service('stop')
        print('[ INFO  ] Stage: Misc configuration')
        for path, text in writes:
            write_setup_conf(path, text)
        print('[ INFO  ] Stage: Closing up')
        if real_db:
            print('[ INFO  ] Starting engine service')
            rc, out = engine_service('start')
            if rc != 0:
                raise Refused("[ ERROR ] Failed to execute stage 'Closing up': Failed to start service 'ovirt-engine': %s" % out)
    print('[ INFO  ] Execution of setup completed successfully')
    return 0


# ------------------------------------------------------------------ services

def pickup_pending():
    """vdsm side of the engine's host deploy: a pending deploy for one of this host's names."""
    pend = os.path.join(CONF['shared_dir'], 'pending')
    if not os.path.isdir(pend):
        return
    names = {my_hostname(), socket.gethostname(), socket.getfqdn()}
    try:
        out = subprocess.run(['hostname', '-I'], capture_output=True, text=True).stdout.split()
        names.update(out)
    except OSError:
        pass
    for n in sorted(os.listdir(pend)):
        p = os.path.join(pend, n)
        job = read_json(p)
        if not job or job['address'] not in names:
            continue
        sd = job['storage_dir']
        with Lock(sd):
            ha = ha_load(sd)
            e = engine_load(sd)
            h = next((x for x in e['hosts'] if x['id'] == job['engine_id']), None)
            if h is None:
                os.unlink(p)
                continue
            if job['hosted_engine'] and not deployed():
                hid = str(max([int(x) for x in ha['hosts']] + [0]) + 1)
                ha['hosts'][hid] = {'hostname': job['address'], 'agent': True, 'maintenance': False, 'penalty': 0}
                h['he_host_id'] = hid
                env = {'OVEHOSTED_NETWORK/gateway': ha.get('gateway', '0.0.0.0')}
                write_host_files(env, ha, hid, ha['storage'], ha['domainType'], sd)
                tick(sd, ha)
                ha_save(sd, ha)
            h['status'] = 'up'
            engine_save(sd, e)
            os.unlink(p)


def vdsm_loop():
    signal.signal(signal.SIGTERM, lambda *a: sys.exit(0))
    while True:
        try:
            pickup_pending()
            c = deployed()
            if c:
                sd = storage_dir(c['storage'])
                if os.path.exists(ha_path(sd)):
                    ha_update(sd, lambda ha: sync_agent_flag(c, ha))
        except Exception as ex:  # keep looping; report on stderr (the log)
            print('vdsm-loop: %s' % ex, file=sys.stderr)
        time.sleep(1)


def service(argv):
    if len(argv) != 2 or argv[0] not in SERVICES or argv[1] not in ('start', 'stop', 'status', 'restart'):
        raise Refused('Usage: /etc/init.d/NAME {start|stop|restart|status} (NAME: %s)' % ', '.join(SERVICES))
    name, act = argv
    if name == 'ovirt-engine' and not deployed() and act != 'status':
        # not an HE host: this is the engine VM (lab), which serves the engine itself
        set_service(name, act != 'stop')
        return engine_vm_service(act)
    if act == 'status':
        on = service_running(name)
        print('%s is %s' % (name, 'running' if on else 'not running'))
        return 0 if on else 3
    if act in ('stop', 'restart'):
        if name == 'vdsmd':
            pid = read_pid(rp(STATE_DIR + '/vdsmd.pid'))
            if pid:
                os.kill(pid, signal.SIGTERM)
            if os.path.exists(rp(STATE_DIR + '/vdsmd.pid')):
                os.unlink(rp(STATE_DIR + '/vdsmd.pid'))
        else:
            set_service(name, False)
        if act == 'stop':
            return service_resync()
    if name == 'ovirt-ha-agent' and not deployed():
        raise Refused('ovirt-ha-agent: %s is missing: the host is not deployed' % HE_CONF)
    if name == 'ovirt-ha-agent' and not service_running('ovirt-ha-broker'):
        raise Refused('ovirt-ha-agent: ovirt-ha-broker is not running')
    if name == 'vdsmd':
        if service_running('vdsmd'):
            return 0
        os.makedirs(rp(STATE_DIR), exist_ok=True)
        log = open(rp(STATE_DIR + '/vdsm-loop.log'), 'a')
        p = subprocess.Popen([sys.executable, os.path.abspath(__file__), 'vdsm-loop'], stdin=subprocess.DEVNULL,
                             stdout=log, stderr=log, start_new_session=True, close_fds=True)
        write_file(rp(STATE_DIR + '/vdsmd.pid'), '%d\n' % p.pid)
        return 0
    set_service(name, True)
    return service_resync()


def service_resync():
    c = deployed()
    if c and os.path.exists(ha_path(storage_dir(c['storage']))):
        ha_update(storage_dir(c['storage']), lambda ha: sync_agent_flag(c, ha))
    return 0


def main():
    if len(sys.argv) < 2:
        print(__doc__, file=sys.stderr)
        return 2
    prog, argv = sys.argv[1], sys.argv[2:]
    try:
        if prog == 'hosted-engine':
            return hosted_engine(argv)
        if prog == 'engine-setup':
            return engine_setup(argv)
        if prog == 'service':
            return service(argv)
        if prog == 'engine-server':
            return engine_server()
        if prog == 'vdsm-loop':
            return vdsm_loop()
        print('unknown stand-in program %s' % prog, file=sys.stderr)
        return 2
    except Refused as ex:
        print(str(ex), file=sys.stdout if ex.to_stdout else sys.stderr)
        return ex.rc


if __name__ == '__main__':
    sys.exit(main())
