//! `otsentry learn`: captures replayed with learning on, the baseline written (a new
//! file, or an extended one) in one piece.
use crate::cli::LearnArgs;
use crate::report::say;
use anyhow::Context;
use otsentry_capture::plan;
use otsentry_engine::{Pipeline, PipelineOptions};

pub(crate) fn learn(args: &LearnArgs) -> anyhow::Result<()> {
    let previous = args.update.as_deref().map(otsentry_baseline::read).transpose()?;
    let Some(out) = args.out.as_deref().or(args.update.as_deref()) else { anyhow::bail!("--out FILE or --update FILE is needed") };
    let plan = plan(&args.inputs, args.recursive)?;
    // No rules: only what the traffic does is wanted.
    let opts = PipelineOptions { learn: Some(previous.unwrap_or_default()), ..Default::default() };
    let mut run = Pipeline::new(opts, None);
    for input in &plan.inputs {
        let report = run.run_input(input, &mut |_, _| {})?;
        if let Some(d) = &report.damage {
            say!("otsentry: warning: {}: record {} is damaged ({}); the records before it were learned", report.name, d.record, d.reason);
        }
    }
    let (summary, learner) = run.finish_learning(0.0);
    let learner = learner.context("learning was not on")?;
    // Vendors come from the MACs seen; without the manuf file there are none.
    let vendors = otsentry_baseline::Vendors::load(&args.manuf, &learner.macs()).unwrap_or_else(|e| {
        say!("otsentry: warning: {}: {e}; assets are written without vendors", args.manuf.display());
        otsentry_baseline::Vendors::default()
    });
    let file = learner.finish(&vendors);
    let text = otsentry_baseline::to_text(&file);
    let tmp = out.with_extension("json.tmp");
    std::fs::write(&tmp, &text).with_context(|| format!("{}: cannot write", tmp.display()))?;
    std::fs::rename(&tmp, out).with_context(|| format!("{}: cannot write", out.display()))?;
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
