-- herun lab: an `engine` database shaped like oVirt's (a subset of its tables and
-- columns). Every value is derived from generate_series, so two seeds are identical.
\set ON_ERROR_STOP on
BEGIN;
CREATE TABLE schema_version (id serial PRIMARY KEY, version varchar(10) NOT NULL, script varchar(255) NOT NULL,
  checksum varchar(128), installed_by varchar(63) NOT NULL, started_at timestamp DEFAULT now(), ended_at timestamp,
  state varchar(15) NOT NULL, current boolean NOT NULL, comment text);
CREATE TABLE storage_pool (id uuid PRIMARY KEY, name varchar(40) NOT NULL, description varchar(4000),
  storage_pool_type integer, status integer NOT NULL, master_domain_version integer NOT NULL, compatibility_version varchar(40) NOT NULL);
CREATE TABLE cluster (cluster_id uuid PRIMARY KEY, name varchar(40) NOT NULL, description varchar(4000), cpu_name varchar(255),
  storage_pool_id uuid REFERENCES storage_pool(id), compatibility_version varchar(40) NOT NULL, max_vds_memory_over_commit integer NOT NULL);
CREATE TABLE vds_static (vds_id uuid PRIMARY KEY, vds_name varchar(255) NOT NULL UNIQUE, vds_unique_id varchar(128), host_name varchar(255) NOT NULL,
  port integer NOT NULL, cluster_id uuid NOT NULL REFERENCES cluster(cluster_id), server_SSL_enabled boolean, vds_type integer NOT NULL,
  pm_enabled boolean NOT NULL, ssh_port integer, ssh_username varchar(255), free_text_comment text, _create_date timestamptz, _update_date timestamptz);
CREATE TABLE vds_dynamic (vds_id uuid PRIMARY KEY REFERENCES vds_static(vds_id), status integer NOT NULL, cpu_cores integer, cpu_model varchar(255),
  cpu_speed_mh numeric(18,0), physical_mem_mb integer, mem_commited integer, vm_count integer NOT NULL, software_version varchar(40),
  kernel_version varchar(4000), hosted_engine_configured boolean NOT NULL DEFAULT false);
CREATE TABLE vds_statistics (vds_id uuid PRIMARY KEY REFERENCES vds_static(vds_id), cpu_idle numeric(18,0), cpu_load numeric(18,0),
  cpu_sys numeric(18,0), cpu_user numeric(18,0), usage_mem_percent integer, usage_cpu_percent integer, mem_available bigint, swap_free bigint,
  ha_score integer, _update_date timestamptz);
CREATE TABLE storage_domain_static (id uuid PRIMARY KEY, storage varchar(250) NOT NULL, storage_name varchar(250) NOT NULL,
  storage_domain_type integer, storage_type integer, storage_domain_format_type varchar(50), _create_date timestamptz, wipe_after_delete boolean NOT NULL,
  description varchar(4000));
CREATE TABLE storage_domain_dynamic (id uuid PRIMARY KEY REFERENCES storage_domain_static(id), available_disk_size integer, used_disk_size integer);
CREATE TABLE storage_pool_iso_map (storage_id uuid REFERENCES storage_domain_static(id), storage_pool_id uuid REFERENCES storage_pool(id),
  status integer, PRIMARY KEY (storage_id, storage_pool_id));
CREATE TABLE vm_static (vm_guid uuid PRIMARY KEY, vm_name varchar(255) NOT NULL, mem_size_mb integer NOT NULL, vmt_guid uuid,
  os integer NOT NULL, description varchar(4000), cluster_id uuid REFERENCES cluster(cluster_id), creation_date timestamptz,
  num_of_monitors integer NOT NULL, is_stateless boolean, entity_type varchar(32) NOT NULL, num_of_sockets integer NOT NULL,
  cpu_per_socket integer NOT NULL, origin integer, auto_startup boolean, priority integer NOT NULL, free_text_comment text);
CREATE TABLE vm_dynamic (vm_guid uuid PRIMARY KEY REFERENCES vm_static(vm_guid), status integer NOT NULL, vm_ip text, vm_host varchar(255),
  run_on_vds uuid REFERENCES vds_static(vds_id), last_start_time timestamptz, guest_cur_user_name varchar(255), console_cur_user_name varchar(255),
  acpi_enable boolean, session integer, boot_sequence integer, exit_status integer NOT NULL DEFAULT 0);
CREATE TABLE vm_statistics (vm_guid uuid PRIMARY KEY REFERENCES vm_static(vm_guid), cpu_user numeric(18,0), cpu_sys numeric(18,0),
  usage_mem_percent integer, usage_cpu_percent integer, _update_date timestamptz);
