//! The command line: commands, flags, and the checks that refuse values that cannot work.
use clap::{Parser, Subcommand, ValueEnum};
use otsentry_core::{AppProto, IpProto};
use otsentry_flow::FlowConfig;
use std::num::NonZeroUsize;
use std::path::PathBuf;

/// What `--app-port` names: a protocol on a transport's server port.
pub(crate) type AppPort = (AppProto, IpProto, u16);
/// A protocol setting: protocol, key, value.
pub(crate) type AppSetting = (&'static str, &'static str, u64);

pub(crate) const EXIT_CODES: &str = "Exit codes: 0 done (also when stdout is closed early, as by `| head`, \
and for sense after SIGTERM or SIGINT); 1 an output could not be written, an interface's capture failed while \
running, or a second signal cut the stop short; 2 bad input or usage (a missing or unreadable capture, a file \
that is not one, an interface that does not exist or may not be captured on, a BPF filter that does not compile, \
a bad flag, configuration, rule, variables or tuning file).";

#[derive(Parser)]
#[command(name = "otsentry", version, about = "Passive OT network security monitor (Modbus/TCP, DNP3, S7comm)", after_help = EXIT_CODES)]
pub(crate) struct Cli {
    /// Log level for diagnostics on stderr (error, warn, info, debug, trace).
    #[arg(long, global = true)]
    pub(crate) log_level: Option<tracing::Level>,
    #[command(subcommand)]
    pub(crate) command: Command,
}

#[derive(Subcommand)]
pub(crate) enum Command {
    /// Analyse captures: pcap or pcapng files, pipes, stdin (-), gzip, zip archives, directories.
    #[command(after_help = EXIT_CODES)]
    Replay(Box<ReplayArgs>),
    /// Check or write a configuration file.
    #[command(subcommand)]
    Config(ConfigCommand),
    /// Check or list detection rules (the built-in pack, or a directory of rule files).
    #[command(subcommand)]
    Rules(RulesCommand),
    /// The segmentation policy: what each protocol function counts as.
    #[command(subcommand)]
    Policy(PolicyCommand),
    /// Learn a baseline from captures: assets, conversations, functions, address ranges,
    /// written values, device identities and polling periods (for `replay --baseline`).
    Learn(LearnArgs),
    /// Watch network interfaces live (a SPAN or mirror port): the same detection and
    /// outputs as replay, until SIGTERM or SIGINT (a second one exits at once).
    #[command(after_help = EXIT_CODES)]
    Sense(Box<SenseArgs>),
    /// The ClickHouse feed's database.
    #[command(subcommand)]
    Clickhouse(ClickhouseCommand),
    /// What is on the control network and what crosses the zones: the asset inventory,
    /// a network map, alerts and conversations, as one self-contained HTML page (no
    /// fetch: it opens on an air-gapped laptop) and as JSON.
    #[command(after_help = EXIT_CODES)]
    Report(ReportArgs),
    /// The asset table of captures: IP, MAC, role, zone, protocols, vendor, identity.
    #[command(after_help = EXIT_CODES)]
    Inventory(InventoryArgs),
}

/// What a report or an inventory is made from.
#[derive(clap::Args)]
pub(crate) struct ReportSources {
    /// Captures, as `replay` reads them.
    #[arg(required = true, value_name = "CAPTURE")]
    pub(crate) inputs: Vec<PathBuf>,
    /// In a directory given as input, read subdirectories too.
    #[arg(short = 'R', long)]
    pub(crate) recursive: bool,
    /// A segmentation policy: its zones are the map's bands (by Purdue level), and the
    /// conversations it forbids are drawn red.
    #[arg(long, value_name = "FILE")]
    pub(crate) policy: Option<PathBuf>,
    /// A learned baseline to check the traffic against (its alerts are in the report).
    #[arg(long, value_name = "FILE")]
    pub(crate) baseline: Option<PathBuf>,
    /// Named host sets for the rules ($HMI, $ENGINEERING, ...).
    #[arg(long, value_name = "FILE")]
    pub(crate) vars: Option<PathBuf>,
    /// Rules from DIR or a file beside the built-in pack (repeatable).
    #[arg(long, value_name = "DIR")]
    pub(crate) rules: Vec<PathBuf>,
    /// Leave the built-in pack out.
    #[arg(long)]
    pub(crate) no_default_rules: bool,
    /// The site's tuning of the rules.
    #[arg(long, value_name = "FILE")]
    pub(crate) tuning: Option<PathBuf>,
    /// Wireshark's manuf file, for MAC vendors.
    #[arg(long, value_name = "FILE", default_value = otsentry_baseline::MANUF)]
    pub(crate) manuf: PathBuf,
    /// The most memory the traffic's state may take, as for replay (default: a quarter
    /// of the machine's, from 256M to 8G).
    #[arg(long, value_name = "SIZE", value_parser = parse_memory_cap)]
    pub(crate) memory_cap: Option<u64>,
}

