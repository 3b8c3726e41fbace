-- otsentry schema migration 0002 (stats), legacy layout (ClickHouse before 20.1, e.g. Debian's 18.16).
-- Generated from crates/clickhouse/src/schema.rs; `otsentry clickhouse init` applies it.

CREATE DATABASE IF NOT EXISTS `otsentry`;

CREATE TABLE IF NOT EXISTS `otsentry`.`stats`
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

