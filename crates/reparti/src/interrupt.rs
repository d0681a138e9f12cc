//! Ctrl-C and SIGTERM, caught once for the commands that must end cleanly when stopped.
//!
//! The handler only sets a flag: the command polls it and ends its own way — `check`
//! prints its partial report, `run` stops its nodes and removes its scratch folder.
//! Doing that work inside the handler would race the command's own threads. A second
//! signal quits at once (status 130, as an unhandled SIGINT would), for when the clean
//! ending itself hangs.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, OnceLock};

/// The flag of the handler this process installed, for code far from the command that
/// installed it (the simulator's driving loop) to look at.
static INSTALLED: OnceLock<Arc<AtomicBool>> = OnceLock::new();

/// The exit status of a command stopped by a signal: 128 + SIGINT, what shells expect.
pub const INTERRUPTED_STATUS: u8 = 130;

/// Installs the handler; `first` is the line printed on the first signal. `None` (with
/// a note on stderr) when the platform refuses, so the command still runs, uncaught.
pub fn catch(first: &'static str, uncaught_note: &str) -> Option<Arc<AtomicBool>> {
    let flag = Arc::new(AtomicBool::new(false));
    let seen = Arc::clone(&flag);
    let installed = ctrlc::set_handler(move || {
        if seen.swap(true, Ordering::SeqCst) {
            std::process::exit(i32::from(INTERRUPTED_STATUS));
        }
        eprintln!("{first}");
    });
    match installed {
        Ok(()) => {
            let _ = INSTALLED.set(Arc::clone(&flag));
            Some(flag)
        }
        Err(e) => {
            eprintln!("note: {uncaught_note} (cannot catch the signal: {e})");
            None
        }
    }
}

/// Whether a signal was caught by the handler this process installed (false when none).
pub fn requested() -> bool {
    INSTALLED.get().is_some_and(|flag| flag.load(Ordering::SeqCst))
}