#[derive(clap::Args)]
pub(crate) struct ReportArgs {
    #[command(flatten)]
    pub(crate) sources: ReportSources,
    /// Write the page to FILE (written whole, or not at all).
    #[arg(long, value_name = "FILE", required_unless_present = "json")]
    pub(crate) html: Option<PathBuf>,
    /// Write the report's data to FILE: `header`, `zones`, `assets`, `conversations`, `alerts`.
    #[arg(long, value_name = "FILE")]
    pub(crate) json: Option<PathBuf>,
    /// No summary line on stderr.
    #[arg(short, long)]
    pub(crate) quiet: bool,
}

#[derive(clap::Args)]
pub(crate) struct InventoryArgs {
    #[command(flatten)]
    pub(crate) sources: ReportSources,
    /// Write the table as CSV to FILE instead of printing it.
    #[arg(long, value_name = "FILE")]
    pub(crate) csv: Option<PathBuf>,
}

#[derive(Subcommand)]
pub(crate) enum ClickhouseCommand {
    /// Create the database and tables (`deploy/clickhouse/`), applying the migrations not
    /// yet applied (running it again changes nothing), then check every table.
    Init {
        /// The server: http[s]://[USER@]HOST:PORT[/DATABASE] (default database otsentry).
        /// The password comes from OTSENTRY_CLICKHOUSE_PASSWORD or --clickhouse-password-file.
        #[arg(long, value_name = "URL")]
        clickhouse: String,
        /// Read the password from FILE (its first line).
        #[arg(long, value_name = "FILE")]
        clickhouse_password_file: Option<PathBuf>,
        /// For https: trust the CA certificates (PEM) in FILE instead of the system's.
        #[arg(long, value_name = "FILE")]
        clickhouse_ca: Option<PathBuf>,
        /// Drop rows this many days after their timestamp (a table TTL; ClickHouse 20.1+).
        #[arg(long, value_name = "DAYS", value_parser = clap::value_parser!(u32).range(1..))]
        retention_days: Option<u32>,
        /// Create the tables on every node of cluster NAME (the server's remote_servers):
        /// replicated tables (`alerts_local`, ...) and Distributed tables over them under
        /// the usual names, which sensors write through (deploy/clickhouse/cluster/).
        #[arg(long, value_name = "NAME")]
        cluster: Option<String>,
    },
}

#[derive(clap::Args)]
pub(crate) struct LearnArgs {
    /// Captures, as `replay` reads them.
    #[arg(required = true, value_name = "CAPTURE")]
    pub(crate) inputs: Vec<PathBuf>,
    /// Write the baseline to FILE (JSON).
    #[arg(long, value_name = "FILE", required_unless_present_any = ["update", "vars_out"])]
    pub(crate) out: Option<PathBuf>,
    /// Write the host sets the traffic shows ($HMI, $ENGINEERING, $MASTERS: clients that
    /// polled for a while and wrote, programmed or operated) as a variables file, to review.
    #[arg(long, value_name = "FILE")]
    pub(crate) vars_out: Option<PathBuf>,
    /// Extend this baseline (written back to it, unless --out names another file).
    #[arg(long, value_name = "FILE")]
    pub(crate) update: Option<PathBuf>,
    /// Wireshark's manuf file, for MAC vendors.
    #[arg(long, value_name = "FILE", default_value = otsentry_baseline::MANUF)]
    pub(crate) manuf: PathBuf,
    /// In a directory given as input, read subdirectories too.
    #[arg(short = 'R', long)]
    pub(crate) recursive: bool,
}

#[derive(Subcommand)]
pub(crate) enum PolicyCommand {
    /// Print every protocol function with its class (read, write, program, control,
    /// diagnostic, identification, management), as conduits allow them.
    Classes,
    /// Replay captures against a draft policy: print the conversations it would forbid,
    /// by zone pair with counts and first and last seen, and the conduits nothing used.
    #[command(after_help = "Exit codes: 0 nothing forbidden, 3 conversations forbidden (0 with --exit-zero), \
2 a bad policy file or capture, 1 an output could not be written.")]
    Check {
        /// The draft policy.
        #[arg(long, value_name = "FILE")]
        policy: PathBuf,
        /// Also write the findings as JSON to FILE.
        #[arg(long, value_name = "FILE")]
        json: Option<PathBuf>,
        /// Exit 0 even when conversations are forbidden (a report, not a gate).
        #[arg(long)]
        exit_zero: bool,
        #[arg(required = true, value_name = "CAPTURE")]
        inputs: Vec<PathBuf>,
    },
    /// Propose the narrowest conduits (protocol, function classes, initiator) that allow
    /// what the captures hold between the zones of ZONES, as a policy file.
    Suggest {
        /// A policy file with zones and no conduits.
        #[arg(long, value_name = "FILE")]
        zones: PathBuf,
        /// Write the policy to FILE (default stdout).
        #[arg(long, value_name = "FILE")]
        out: Option<PathBuf>,
        #[arg(required = true, value_name = "CAPTURE")]
        inputs: Vec<PathBuf>,
    },
}

