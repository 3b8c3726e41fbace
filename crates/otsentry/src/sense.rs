//! `otsentry sense`: live capture on network interfaces into the pipeline replay uses,
//! until SIGTERM or SIGINT (a second one exits at once, saying what was not written).
use crate::cli::SenseArgs;
use crate::config::RunConfig;
use crate::report::say;
use crate::run::{self, Settings};
use crate::usage::UsageError;
use anyhow::Context;
use otsentry_capture::ReaderKind;
use otsentry_engine::{Interfaces, LiveControl, LiveOptions, LiveSettings};

use std::sync::atomic::Ordering;
use std::time::{Duration, Instant};

/// What a sense run uses: each flag, else its key under `sense:`, else the default.
pub(crate) struct SenseSettings {
    interfaces: Vec<String>,
    capture: LiveOptions,
    live: LiveSettings,
    /// With several interfaces, how long a frame waits for the others' in time order.
    merge_hold: Duration,
    pipeline: Settings,
    run_as: crate::privilege::RunAs,
    metrics: Option<std::net::SocketAddr>,
    test_config: bool,
    /// Workers read their own handles in a kernel fanout group.
    fanout: bool,
    /// Learn the baseline for this long, into this file, then check against it.
    learn: Option<(Duration, std::path::PathBuf)>,
    /// Rewrite the report to this file.
    report: Option<std::path::PathBuf>,
}

impl SenseSettings {
    pub(crate) fn merge(args: SenseArgs, file: RunConfig) -> SenseSettings {
        let d = LiveOptions::default();
        let capture = LiveOptions {
            snaplen: args.snaplen.or(file.snaplen).unwrap_or(d.snaplen),
            buffer_size: args.buffer_size.or(file.buffer_size).unwrap_or(d.buffer_size),
            immediate: args.immediate || file.immediate.unwrap_or(d.immediate),
            promiscuous: !args.no_promiscuous && file.promiscuous.unwrap_or(d.promiscuous),
            timeout: args.read_timeout.or(file.read_timeout).unwrap_or(d.timeout),
            bpf: args.bpf.clone().or_else(|| file.bpf.clone()).unwrap_or_default(),
            fanout: None,
        };
        let fanout = args.fanout || file.fanout.unwrap_or(false);
        let every = args.stats_interval.or(file.stats_interval).unwrap_or(Duration::from_secs(30));
        let assets = args.asset_interval.or(file.asset_interval).unwrap_or(Duration::from_secs(3600));
        let report = args.report.clone().or_else(|| file.report.clone());
        let report_every = args.report_interval.or(file.report_interval).unwrap_or(Duration::from_secs(300));
        let mut live = LiveSettings {
            stats_every: (!every.is_zero()).then_some(every),
            assets_every: (!assets.is_zero()).then_some(assets),
            report_every: report.is_some().then_some(report_every),
            ..LiveSettings::default()
        };
        if let Some(silence) = args.silence_alert.or(file.silence_alert) {
            live.health.silence = (!silence.is_zero()).then_some(silence);
        }
        let run_as = crate::privilege::RunAs {
            user: args.user.clone().or_else(|| file.user.clone()),
            group: args.group.clone().or_else(|| file.group.clone()),
            allow_root: args.allow_root || file.allow_root.unwrap_or(false),
        };
        let metrics = args.metrics.or(file.metrics);
        let test_config = args.test_config;
        // A frame from one interface waits for the others' longer than the kernel may hold
        // a block (up to twice the read timeout: a block lives until the second tick of
        // its retire timer), with room for the scheduler.
        let merge_hold = capture.timeout * 3 + Duration::from_millis(100);
        let interfaces = if args.interfaces.is_empty() { file.interface.clone().unwrap_or_default() } else { args.interfaces };
        let learn = args.learn_for.or(file.learn_for).zip(args.baseline_out.clone().or_else(|| file.baseline_out.clone()));
        let mut pipeline = Settings::merge(args.pipeline, file);
        if learn.is_some() || report.is_some() {
            // One learner: several workers' learners are not merged.
            pipeline.workers = Some(crate::cli::Workers::Count(std::num::NonZeroUsize::MIN));
        }
        SenseSettings { interfaces, capture, live, merge_hold, pipeline, run_as, metrics, test_config, fanout, learn, report }
    }
}

