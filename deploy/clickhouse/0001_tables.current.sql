-- otsentry schema migration 0001 (tables), current layout (ClickHouse 20.1 and later).
-- Generated from crates/clickhouse/src/schema.rs; `otsentry clickhouse init` applies it.

CREATE DATABASE IF NOT EXISTS `otsentry`;

CREATE TABLE IF NOT EXISTS `otsentry`.`alerts`
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
    `action` LowCardinality(String),
    `gid` UInt32,
    `signature_id` UInt32,
    `rev` UInt32,
    `signature` LowCardinality(String),
    `category` LowCardinality(String),
    `severity` UInt8,
    `mitre_technique_id` Array(LowCardinality(String)),
    `mitre_technique_name` Array(LowCardinality(String)),
    `mitre_tactic_name` Array(LowCardinality(String)),
    `rule_id` Array(LowCardinality(String)),
    `detail` String,
    `modbus` String,
    `dnp3` String,
    `s7comm` String,
    `s7comm_plus` String,
    `cotp` String,
    `anomaly` String,
    `arp` String,
    `relay` String,
    `sender` String,
    `scan` String,
    `baseline` String,
    `segmentation` String,
    `extra` String
)
ENGINE = ReplacingMergeTree()
PARTITION BY toYYYYMM(timestamp)
ORDER BY (timestamp, event_id);

CREATE TABLE IF NOT EXISTS `otsentry`.`anomalies`
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
    `type` LowCardinality(String),
    `event` LowCardinality(String),
    `layer` LowCardinality(String),
    `offset` UInt64,
    `reason` String,
    `extra` String
)
ENGINE = ReplacingMergeTree()
PARTITION BY toYYYYMM(timestamp)
ORDER BY (timestamp, event_id);

CREATE TABLE IF NOT EXISTS `otsentry`.`flows`
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
    `pkts_toserver` UInt64,
    `pkts_toclient` UInt64,
    `bytes_toserver` UInt64,
    `bytes_toclient` UInt64,
    `start` DateTime64(6, 'UTC'),
    `end` DateTime64(6, 'UTC'),
    `age` UInt64,
    `state` LowCardinality(String),
    `reason` LowCardinality(String),
    `alerted` UInt8,
    `tcp_flags` LowCardinality(String),
    `tcp_state` LowCardinality(String),
    `gaps` UInt64,
    `missed_bytes` UInt64,
    `midstream` UInt8,
    `extra` String
)
ENGINE = ReplacingMergeTree()
PARTITION BY toYYYYMM(timestamp)
ORDER BY (timestamp, event_id);

CREATE TABLE IF NOT EXISTS `otsentry`.`modbus`
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
    `tx_id` UInt64,
    `transaction_id` UInt16,
    `unit_id` UInt8,
    `function` UInt8,
    `function_name` LowCardinality(String),
    `category` LowCardinality(String),
    `access` LowCardinality(String),
    `data_type` LowCardinality(String),
    `status` LowCardinality(String),
    `address` UInt16,
    `quantity` UInt16,
    `exception_code` UInt8,
    `exception_name` LowCardinality(String),
    `response_time_us` UInt64,
    `extra` String
)
ENGINE = ReplacingMergeTree()
PARTITION BY toYYYYMM(timestamp)
ORDER BY (timestamp, event_id);

CREATE TABLE IF NOT EXISTS `otsentry`.`dnp3`
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
    `tx_id` UInt64,
    `type` LowCardinality(String),
    `direction` LowCardinality(String),
    `src` UInt16,
    `dst` UInt16,
    `function_code` UInt8,
    `function_name` LowCardinality(String),
    `complete` UInt8,
    `link_function_code` UInt8,
    `iin_indicators` Array(LowCardinality(String)),
    `extra` String
)
ENGINE = ReplacingMergeTree()
PARTITION BY toYYYYMM(timestamp)
ORDER BY (timestamp, event_id);

CREATE TABLE IF NOT EXISTS `otsentry`.`s7comm`
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
    `tx_id` UInt64,
    `rosctr` LowCardinality(String),
    `pdu_ref` UInt16,
    `function` UInt8,
    `function_name` LowCardinality(String),
    `status` LowCardinality(String),
    `response_rosctr` LowCardinality(String),
    `error_class` UInt8,
    `error_class_name` LowCardinality(String),
    `error_code` UInt8,
    `response_time_us` UInt64,
    `rack` UInt8,
    `slot` UInt8,
    `function_group` UInt8,
    `function_group_name` LowCardinality(String),
    `subfunction` UInt8,
    `subfunction_name` LowCardinality(String),
    `return_code` UInt8,
    `return_code_name` LowCardinality(String),
    `extra` String
)
ENGINE = ReplacingMergeTree()
PARTITION BY toYYYYMM(timestamp)
ORDER BY (timestamp, event_id);

CREATE TABLE IF NOT EXISTS `otsentry`.`s7comm_plus`
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
    `tx_id` UInt64,
    `version` UInt8,
    `opcode` UInt8,
    `opcode_name` LowCardinality(String),
    `function` UInt16,
    `function_name` LowCardinality(String),
    `sequence` UInt16,
    `session_id` UInt32,
    `integrity` UInt8,
    `data_length` UInt32,
    `extra` String
)
ENGINE = ReplacingMergeTree()
PARTITION BY toYYYYMM(timestamp)
ORDER BY (timestamp, event_id);

CREATE TABLE IF NOT EXISTS `otsentry`.`cotp`
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
    `type` LowCardinality(String),
    `src_ref` UInt16,
    `dst_ref` UInt16,
    `class` UInt8,
    `calling_tsap` LowCardinality(String),
    `called_tsap` LowCardinality(String),
    `tpdu_size` UInt32,
    `rack` UInt8,
    `slot` UInt8,
    `extra` String
)
ENGINE = ReplacingMergeTree()
PARTITION BY toYYYYMM(timestamp)
ORDER BY (timestamp, event_id);

CREATE TABLE IF NOT EXISTS `otsentry`.`segmentation`
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
    `src_zone` LowCardinality(String),
    `src_level` LowCardinality(String),
    `dst_zone` LowCardinality(String),
    `dst_level` LowCardinality(String),
    `protocol` LowCardinality(String),
    `function_class` LowCardinality(String),
    `ot` UInt8,
    `skips_levels` UInt8,
    `count` UInt64,
    `first_seen` DateTime64(6, 'UTC'),
    `last_seen` DateTime64(6, 'UTC'),
    `extra` String
)
ENGINE = ReplacingMergeTree()
PARTITION BY toYYYYMM(timestamp)
ORDER BY (timestamp, event_id);

