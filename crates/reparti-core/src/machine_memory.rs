//! How much memory this machine can still give us, and sizes as people write and read
//! them.
//!
//! Every engine that can be asked for more than fits — the model checker's search, the
//! simulator's huge instances, `sim --runs` keeping reports — judges what it is about to
//! do against [`available_bytes`] and refuses (or stops) in one line rather than being
//! killed by the kernel. Reading it lives here, below both engines, so that neither
//! depends on the other.

/// The memory available to this process: `MemAvailable` from `/proc/meminfo`, lowered
/// to the headroom of a cgroup v2 memory limit when there is one (in a container
/// `MemAvailable` describes the host, not the limit that would kill us). `None` where
/// neither can be read (not Linux, no `/proc`).
pub fn available_bytes() -> Option<u64> {
    let meminfo = std::fs::read_to_string("/proc/meminfo").ok()?;
    let avail = meminfo_field(&meminfo, "MemAvailable:")?;
    Some(match cgroup_headroom() {
        Some(h) => avail.min(h),
        None => avail,
    })
}

/// A `kB` field of `/proc/meminfo`, in bytes.
pub fn meminfo_field(text: &str, name: &str) -> Option<u64> {
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
        return Err(format!("the size '{text}' leaves no room for anything: give at least 1K, e.g. 512M"));
    }
    Ok(bytes as u64)
}

/// A size for people: `512.0 MiB`, `3.9 GiB`, `800 B`.
pub fn human_bytes(bytes: u64) -> String {
    const UNITS: [&str; 6] = ["B", "KiB", "MiB", "GiB", "TiB", "PiB"];
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
    fn meminfo_fields_are_read_in_bytes() {
        let text = "MemTotal:       24683664 kB\nMemFree: 1 kB\nMemAvailable:   23505428 kB\n";
        assert_eq!(meminfo_field(text, "MemAvailable:"), Some(23_505_428 * 1024));
        assert_eq!(meminfo_field(text, "Nope:"), None);
    }

    #[test]
    fn huge_sizes_still_print_in_a_unit() {
        assert_eq!(human_bytes(3 << 50), "3.0 PiB");
        assert_eq!(human_bytes(u64::MAX), "16384.0 PiB");
    }
}
