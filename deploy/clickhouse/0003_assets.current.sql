-- otsentry schema migration 0003 (assets), current layout (ClickHouse 20.1 and later).
-- Generated from crates/clickhouse/src/schema.rs; `otsentry clickhouse init` applies it.

CREATE DATABASE IF NOT EXISTS `otsentry`;

CREATE TABLE IF NOT EXISTS `otsentry`.`assets`
(
    `event_id` UUID,
    `timestamp` DateTime64(6, 'UTC'),
    `host` LowCardinality(String),
    `event_type` LowCardinality(String),
    `flow_id` UInt64,
    `pcap_cnt` UInt64,
    `pcap_filename` LowCardinality(String),
    `vlan` Array(UInt16),
    `src_ip` IPv6,
    `src_port` UInt16,
    `dest_ip` IPv6,
    `dest_port` UInt16,
    `proto` LowCardinality(String),
    `app_proto` LowCardinality(String),
    `community_id` String,
    `ip` IPv6,
    `change` LowCardinality(String),
    `field` LowCardinality(String),
    `old` String,
    `new` String,
    `macs` Array(LowCardinality(String)),
    `vendor` LowCardinality(String),
    `roles` Array(LowCardinality(String)),
    `identity` String,
    `first_seen` DateTime64(6, 'UTC'),
    `last_seen` DateTime64(6, 'UTC'),
    `version` UInt64,
    `extra` String
)
ENGINE = ReplacingMergeTree()
PARTITION BY toYYYYMM(timestamp)
ORDER BY (timestamp, event_id);

CREATE TABLE IF NOT EXISTS `otsentry`.`asset_state`
(
    `host` LowCardinality(String),
    `ip` IPv6,
    `macs` Array(LowCardinality(String)),
    `vendor` LowCardinality(String),
    `roles` Array(LowCardinality(String)),
    `identity` String,
    `first_seen` DateTime64(6, 'UTC'),
    `last_seen` DateTime64(6, 'UTC'),
    `version` UInt64
)
ENGINE = ReplacingMergeTree(version)
ORDER BY (host, ip);

CREATE MATERIALIZED VIEW IF NOT EXISTS `otsentry`.`asset_state_mv` TO `otsentry`.`asset_state`
AS SELECT `host`, `ip`, `macs`, `vendor`, `roles`, `identity`, `first_seen`, `last_seen`, `version` FROM `otsentry`.`assets`;

CREATE VIEW IF NOT EXISTS `otsentry`.`asset_now`
AS SELECT
    host,
    ip,
    argMax(v_macs, last_key) AS `macs`,
    argMax(v_vendor, last_key) AS `vendor`,
    argMax(v_roles, last_key) AS `roles`,
    argMax(v_identity, last_key) AS `identity`,
    argMin(v_first_seen, first_key) AS `first_seen`,
    argMax(v_last_seen, last_key) AS `last_seen`,
    argMax(v_version, last_key) AS `version`
FROM
(
    SELECT host, ip, `macs` AS `v_macs`, `vendor` AS `v_vendor`, `roles` AS `v_roles`, `identity` AS `v_identity`, `first_seen` AS `v_first_seen`, `last_seen` AS `v_last_seen`, `version` AS `v_version`, version AS last_key, first_seen AS first_key
    FROM `otsentry`.`asset_state`
)
GROUP BY host, ip;

