-- otsentry schema migration 0003 (assets), legacy layout (ClickHouse before 20.1, e.g. Debian's 18.16).
-- Generated from crates/clickhouse/src/schema.rs; `otsentry clickhouse init` applies it.

CREATE DATABASE IF NOT EXISTS `otsentry`;

CREATE TABLE IF NOT EXISTS `otsentry`.`assets`
(
    `event_id` UUID,
    `timestamp` DateTime('UTC'),
    `timestamp_us` UInt32,
    `host` String,
    `event_type` String,
    `flow_id` UInt64,
    `pcap_cnt` UInt64,
    `pcap_filename` String,
    `vlan` Array(UInt16),
    `src_ip` String,
    `src_port` UInt16,
    `dest_ip` String,
    `dest_port` UInt16,
    `proto` String,
    `app_proto` String,
    `community_id` String,
    `ip` String,
    `change` String,
    `field` String,
    `old` String,
    `new` String,
    `macs` Array(String),
    `vendor` String,
    `roles` Array(String),
    `identity` String,
    `first_seen` DateTime('UTC'),
    `first_seen_us` UInt32,
    `last_seen` DateTime('UTC'),
    `last_seen_us` UInt32,
    `version` UInt64,
    `extra` String
)
ENGINE = ReplacingMergeTree()
PARTITION BY toYYYYMM(timestamp)
ORDER BY (timestamp, event_id);

CREATE TABLE IF NOT EXISTS `otsentry`.`asset_state`
(
    `host` String,
    `ip` String,
    `macs` Array(String),
    `vendor` String,
    `roles` Array(String),
    `identity` String,
    `first_seen` DateTime('UTC'),
    `first_seen_us` UInt32,
    `last_seen` DateTime('UTC'),
    `last_seen_us` UInt32,
    `version` UInt64
)
ENGINE = ReplacingMergeTree(version)
ORDER BY (host, ip);

CREATE MATERIALIZED VIEW IF NOT EXISTS `otsentry`.`asset_state_mv` TO `otsentry`.`asset_state`
AS SELECT `host`, `ip`, `macs`, `vendor`, `roles`, `identity`, `first_seen`, `first_seen_us`, `last_seen`, `last_seen_us`, `version` FROM `otsentry`.`assets`;

CREATE VIEW IF NOT EXISTS `otsentry`.`asset_now`
AS SELECT
    host,
    ip,
    argMax(v_macs, last_key) AS `macs`,
    argMax(v_vendor, last_key) AS `vendor`,
    argMax(v_roles, last_key) AS `roles`,
    argMax(v_identity, last_key) AS `identity`,
    argMin(v_first_seen, first_key) AS `first_seen`,
    argMin(v_first_seen_us, first_key) AS `first_seen_us`,
    argMax(v_last_seen, last_key) AS `last_seen`,
    argMax(v_last_seen_us, last_key) AS `last_seen_us`,
    argMax(v_version, last_key) AS `version`
FROM
(
    SELECT host, ip, `macs` AS `v_macs`, `vendor` AS `v_vendor`, `roles` AS `v_roles`, `identity` AS `v_identity`, `first_seen` AS `v_first_seen`, `first_seen_us` AS `v_first_seen_us`, `last_seen` AS `v_last_seen`, `last_seen_us` AS `v_last_seen_us`, `version` AS `v_version`, version AS last_key, toUInt64(first_seen) * 1000000 + first_seen_us AS first_key
    FROM `otsentry`.`asset_state`
)
GROUP BY host, ip;

