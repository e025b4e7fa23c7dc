-- herun lab: an `ovirt_engine_history` database shaped like oVirt DWH's (a subset).
-- Deterministic rows from generate_series; well over 200,000 history rows in total.
\set ON_ERROR_STOP on
BEGIN;
CREATE TABLE history_configuration (var_name varchar(50) PRIMARY KEY, var_value varchar(255), var_datetime timestamptz);
CREATE TABLE host_configuration (history_id serial PRIMARY KEY, host_id uuid NOT NULL, host_unique_id varchar(128), host_name varchar(255) NOT NULL,
  cluster_id uuid NOT NULL, host_type smallint NOT NULL, fqdn_or_ip varchar(255) NOT NULL, memory_size_mb integer, number_of_cores smallint,
  create_date timestamptz, update_date timestamptz, delete_date timestamptz);
CREATE TABLE vm_configuration (history_id serial PRIMARY KEY, vm_id uuid NOT NULL, vm_name varchar(255) NOT NULL, vm_description varchar(4000),
  vm_type smallint, cluster_id uuid NOT NULL, memory_size_mb integer, number_of_sockets smallint, create_date timestamptz, update_date timestamptz,
  delete_date timestamptz);
CREATE TABLE host_samples_history (history_id bigserial PRIMARY KEY, history_datetime timestamptz NOT NULL, host_id uuid NOT NULL,
  host_status smallint NOT NULL, minutes_in_status numeric(7,2) NOT NULL DEFAULT 1, memory_usage_percent smallint, ksm_shared_memory_mb bigint,
  cpu_usage_percent smallint, ksm_cpu_percent smallint, active_vms smallint, total_vms smallint, total_vms_vcpus integer, cpu_load integer,
  system_cpu_usage_percent smallint, user_cpu_usage_percent smallint, swap_used_mb integer, host_configuration_version integer);
CREATE TABLE vm_samples_history (history_id bigserial PRIMARY KEY, history_datetime timestamptz NOT NULL, vm_id uuid NOT NULL,
  vm_status smallint NOT NULL, minutes_in_status numeric(7,2) NOT NULL DEFAULT 1, cpu_usage_percent smallint, memory_usage_percent smallint,
  user_cpu_usage_percent smallint, system_cpu_usage_percent smallint, vm_ip varchar(255), currently_running_on_host uuid,
  vm_configuration_version integer, current_host_configuration_version integer);
CREATE TABLE host_hourly_history (history_id serial PRIMARY KEY, history_datetime timestamptz NOT NULL, host_id uuid NOT NULL,
  host_status smallint NOT NULL, minutes_in_status numeric(7,2) NOT NULL, memory_usage_percent smallint, max_memory_usage smallint,
  cpu_usage_percent smallint, max_cpu_usage smallint, active_vms smallint, max_active_vms smallint, host_configuration_version integer);
CREATE TABLE vm_hourly_history (history_id serial PRIMARY KEY, history_datetime timestamptz NOT NULL, vm_id uuid NOT NULL,
  vm_status smallint NOT NULL, minutes_in_status numeric(7,2) NOT NULL, cpu_usage_percent smallint, max_cpu_usage smallint,
  memory_usage_percent smallint, max_memory_usage smallint, vm_configuration_version integer);
CREATE TABLE host_daily_history (history_id serial PRIMARY KEY, history_datetime date NOT NULL, host_id uuid NOT NULL, host_status smallint NOT NULL,
  minutes_in_status numeric(7,2) NOT NULL, memory_usage_percent smallint, cpu_usage_percent smallint, host_configuration_version integer);
CREATE TABLE statistics_vms_users_usage_hourly (history_id serial PRIMARY KEY, history_datetime timestamptz NOT NULL, vm_id uuid NOT NULL,
  session_time_in_minutes numeric(7,2) NOT NULL DEFAULT 1, user_name varchar(255), cpu_usage_percent smallint);

INSERT INTO history_configuration VALUES ('default_language', 'en_US', NULL), ('firstSync', 'false', '2016-08-02 10:00:00+00'),
  ('lastSync', NULL, '2017-03-01 00:00:00+00'), ('MinimalETLVersion', '4.0.0', NULL);
