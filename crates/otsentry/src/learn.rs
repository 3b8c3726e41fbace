//! `otsentry learn`: captures replayed with learning on, the baseline written (a new
//! file, or an extended one) in one piece.
use crate::cli::LearnArgs;
use crate::report::say;
use anyhow::Context;
use otsentry_capture::plan;
use otsentry_engine::{Pipeline, PipelineOptions};

pub(crate) fn learn(args: &LearnArgs) -> anyhow::Result<()> {
    let previous = args.update.as_deref().map(otsentry_engine::read_baseline).transpose()?;
    let out = args.out.as_deref().or(args.update.as_deref());
    if out.is_none() && args.vars_out.is_none() {
        anyhow::bail!("--out FILE, --update FILE or --vars-out FILE is needed");
    }
    let plan = plan(&args.inputs, args.recursive)?;
    // No rules: only what the traffic does is wanted.
    let opts = PipelineOptions {
        learn: out.map(|_| previous.unwrap_or_default()),
        warmup: args.vars_out.as_ref().map(|_| otsentry_engine::Warmup::default()),
        ..Default::default()
    };
    let mut run = Pipeline::new(opts, None);
    for input in &plan.inputs {
        let report = run.run_input(input, &mut |_, _| {})?;
        if let Some(d) = &report.damage {
            say!("otsentry: warning: {}: record {} is damaged ({}); the records before it were learned", report.name, d.record, d.reason);
        }
    }
    if let Some(path) = &args.vars_out {
        let sets = run.inferred().unwrap_or_default();
        write_whole(path, &sets.to_vars_yaml())?;
        say!(
            "{}: HMI {}, ENGINEERING {}, MASTERS {} hosts (review before use: a host that polled for a while and wrote is taken for an HMI)",
            path.display(),
            sets.hmi.len(),
            sets.engineering.len(),
            sets.masters.len()
        );
    }
    let (summary, learner) = run.finish_learning(0.0);
    let Some(out) = out else { return Ok(()) };
    let learner = learner.context("learning was not on")?;
    let file = finish(learner, &args.manuf);
    write_whole(out, &otsentry_baseline::to_text(&file))?;
    let values: usize = file.pairs.iter().map(|p| p.values.len()).sum();
    say!(
        "{}: {} assets, {} conversations, {values} written addresses, from {} requests in {} packets",
        out.display(),
        file.assets.len(),
        file.pairs.len(),
        file.learned.requests,
        summary.packets
    );
    Ok(())
}

/// What `learner` learned, with vendors from `manuf` (said when it cannot be read), and
/// a warning when addresses or conversations were past the learner's cap.
pub(crate) fn finish(learner: otsentry_baseline::Learner, manuf: &std::path::Path) -> otsentry_baseline::BaselineFile {
    // Vendors come from the MACs seen; without the manuf file there are none.
    let vendors = otsentry_baseline::Vendors::load(manuf, &learner.macs()).unwrap_or_else(|e| {
        say!("otsentry: warning: {}: {e}; assets are written without vendors", manuf.display());
        otsentry_baseline::Vendors::default()
    });
    let file = learner.finish(&vendors);
    if file.learned.not_followed > 0 {
        say!(
            "otsentry: warning: more than {} addresses or conversations: {} sightings and requests past them were not learned",
            otsentry_baseline::MAX_LEARNED,
            file.learned.not_followed
        );
    }
    file
}

/// `text` into `path` in one piece (a temporary file beside it, then renamed).
pub(crate) fn write_whole(path: &std::path::Path, text: &str) -> anyhow::Result<()> {
    let mut tmp = path.as_os_str().to_owned();
    tmp.push(".tmp");
    let tmp = std::path::PathBuf::from(tmp);
    std::fs::write(&tmp, text).with_context(|| format!("{}: cannot write", tmp.display()))?;
    std::fs::rename(&tmp, path).with_context(|| format!("{}: cannot write", path.display()))
}
