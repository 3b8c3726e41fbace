//! `otsentry replay` and the pipeline both commands build: flags merged over the
//! configuration file, rules and outputs loaded, inputs expanded and replayed in turn,
//! the summary written.
use crate::cli::{default_max_flows, AppPort, PipelineArgs, Reader, ReplayArgs};
use crate::config::RunConfig;
use crate::report::{self, say, Progress};
use crate::rules::RuleChoice;
use crate::table;
use anyhow::Context;
use otsentry_capture::{plan, ReaderKind};
use otsentry_engine::{PipelineOptions, Runner};

/// Replay's workers unless told: one, so a replay's results and order are the familiar.
const REPLAY_WORKERS: crate::cli::Workers = crate::cli::Workers::Count(std::num::NonZeroUsize::MIN);
use otsentry_sink::Outputs;
use std::io::{BufWriter, Write};
use std::path::{Path, PathBuf};
use std::time::Instant;

/// What a replay reads, and the pipeline it feeds.
pub(crate) struct ReplaySettings {
    inputs: Vec<PathBuf>,
    reader: Reader,
    recursive: bool,
    pipeline: Settings,
}

impl ReplaySettings {
    pub(crate) fn merge(args: ReplayArgs, file: RunConfig) -> ReplaySettings {
        ReplaySettings {
            inputs: args.inputs,
            reader: args.reader.or(file.reader).unwrap_or(Reader::Mmap),
            recursive: args.recursive || file.recursive.unwrap_or(false),
            pipeline: Settings::merge(args.pipeline, file),
        }
    }
}

/// What a run's pipeline uses: each flag, else its key in the configuration file, else
/// the default.
#[derive(Clone)]
pub(crate) struct Settings {
    /// The outputs, or why they cannot be (a shorthand flag without its output).
    outputs: Result<Vec<crate::outputs::Entry>, String>,
    host: String,
    eve_max_items: Option<u32>,
    summary_json: Option<PathBuf>,
    checksum_anomalies: bool,
    no_checksums: bool,
    app_ports: Vec<AppPort>,
    app_settings: Vec<crate::cli::AppSetting>,
    max_flows: usize,
    memory_cap: u64,
    evidence: Option<otsentry_engine::EvidenceConfig>,
    /// The manuf file for asset records' vendors (`None`: Wireshark's, if installed).
    manuf: Option<PathBuf>,
    policy: Option<PathBuf>,
    baseline: Option<PathBuf>,
    baseline_settings: otsentry_baseline::Settings,
    dnp3_max_objects: Option<u32>,
    pub(crate) quiet: bool,
    pub(crate) rules: RuleChoice,
    /// How the host sets are inferred without a variables file (`None`: the command's
    /// default).
    pub(crate) warmup: Option<crate::cli::WarmupChoice>,
    /// Pipeline workers (`None`: the command's default).
    pub(crate) workers: Option<crate::cli::Workers>,
}

impl Settings {
    /// The run's workers: as set, else one for replay and one per core for sense.
    pub(crate) fn workers_for(&self, live: bool) -> usize {
        self.workers.unwrap_or(if live { crate::cli::Workers::Auto } else { REPLAY_WORKERS }).count()
    }

