//! `reparti keygen`: a new Fernet key, printed or written to a private file.

use crate::cli::KeygenArgs;
use reparti_net::secure::Key;
use std::io::Write;
use std::process::ExitCode;

pub fn run(args: &KeygenArgs) -> anyhow::Result<ExitCode> {
    let key = Key::generate();
    match &args.output {
        None => println!("{}", key.as_text()),
        Some(path) => {
            let mut options = std::fs::OpenOptions::new();
            options.write(true).create_new(true);
            #[cfg(unix)]
            {
                use std::os::unix::fs::OpenOptionsExt;
                // A key is a shared secret: only its owner may read it.
                options.mode(0o600);
            }
            let mut file = options.open(path).map_err(|e| {
                crate::error::usage(format!(
                    "cannot create {}: {e} (keygen never overwrites a key: choose a new path or remove the old file)",
                    path.display()
                ))
            })?;
            writeln!(file, "{}", key.as_text())
                .map_err(|e| crate::error::usage(format!("cannot write {}: {e}", path.display())))?;
            println!("key written to {}", path.display());
        }
    }
    Ok(ExitCode::SUCCESS)
}