#[derive(Subcommand)]
pub(crate) enum RulesCommand {
    /// Check rule, variables and tuning files: exit 0 if they can be used, else name
    /// each file, line, column and field at fault (exit 2).
    Check(RuleFiles),
    /// Print the rules as a table: id, severity, techniques, variables they need.
    List(RuleFiles),
    /// Print the fields rules can match, per event type: name, type, repeated group,
    /// and whether the value is known only from the answer.
    Fields,
    /// Write the built-in pack's files into DIR, to read or to start a site's own rules
    /// from (files already there are left alone, and said so).
    Export {
        #[arg(value_name = "DIR")]
        dir: PathBuf,
    },
    /// Convert Suricata rules (Modbus and DNP3 keywords, their app-layer events) into a
    /// rule file; every rule or option that does not convert is listed with the reason.
    Import {
        /// A Suricata rules file.
        #[arg(value_name = "FILE.rules")]
        file: PathBuf,
        /// Write the rule file here (default: stdout).
        #[arg(long, short, value_name = "FILE")]
        out: Option<PathBuf>,
    },
}

#[derive(clap::Args)]
pub(crate) struct RuleFiles {
    /// Directories of rule files (*.yaml), or files, beside the built-in pack.
    #[arg(value_name = "DIR")]
    pub(crate) rules: Vec<PathBuf>,
    /// Leave the built-in pack out: only the rules given.
    #[arg(long)]
    pub(crate) no_default_rules: bool,
    /// Named host sets for rules ($HMI, $ENGINEERING, $PLC, $MASTERS, ...).
    #[arg(long, value_name = "FILE")]
    pub(crate) vars: Option<PathBuf>,
    /// The site's tuning: rules disabled, severities and thresholds changed, suppressions.
    #[arg(long, value_name = "FILE")]
    pub(crate) tuning: Option<PathBuf>,
    /// A segmentation policy to check as well.
    #[arg(long, value_name = "FILE")]
    pub(crate) policy: Option<PathBuf>,
    /// A baseline file to check as well.
    #[arg(long, value_name = "FILE")]
    pub(crate) baseline: Option<PathBuf>,
}

#[derive(Subcommand)]
pub(crate) enum ConfigCommand {
    /// Check FILE: exit 0 if it can be used, else name the line and key at fault (exit 2).
    Check { file: PathBuf },
    /// Print a commented configuration file with every key.
    Example,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum, serde::Deserialize)]
#[serde(rename_all = "lowercase")]
pub(crate) enum Reader {
    /// Ours: zero-copy memory map for files, streaming for pipes, stdin, gzip and zip (default).
    Mmap,
    /// libpcap, the reference reader (fed through a pipe for anything but a plain file).
    Libpcap,
}

#[derive(clap::Args)]
pub(crate) struct ReplayArgs {
    /// Captures, read in order: pcap or pcapng files, `-` for stdin, pipes, `.gz` files,
    /// zip archives (their captures in name order), directories (their captures in name
    /// order; other files are skipped and counted).
    #[arg(required = true, value_name = "INPUT")]
    pub(crate) inputs: Vec<PathBuf>,
    /// Read a configuration file (YAML; `otsentry config example` prints one). Flags win.
    #[arg(long, value_name = "FILE")]
    pub(crate) config: Option<PathBuf>,
    #[arg(long, value_enum)]
    pub(crate) reader: Option<Reader>,
    /// In a directory given as input, read subdirectories too.
    #[arg(short = 'R', long)]
    pub(crate) recursive: bool,
    #[command(flatten)]
    pub(crate) pipeline: PipelineArgs,
}