    pub(crate) fn merge(args: PipelineArgs, file: RunConfig) -> Settings {
        // Either checksum flag on the command line settles both (clap refuses the two
        // together; the configuration file refuses its two keys together).
        let checksum_flag = args.checksum_anomalies || args.no_checksums;
        let pick = |flag: bool, key: Option<bool>| flag || (!checksum_flag && key.unwrap_or(false));
        Settings {
            outputs: crate::outputs::merge(&args.outputs, &file.outputs),
            host: args.host.or(file.host).unwrap_or_else(crate::eve::default_host),
            eve_max_items: args.eve_max_items.or(file.eve_max_items),
            summary_json: args.summary_json.or(file.summary_json),
            checksum_anomalies: pick(args.checksum_anomalies, file.checksum_anomalies),
            no_checksums: pick(args.no_checksums, file.no_checksums),
            app_ports: if args.app_port.is_empty() { file.app_port.unwrap_or_default() } else { args.app_port },
            app_settings: if args.app_setting.is_empty() { file.app_setting.unwrap_or_default() } else { args.app_setting },
            max_flows: args.max_flows.or(file.max_flows).map_or_else(default_max_flows, |n| n.get()),
            memory_cap: args.memory_cap.or(file.memory_cap).unwrap_or_else(crate::cli::default_memory_cap),
            evidence: args.evidence_dir.or(file.evidence_dir).map(|dir| {
                let d = otsentry_engine::EvidenceConfig::new(dir);
                otsentry_engine::EvidenceConfig {
                    min_severity: args.evidence_severity.or(file.evidence_severity).unwrap_or(d.min_severity),
                    ring_packets: args
                        .evidence_packets
                        .map(|n| n as usize)
                        .or(file.evidence_packets.map(std::num::NonZeroUsize::get))
                        .unwrap_or(d.ring_packets),
                    ring_bytes: args
                        .evidence_ring_bytes
                        .or(file.evidence_ring_bytes)
                        .map_or(d.ring_bytes, |b| usize::try_from(b).unwrap_or(usize::MAX)),
                    after: args.evidence_after.or(file.evidence_after).unwrap_or(d.after),
                    max_disk: args.evidence_max_disk.or(file.evidence_max_disk).unwrap_or(d.max_disk),
                    ..d
                }
            }),
            manuf: args.manuf.or(file.manuf),
            policy: args.policy.or(file.policy),
            baseline: args.baseline.or(file.baseline),
            baseline_settings: {
                let d = otsentry_baseline::Settings::default();
                otsentry_baseline::Settings {
                    margin: args.baseline_margin.or(file.baseline_margin).unwrap_or(d.margin),
                    min_samples: args.baseline_min_samples.or(file.baseline_min_samples).unwrap_or(d.min_samples),
                    burst_factor: args.baseline_burst_factor.or(file.baseline_burst_factor).unwrap_or(d.burst_factor),
                    stop_factor: args.baseline_stop_factor.or(file.baseline_stop_factor).unwrap_or(d.stop_factor),
                    ..d
                }
            },
            dnp3_max_objects: args.dnp3_max_objects.or(file.dnp3_max_objects),
            quiet: args.quiet || file.quiet.unwrap_or(false),
            warmup: args.warmup.or(file.warmup),
            workers: args.workers.or(file.workers),
            rules: RuleChoice {
                // A rules directory on the command line outranks the file's no-rules.
                none: args.no_rules || (args.rules.is_empty() && file.no_rules.unwrap_or(false)),
                rules: if args.rules.is_empty() { file.rules.unwrap_or_default() } else { args.rules },
                no_default: args.no_default_rules || file.no_default_rules.unwrap_or(false),
                vars: args.vars.or(file.vars),
                tuning: args.tuning.or(file.tuning),
                strict: args.strict || file.strict.unwrap_or(false),
            },
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

/// The MAC vendors of `--manuf` (else Wireshark's file), whole: asset records and a
/// sensor's report meet MACs as the traffic goes. A file named and unreadable is said;
/// Wireshark's missing is not (records then name no vendor).
pub(crate) fn vendors(s: &Settings) -> Option<std::sync::Arc<otsentry_baseline::Vendors>> {
    let manuf = s.manuf.as_deref();
    let path = manuf.unwrap_or(Path::new(otsentry_baseline::MANUF));
    match otsentry_baseline::Vendors::load_all(path) {
        Ok(v) => Some(std::sync::Arc::new(v)),
        Err(e) => {
            if manuf.is_some() {
                say!("otsentry: warning: {}: {e}; asset records name no vendor", path.display());
            }
            tracing::debug!(path = %path.display(), error = %e, "no MAC vendors");
            None
        }
    }
}

/// The outputs as configured, checked without opening any (`sense --test-config`).
pub(crate) fn verify_outputs(s: &Settings) -> anyhow::Result<usize> {
    let entries = s.outputs.as_ref().map_err(|e| crate::usage::UsageError(e.clone()))?;
    crate::outputs::verify(entries)?;
    Ok(entries.len())
}

/// What `s` detects with, every file it names read and checked: the rules (and, when
/// they wait for host sets a warm-up infers, their sources), the policy, the baseline.
/// A sensor's reload builds it again.
pub(crate) fn detection(s: &Settings) -> anyhow::Result<otsentry_engine::Detection> {
    use std::sync::Arc;
    let rules = Arc::new(crate::rules::load(&s.rules)?);
    let sources = crate::rules::inferable(&s.rules, &rules)?.map(Arc::new);
    let policy = s.policy.as_deref().map(otsentry_engine::load_policy).transpose()?.map(Arc::new);
    let baseline = s.baseline.as_deref().map(otsentry_engine::load_baseline).transpose()?.map(Arc::new);
    Ok(otsentry_engine::Detection { rules, sources, policy, baseline })
}

/// The pipeline's options and its outputs, from `s`: every file it names is read and
/// checked before any output is opened for writing.
pub(crate) fn build(s: &Settings, reader: ReaderKind) -> anyhow::Result<(PipelineOptions, Option<Outputs>)> {
    let mut opts = PipelineOptions { reader, checksum_anomalies: s.checksum_anomalies, ..Default::default() };
    opts.decode.verify_checksums = !s.no_checksums;
    let d = detection(s)?;
    (opts.rules, opts.policy, opts.baseline) = (d.rules, d.policy, d.baseline);
    opts.baseline_settings = s.baseline_settings;
    opts.flow.max_flows = s.max_flows;
    opts.memory = otsentry_core::MemoryBudget::new(s.memory_cap);
    if let Some(cfg) = &s.evidence {
        let dir = cfg.dir.display().to_string();
        // A setting that cannot work, as a bad flag: exit 2 before anything is read.
        let store =
            otsentry_engine::EvidenceStore::open(cfg.clone()).map_err(|e| crate::usage::UsageError(format!("evidence-dir {dir}: {e}")))?;
        opts.evidence = Some(store);
    }
    opts.flow.id_salt = crate::eve::host_salt(&s.host);
    if let Some(n) = s.dnp3_max_objects {
        opts.apps.set("dnp3", "max-objects", u64::from(n));
    }
    // After the shorthand (`--dnp3-max-objects`), which a setting of the same key outranks.
    for &(proto, key, value) in &s.app_settings {
        opts.apps.set(proto, key, value);
    }
    for &(app, transport, port) in &s.app_ports {
        opts.ports.set(transport, port, app);
    }
    let entries = s.outputs.as_ref().map_err(|e| crate::usage::UsageError(e.clone()))?;
    if entries.is_empty() && !s.quiet {
        say!("otsentry: protocol records are counted but not written: add --eve FILE (or --eve - for stdout) to keep them");
    }
    if let Some(n) = s.eve_max_items {
        otsentry_core::set_eve_max_items(n as usize);
    }
    let outputs = crate::outputs::start(entries, &crate::outputs::Context { host: &s.host, quiet: s.quiet })?;
    if outputs.as_ref().is_some_and(|o| o.wants("asset")) {
        opts.vendors = vendors(s);
    }
    Ok((opts, outputs))
}

pub(crate) fn replay(r: ReplaySettings) -> anyhow::Result<()> {
    // Every input is found before anything is read, so a bad one fails the run at once.
    let plan = plan(&r.inputs, r.recursive)?;
    let reader = match r.reader {
        Reader::Mmap => ReaderKind::Mmap,
        Reader::Libpcap => ReaderKind::Libpcap,
    };
    let s = &r.pipeline;
    let (mut opts, eve) = build(s, reader)?;
    let inferred = first_pass(s, &opts, &plan)?.map(|(rules, sets)| {
        opts.rules = rules;
        sets
    });
    // Streams cannot be read twice: they warm up as a sensor does.
    let stream_default = crate::cli::WarmupChoice::For(crate::cli::DEFAULT_WARMUP);
    warm_up(s, &mut opts, if rereadable(&plan) { crate::cli::WarmupChoice::Pass } else { stream_default })?;
    let (mut run, table) = start(s, opts, eve, false)?;
    if let Some(sets) = inferred {
        run.set_inferred(sets);
    }
    run.skipped(&plan.skipped);
    report::skipped(&plan.skipped, s.quiet);
    let started = Instant::now();
    let mut progress = Progress::new(s.quiet);
    for input in &plan.inputs {
        progress.start(&input.name);
        let file = run.run_input(input, &mut |done, total| progress.update(done, total));
        progress.end();
        let file = file?;
        if run.outputs_closed() {
            // The reader has all it wanted (`| head`): stop, quietly.
            return Ok(());
        }
        if let Some(d) = &file.damage {
            let at = d.offset.map(|o| format!(" at byte offset {o}")).unwrap_or_default();
            say!(
                "otsentry: warning: {}: record {}{at} is damaged ({}); the {} records before it were processed",
                file.name,
                d.record,
                d.reason,
                file.packets
            );
        }
    }
    let summary = run.finish(started.elapsed().as_secs_f64());
    report(s, &summary, table)
}

/// Replay's warm-up: without a variables file, a first pass over the inputs infers the
/// host sets the rules name, and the rules are rebuilt with them (`None`: nothing to
/// infer, or not asked to). With a duration instead, the run infers them as a sensor does.
fn first_pass(
    s: &Settings,
    opts: &PipelineOptions,
    plan: &otsentry_capture::Plan,
) -> anyhow::Result<Option<(std::sync::Arc<otsentry_engine::RuleSet>, otsentry_engine::InferredSets)>> {
    if s.warmup.unwrap_or(crate::cli::WarmupChoice::Pass) != crate::cli::WarmupChoice::Pass || !rereadable(plan) {
        return Ok(None);
    }
    let Some(sources) = crate::rules::inferable(&s.rules, &opts.rules)? else { return Ok(None) };
    let learn = PipelineOptions {
        rules: std::sync::Arc::new(otsentry_engine::RuleSet::empty()),
        warmup: Some(otsentry_engine::Warmup::default()),
        // Its own budget, so the run's counts are the run's.
        memory: otsentry_core::MemoryBudget::new(s.memory_cap),
        ..opts.clone()
    };
    let mut run = otsentry_engine::Runner::new(learn, None, s.workers.unwrap_or(REPLAY_WORKERS).count(), false)?;
    for input in &plan.inputs {
        run.run_input(input, &mut |_, _| {})?;
    }
    let sets = run.finish_inferring(0.0).1.unwrap_or_default();
    let rules = otsentry_engine::rules_with(&sources, &sets)?;
    report::inferred(&sets, "a first pass over the inputs", s.quiet);
    Ok(Some((rules, sets)))
}

/// Whether every input can be read a second time (files and archive members, not pipes,
/// FIFOs or standard input).
fn rereadable(plan: &otsentry_capture::Plan) -> bool {
    use otsentry_capture::Location;
    plan.inputs.iter().all(|i| matches!(&i.location, Location::File(_) | Location::Gzip(_) | Location::ZipMember { .. }))
}

/// A warm-up over the run's first traffic when `s` (or the command's `default`) asks
/// for a duration and rules wait for sets it infers; says which rules wait, and why.
pub(crate) fn warm_up(s: &Settings, opts: &mut PipelineOptions, default: crate::cli::WarmupChoice) -> anyhow::Result<()> {
    let choice = s.warmup.unwrap_or(default);
    let warm = !matches!(choice, crate::cli::WarmupChoice::Off) && s.rules.vars.is_none();
    crate::rules::undefined_sets(&s.rules, &opts.rules, warm)?;
    let why = match (choice, crate::rules::inferable(&s.rules, &opts.rules)?) {
        (crate::cli::WarmupChoice::For(d), Some(sources)) => {
            let ns = i64::try_from(d.as_nanos()).unwrap_or(i64::MAX);
            opts.warmup = Some(otsentry_engine::Warmup { duration_ns: Some(ns), sources: Some(std::sync::Arc::new(sources)) });
            format!("the warm-up infers them from the first {} of traffic", crate::report::duration(d))
        }
        (crate::cli::WarmupChoice::Off, Some(_)) => "no variables file, and --warmup off".to_string(),
        _ if s.rules.vars.is_some() => "the variables file does not define them".to_string(),
        _ => "no variables file".to_string(),
    };
    report::dormant(&opts.rules, &why, s.quiet);
    Ok(())
}

/// The pipeline over `outputs`, SIGHUP reopening them, alerts printed as a table unless
/// stdout carries JSON (then `false`).
pub(crate) fn start(s: &Settings, opts: PipelineOptions, outputs: Option<Outputs>, live: bool) -> anyhow::Result<(Runner, bool)> {
    let run = Runner::new(opts, outputs, s.workers_for(live), live).context("starting the pipeline's workers")?;
    attach(s, run)
}

/// SIGHUP reopening `run`'s outputs, its alerts printed as a table unless stdout
/// carries JSON (then `false`).
pub(crate) fn attach(s: &Settings, mut run: Runner) -> anyhow::Result<(Runner, bool)> {
    let eve_on_stdout = s.outputs.as_ref().is_ok_and(|o| o.iter().any(crate::outputs::Entry::is_stdout));
    let summary_on_stdout = s.summary_json.as_deref().is_some_and(|p| p.as_os_str() == "-");
    for flag in run.reopen_flags() {
        // SIGHUP reopens the EVE file (after logrotate moved it), as in Suricata.
        signal_hook::flag::register(signal_hook::consts::SIGHUP, flag).context("installing the SIGHUP handler")?;
    }
    let table = !eve_on_stdout && !summary_on_stdout;
    if table {
        run.on_alert(table::printer());
    }
    Ok((run, table))
}

/// The end of a run: alert totals, the JSON summary, the human one, the spools, and
/// failure if an output lost records.
pub(crate) fn report(s: &Settings, summary: &otsentry_core::Summary, table: bool) -> anyhow::Result<()> {
    if table {
        table::totals(summary)?;
    }
    if let Some(path) = &s.summary_json {
        let mut out = output(path)?;
        serde_json::to_writer(&mut out, summary)?;
        out.write_all(b"\n")?;
        out.flush()?;
    }
    if !s.quiet {
        report::human_summary(summary);
    }
    crate::siem::report_spools(&summary.outputs);
    crate::eve::delivered(&summary.outputs)
}
