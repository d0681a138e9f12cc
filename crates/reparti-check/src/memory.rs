//! The memory budget: how many bytes the visited set and the frontier may take before
//! the search stops with a partial report instead of exhausting the machine.
//!
//! The checker counts what it stores itself (the fingerprint table, including the new
//! table while it grows, and the packed frontier or the DFS stack); it does not hook
//! the allocator. The default budget is a share of the memory the machine has
//! available when the check starts, so that a check that cannot fit stops cleanly and
//! says so, rather than being killed by the kernel or swapping for hours.

use std::fmt;

/// The share of the available memory the default budget takes. The rest is for the
/// states in flight, the counterexample search, the liveness graph's bookkeeping
/// and everything else running on the machine.
const SHARE: f64 = 0.5;

/// The budget when the available memory cannot be read (not Linux, no `/proc`).
const FALLBACK: u64 = 2 << 30;

/// How many bytes the search may use, and where that number comes from.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct MemoryBudget {
    /// The budget in bytes.
    pub bytes: u64,
    /// Where it comes from, for the report: `"--max-memory"`, or the default's reason.
    pub source: String,
}

impl MemoryBudget {
    /// The explicit budget if there is one, else the machine's default.
    pub fn resolve(explicit: Option<u64>) -> Self {
        match explicit {
            Some(bytes) => MemoryBudget { bytes, source: "set with --max-memory".into() },
            None => Self::default_for_machine(),
        }
    }

    /// Half of the memory available now, or a fixed 2 GiB where that cannot be read.
    pub fn default_for_machine() -> Self {
        match available_bytes() {
            Some(avail) => MemoryBudget {
                bytes: (avail as f64 * SHARE) as u64,
                source: format!("half of the {} available; change it with --max-memory", human_bytes(avail)),
            },
            None => MemoryBudget {
                bytes: FALLBACK,
                source: "a fixed default: the available memory could not be read; change it with --max-memory".into(),
            },
        }
    }
}

impl fmt::Display for MemoryBudget {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} ({})", human_bytes(self.bytes), self.source)
    }
}

/// The memory available to this process: `MemAvailable` from `/proc/meminfo`, lowered
/// to the headroom of a cgroup v2 memory limit when there is one (in a container
/// `MemAvailable` describes the host, not the limit that would kill us).
pub fn available_bytes() -> Option<u64> {
    let meminfo = std::fs::read_to_string("/proc/meminfo").ok()?;
    let avail = meminfo_field(&meminfo, "MemAvailable:")?;
    Some(match cgroup_headroom() {
        Some(h) => avail.min(h),
        None => avail,
    })
}

/// A `kB` field of `/proc/meminfo`, in bytes.
fn meminfo_field(text: &str, name: &str) -> Option<u64> {
    let line = text.lines().find(|l| l.starts_with(name))?;
    let kb: u64 = line[name.len()..].split_whitespace().next()?.parse().ok()?;
    Some(kb.saturating_mul(1024))
}

/// `memory.max − memory.current` of this process's cgroup (v2), if it has a limit.
fn cgroup_headroom() -> Option<u64> {
    let own = std::fs::read_to_string("/proc/self/cgroup").ok()?;
    // cgroup v2 has a single line "0::/path".
    let path = own.lines().find_map(|l| l.strip_prefix("0::"))?.trim();
    let dir = std::path::Path::new("/sys/fs/cgroup").join(path.trim_start_matches('/'));
    let max: u64 = std::fs::read_to_string(dir.join("memory.max")).ok()?.trim().parse().ok()?;
    let current: u64 = std::fs::read_to_string(dir.join("memory.current")).ok()?.trim().parse().ok()?;
    Some(max.saturating_sub(current))
}

/// Parses a size such as `512M`, `4G`, `1.5G`, `800K`, `64MiB` or `1000000` (bytes).
/// Units are binary (K = 1024); a size of zero is refused, since nothing would fit.
pub fn parse_size(text: &str) -> Result<u64, String> {
    let t = text.trim();
    let split = t.find(|c: char| !(c.is_ascii_digit() || c == '.')).unwrap_or(t.len());
    let (number, unit) = t.split_at(split);
    let shift = match unit.trim().to_ascii_uppercase().as_str() {
        "" | "B" => 0,
        "K" | "KB" | "KIB" => 10,
        "M" | "MB" | "MIB" => 20,
        "G" | "GB" | "GIB" => 30,
        "T" | "TB" | "TIB" => 40,
        _ => return Err(format!("cannot read the size '{text}': write a number with K, M, G or T, e.g. 512M or 4G")),
    };
    let value: f64 = number
        .parse()
        .map_err(|_| format!("cannot read the size '{text}': write a number with K, M, G or T, e.g. 512M or 4G"))?;
    let bytes = value * (1u64 << shift) as f64;
    if !bytes.is_finite() || bytes >= u64::MAX as f64 {
        return Err(format!("the size '{text}' is too large"));
    }
    if bytes < 1.0 {
        return Err(format!("the size '{text}' leaves no room for any state: give at least 1K, e.g. 512M"));
    }
    Ok(bytes as u64)
}

/// A size for people: `512.0 MiB`, `3.9 GiB`, `800 B`.
pub fn human_bytes(bytes: u64) -> String {
    const UNITS: [&str; 5] = ["B", "KiB", "MiB", "GiB", "TiB"];
    let mut value = bytes as f64;
    let mut unit = 0;
    while value >= 1024.0 && unit + 1 < UNITS.len() {
        value /= 1024.0;
        unit += 1;
    }
    if unit == 0 {
        format!("{bytes} B")
    } else {
        format!("{value:.1} {}", UNITS[unit])
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sizes_read_as_people_write_them() {
        assert_eq!(parse_size("512M"), Ok(512 << 20));
        assert_eq!(parse_size("4G"), Ok(4 << 30));
        assert_eq!(parse_size("1.5g"), Ok(3 << 29));
        assert_eq!(parse_size("64MiB"), Ok(64 << 20));
        assert_eq!(parse_size("800K"), Ok(800 << 10));
        assert_eq!(parse_size("1000000"), Ok(1_000_000));
        for bad in ["", "M", "12Q", "-3G", "1..2M", "0", "0.1"] {
            let err = parse_size(bad).expect_err(bad);
            assert!(!err.contains('\n'), "{err}");
        }
    }

    #[test]
    fn sizes_print_as_people_read_them() {
        assert_eq!(human_bytes(800), "800 B");
        assert_eq!(human_bytes(512 << 20), "512.0 MiB");
        assert_eq!(human_bytes(3 << 29), "1.5 GiB");
    }

    #[test]
    fn meminfo_fields_are_read_in_bytes() {
        let text = "MemTotal:       24683664 kB\nMemFree: 1 kB\nMemAvailable:   23505428 kB\n";
        assert_eq!(meminfo_field(text, "MemAvailable:"), Some(23_505_428 * 1024));
        assert_eq!(meminfo_field(text, "Nope:"), None);
    }

    #[test]
    fn the_default_budget_is_a_share_of_what_is_available() {
        let b = MemoryBudget::default_for_machine();
        assert!(b.bytes > 0);
        if let Some(avail) = available_bytes() {
            assert!(b.bytes <= avail, "{b}");
        }
        assert_eq!(MemoryBudget::resolve(Some(1 << 20)).bytes, 1 << 20);
    }
}