#[derive(clap::Args)]
pub(crate) struct SenseArgs {
    /// Capture on IFACE (repeatable: a SPAN session spread over several ports is one
    /// pipeline).
    #[arg(short, long = "interface", value_name = "IFACE")]
    pub(crate) interfaces: Vec<String>,
    /// Read a configuration file (YAML; `otsentry config example` prints one). Flags win.
    #[arg(long, value_name = "FILE")]
    pub(crate) config: Option<PathBuf>,
    /// Capture only what this BPF filter (tcpdump's syntax) passes.
    #[arg(long, value_name = "FILTER")]
    pub(crate) bpf: Option<String>,
    /// Bytes kept of each frame (default 262144); longer frames are counted as cut by
    /// the snap length.
    #[arg(long, value_name = "BYTES", value_parser = clap::value_parser!(u32).range(64..=262_144))]
    pub(crate) snaplen: Option<u32>,
    /// The kernel's capture buffer per interface (bytes, or with K, M, G; default 64M).
    #[arg(long, value_name = "SIZE", value_parser = parse_buffer_size)]
    pub(crate) buffer_size: Option<u32>,
    /// Hand each packet to the sensor as it arrives, not in blocks (lower latency, more
    /// CPU on a busy link).
    #[arg(long)]
    pub(crate) immediate: bool,
    /// Leave the interfaces out of promiscuous mode (on by default: a SPAN port's
    /// traffic is addressed to others).
    #[arg(long)]
    pub(crate) no_promiscuous: bool,
    /// How long the kernel may hold a block of packets (default 100ms).
    #[arg(long, value_name = "DURATION", value_parser = parse_read_timeout)]
    pub(crate) read_timeout: Option<std::time::Duration>,
    /// With several workers, each reads its own capture handles, which the kernel
    /// joins in a fanout group split by address pair, instead of one reader handing
    /// frames over (the default; only it peels tunnels before it splits).
    #[arg(long)]
    pub(crate) fanout: bool,
    /// Learn the baseline from the live traffic for this long (seconds, or with s, m,
    /// h, d), write it to --baseline-out (the file `otsentry learn --out` writes), then
    /// check the traffic against it without a restart. Runs one worker.
    #[arg(long, value_name = "DURATION", value_parser = crate::eve::parse_duration, requires = "baseline_out", conflicts_with = "baseline")]
    pub(crate) learn_for: Option<std::time::Duration>,
    /// Where --learn-for writes the learned baseline.
    #[arg(long, value_name = "FILE", requires = "learn_for")]
    pub(crate) baseline_out: Option<PathBuf>,
    /// Write a `stats` record (and log a line at info) this often (default 30s; 0 for
    /// never).
    #[arg(long, value_name = "DURATION", value_parser = parse_stats_interval)]
    pub(crate) stats_interval: Option<std::time::Duration>,
    /// Write a `snapshot` asset record of every asset this often (default 1h; 0 for
    /// never), besides the records of each asset's changes.
    #[arg(long, value_name = "DURATION", value_parser = parse_asset_interval)]
    pub(crate) asset_interval: Option<std::time::Duration>,
    /// Rewrite the HTML report (as `otsentry report` makes it) to PATH every
    /// --report-interval and when the sensor stops, written whole each time (the
    /// sensor then runs one worker).
    #[arg(long, value_name = "PATH")]
    pub(crate) report: Option<PathBuf>,
    /// How often --report is rewritten (default 5m, from 10s to a day).
    #[arg(long, value_name = "DURATION", value_parser = parse_report_interval, requires = "report")]
    pub(crate) report_interval: Option<std::time::Duration>,
    /// Raise a "Sensor health" alert when an interface delivers nothing for this long
    /// (default 5m; 0 for never).
    #[arg(long, value_name = "DURATION", value_parser = parse_silence_alert)]
    pub(crate) silence_alert: Option<std::time::Duration>,
    /// Once the interfaces are open, run as this user (name or uid), keeping only
    /// CAP_NET_RAW; supplementary groups are cleared and no_new_privs set.
    #[arg(long, value_name = "USER")]
    pub(crate) user: Option<String>,
    /// The group to run as with --user (default: the user's primary group).
    #[arg(long, value_name = "GROUP")]
    pub(crate) group: Option<String>,
    /// Stay root: refused without it when started as root with no --user.
    #[arg(long)]
    pub(crate) allow_root: bool,
    /// Serve Prometheus metrics at /metrics and the sensor's health at /health (200
    /// capturing, 503 with what is wrong: an interface down, an output failing) on
    /// ADDR:PORT, or on 127.0.0.1:PORT given a port alone.
    #[arg(long, value_name = "ADDR:PORT", value_parser = parse_metrics)]
    pub(crate) metrics: Option<std::net::SocketAddr>,
    /// Check everything a sensor would load (the configuration, the interfaces, rules,
    /// variables, tuning, policy and baseline files, the outputs' settings) and exit:
    /// 0 when all is well, 2 otherwise; nothing is captured or written.
    #[arg(long)]
    pub(crate) test_config: bool,
    #[command(flatten)]
    pub(crate) pipeline: PipelineArgs,
}

