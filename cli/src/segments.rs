//! `ipcring ls` and `ipcring rm`: ipcring segments in /dev/shm.

use std::io;
use std::os::unix::fs::MetadataExt;

const DIR: &str = "/dev/shm";
const PREFIX: &str = "ipcring.";

/// Prints name, size, mode and owner of every `/dev/shm/ipcring.*` object.
pub fn list() -> io::Result<()> {
    let mut rows = Vec::new();
    for entry in std::fs::read_dir(DIR)? {
        let entry = entry?;
        let file = entry.file_name();
        let Some(name) = file.to_str().and_then(|f| f.strip_prefix(PREFIX)) else {
            continue;
        };
        let md = entry.metadata()?;
        rows.push((name.to_owned(), md.len(), md.mode() & 0o777, md.uid()));
    }
    rows.sort();
    println!("{:<40} {:>12} {:>5} {:>6}", "name", "bytes", "mode", "uid");
    for (name, len, mode, uid) in rows {
        println!("{name:<40} {len:>12} {mode:>5o} {uid:>6}");
    }
    Ok(())
}

/// Unlinks the named rings (names as given to `create`).
pub fn remove(names: &[String]) -> io::Result<()> {
    let mut failed = 0;
    for name in names {
        if let Err(e) = ipcring::unlink(name) {
            eprintln!("ipcring rm {name}: {e}");
            failed += 1;
        }
    }
    if failed > 0 {
        return Err(io::Error::other(format!(
            "{failed} of {} not removed",
            names.len()
        )));
    }
    Ok(())
}
