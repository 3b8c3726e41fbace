//! `otsentry`: a passive OT network security monitor.
#![forbid(unsafe_code)]

mod report;

use anyhow::Context;
use clap::{Parser, Subcommand, ValueEnum};
use otsentry_capture::{CaptureError, ReaderKind};
use otsentry_core::{AppProto, IpProto};
use otsentry_engine::{EngineError, Replay, ReplayOptions};
use otsentry_flow::FlowConfig;
use otsentry_sink::EveWriter;
use std::io::{BufWriter, Write};
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::time::Instant;

#[derive(Parser)]
#[command(name = "otsentry", version, about = "Passive OT network security monitor (Modbus/TCP, DNP3, S7comm)")]
struct Cli {
    /// Log level for diagnostics on stderr (error, warn, info, debug, trace).
    #[arg(long, global = true, default_value = "warn")]
    log_level: tracing::Level,
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Analyse pcap or pcapng files.
    Replay(ReplayArgs),
}

#[derive(Clone, Copy, ValueEnum)]
enum Reader {
    /// Zero-copy memory-mapped reader (default).
    Mmap,
    /// libpcap, the reference reader.
    Libpcap,
}

#[derive(clap::Args)]
struct ReplayArgs {
    /// Capture files (pcap or pcapng), read in order.
    #[arg(required = true)]
    files: Vec<PathBuf>,
    /// Write EVE JSON lines to PATH ("-" for stdout).
    #[arg(long, value_name = "PATH")]
    eve: Option<PathBuf>,
    /// Write one JSON summary object to PATH when the run ends ("-" for stdout).
    #[arg(long, value_name = "PATH")]
    summary_json: Option<PathBuf>,
    #[arg(long, value_enum, default_value = "mmap")]
    reader: Reader,
    /// Emit an anomaly event for every bad IP/TCP/UDP checksum (always counted).
    #[arg(long)]
    checksum_anomalies: bool,
    /// Do not verify checksums at all.
    #[arg(long, conflicts_with = "checksum_anomalies")]
    no_checksums: bool,
    /// Expect PROTO on server PORT (repeatable; added to 502 modbus, 20000 dnp3, 102
    /// s7comm): e.g. `modbus=5020`, `dnp3=20001/udp`. Protocols are also found by content
    /// on any port.
    #[arg(long = "app-port", value_name = "PROTO=PORT[/tcp|/udp]", value_parser = parse_app_port)]
    app_ports: Vec<(AppProto, IpProto, u16)>,
    /// Most flows tracked at once; beyond it the least recently seen is evicted.
    #[arg(long, value_name = "N", default_value_t = FlowConfig::default().max_flows)]
    max_flows: usize,
    /// No human summary on stderr.
    #[arg(short, long)]
    quiet: bool,
}

fn parse_app_port(spec: &str) -> Result<(AppProto, IpProto, u16), String> {
    let (proto, rest) = spec.split_once('=').ok_or_else(|| format!("{spec:?}: expected PROTO=PORT, e.g. modbus=5020"))?;
    let app = AppProto::from_name(proto).ok_or_else(|| {
        let names: Vec<&str> = AppProto::ALL.iter().map(|p| p.name()).collect();
        format!("{proto:?}: unknown protocol (one of {})", names.join(", "))
    })?;
    let (port, transport) = match rest.split_once('/') {
        None => (rest, IpProto::TCP),
        Some((port, "tcp")) => (port, IpProto::TCP),
        Some((port, "udp")) => (port, IpProto::UDP),
        Some((_, other)) => return Err(format!("{other:?}: transport must be tcp or udp")),
    };
    let port = port.parse::<u16>().map_err(|_| format!("{port:?}: not a port number"))?;
    Ok((app, transport, port))
}

/// Exit code for bad input files (missing, not a capture, unsupported link type).
const EXIT_BAD_INPUT: u8 = 2;

fn main() -> ExitCode {
    let cli = Cli::parse();
    tracing_subscriber::fmt().with_writer(std::io::stderr).with_max_level(cli.log_level).with_target(false).init();
    let result = match cli.command {
        Command::Replay(args) => replay(args),
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            let bad_input = e.chain().any(|c| {
                matches!(c.downcast_ref::<EngineError>(), Some(EngineError::Capture(_))) || c.downcast_ref::<CaptureError>().is_some()
            });
            eprintln!("otsentry: error: {e:#}");
            ExitCode::from(if bad_input { EXIT_BAD_INPUT } else { 1 })
        }
    }
}

fn output(path: &Path) -> anyhow::Result<Box<dyn Write>> {
    if path.as_os_str() == "-" {
        return Ok(Box::new(BufWriter::new(std::io::stdout().lock())));
    }
    let file = std::fs::File::create(path).with_context(|| format!("{}: cannot create", path.display()))?;
    Ok(Box::new(BufWriter::new(file)))
}

fn replay(args: ReplayArgs) -> anyhow::Result<()> {
    let mut opts = ReplayOptions {
        reader: match args.reader {
            Reader::Mmap => ReaderKind::Mmap,
            Reader::Libpcap => ReaderKind::Libpcap,
        },
        checksum_anomalies: args.checksum_anomalies,
        ..Default::default()
    };
    opts.decode.verify_checksums = !args.no_checksums;
    opts.flow.max_flows = args.max_flows.max(1);
    for &(app, transport, port) in &args.app_ports {
        opts.ports.set(transport, port, app);
    }
    let eve = args.eve.as_deref().map(output).transpose()?.map(EveWriter::new);
    let mut run = Replay::new(opts, eve);
    let started = Instant::now();
    let mut progress = report::Progress::new(args.quiet);
    for path in &args.files {
        progress.start_file(path);
        let file = run.run_file(path, &mut |done, total| progress.update(done, total))?;
        progress.end_file();
        if let Some(d) = &file.damage {
            eprintln!(
                "otsentry: warning: {}: record {} at byte offset {} is damaged ({}); the {} records before it were processed",
                path.display(),
                d.record,
                d.offset,
                d.reason,
                file.packets
            );
        }
    }
    let summary = run.finish(started.elapsed().as_secs_f64())?;
    if let Some(path) = &args.summary_json {
        let mut out = output(path)?;
        serde_json::to_writer(&mut out, &summary)?;
        out.write_all(b"\n")?;
        out.flush()?;
    }
    if !args.quiet {
        report::human_summary(&summary, args.files.len());
    }
    Ok(())
}
