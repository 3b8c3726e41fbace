-- otsentry schema migration 0002 (stats), current layout (ClickHouse 20.1 and later).
-- Generated from crates/clickhouse/src/schema.rs; `otsentry clickhouse init` applies it.

CREATE DATABASE IF NOT EXISTS `otsentry`;

CREATE TABLE IF NOT EXISTS `otsentry`.`stats`
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
    `uptime` UInt64,
    `kernel_packets` UInt64,
    `kernel_drops` UInt64,
    `kernel_ifdrops` UInt64,
    `pkts` UInt64,
    `bytes` UInt64,
    `invalid` UInt64,
    `flows_total` UInt64,
    `flows_active` UInt64,
    `alerts` UInt64,
    `extra` String
)
ENGINE = ReplacingMergeTree()
PARTITION BY toYYYYMM(timestamp)
ORDER BY (timestamp, event_id);

