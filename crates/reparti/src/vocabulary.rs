//! One name per idea, in every command: the test that keeps the flags consistent.
//!
//! A newcomer learns `--loss` in `sim` and expects it in `run`; learns `-p` as
//! `--param` and is surprised when it means a port. These tests walk the whole command
//! tree clap builds and fail when two commands spell one idea differently: a short flag
//! that means two long ones, a long flag whose values mean two things (`--seed N` and
//! `--seed ADDR`), or a visible spelling this project retired in favour of another.
//! Retired spellings stay accepted as hidden aliases, so old scripts keep working.

#[cfg(test)]
mod tests {
    use crate::cli::Cli;
    use clap::{Arg, Command, CommandFactory};
    use std::collections::BTreeMap;

    /// For each idea: its one long name, and the spellings it replaced (hidden aliases at
    /// most, never a visible flag of any command).
    const RETIRED: &[(&str, &[&str])] = &[("loss", &["drop"]), ("trace", &["trace-out"]), ("output", &["out"])];

    /// Every flag of every (sub)command, with the command's path.
    fn flags() -> Vec<(String, Arg)> {
        fn walk(cmd: &Command, path: String, out: &mut Vec<(String, Arg)>) {
            for arg in cmd.get_arguments() {
                if arg.get_long().is_some() || arg.get_short().is_some() {
                    out.push((path.clone(), arg.clone()));
                }
            }
            for sub in cmd.get_subcommands() {
                walk(sub, format!("{path} {}", sub.get_name()), out);
            }
        }
        let mut out = Vec::new();
        walk(&Cli::command(), "reparti".to_string(), &mut out);
        out
    }

    #[test]
    fn a_short_flag_means_one_long_flag_everywhere() {
        let mut meanings: BTreeMap<char, BTreeMap<String, Vec<String>>> = BTreeMap::new();
        for (path, arg) in flags() {
            if let (Some(short), Some(long)) = (arg.get_short(), arg.get_long()) {
                meanings.entry(short).or_default().entry(long.to_string()).or_default().push(path);
            }
        }
        for (short, longs) in meanings {
            assert!(longs.len() == 1, "-{short} means different flags in different commands: {longs:?}");
        }
    }

    #[test]
    fn a_long_flag_takes_one_kind_of_value_everywhere() {
        let mut kinds: BTreeMap<String, BTreeMap<String, Vec<String>>> = BTreeMap::new();
        for (path, arg) in flags() {
            let Some(long) = arg.get_long() else { continue };
            if !arg.get_action().takes_values() {
                continue;
            }
            let value = arg.get_value_names().map(|v| v.join(" ")).unwrap_or_else(|| long.to_uppercase());
            // A file and a directory are one kind of value, a path: `-o FILE` of most
            // commands and `sweep plan -o DIR` (which writes a job directory) agree.
            let value = if value == "DIR" { "FILE".to_string() } else { value };
            kinds.entry(long.to_string()).or_default().entry(value).or_default().push(path);
        }
        let mixed: Vec<String> = kinds
            .into_iter()
            .filter(|(_, values)| values.len() > 1)
            .map(|(long, values)| format!("--{long}: {values:?}"))
            .collect();
        assert!(
            mixed.is_empty(),
            "flags that take different kinds of value in different commands:\n{}",
            mixed.join("\n")
        );
    }

    #[test]
    fn retired_spellings_are_never_visible_flags() {
        for (path, arg) in flags() {
            let Some(long) = arg.get_long() else { continue };
            for (idea, old) in RETIRED {
                assert!(!old.contains(&long), "`{path}` spells --{idea} as --{long}");
            }
        }
    }

    #[test]
    fn the_ideas_every_engine_shares_have_the_same_short_flag() {
        let shared = [("nodes", 'n'), ("topology", 't'), ("seed", 's'), ("param", 'p'), ("output", 'o')];
        let mut missing = Vec::new();
        for (path, arg) in flags() {
            for (long, short) in shared {
                if arg.get_long() == Some(long) && arg.get_short() != Some(short) {
                    missing.push(format!("`{path} --{long}` should also be -{short}"));
                }
            }
        }
        assert!(missing.is_empty(), "{}", missing.join("\n"));
    }
}
