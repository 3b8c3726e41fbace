-- otsentry schema migration 0001 (tables), legacy layout (ClickHouse before 20.1, e.g. Debian's 18.16).
-- Generated from crates/clickhouse/src/schema.rs; `otsentry clickhouse init` applies it.

CREATE DATABASE IF NOT EXISTS `otsentry`;

CREATE TABLE IF NOT EXISTS `otsentry`.`alerts`
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
    `action` String,
    `gid` UInt32,
    `signature_id` UInt32,
    `rev` UInt32,
    `signature` String,
    `category` String,
    `severity` UInt8,
    `mitre_technique_id` Array(String),
    `mitre_technique_name` Array(String),
    `mitre_tactic_name` Array(String),
    `rule_id` Array(String),
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
    `type` String,
    `event` String,
    `layer` String,
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
    `pkts_toserver` UInt64,
    `pkts_toclient` UInt64,
    `bytes_toserver` UInt64,
    `bytes_toclient` UInt64,
    `start` DateTime('UTC'),
    `start_us` UInt32,
    `end` DateTime('UTC'),
    `end_us` UInt32,
    `age` UInt64,
    `state` String,
    `reason` String,
    `alerted` UInt8,
    `tcp_flags` String,
    `tcp_state` String,
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
    `tx_id` UInt64,
    `transaction_id` UInt16,
    `unit_id` UInt8,
    `function` UInt8,
    `function_name` String,
    `category` String,
    `access` String,
    `data_type` String,
    `status` String,
    `address` UInt16,
    `quantity` UInt16,
    `exception_code` UInt8,
    `exception_name` String,
    `response_time_us` UInt64,
    `extra` String
)
ENGINE = ReplacingMergeTree()
PARTITION BY toYYYYMM(timestamp)
ORDER BY (timestamp, event_id);

CREATE TABLE IF NOT EXISTS `otsentry`.`dnp3`
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
    `tx_id` UInt64,
    `type` String,
    `direction` String,
    `src` UInt16,
    `dst` UInt16,
    `function_code` UInt8,
    `function_name` String,
    `complete` UInt8,
    `link_function_code` UInt8,
    `iin_indicators` Array(String),
    `extra` String
)
ENGINE = ReplacingMergeTree()
PARTITION BY toYYYYMM(timestamp)
ORDER BY (timestamp, event_id);

CREATE TABLE IF NOT EXISTS `otsentry`.`s7comm`
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
    `tx_id` UInt64,
    `rosctr` String,
    `pdu_ref` UInt16,
    `function` UInt8,
    `function_name` String,
    `status` String,
    `response_rosctr` String,
    `error_class` UInt8,
    `error_class_name` String,
    `error_code` UInt8,
    `response_time_us` UInt64,
    `rack` UInt8,
    `slot` UInt8,
    `function_group` UInt8,
    `function_group_name` String,
    `subfunction` UInt8,
    `subfunction_name` String,
    `return_code` UInt8,
    `return_code_name` String,
    `extra` String
)
ENGINE = ReplacingMergeTree()
PARTITION BY toYYYYMM(timestamp)
ORDER BY (timestamp, event_id);

CREATE TABLE IF NOT EXISTS `otsentry`.`s7comm_plus`
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
    `tx_id` UInt64,
    `version` UInt8,
    `opcode` UInt8,
    `opcode_name` String,
    `function` UInt16,
    `function_name` String,
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
    `type` String,
    `src_ref` UInt16,
    `dst_ref` UInt16,
    `class` UInt8,
    `calling_tsap` String,
    `called_tsap` String,
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
    `src_zone` String,
    `src_level` String,
    `dst_zone` String,
    `dst_level` String,
    `protocol` String,
    `function_class` String,
    `ot` UInt8,
    `skips_levels` UInt8,
    `count` UInt64,
    `first_seen` DateTime('UTC'),
    `first_seen_us` UInt32,
    `last_seen` DateTime('UTC'),
    `last_seen_us` UInt32,
    `extra` String
)
ENGINE = ReplacingMergeTree()
PARTITION BY toYYYYMM(timestamp)
ORDER BY (timestamp, event_id);

