//! `otsentry`: a passive OT network security monitor. The binary is [`main_with`] and
//! no protocol of its own; a build with a protocol of its own is a `main` that calls it
//! with that protocol registered (one line).
#![forbid(unsafe_code)]

mod cli;
mod config;
mod eve;
mod learn;
mod notify;
mod outputs;
mod policy;
mod privilege;
mod report;
mod rules;
mod run;
mod sense;
mod siem;
mod table;
mod usage;
mod visibility;

use clap::Parser;
use cli::{Cli, ClickhouseCommand, Command, ConfigCommand, PolicyCommand, RulesCommand};
use otsentry_capture::CaptureError;
use otsentry_engine::EngineError;
use report::say;
use std::process::ExitCode;

/// An output could not be written.
const EXIT_OUTPUT: u8 = 1;
/// Bad input or usage: a capture that is missing or not one, a bad flag or configuration.
const EXIT_BAD_INPUT: u8 = 2;
/// `policy check` found conversations the draft forbids.
const EXIT_FORBIDDEN: u8 = 3;

/// The `otsentry` command, with `extra` protocols registered after the built-in ones.
pub fn main_with(extra: &[otsentry_engine::Protocol]) -> ExitCode {
    if let Err(e) = otsentry_engine::install(extra) {
        eprintln!("otsentry: {e}");
        return ExitCode::from(EXIT_BAD_INPUT);
    }
    let cli = Cli::parse();
    let config = match &cli.command {
        Command::Replay(args) => match args.config.as_deref().map(config::load).transpose() {
            Ok(c) => c.unwrap_or_default(),
            Err(e) => return fail(&anyhow::Error::new(e)),
        },
        Command::Sense(args) => match args.config.as_deref().map(config::load).transpose() {
            Ok(c) => c.unwrap_or_default(),
            Err(e) => return fail(&anyhow::Error::new(e)),
        },
        Command::Config(_)
        | Command::Rules(_)
        | Command::Policy(_)
        | Command::Learn(_)
        | Command::Clickhouse(_)
        | Command::Report(_)
        | Command::Inventory(_) => config::Config::default(),
    };
    let level = cli.log_level.or(config.log_level).unwrap_or(tracing::Level::WARN);
    tracing_subscriber::fmt().with_writer(std::io::stderr).with_max_level(level).with_target(false).init();
    let result = match cli.command {
        Command::Replay(args) => run::replay(run::ReplaySettings::merge(*args, config.replay)),
        Command::Sense(args) => sense::sense(sense::SenseSettings::merge(*args, config.sense)),
        Command::Config(ConfigCommand::Check { file }) => check_config(&file),
        Command::Rules(RulesCommand::Check(files)) => rules::check(files),
        Command::Rules(RulesCommand::List(files)) => rules::list(files),
        Command::Rules(RulesCommand::Fields) => rules::fields(),
        Command::Rules(RulesCommand::Export { dir }) => rules::export(&dir),
        Command::Rules(RulesCommand::Import { file, out }) => rules::import(&file, out.as_deref()),
        Command::Policy(PolicyCommand::Classes) => policy_classes(),
        Command::Learn(args) => learn::learn(&args),
        Command::Report(args) => visibility::report(&args.sources.into(), args.html.as_deref(), args.json.as_deref(), args.quiet),
        Command::Inventory(args) => visibility::inventory(&args.sources.into(), args.csv.as_deref()),
        Command::Clickhouse(ClickhouseCommand::Init { clickhouse, clickhouse_password_file, clickhouse_ca, retention_days, cluster }) => {
            siem::init(
                &siem::ClickHouseChoice { url: clickhouse, password_file: clickhouse_password_file, ca_file: clickhouse_ca },
                retention_days,
                cluster.as_deref(),
            )
        }
        Command::Policy(PolicyCommand::Check { policy, json, exit_zero, inputs }) => {
            policy::check(&policy, &inputs, json.as_deref(), exit_zero)
        }
        Command::Policy(PolicyCommand::Suggest { zones, out, inputs }) => policy::suggest(&zones, &inputs, out.as_deref()),
        Command::Config(ConfigCommand::Example) => {
            use std::io::Write;
            std::io::stdout().write_all(config::EXAMPLE.as_bytes()).map_err(Into::into)
        }
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => fail(&e),
    }
}