/// The detection and output options `replay` and `sense` share (each also a key of the
/// configuration file's `replay:` and `sense:` sections).
#[derive(clap::Args)]
pub(crate) struct PipelineArgs {
    /// The outputs' shorthand flags (`--eve`, `--clickhouse`, `--cef` and their settings),
    /// declared by each output kind.
    #[command(flatten)]
    pub(crate) outputs: crate::outputs::OutputFlags,
    /// Wireshark's manuf file, for the MAC vendors in `asset` records (default
    /// /usr/share/wireshark/manuf; without it, records name no vendor).
    #[arg(long, value_name = "FILE")]
    pub(crate) manuf: Option<PathBuf>,
    /// The sensor's name, in every record's `host` and mixed into its `event_id` and
    /// `flow_id` (default: the machine's host name).
    #[arg(long, value_name = "NAME", value_parser = parse_host)]
    pub(crate) host: Option<String>,
    /// Most items of a list a record keeps (DNP3 objects and points, Modbus values;
    /// default 1024): the rest are counted in `<list>_omitted` beside it.
    #[arg(long, value_name = "N", value_parser = clap::value_parser!(u32).range(1..))]
    pub(crate) eve_max_items: Option<u32>,
    /// Write one JSON summary object to PATH when the run ends ("-" for stdout).
    #[arg(long, value_name = "PATH")]
    pub(crate) summary_json: Option<PathBuf>,
    /// Emit an anomaly event for every bad IP/TCP/UDP checksum (always counted).
    #[arg(long)]
    pub(crate) checksum_anomalies: bool,
    /// Do not verify checksums at all.
    #[arg(long, conflicts_with = "checksum_anomalies")]
    pub(crate) no_checksums: bool,
    /// Expect PROTO on server PORT (repeatable; added to 502 modbus, 20000 dnp3, 102
    /// s7comm): e.g. `modbus=5020`, `dnp3=20001/udp`. Protocols are also found by content
    /// on any port.
    #[arg(long = "app-port", value_name = "PROTO=PORT[/tcp|/udp]", value_parser = parse_app_port)]
    pub(crate) app_port: Vec<AppPort>,
    /// Most flows tracked at once (at least 1; default 1000000); beyond it the least
    /// recently seen is evicted.
    #[arg(long, value_name = "N", value_parser = parse_max_flows)]
    pub(crate) max_flows: Option<NonZeroUsize>,
    /// The most memory the traffic's state may take (bytes, or with K, M, G; at least
    /// 64M): flows, reassembly, application buffers, detection state, queues and
    /// evidence each get a share, and at a share's limit the oldest of its kind gives
    /// way (counted in the summary's `memory`). Default: a quarter of the machine's
    /// memory (or of the service's cgroup limit), from 256M to 8G.
    #[arg(long, value_name = "SIZE", value_parser = parse_memory_cap)]
    pub(crate) memory_cap: Option<u64>,
    /// Keep each flow's recent packets and write an alert's to a pcap in DIR (made
    /// 0700; files 0600: they hold what crossed the wire, passwords included), named in
    /// the alert's `evidence` (`pcap`, `first_pcap_cnt`, and `frame`: the alerting
    /// packet's number in the file).
    #[arg(long, value_name = "DIR")]
    pub(crate) evidence_dir: Option<PathBuf>,
    /// Alerts at or above this severity write evidence (info, low, medium, high,
    /// critical; default high).
    #[arg(long, value_name = "SEVERITY", value_parser = parse_severity)]
    pub(crate) evidence_severity: Option<otsentry_core::Severity>,
    /// Packets each flow keeps for evidence (default 32), and their most bytes (default 64K).
    #[arg(long, value_name = "N", value_parser = clap::value_parser!(u32).range(1..=100_000))]
    pub(crate) evidence_packets: Option<u32>,
    #[arg(long, value_name = "SIZE", value_parser = crate::eve::parse_size)]
    pub(crate) evidence_ring_bytes: Option<u64>,
    /// Packets of the flow written after the alerting one (default 16).
    #[arg(long, value_name = "N", value_parser = clap::value_parser!(u32).range(0..=100_000))]
    pub(crate) evidence_after: Option<u32>,
    /// The most the evidence directory takes (default 1G); the oldest files go first.
    #[arg(long, value_name = "SIZE", value_parser = crate::eve::parse_size)]
    pub(crate) evidence_max_disk: Option<u64>,
    /// Most DNP3 object headers in one fragment (default 2048; Suricata's
    /// `app-layer.protocols.dnp3.max-objects`): beyond it the fragment raises
    /// dnp3.too_many_objects and its further objects are not decoded. Short for
    /// `--app-setting dnp3.max-objects=N`.
    #[arg(long, value_name = "N", value_parser = clap::value_parser!(u32).range(1..))]
    pub(crate) dnp3_max_objects: Option<u32>,
    /// A registered protocol's setting (repeatable): e.g. `dnp3.max-objects=2048`.
    #[arg(long = "app-setting", value_name = "PROTO.KEY=N", value_parser = otsentry_engine::parse_app_setting)]
    pub(crate) app_setting: Vec<AppSetting>,
    /// Rules from DIR (*.yaml files) or a file, beside the built-in pack (repeatable).
    #[arg(long, value_name = "DIR", conflicts_with = "no_rules")]
    pub(crate) rules: Vec<PathBuf>,
    /// Leave the built-in pack out: only the rules --rules gives.
    #[arg(long, conflicts_with = "no_rules")]
    pub(crate) no_default_rules: bool,
    /// No detection rules: no alerts.
    #[arg(long)]
    pub(crate) no_rules: bool,
    /// Refuse to start when a rule names a host set no variables file defines and no
    /// warm-up infers ($HOME_NET from an imported rule, ...), instead of warning.
    #[arg(long)]
    pub(crate) strict: bool,
    /// Named host sets for rules ($HMI, $ENGINEERING, $PLC, $MASTERS, ...): rules that
    /// name a set stay quiet until it is defined.
    #[arg(long, value_name = "FILE")]
    pub(crate) vars: Option<PathBuf>,
    /// The site's tuning of the rules (kept apart from the pack).
    #[arg(long, value_name = "FILE")]
    pub(crate) tuning: Option<PathBuf>,
    /// Without --vars, infer $HMI, $ENGINEERING and $MASTERS from the traffic: `pass` (a
    /// first pass over the inputs; replay's default), a duration from the first packet
    /// (sense's default: 15m), or `off` (those rules stay quiet).
    #[arg(long, value_name = "pass|DURATION|off", value_parser = parse_warmup)]
    pub(crate) warmup: Option<WarmupChoice>,
    /// Pipeline workers, each with the conversations of its share of address pairs
    /// (`auto`: one per core). Default: 1 for replay, auto for sense. Results are the
    /// same whatever the number.
    #[arg(long, value_name = "N|auto", value_parser = parse_workers)]
    pub(crate) workers: Option<Workers>,
    /// A segmentation policy (zones and conduits, YAML): conversations across zones that
    /// no conduit allows raise `policy.segmentation.*` alerts.
    #[arg(long, value_name = "FILE")]
    pub(crate) policy: Option<PathBuf>,
    /// A learned baseline (`otsentry learn`): departures from it raise `baseline.*` alerts.
    #[arg(long, value_name = "FILE")]
    pub(crate) baseline: Option<PathBuf>,
    /// Written values beyond the learned range by up to this share of its span pass
    /// (default 0.1).
    #[arg(long, value_name = "SHARE", value_parser = parse_share)]
    pub(crate) baseline_margin: Option<f64>,
    /// Samples an address needs before its learned range is trusted; below it only the
    /// values seen pass (default 10).
    #[arg(long, value_name = "N", value_parser = clap::value_parser!(u64).range(1..))]
    pub(crate) baseline_min_samples: Option<u64>,
    /// A burst: more requests within a second than FACTOR times the most learned, plus
    /// 10 (default 3).
    #[arg(long, value_name = "FACTOR", value_parser = parse_factor)]
    pub(crate) baseline_burst_factor: Option<f64>,
    /// A poll has stopped when its conversation is silent for FACTOR times the longest
    /// silence learned between two of its requests, and at least 2 s (default 3).
    #[arg(long, value_name = "FACTOR", value_parser = parse_factor)]
    pub(crate) baseline_stop_factor: Option<f64>,
    /// No human summary or hints on stderr (warnings and errors still).
    #[arg(short, long)]
    pub(crate) quiet: bool,
}

