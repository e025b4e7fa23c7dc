-- herun lab: OPTIONAL extra rows for the `engine` database, used by bench/migrate-db.mjs
-- to make the data dominate a migration (the default seed, engine.sql, is unchanged
-- and is what the tests use). Run after engine.sql, as the owner of the tables:
--   psql -v scale=N -d engine -f engine-scale.sql
-- With scale=N the three biggest tables hold N times their default rows:
--   audit_log 40,000*N, vm_device 9,000*N, job 2,000*N   (scale=1 adds nothing).
-- Values are derived from generate_series, so two runs with the same N are identical.
\set ON_ERROR_STOP on
BEGIN;
INSERT INTO audit_log (log_time, log_type, severity, message, vds_id, vds_name, vm_id, vm_name)
SELECT timestamptz '2017-01-01 00:00:00+00' + i * interval '37 seconds', i % 600, i % 4,
       'VM vm-' || lpad((1 + i % 3000)::text, 5, '0') || ' was started by admin@internal (Host: host' || lpad((1 + i % 40)::text, 3, '0') || ').',
       md5('vds' || (1 + i % 40))::uuid, 'host' || lpad((1 + i % 40)::text, 3, '0'), md5('vm' || (1 + i % 3000))::uuid, 'vm-' || lpad((1 + i % 3000)::text, 5, '0')
FROM generate_series(40001, 40000 * :scale) i;
-- devices 4 .. 3*N of every VM (engine.sql has 1..3)
INSERT INTO vm_device SELECT md5('dev' || i || '/' || d)::uuid, md5('vm' || i)::uuid, CASE d % 3 WHEN 1 THEN 'disk' WHEN 2 THEN 'interface' ELSE 'video' END,
       CASE d % 3 WHEN 1 THEN 'disk' WHEN 2 THEN 'bridge' ELSE 'qxl' END, '{type=pci, slot=0x' || to_hex(d) || '}', true, d % 5 <> 0, false, 'dev' || d
FROM generate_series(1, 3000) i, generate_series(4, 3 * :scale) d;
INSERT INTO job SELECT md5('job' || i)::uuid, 'RunVm', 'Launching VM vm-' || i, 'FINISHED', NULL,
       timestamptz '2017-02-01 00:00:00+00' + i * interval '1 minute', timestamptz '2017-02-01 00:00:30+00' + i * interval '1 minute', NULL, md5('c' || i)
FROM generate_series(2001, 2000 * :scale) i;
COMMIT;
ANALYZE audit_log;
ANALYZE vm_device;
ANALYZE job;