CREATE TABLE images (image_guid uuid PRIMARY KEY, creation_date timestamptz NOT NULL, size bigint NOT NULL, it_guid uuid, parentid uuid,
  imagestatus integer, image_group_id uuid, volume_type integer NOT NULL, volume_format integer NOT NULL, active boolean NOT NULL);
CREATE TABLE base_disks (disk_id uuid PRIMARY KEY, wipe_after_delete boolean NOT NULL, disk_alias varchar(255), disk_description varchar(500), shareable boolean);
CREATE TABLE vm_device (device_id uuid, vm_id uuid REFERENCES vm_static(vm_guid), type varchar(30) NOT NULL, device varchar(30) NOT NULL,
  address varchar(255), is_managed boolean NOT NULL, is_plugged boolean, is_readonly boolean NOT NULL, alias varchar(255), PRIMARY KEY (device_id, vm_id));
CREATE TABLE audit_log (audit_log_id bigserial PRIMARY KEY, log_time timestamptz NOT NULL, log_type integer NOT NULL, severity integer NOT NULL,
  message text NOT NULL, vds_id uuid, vds_name varchar(255), vm_id uuid, vm_name varchar(255), origin varchar(255) DEFAULT 'oVirt');
CREATE TABLE async_tasks (task_id uuid PRIMARY KEY, action_type integer NOT NULL, status integer NOT NULL, result integer NOT NULL,
  step_id uuid, command_id uuid NOT NULL, started_at timestamptz, storage_pool_id uuid);
CREATE TABLE job (job_id uuid PRIMARY KEY, action_type varchar(50) NOT NULL, description text NOT NULL, status varchar(32) NOT NULL,
  owner_id uuid, start_time timestamptz NOT NULL, end_time timestamptz, last_update_time timestamptz, correlation_id varchar(50));
CREATE TABLE vdc_options (option_id serial PRIMARY KEY, option_name varchar(100) NOT NULL, option_value varchar(4000) NOT NULL,
  version varchar(40) NOT NULL DEFAULT 'general', UNIQUE (option_name, version));

INSERT INTO schema_version (version, script, checksum, installed_by, ended_at, state, current)
SELECT '04000' || lpad(i::text, 3, '0'), 'upgrade/04_00_' || lpad(i::text, 4, '0') || '_step.sql', md5('sv' || i), 'engine',
       timestamp '2016-08-01' + i * interval '1 minute', 'INSTALLED', i = 120 FROM generate_series(1, 120) i;
INSERT INTO storage_pool VALUES ('5849b030-626e-47cb-ad90-3ce782d831b3', 'Default', 'The default Data Center', 1, 1, 1, '4.0');
INSERT INTO cluster VALUES ('00000002-0002-0002-0002-00000000017a', 'Default', 'The default server cluster', 'Intel Haswell Family',
  '5849b030-626e-47cb-ad90-3ce782d831b3', '4.0', 200);
INSERT INTO vds_static
SELECT md5('vds' || i)::uuid, CASE WHEN i = 1 THEN 'hosted_engine_1' ELSE 'host' || lpad(i::text, 3, '0') END,
       md5('uniq' || i), CASE WHEN i = 1 THEN 'he1.lab.example' ELSE 'host' || lpad(i::text, 3, '0') || '.lab.example' END,
       54321, '00000002-0002-0002-0002-00000000017a', true, 0, i % 3 = 0, 22, 'root', 'seeded host ' || i,
       timestamptz '2016-08-02 10:00:00+00' + i * interval '1 hour', NULL
FROM generate_series(1, 40) i;
INSERT INTO vds_dynamic SELECT vds_id, 3, 16, 'Intel(R) Xeon(R) CPU E5-2620', 2400, 131072, 65536 + (('x' || substr(vds_id::text, 1, 4))::bit(16)::int),
       0, '4.18.11', '3.10.0-327.el7.x86_64', vds_name = 'hosted_engine_1' FROM vds_static;
INSERT INTO vds_statistics SELECT vds_id, 90, 1, 2, 7, 40, 10, 80000, 4096, 3400, NULL FROM vds_static;
INSERT INTO storage_domain_static
SELECT md5('sd' || i)::uuid, md5('conn' || i), CASE WHEN i = 1 THEN 'hosted_storage' ELSE 'data' || i END, CASE WHEN i = 1 THEN 1 ELSE 0 END,
       1, 'V3', timestamptz '2016-08-02 00:00:00+00' + i * interval '1 day', false, 'seeded domain ' || i FROM generate_series(1, 12) i;