pub(crate) fn parse_app_port(spec: &str) -> Result<AppPort, String> {
    let (proto, rest) = spec.split_once('=').ok_or_else(|| format!("{spec:?}: expected PROTO=PORT, e.g. modbus=5020"))?;
    let app = otsentry_engine::proto_named(proto).ok_or_else(|| {
        let names: Vec<&str> = otsentry_engine::app_protos().map(|p| p.name()).collect();
        format!("{proto:?}: unknown protocol (one of {})", names.join(", "))
    })?;
    let (port, transport) = match rest.split_once('/') {
        None => (rest, IpProto::TCP),
        Some((port, "tcp")) => (port, IpProto::TCP),
        Some((port, "udp")) => (port, IpProto::UDP),
        Some((_, other)) => return Err(format!("{other:?}: transport must be tcp or udp")),
    };
    let port = port.parse::<u16>().ok().filter(|&p| p != 0).ok_or_else(|| format!("{port:?}: not a port number (1-65535)"))?;
    Ok((app, transport, port))
}

fn parse_max_flows(text: &str) -> Result<NonZeroUsize, String> {
    max_flows(text.parse().map_err(|_| format!("{text:?}: not a number"))?)
}

/// A flow cap, from the command line or the configuration file.
pub(crate) fn max_flows(n: u64) -> Result<NonZeroUsize, String> {
    usize::try_from(n).ok().and_then(NonZeroUsize::new).ok_or_else(|| format!("{n} cannot work: at least 1 flow must be tracked"))
}