/// `otsentry config check`: the file, and the files it names (each missing one named
/// with the key that names it), every mistake in one pass.
fn check_config(file: &std::path::Path) -> anyhow::Result<()> {
    let c = config::load(file)?;
    let text = std::fs::read_to_string(file).unwrap_or_default();
    let mut issues = Vec::new();
    for (section, r) in [("replay", &c.replay), ("sense", &c.sense)] {
        let named =
            [("vars", r.vars.as_ref()), ("tuning", r.tuning.as_ref()), ("policy", r.policy.as_ref()), ("baseline", r.baseline.as_ref())];
        let dirs = r.rules.iter().flatten().map(|p| ("rules", Some(p)));
        for (key, path) in named.into_iter().chain(dirs) {
            if let Some(path) = path.filter(|p| !p.exists()) {
                let (line, column) = config::locate(&text, Some(section), key);
                let message = format!("{}: no such file or directory", path.display());
                issues.push(config::Issue { line, column, key: format!("{section}.{key}"), message });
            }
        }
    }
    if !issues.is_empty() {
        return Err(config::ConfigError { file: file.to_path_buf(), issues }.into());
    }
    for r in [&c.replay, &c.sense] {
        let choice = rules::RuleChoice {
            rules: r.rules.clone().unwrap_or_default(),
            no_default: r.no_default_rules.unwrap_or(false),
            none: r.no_rules.unwrap_or(false),
            vars: r.vars.clone(),
            tuning: r.tuning.clone(),
            strict: r.strict.unwrap_or(false),
        };
        rules::load(&choice)?;
        if let Some(policy) = &r.policy {
            otsentry_engine::load_policy(policy)?;
        }
        if let Some(baseline) = &r.baseline {
            otsentry_engine::load_baseline(baseline)?;
        }
    }
    say!("{}: ok", file.display());
    Ok(())
}

/// `otsentry policy classes`: protocol, code, name, class, one function per line.
fn policy_classes() -> anyhow::Result<()> {
    use std::io::Write;
    let mut out = std::io::stdout().lock();
    writeln!(out, "{:<8} {:<18} {:<40} CLASS", "PROTOCOL", "CODE", "FUNCTION")?;
    for (proto, rows) in otsentry_engine::class_tables() {
        for r in rows {
            writeln!(out, "{proto:<8} {:<18} {:<40} {}", r.code, r.name, r.class.as_str())?;
        }
    }
    Ok(())
}

fn fail(e: &anyhow::Error) -> ExitCode {
    // A reader that went away (`| head`) has all it wanted: end quietly.
    let closed = e.chain().any(|c| c.downcast_ref::<std::io::Error>().is_some_and(|io| io.kind() == std::io::ErrorKind::BrokenPipe));
    if closed {
        return ExitCode::SUCCESS;
    }
    if let Some(found) = e.downcast_ref::<policy::FoundForbidden>() {
        // Not a failure of the tool: the draft forbids what the captures hold.
        say!("otsentry: {found}");
        return ExitCode::from(EXIT_FORBIDDEN);
    }
    let bad_input = e.chain().any(|c| {
        matches!(c.downcast_ref::<EngineError>(), Some(EngineError::Capture(_)))
            || c.downcast_ref::<CaptureError>().is_some()
            || c.downcast_ref::<otsentry_engine::LiveError>().is_some()
            || c.downcast_ref::<usage::UsageError>().is_some()
            || c.downcast_ref::<config::ConfigError>().is_some()
            || c.downcast_ref::<otsentry_rules::RuleErrors>().is_some()
            || c.downcast_ref::<otsentry_policy::PolicyErrors>().is_some()
            || c.downcast_ref::<otsentry_baseline::BaselineErrors>().is_some()
            || c.downcast_ref::<usage::UsageError>().is_some()
            || c.downcast_ref::<usage::UsageError>().is_some()
    });
    say!("otsentry: error: {e:#}");
    ExitCode::from(if bad_input { EXIT_BAD_INPUT } else { EXIT_OUTPUT })
}