/// Learning first: the learner's baseline is written to `out` (in one piece) when the
/// time is up, read back as `--baseline` would read it, and checked against.
fn learn_live(opts: &mut otsentry_engine::PipelineOptions, duration: Duration, out: std::path::PathBuf) {
    opts.learn = Some(otsentry_baseline::BaselineFile::default());
    opts.baseline = None;
    let learned = move |learner: otsentry_baseline::Learner| {
        let vendors = otsentry_baseline::Vendors::load(std::path::Path::new(otsentry_baseline::MANUF), &learner.macs()).unwrap_or_default();
        let file = learner.finish(&vendors);
        let read = crate::learn::write_whole(&out, &otsentry_baseline::to_text(&file))
            .and_then(|()| otsentry_engine::read_baseline(&out).map_err(|e| anyhow::anyhow!("{e}")));
        match read {
            Ok(file) => {
                tracing::info!(path = %out.display(), "learned baseline written");
                Some(std::sync::Arc::new(otsentry_baseline::Baseline::new(file)))
            }
            Err(e) => {
                tracing::error!(path = %out.display(), error = %format!("{e:#}"), "learned baseline not written; running without one");
                None
            }
        }
    };
    let duration_ns = i64::try_from(duration.as_nanos()).unwrap_or(i64::MAX);
    opts.learn_for = Some(otsentry_engine::LiveLearning { duration_ns, learned: std::sync::Arc::new(std::sync::Mutex::new(learned)) });
}

pub(crate) fn sense(s: SenseSettings) -> anyhow::Result<()> {
    if s.interfaces.is_empty() {
        return Err(UsageError("sense needs an interface: --interface IFACE, or `interface:` under `sense:` in --config".into()).into());
    }
    crate::privilege::restrict_new_files();
    // Capture handles first (they need the privilege), then every file the pipeline
    // reads: a mistake ends the run before any output is opened for writing.
    let workers = s.pipeline.workers_for(true);
    let interfaces = if s.fanout && workers > 1 {
        // One set of handles per worker, each handle joined to its interface's group.
        let capture = LiveOptions { fanout: Some(std::process::id() as u16), ..s.capture.clone() };
        let mut each = Vec::with_capacity(workers);
        for _ in 0..workers {
            each.push(Box::new(Interfaces::open(&s.interfaces, &capture, s.merge_hold)?) as otsentry_engine::WorkerSource);
        }
        Capture::Fanout(each)
    } else {
        Capture::Reader(Box::new(Interfaces::open(&s.interfaces, &s.capture, s.merge_hold)?))
    };
    if s.test_config {
        crate::privilege::check(&s.run_as).map_err(|e| UsageError(format!("{e:#}")))?;
        let d = run::detection(&s.pipeline)?;
        let outputs = run::verify_outputs(&s.pipeline)?;
        say!(
            "otsentry: configuration ok: {} interface(s), {outputs} output(s), {} rules active{}{}",
            s.interfaces.len(),
            d.rules.active(),
            if d.policy.is_some() { ", a policy" } else { "" },
            if d.baseline.is_some() { ", a baseline" } else { "" }
        );
        return Ok(());
    }
    // Listening needs no thread, and a port below 1024 still works before the drop.
    let metrics = s.metrics.map(otsentry_metrics::bind).transpose().map_err(|e| UsageError(e.to_string()))?;
    // Before any thread is started: every thread inherits the dropped privileges.
    crate::privilege::drop_privileges(&s.run_as).map_err(|e| UsageError(format!("{e:#}")))?;
    let (mut opts, mut outputs) = run::build(&s.pipeline, ReaderKind::Mmap)?;
    if let Some((duration, out)) = &s.learn {
        learn_live(&mut opts, *duration, out.clone());
    }
    let report = match &s.report {
        Some(path) => {
            opts.report_learner = true;
            // The vendors asset records use, if they are on: the file is read once.
            let vendors = opts.vendors.clone().or_else(|| run::vendors(&s.pipeline)).unwrap_or_default();
            let r = crate::visibility::live::LiveReport::attach(
                path.clone(),
                &mut outputs,
                opts.policy.clone(),
                s.interfaces.clone(),
                vendors,
            )?;
            Some(std::sync::Arc::new(std::sync::Mutex::new(r.hook())))
        }
        None => None,
    };
    run::warm_up(&s.pipeline, &mut opts, crate::cli::WarmupChoice::For(crate::cli::DEFAULT_WARMUP))?;
    let (mut pipeline, table, mut source): (_, _, Box<dyn otsentry_capture::Source>) = match interfaces {
        Capture::Reader(interfaces) => {
            let (run, table) = run::start(&s.pipeline, opts, outputs, true)?;
            (run, table, interfaces)
        }
        Capture::Fanout(each) => {
            let (run, view) = otsentry_engine::Runner::fanout(opts, outputs, each).context("starting the workers")?;
            let (run, table) = run::attach(&s.pipeline, run)?;
            (run, table, Box::new(view))
        }
    };
    let mut control = LiveControl::default();
    control.report = report;
    if let Some(listener) = metrics {
        let view = std::sync::Arc::new(std::sync::Mutex::new(otsentry_engine::LiveView::default()));
        otsentry_metrics::serve(listener, view.clone())?;
        control.view = Some(view);
    }
    stop_on_signals(&control)?;
    reload_on_signal(&control, s.pipeline.clone())?;
    crate::notify::watchdog(control.ticks.clone())?;
    crate::notify::notify("READY=1");
    if !s.pipeline.quiet {
        say!("otsentry: capturing on {} (SIGTERM or Ctrl-C stops, writing everything out)", s.interfaces.join(", "));
    }
    let started = Instant::now();
    let failures = pipeline.run_live(source.as_mut(), s.live, &control);
    crate::notify::notify("STOPPING=1");
    let summary = pipeline.finish(started.elapsed().as_secs_f64());
    run::report(&s.pipeline, &summary, table)?;
    anyhow::ensure!(failures.is_empty(), "{}", failures.join("; "));
    Ok(())
}