/// A severity by name, from the command line or the configuration file.
pub(crate) fn parse_severity(text: &str) -> Result<otsentry_core::Severity, String> {
    otsentry_core::Severity::from_name(text.trim()).ok_or_else(|| format!("{text:?}: one of info, low, medium, high, critical"))
}

/// A memory cap, from the command line or the configuration file.
pub(crate) fn parse_memory_cap(text: &str) -> Result<u64, String> {
    let bytes = crate::eve::parse_size(text)?;
    if bytes < otsentry_core::MIN_MEMORY_CAP {
        return Err(format!("{text:?}: at least 64M (the shares below it cannot hold a busy network)"));
    }
    Ok(bytes)
}

/// The default memory cap: a quarter of what the machine (or the cgroup the service
/// runs in) has, from 256 MiB to 8 GiB.
pub(crate) fn default_memory_cap() -> u64 {
    let total = std::fs::read_to_string("/proc/meminfo")
        .ok()
        .and_then(|t| t.lines().find(|l| l.starts_with("MemTotal:")).and_then(|l| l.split_whitespace().nth(1)?.parse::<u64>().ok()))
        .map_or(u64::MAX, |kib| kib.saturating_mul(1024));
    let cgroup = std::fs::read_to_string("/sys/fs/cgroup/memory.max").ok().and_then(|t| t.trim().parse::<u64>().ok()).unwrap_or(u64::MAX);
    let have = total.min(cgroup);
    if have == u64::MAX {
        return 1 << 30;
    }
    (have / 4).clamp(256 << 20, 8 << 30)
}

/// The default flow cap.
pub(crate) fn default_max_flows() -> usize {
    FlowConfig::default().max_flows
}

/// A share (0 to 10: a margin of 0.1 widens a learned span by a tenth on each side).
pub(crate) fn parse_share(text: &str) -> Result<f64, String> {
    text.parse::<f64>().ok().filter(|v| (0.0..=10.0).contains(v)).ok_or_else(|| format!("{text:?}: a number from 0 to 10"))
}

/// A factor of at least 1.
pub(crate) fn parse_factor(text: &str) -> Result<f64, String> {
    text.parse::<f64>().ok().filter(|v| (1.0..=1000.0).contains(v)).ok_or_else(|| format!("{text:?}: a number from 1 to 1000"))
}

/// A sensor name: printable, without spaces or quotes, at most 64 bytes.
pub(crate) fn parse_host(text: &str) -> Result<String, String> {
    let ok = !text.is_empty() && text.len() <= 64 && text.bytes().all(|b| b.is_ascii_graphic() && b != b'"' && b != b'\\');
    ok.then(|| text.to_string()).ok_or_else(|| format!("{text:?}: a name of 1-64 printable characters, without spaces or quotes"))
}

/// A kernel buffer size: at least 1 MiB, below 2 GiB.
pub(crate) fn parse_buffer_size(text: &str) -> Result<u32, String> {
    let n = crate::eve::parse_size(text)?;
    u32::try_from(n).ok().filter(|&n| (1 << 20..1 << 31).contains(&n)).ok_or_else(|| format!("{text:?}: from 1M to below 2G"))
}

/// libpcap's read timeout: 1 ms to 10 s.
pub(crate) fn parse_read_timeout(text: &str) -> Result<std::time::Duration, String> {
    let d = parse_fine_duration(text)?;
    (std::time::Duration::from_millis(1)..=std::time::Duration::from_secs(10))
        .contains(&d)
        .then_some(d)
        .ok_or_else(|| format!("{text:?}: from 1ms to 10s"))
}

/// The stats interval: 0 (none), or 1 s to a day.
pub(crate) fn parse_stats_interval(text: &str) -> Result<std::time::Duration, String> {
    let d = parse_fine_duration(text)?;
    let ok = d.is_zero() || (std::time::Duration::from_secs(1)..=std::time::Duration::from_secs(86_400)).contains(&d);
    ok.then_some(d).ok_or_else(|| format!("{text:?}: 0 (no stats), or from 1s to 1d"))
}

