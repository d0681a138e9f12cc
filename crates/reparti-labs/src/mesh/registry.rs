//! The registry file (TP4's `BDD.txt`): one member address per line, shared by every
//! member on the machine and changed only under an exclusive lock.
//!
//! The lock (`flock` on Unix, `LockFileEx` on Windows, through std's `File::lock`) is
//! held from before the file is read until after our line is written, so two members
//! joining at once cannot both miss each other: the second to take the lock reads the
//! first's line. It is released when the [`LockedRegistry`] is dropped, which closes the
//! file, also on an error path.
//!
//! A line is `HOST:PORT` (what reparti writes), or a bare port as the Python lab writes
//! it, read as a port on this member's own host. Blank lines, `#` comments and lines that
//! are neither are skipped when reading and kept as they are when rewriting.
//!
//! Public so that other lab programs meeting through the same kind of file (TP7's
//! election, `reparti node chang-roberts-lab PORT`) share its format and its locking.
//! Every method blocks (on the lock, on the disk): call it off an async executor.

use std::fs::{File, OpenOptions};
use std::io::{self, Read, Seek, SeekFrom, Write};
use std::net::{IpAddr, SocketAddr};
use std::path::Path;

/// The most a registry file may hold: 1 MiB is tens of thousands of members.
const REGISTRY_LIMIT: u64 = 1 << 20;

/// The registry file, open and exclusively locked until dropped.
pub struct LockedRegistry {
    file: File,
    /// The host of bare-port lines.
    default_ip: IpAddr,
}

impl LockedRegistry {
    /// Opens (creating it if missing) and locks the file, waiting for other holders.
    /// Blocking: call it off the async executor.
    /// `default_ip` is the host of bare-port lines: the caller's own.
    pub fn lock(path: &Path, default_ip: IpAddr) -> io::Result<LockedRegistry> {
        let file = OpenOptions::new().read(true).write(true).create(true).truncate(false).open(path)?;
        file.lock()?;
        Ok(LockedRegistry { file, default_ip })
    }

    /// The addresses registered, in file order, each once (TP4's `creat_my_list`).
    pub fn members(&mut self) -> io::Result<Vec<SocketAddr>> {
        let text = self.text()?;
        let mut members = Vec::new();
        for line in text.lines() {
            if let Some(addr) = parse_line(line, self.default_ip) {
                if !members.contains(&addr) {
                    members.push(addr);
                }
            }
        }
        Ok(members)
    }

    /// Appends `addr` on a line of its own (TP4's `add_port`).
    pub fn add(&mut self, addr: SocketAddr) -> io::Result<()> {
        let text = self.text()?;
        // A last line written without its newline (by hand, by another program) must not
        // be glued to ours.
        let separator = if text.is_empty() || text.ends_with('\n') { "" } else { "\n" };
        self.file.seek(SeekFrom::End(0))?;
        self.file.write_all(format!("{separator}{addr}\n").as_bytes())
    }

    /// Removes every line naming `addr`, keeping the others as they are; returns the
    /// members left.
    pub fn remove(&mut self, addr: SocketAddr) -> io::Result<Vec<SocketAddr>> {
        let text = self.text()?;
        let kept: String = text
            .lines()
            .filter(|line| parse_line(line, self.default_ip) != Some(addr))
            .map(|line| format!("{line}\n"))
            .collect();
        self.file.set_len(0)?;
        self.file.seek(SeekFrom::Start(0))?;
        self.file.write_all(kept.as_bytes())?;
        self.members()
    }

    fn text(&mut self) -> io::Result<String> {
        let mut text = String::new();
        self.file.seek(SeekFrom::Start(0))?;
        // A registry names a few members; one grown past this is not a registry (and a
        // device given as one would be read forever).
        let read = (&mut self.file).take(REGISTRY_LIMIT + 1).read_to_string(&mut text);
        if read.as_ref().is_ok_and(|n| *n as u64 > REGISTRY_LIMIT) {
            return Err(io::Error::new(
                io::ErrorKind::InvalidData,
                format!("it is larger than {} KiB, far more than a registry of members", REGISTRY_LIMIT >> 10),
            ));
        }
        read.map_err(|e| match e.kind() {
            io::ErrorKind::InvalidData => io::Error::new(e.kind(), "it is not UTF-8 text"),
            _ => e,
        })?;
        Ok(text)
    }
}

/// One line's address, if it holds one.
fn parse_line(line: &str, default_ip: IpAddr) -> Option<SocketAddr> {
    let line = line.trim();
    if line.is_empty() || line.starts_with('#') {
        return None;
    }
    line.parse::<SocketAddr>().ok().or_else(|| line.parse::<u16>().ok().map(|port| SocketAddr::new(default_ip, port)))
}

#[cfg(test)]
mod tests {
    use super::*;

    const HOST: IpAddr = IpAddr::V4(std::net::Ipv4Addr::LOCALHOST);

    fn addr(port: u16) -> SocketAddr {
        SocketAddr::new(HOST, port)
    }

    #[test]
    fn reads_both_line_forms_and_skips_the_rest() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("BDD.txt");
        std::fs::write(&path, "# members\n5001\n\n127.0.0.1:5002\nnot an address\n5001\n[::1]:5003").unwrap();
        let mut reg = LockedRegistry::lock(&path, HOST).unwrap();
        assert_eq!(reg.members().unwrap(), vec![addr(5001), addr(5002), "[::1]:5003".parse().unwrap()]);
    }

    #[test]
    fn add_and_remove_keep_other_lines() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("BDD.txt");
        std::fs::write(&path, "# members\n5001").unwrap();
        {
            let mut reg = LockedRegistry::lock(&path, HOST).unwrap();
            reg.add(addr(5002)).unwrap();
            reg.add(addr(5003)).unwrap();
        }
        assert_eq!(std::fs::read_to_string(&path).unwrap(), "# members\n5001\n127.0.0.1:5002\n127.0.0.1:5003\n");
        let mut reg = LockedRegistry::lock(&path, HOST).unwrap();
        assert_eq!(reg.remove(addr(5001)).unwrap(), vec![addr(5002), addr(5003)]);
        drop(reg);
        assert_eq!(std::fs::read_to_string(&path).unwrap(), "# members\n127.0.0.1:5002\n127.0.0.1:5003\n");
    }

    #[test]
    fn a_missing_file_is_created_and_a_binary_one_refused() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("new.txt");
        assert_eq!(LockedRegistry::lock(&path, HOST).unwrap().members().unwrap(), vec![]);
        assert!(path.exists());
        std::fs::write(&path, b"\xff\xfe\x00").unwrap();
        let err = LockedRegistry::lock(&path, HOST).unwrap().members().unwrap_err();
        assert!(err.to_string().contains("not UTF-8"), "{err}");
    }
}