INSERT INTO storage_domain_dynamic SELECT id, 500 + 10 * row_number() OVER (ORDER BY id), 100 FROM storage_domain_static;
INSERT INTO storage_pool_iso_map SELECT id, '5849b030-626e-47cb-ad90-3ce782d831b3', 3 FROM storage_domain_static;
INSERT INTO vm_static
SELECT md5('vm' || i)::uuid, CASE WHEN i = 1 THEN 'HostedEngine' ELSE 'vm-' || lpad(i::text, 5, '0') END, 1024 * (1 + i % 8),
       '00000000-0000-0000-0000-000000000000', i % 30, 'seeded VM ' || i || E' with \'quotes\', tabs\tand ünïcödé',
       '00000002-0002-0002-0002-00000000017a', timestamptz '2016-09-01 00:00:00+00' + i * interval '7 minutes', 1, false, 'VM',
       1 + i % 4, 1 + i % 2, 0, i % 5 = 0, i % 100, NULL FROM generate_series(1, 3000) i;
INSERT INTO vm_dynamic
SELECT vm_guid, CASE WHEN n % 3 = 0 THEN 0 ELSE 1 END, '10.1.' || (n / 250) || '.' || (n % 250 + 1), NULL,
       md5('vds' || (1 + n % 40))::uuid, timestamptz '2017-01-01 00:00:00+00' + n * interval '1 minute', NULL, NULL, true, 0, 0, 0
FROM (SELECT vm_guid, row_number() OVER (ORDER BY vm_guid) n FROM vm_static) s;
INSERT INTO vm_statistics SELECT vm_guid, 3, 1, 20 + n % 60, n % 100, NULL FROM (SELECT vm_guid, row_number() OVER (ORDER BY vm_guid) n FROM vm_static) s;
INSERT INTO images SELECT md5('img' || i)::uuid, timestamptz '2016-09-01 00:00:00+00' + i * interval '7 minutes', 10737418240 + i::bigint * 1048576,
       '00000000-0000-0000-0000-000000000000', '00000000-0000-0000-0000-000000000000', 1, md5('disk' || i)::uuid, 2, 4, true FROM generate_series(1, 6000) i;
INSERT INTO base_disks SELECT md5('disk' || i)::uuid, false, 'disk' || i, NULL, false FROM generate_series(1, 6000) i;
INSERT INTO vm_device SELECT md5('dev' || i || '/' || d)::uuid, md5('vm' || i)::uuid, CASE d WHEN 1 THEN 'disk' WHEN 2 THEN 'interface' ELSE 'video' END,
       CASE d WHEN 1 THEN 'disk' WHEN 2 THEN 'bridge' ELSE 'qxl' END, '{type=pci, slot=0x0' || d || '}', true, true, false, 'dev' || d
FROM generate_series(1, 3000) i, generate_series(1, 3) d;
INSERT INTO audit_log (log_time, log_type, severity, message, vds_id, vds_name, vm_id, vm_name)
SELECT timestamptz '2017-01-01 00:00:00+00' + i * interval '37 seconds', i % 600, i % 4,
       'VM vm-' || lpad((1 + i % 3000)::text, 5, '0') || ' was started by admin@internal (Host: host' || lpad((1 + i % 40)::text, 3, '0') || ').',
       md5('vds' || (1 + i % 40))::uuid, 'host' || lpad((1 + i % 40)::text, 3, '0'), md5('vm' || (1 + i % 3000))::uuid, 'vm-' || lpad((1 + i % 3000)::text, 5, '0')
FROM generate_series(1, 40000) i;
INSERT INTO async_tasks SELECT md5('task' || i)::uuid, 230, 2, 0, NULL, md5('cmd' || i)::uuid, timestamptz '2017-02-01 00:00:00+00' + i * interval '1 minute',
       '5849b030-626e-47cb-ad90-3ce782d831b3' FROM generate_series(1, 5) i;
INSERT INTO job SELECT md5('job' || i)::uuid, 'RunVm', 'Launching VM vm-' || i, 'FINISHED', NULL,
       timestamptz '2017-02-01 00:00:00+00' + i * interval '1 minute', timestamptz '2017-02-01 00:00:30+00' + i * interval '1 minute', NULL, md5('c' || i)
FROM generate_series(1, 2000) i;
INSERT INTO vdc_options (option_name, option_value) VALUES
  ('ProductRPMVersion', '4.0.6.3-1.el7'), ('AdminUser', 'admin'), ('AdminDomain', 'internal'),
  ('SSLEnabled', 'true'), ('UseSecureConnectionWithServers', 'true');
COMMIT;
