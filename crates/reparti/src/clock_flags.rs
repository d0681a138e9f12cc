//! The physical-clock flags `sim`, `run` and `node` share: how each node's hardware
//! clock is set, for algorithms that read physical clocks (Cristian, Berkeley, NTP,
//! Lamport's physical clocks). Every command resolves them the same way — drawn from the
//! seed, then the given ones put in place — so a real node's clock is the one the
//! simulator would give it.

use crate::error::usage;
use clap::Args;
use reparti_core::ClockSetting;
use reparti_sim::{ClockConfig, Spread};

#[derive(Args, Debug, Clone, Default)]
pub struct ClockFlags {
    /// Physical clocks: each node's offset from real time at the start, drawn from
    /// const:V, uniform:A,B or normal:MEAN,SD, in time units (1 ms on a real network).
    /// Only for algorithms that read physical clocks.
    #[arg(long, value_name = "SPREAD", allow_hyphen_values = true)]
    pub clock_offset: Option<String>,

    /// Physical clocks: each node's drift in parts per million (100 = 0.01 % fast), drawn
    /// from const:V, uniform:A,B or normal:MEAN,SD.
    #[arg(long, value_name = "SPREAD", allow_hyphen_values = true)]
    pub clock_drift: Option<String>,

    /// Physical clocks: give node NODE's clock exactly, OFFSET in time units and DRIFT in
    /// ppm (0 if left out), e.g. --clock 3=500 for a wildly wrong clock. Repeatable.
    #[arg(long = "clock", value_name = "NODE=OFFSET[/DRIFT]", allow_hyphen_values = true)]
    pub given: Vec<String>,
}

impl ClockFlags {
    /// Whether any clock flag was given.
    pub fn any(&self) -> bool {
        self.clock_offset.is_some() || self.clock_drift.is_some() || !self.given.is_empty()
    }

    /// The clock configuration these flags say (defaults where none is given).
    pub fn config(&self) -> anyhow::Result<ClockConfig> {
        let mut config = ClockConfig::default();
        if let Some(s) = &self.clock_offset {
            config.offset = s.parse::<Spread>().map_err(|e| usage(format!("--clock-offset: {e}")))?;
        }
        if let Some(s) = &self.clock_drift {
            config.drift = s.parse::<Spread>().map_err(|e| usage(format!("--clock-drift: {e}")))?;
        }
        for g in &self.given {
            config.given.push(parse_given(g)?);
        }
        Ok(config)
    }

    /// The flags again, for the processes `reparti run` starts.
    pub fn to_args(&self) -> Vec<String> {
        let mut a = Vec::new();
        if let Some(s) = &self.clock_offset {
            a.push(format!("--clock-offset={s}"));
        }
        if let Some(s) = &self.clock_drift {
            a.push(format!("--clock-drift={s}"));
        }
        for g in &self.given {
            a.push(format!("--clock={g}"));
        }
        a
    }
}

/// `NODE=OFFSET[/DRIFT]`.
fn parse_given(s: &str) -> anyhow::Result<(u32, ClockSetting)> {
    let bad =
        || usage(format!("bad --clock '{s}': expected NODE=OFFSET[/DRIFT], e.g. --clock 3=500 or --clock 3=-20/150"));
    let (node, rest) = s.split_once('=').ok_or_else(bad)?;
    let node: u32 = node.trim().parse().map_err(|_| bad())?;
    let (offset, drift) = match rest.split_once('/') {
        Some((o, d)) => (o, Some(d)),
        None => (rest, None),
    };
    let number = |x: &str| x.trim().parse::<f64>().ok().filter(|v| v.is_finite()).ok_or_else(bad);
    let offset = number(offset)?;
    let drift_ppm = match drift {
        Some(d) => number(d)?,
        None => 0.0,
    };
    Ok((node, ClockSetting { offset, drift_ppm }))
}

/// Refuses clock flags for an algorithm that has no physical clock to set: they would
/// silently do nothing.
pub fn refuse_unread(flags: &ClockFlags, reads_physical_clock: bool, algorithm: &str) -> anyhow::Result<()> {
    if flags.any() && !reads_physical_clock {
        return Err(usage(format!(
            "{algorithm} does not read physical clocks, so --clock-offset, --clock-drift and --clock do nothing: drop them (the clock algorithms are listed under Time in `reparti list`)"
        )));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_given_clock_parses_with_or_without_its_drift() {
        let flags = ClockFlags { given: vec!["3=500".into(), "1=-20/150".into()], ..ClockFlags::default() };
        let cfg = flags.config().expect("good flags");
        assert_eq!(cfg.given[0], (3, ClockSetting { offset: 500.0, drift_ppm: 0.0 }));
        assert_eq!(cfg.given[1], (1, ClockSetting { offset: -20.0, drift_ppm: 150.0 }));
        for bad in ["3", "x=1", "3=abc", "3=1/x", "3=inf"] {
            let f = ClockFlags { given: vec![bad.into()], ..ClockFlags::default() };
            assert!(f.config().is_err(), "{bad}");
        }
    }
}
