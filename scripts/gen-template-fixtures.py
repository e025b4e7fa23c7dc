#!/usr/bin/env python3
"""Produce test/fixtures/template/fixtures.json from cases.yml by running real
ansible-playbook (-c local): one set_fact task per case, then the results are
dumped with to_json. Cases that fail in Ansible are reported and skipped."""
import json, os, subprocess, sys, tempfile, yaml

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
FIX = os.path.join(ROOT, 'test', 'fixtures', 'template')

def main():
    with open(os.path.join(FIX, 'cases.yml')) as f:
        doc = yaml.safe_load(f)
    common = doc.get('vars', {})
    cases = doc['cases']
    tmp = tempfile.mkdtemp(prefix='herun-fix-')
    out = os.path.join(tmp, 'out.json')
    tasks = []
    for i, c in enumerate(cases):
        v = dict(common)
        v.update(c.get('vars', {}))
        tasks.append({'name': 'case %d' % i, 'set_fact': {'r_%d' % i: c['expr']}, 'vars': v, 'ignore_errors': True})
    dump = '{{ {%s} | to_json }}' % ', '.join("'%d': (r_%d if r_%d is defined else '__ERR__')" % (i, i, i) for i in range(len(cases)))
    tasks.append({'copy': {'content': dump, 'dest': out}})
    play = [{'hosts': 'localhost', 'gather_facts': False, 'tasks': tasks}]
    pb = os.path.join(tmp, 'pb.yml')
    with open(pb, 'w') as f:
        yaml.safe_dump(play, f, sort_keys=False)
    env = dict(os.environ, ANSIBLE_NOCOLOR='1', ANSIBLE_DEPRECATION_WARNINGS='0', ANSIBLE_LOCALHOST_WARNING='0')
    r = subprocess.run(['ansible-playbook', '-i', 'localhost,', '-c', 'local', pb], env=env, capture_output=True, text=True)
    if not os.path.exists(out):
        sys.stderr.write(r.stdout[-3000:] + r.stderr[-3000:])
        sys.exit(1)
    with open(out) as f:
        res = json.load(f)
    fixtures, skipped = [], 0
    for i, c in enumerate(cases):
        val = res[str(i)]
        if val == '__ERR__':
            skipped += 1
            sys.stderr.write('ansible failed on case %d: %s\n' % (i, c['expr']))
            continue
        v = dict(common)
        v.update(c.get('vars', {}))
        fixtures.append({'expr': c['expr'], 'vars': v, 'expected': val})
    with open(os.path.join(FIX, 'fixtures.json'), 'w') as f:
        json.dump(fixtures, f, indent=1, ensure_ascii=False)
        f.write('\n')
    print('%d fixtures written, %d skipped' % (len(fixtures), skipped))

if __name__ == '__main__':
    main()