/// Between asset snapshots: 0 (none), or ten seconds to a week.
pub(crate) fn parse_asset_interval(text: &str) -> Result<std::time::Duration, String> {
    let d = parse_fine_duration(text)?;
    let ok = d.is_zero() || (std::time::Duration::from_secs(10)..=std::time::Duration::from_secs(7 * 86_400)).contains(&d);
    ok.then_some(d).ok_or_else(|| format!("{text:?}: 0 (no snapshots), or from 10s to 7d"))
}

/// Between rewrites of a sensor's report: 10 s to a day.
pub(crate) fn parse_report_interval(text: &str) -> Result<std::time::Duration, String> {
    let d = parse_fine_duration(text)?;
    let ok = (std::time::Duration::from_secs(10)..=std::time::Duration::from_secs(86_400)).contains(&d);
    ok.then_some(d).ok_or_else(|| format!("{text:?}: from 10s to 1d"))
}

/// The silence alert's threshold: 0 (never), or 10 s to a day.
pub(crate) fn parse_silence_alert(text: &str) -> Result<std::time::Duration, String> {
    let d = parse_fine_duration(text)?;
    let ok = d.is_zero() || (std::time::Duration::from_secs(10)..=std::time::Duration::from_secs(86_400)).contains(&d);
    ok.then_some(d).ok_or_else(|| format!("{text:?}: 0 (never), or from 10s to 1d"))
}

/// Where metrics are served: ADDR:PORT, or a port alone on loopback.
pub(crate) fn parse_metrics(text: &str) -> Result<std::net::SocketAddr, String> {
    let t = text.trim();
    if let Ok(port) = t.parse::<u16>() {
        return Ok(std::net::SocketAddr::from(([127, 0, 0, 1], port)));
    }
    t.parse().map_err(|_| format!("{text:?}: ADDR:PORT (127.0.0.1:9464, [::1]:9464) or a port"))
}

/// How long a sensor (or a stream replay) watches the traffic before it judges who may
/// write and operate.
pub(crate) const DEFAULT_WARMUP: std::time::Duration = std::time::Duration::from_secs(15 * 60);

/// How many pipeline workers a run has.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Workers {
    /// One per core the process may run on.
    Auto,
    Count(NonZeroUsize),
}

impl Workers {
    pub(crate) fn count(self) -> usize {
        match self {
            Workers::Auto => std::thread::available_parallelism().map_or(1, NonZeroUsize::get),
            Workers::Count(n) => n.get(),
        }
    }
}

/// Workers at most: each holds a pipeline and a thread.
const MAX_WORKERS: usize = 64;

pub(crate) fn parse_workers(text: &str) -> Result<Workers, String> {
    match text.trim() {
        "auto" => Ok(Workers::Auto),
        t => match t.parse::<usize>() {
            Ok(n @ 1..=MAX_WORKERS) => Ok(Workers::Count(NonZeroUsize::new(n).ok_or("0")?)),
            _ => Err(format!("{text:?}: `auto` or a number from 1 to {MAX_WORKERS}")),
        },
    }
}

/// How the host sets the rules name are inferred when no variables file defines them.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum WarmupChoice {
    Off,
    /// A first pass over the inputs (replay).
    Pass,
    /// From the first packet, this long.
    For(std::time::Duration),
}

pub(crate) fn parse_warmup(text: &str) -> Result<WarmupChoice, String> {
    match text.trim() {
        "off" => Ok(WarmupChoice::Off),
        "pass" => Ok(WarmupChoice::Pass),
        t => match parse_fine_duration(t) {
            Ok(d) if d.is_zero() => Ok(WarmupChoice::Off),
            Ok(d) => Ok(WarmupChoice::For(d)),
            Err(_) => Err(format!("{text:?}: `pass`, `off`, or a duration such as 15m")),
        },
    }
}

/// A duration with its unit (ms, s, m, h, d; a bare number is seconds), zero allowed.
fn parse_fine_duration(text: &str) -> Result<std::time::Duration, String> {
    let t = text.trim();
    let split = t.find(|c: char| !c.is_ascii_digit()).unwrap_or(t.len());
    let (digits, unit) = t.split_at(split);
    let millis_per = match unit {
        "ms" => 1,
        "" | "s" => 1000,
        "m" => 60_000,
        "h" => 3_600_000,
        "d" => 86_400_000,
        _ => return Err(format!("{text:?}: expected a duration such as 100ms, 30s or 5m")),
    };
    let n: u64 = digits.parse().map_err(|_| format!("{text:?}: expected a duration such as 100ms, 30s or 5m"))?;
    n.checked_mul(millis_per).map(std::time::Duration::from_millis).ok_or_else(|| format!("{text:?}: too long"))
}