INSERT INTO host_configuration (host_id, host_unique_id, host_name, cluster_id, host_type, fqdn_or_ip, memory_size_mb, number_of_cores, create_date)
SELECT md5('vds' || i)::uuid, md5('uniq' || i), 'host' || i, '00000002-0002-0002-0002-00000000017a', 0, 'host' || i || '.lab.example',
       131072, 16, timestamptz '2016-08-02 10:00:00+00' FROM generate_series(1, 40) i;
INSERT INTO vm_configuration (vm_id, vm_name, vm_description, vm_type, cluster_id, memory_size_mb, number_of_sockets, create_date)
SELECT md5('vm' || i)::uuid, 'vm-' || lpad(i::text, 5, '0'), 'seeded', 1, '00000002-0002-0002-0002-00000000017a', 1024 * (1 + i % 8), 1 + i % 4,
       timestamptz '2016-09-01 00:00:00+00' FROM generate_series(1, 3000) i;
-- 40 hosts x 2,500 minutes = 100,000 host samples
INSERT INTO host_samples_history (history_datetime, host_id, host_status, memory_usage_percent, ksm_shared_memory_mb, cpu_usage_percent,
  ksm_cpu_percent, active_vms, total_vms, total_vms_vcpus, cpu_load, system_cpu_usage_percent, user_cpu_usage_percent, swap_used_mb, host_configuration_version)
SELECT timestamptz '2017-03-01 00:00:00+00' + m * interval '1 minute', md5('vds' || h)::uuid, 1, (h * 7 + m) % 100, 0, (h * 13 + m * 3) % 100, 0,
       (h + m) % 75, 75, 150, (h * m) % 400, (m % 17), (m % 53), 0, h
FROM generate_series(1, 40) h, generate_series(0, 2499) m;
-- 120 VMs x 1,500 minutes = 180,000 VM samples
INSERT INTO vm_samples_history (history_datetime, vm_id, vm_status, cpu_usage_percent, memory_usage_percent, user_cpu_usage_percent,
  system_cpu_usage_percent, vm_ip, currently_running_on_host, vm_configuration_version, current_host_configuration_version)
SELECT timestamptz '2017-03-01 00:00:00+00' + m * interval '1 minute', md5('vm' || v)::uuid, 1, (v * 11 + m) % 100, (v * 3 + m * 7) % 100,
       (m % 41), (m % 19), '10.1.0.' || v, md5('vds' || (1 + v % 40))::uuid, v, 1 + v % 40
FROM generate_series(1, 120) v, generate_series(0, 1499) m;
INSERT INTO host_hourly_history (history_datetime, host_id, host_status, minutes_in_status, memory_usage_percent, max_memory_usage,
  cpu_usage_percent, max_cpu_usage, active_vms, max_active_vms, host_configuration_version)
SELECT timestamptz '2016-09-01 00:00:00+00' + hr * interval '1 hour', md5('vds' || h)::uuid, 1, 60, (h + hr) % 100, 99, (h * 3 + hr) % 100, 99,
       (h + hr) % 75, 75, h FROM generate_series(1, 40) h, generate_series(0, 499) hr;
INSERT INTO vm_hourly_history (history_datetime, vm_id, vm_status, minutes_in_status, cpu_usage_percent, max_cpu_usage, memory_usage_percent,
  max_memory_usage, vm_configuration_version)
SELECT timestamptz '2016-09-01 00:00:00+00' + hr * interval '1 hour', md5('vm' || v)::uuid, 1, 60, (v + hr) % 100, 99, (v * 5 + hr) % 100, 99, v
FROM generate_series(1, 120) v, generate_series(0, 199) hr;
INSERT INTO host_daily_history (history_datetime, host_id, host_status, minutes_in_status, memory_usage_percent, cpu_usage_percent, host_configuration_version)
SELECT date '2016-09-01' + d, md5('vds' || h)::uuid, 1, 1440, (h + d) % 100, (h * 2 + d) % 100, h FROM generate_series(1, 40) h, generate_series(0, 179) d;
INSERT INTO statistics_vms_users_usage_hourly (history_datetime, vm_id, user_name, cpu_usage_percent)
SELECT timestamptz '2017-01-01 00:00:00+00' + hr * interval '1 hour', md5('vm' || v)::uuid, 'user' || (v % 7) || '@internal', (v + hr) % 100
FROM generate_series(1, 60) v, generate_series(0, 99) hr;
COMMIT;