/// The capture handles: one reader's, or each worker's own (kernel fanout).
enum Capture {
    Reader(Box<Interfaces>),
    Fanout(Vec<otsentry_engine::WorkerSource>),
}

/// The first SIGTERM or SIGINT asks the run to stop (capture ends, everything is
/// written); a second one exits at once, saying how many records were not written.
fn stop_on_signals(control: &LiveControl) -> anyhow::Result<()> {
    use signal_hook::consts::{SIGINT, SIGTERM};
    let mut signals = signal_hook::iterator::Signals::new([SIGTERM, SIGINT]).context("installing the SIGTERM and SIGINT handlers")?;
    let control = control.clone();
    std::thread::Builder::new()
        .name("signals".into())
        .spawn(move || {
            let mut seen = 0;
            for signal in signals.forever() {
                seen += 1;
                if seen == 1 {
                    tracing::info!(signal, "stopping: draining the pipeline and flushing the outputs");
                    control.stop.store(true, Ordering::Relaxed);
                    continue;
                }
                let lost = control.unwritten.load(Ordering::Relaxed);
                say!(
                    "otsentry: second signal: exiting now; about {lost} records serialised but not yet written are lost (batches already in a spool stay there)"
                );
                std::process::exit(1);
            }
        })
        .context("starting the signal thread")?;
    Ok(())
}

/// SIGUSR2 (systemd's `ExecReload`) rebuilds the rules, variables, tuning, policy and
/// baseline from their files on this thread, beside the set in use; the capture thread
/// swaps the new set in between two packets, or counts and alerts a refusal (the set in
/// use stays).
fn reload_on_signal(control: &LiveControl, settings: Settings) -> anyhow::Result<()> {
    use signal_hook::consts::SIGUSR2;
    let mut signals = signal_hook::iterator::Signals::new([SIGUSR2]).context("installing the SIGUSR2 handler")?;
    let control = control.clone();
    std::thread::Builder::new()
        .name("reload".into())
        .spawn(move || {
            for _ in signals.forever() {
                tracing::info!("reload asked for (SIGUSR2): reading the rules, variables, tuning, policy and baseline");
                let built = run::detection(&settings).map_err(|e| format!("{e:#}"));
                control.offer_reload(built);
            }
        })
        .context("starting the reload thread")?;
    Ok(())
}
