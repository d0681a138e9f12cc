//! What `reparti sim` writes for a self-stabilizing run besides its summary: the
//! stabilization plot (`--plot FILE.svg`: privileges over moves, L and the faults
//! marked, with the nodes' values as a heat strip below), the heat strip alone
//! (`--viz FILE.svg`) and the steps as JSON Lines (`--trace FILE`, docs/TRACE.md).

use crate::cli::SimArgs;
use anyhow::Context as _;
use reparti_core::guarded::Guarded;
use reparti_core::NodeId;
use reparti_sim::stabilization::{StabSimConfig, StabSimReport};
use reparti_viz::stabilization::{heat_strip, stabilization_page, StabMark, StabMarkKind, StabRun, StabStep};
use std::io::Write;

/// Writes the pictures and the trace the flags ask for.
pub fn pictures<G: Guarded>(
    g: &G,
    what: &str,
    cfg: &StabSimConfig<G::State>,
    report: &StabSimReport<G::State>,
    args: &SimArgs,
) -> anyhow::Result<()> {
    if args.plot.is_none() && args.viz.is_none() && args.trace.is_none() {
        return Ok(());
    }
    if let Some(path) = &args.trace {
        let file = std::fs::File::create(path)
            .with_context(|| format!("cannot create the trace file {} (check the folder exists)", path.display()))?;
        let mut out = std::io::BufWriter::new(file);
        for r in &report.records {
            serde_json::to_writer(&mut out, r)?;
            out.write_all(b"\n")?;
        }
        out.flush()?;
        println!("steps written to {}", path.display());
    }
    let run = picture_run(g, what, cfg, report);
    for (path, svg) in [
        (&args.plot, args.plot.as_ref().map(|_| stabilization_page(&run))),
        (&args.viz, args.viz.as_ref().map(|_| heat_strip(&run))),
    ] {
        if let (Some(path), Some(svg)) = (path, svg) {
            std::fs::write(path, svg).with_context(|| {
                format!("cannot write {} (check the folder exists and is writable)", path.display())
            })?;
            println!("picture written to {}", path.display());
        }
    }
    Ok(())
}

fn picture_run<G: Guarded>(
    g: &G,
    what: &str,
    cfg: &StabSimConfig<G::State>,
    report: &StabSimReport<G::State>,
) -> StabRun {
    let mut marks = Vec::new();
    for e in &report.episodes {
        if e.cause != "start" {
            marks.push(StabMark { step: e.step, label: e.cause.clone(), kind: StabMarkKind::Corruption });
        }
        if let Some(t) = e.to_legitimate.filter(|t| t.steps > 0) {
            marks.push(StabMark {
                step: e.step + t.steps,
                label: format!("L after {} moves", t.moves),
                kind: StabMarkKind::Legitimate,
            });
        }
    }
    let values = (0..g.n()).flat_map(|i| {
        let node = NodeId(i as u32);
        g.domain(node).into_iter().map(move |s| (node, s))
    });
    let (low, high) =
        values.fold((i64::MAX, i64::MIN), |(lo, hi), (node, s)| (lo.min(g.value(node, &s)), hi.max(g.value(node, &s))));
    StabRun {
        title: format!("{what}; {} daemon, seed {}", cfg.daemon, cfg.seed),
        steps: report
            .records
            .iter()
            .map(|r| StabStep {
                step: r.step,
                moves: r.moves,
                privileges: r.privileges,
                legitimate: r.legitimate,
                values: r.values.clone(),
            })
            .collect(),
        marks,
        value_range: if low <= high { (low, high) } else { (0, 0) },
    }
}
