//! The delay a real link adds to each datagram or frame: the simulator's delay syntax,
//! with units.
//!
//! `reparti sim --delay` takes `const:D`, `uniform:A,B` or `exp:MEAN` in simulated time
//! units; a real network takes the very same forms in real time, each number with a unit
//! (`ms`, `s` or `us`; a bare number is milliseconds): `const:5ms`, `uniform:5ms,20ms`,
//! `exp:10ms`. The older `MIN..MAX` (and a single `N`), in milliseconds, is still read.

use std::time::Duration;

/// The longest delay drawn from an exponential, as a multiple of its mean: the tail is
/// cut so one datagram is not held for minutes (e^-20 of draws are affected).
const EXP_CAP: f64 = 20.0;

/// How long each datagram or frame is held before it is sent.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum LinkDelay {
    /// Uniform in `[min, max]` (`const:D` is `min = max`).
    Uniform {
        /// The shortest delay.
        min: Duration,
        /// The longest delay.
        max: Duration,
    },
    /// Exponential (cut at [`EXP_CAP`] means).
    Exp {
        /// The mean delay.
        mean: Duration,
    },
}

impl LinkDelay {
    /// The delay for a draw `u` uniform in `[0, 1)`.
    pub fn sample(&self, u: f64) -> Duration {
        match *self {
            LinkDelay::Uniform { min, max } => min + max.saturating_sub(min).mul_f64(u),
            LinkDelay::Exp { mean } => mean.mul_f64((-(1.0 - u).ln()).min(EXP_CAP)),
        }
    }

    /// The delay in the form it is written: `const:5ms`, `uniform:5ms,20ms`, `exp:10ms`.
    pub fn describe(&self) -> String {
        let ms = |d: Duration| format!("{}ms", d.as_secs_f64() * 1e3);
        match *self {
            LinkDelay::Uniform { min, max } if min == max => format!("const:{}", ms(min)),
            LinkDelay::Uniform { min, max } => format!("uniform:{},{}", ms(min), ms(max)),
            LinkDelay::Exp { mean } => format!("exp:{}", ms(mean)),
        }
    }

    /// Parses `const:D`, `uniform:A,B`, `exp:MEAN` (numbers with a unit, milliseconds by
    /// default), or the older `MIN..MAX` / `N` in milliseconds.
    pub fn parse(text: &str) -> Result<LinkDelay, String> {
        let help = "write const:5ms, uniform:5ms,20ms or exp:10ms (units ms, s or us; plain numbers are ms)";
        let bad = |why: &str| format!("bad delay {text:?}: {why}; {help}");
        let t = text.trim();
        let delay = if let Some(d) = t.strip_prefix("const:") {
            let d = duration(d).map_err(|w| bad(&w))?;
            LinkDelay::Uniform { min: d, max: d }
        } else if let Some(range) = t.strip_prefix("uniform:") {
            let (a, b) = range.split_once(',').ok_or_else(|| bad("uniform takes two values, A,B"))?;
            LinkDelay::Uniform { min: duration(a).map_err(|w| bad(&w))?, max: duration(b).map_err(|w| bad(&w))? }
        } else if let Some(m) = t.strip_prefix("exp:") {
            LinkDelay::Exp { mean: duration(m).map_err(|w| bad(&w))? }
        } else if let Some((a, b)) = t.split_once("..") {
            LinkDelay::Uniform { min: duration(a).map_err(|w| bad(&w))?, max: duration(b).map_err(|w| bad(&w))? }
        } else {
            let d = duration(t).map_err(|w| bad(&w))?;
            LinkDelay::Uniform { min: d, max: d }
        };
        if let LinkDelay::Uniform { min, max } = delay {
            if min > max {
                return Err(bad("the minimum is above the maximum (swap them)"));
            }
        }
        Ok(delay)
    }
}

/// `5ms`, `0.5s`, `200us`, `7` (milliseconds): a non-negative, finite duration of at most a day.
fn duration(text: &str) -> Result<Duration, String> {
    let t = text.trim();
    let (number, scale) = if let Some(n) = t.strip_suffix("ms") {
        (n, 1e-3)
    } else if let Some(n) = t.strip_suffix("us") {
        (n, 1e-6)
    } else if let Some(n) = t.strip_suffix('s') {
        (n, 1.0)
    } else {
        (t, 1e-3)
    };
    let value: f64 = number.trim().parse().map_err(|_| format!("'{t}' is not a duration"))?;
    let seconds = value * scale;
    if !seconds.is_finite() || !(0.0..=86_400.0).contains(&seconds) {
        return Err(format!("'{t}' is not a delay from 0 to a day"));
    }
    Ok(Duration::from_secs_f64(seconds))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ms(n: u64) -> Duration {
        Duration::from_millis(n)
    }

    #[test]
    fn the_simulators_forms_read_with_units() {
        assert_eq!(LinkDelay::parse("const:5ms"), Ok(LinkDelay::Uniform { min: ms(5), max: ms(5) }));
        assert_eq!(LinkDelay::parse("uniform:5ms,20ms"), Ok(LinkDelay::Uniform { min: ms(5), max: ms(20) }));
        assert_eq!(LinkDelay::parse("uniform:0.005s,20"), Ok(LinkDelay::Uniform { min: ms(5), max: ms(20) }));
        assert_eq!(LinkDelay::parse("exp:10ms"), Ok(LinkDelay::Exp { mean: ms(10) }));
        assert_eq!(
            LinkDelay::parse("const:500us"),
            Ok(LinkDelay::Uniform { min: ms(0) + Duration::from_micros(500), max: Duration::from_micros(500) })
        );
    }

    #[test]
    fn the_older_millisecond_forms_still_read() {
        assert_eq!(LinkDelay::parse("5..20"), Ok(LinkDelay::Uniform { min: ms(5), max: ms(20) }));
        assert_eq!(LinkDelay::parse(" 7 "), Ok(LinkDelay::Uniform { min: ms(7), max: ms(7) }));
    }

    #[test]
    fn mistakes_are_named() {
        assert!(LinkDelay::parse("20..5").unwrap_err().contains("swap them"));
        assert!(LinkDelay::parse("uniform:5ms").unwrap_err().contains("two values"));
        assert!(LinkDelay::parse("exp:-1ms").unwrap_err().contains("from 0 to a day"));
        assert!(LinkDelay::parse("const:fast").unwrap_err().contains("not a duration"));
        assert!(LinkDelay::parse("..").is_err());
    }

    #[test]
    fn draws_stay_in_bounds() {
        let u = LinkDelay::Uniform { min: ms(5), max: ms(20) };
        assert_eq!((u.sample(0.0), u.sample(0.5)), (ms(5), Duration::from_micros(12_500)));
        let e = LinkDelay::Exp { mean: ms(10) };
        assert_eq!(e.sample(0.0), ms(0));
        assert!(e.sample(0.999_999_999_999) <= ms(200));
    }

    #[test]
    fn a_delay_is_described_as_it_is_written() {
        for text in ["const:5ms", "uniform:5ms,20ms", "exp:10ms", "uniform:0.5ms,1ms"] {
            let d = LinkDelay::parse(text).expect("parses");
            assert_eq!(d.describe(), text);
            assert_eq!(LinkDelay::parse(&d.describe()), Ok(d));
        }
    }
}
