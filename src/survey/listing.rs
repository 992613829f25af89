//! Listing rings: every object of the ring namespace, or the ring files of a directory.

use super::{inspect_at, Object, Ring};
use crate::error::OpenError;
use crate::layout::MAGIC;
use crate::namespace::{self, Place};
use rustix::fs::OFlags;
use std::fs::DirEntry;
use std::io;
use std::path::Path;

/// An object in the ring namespace, or a ring file of a directory, and what a survey made
/// of it.
#[derive(Debug)]
#[non_exhaustive]
pub struct Entry {
    /// The ring's name; for a file of a directory ([`list_dir`]), its path.
    pub name: String,
    /// The object, if it could be looked at.
    pub object: Option<Object>,
    /// The ring, or why the object is not one that can be read (another ABI version,
    /// truncated, still initialising, not made by ipcring, not ours...).
    pub ring: Result<Ring, OpenError>,
}

/// Every object in the ring namespace (`/dev/shm/ipcring.*`), sorted by name, each with
/// what [`inspect`](super::inspect) makes of it.
///
/// # Errors
/// The error of reading the namespace's directory.
pub fn list() -> io::Result<Vec<Entry>> {
    survey_dir(Path::new(namespace::SHM_DIR), |dirent| {
        let file = dirent.file_name();
        let name = file.to_str()?.strip_prefix(namespace::NAME_PREFIX)?;
        Some((name.to_owned(), Place::named(name)))
    })
}

/// The ipcring segments among the regular files of `dir`: those that begin with
/// [`MAGIC`](crate::MAGIC), sorted by path, each with what
/// [`inspect_file`](super::inspect_file) makes of it. [`Entry::name`] is the file's path,
/// `dir` joined with its file name.
///
/// What is left out: symbolic links, directories and special files, files whose paths
/// are not UTF-8, files that do not begin with the magic number, and files that this
/// process may not read, which cannot be told from other files. Among those is a file
/// ring still being initialised (mode 0200), unless this process is root (then it is
/// listed, `StillInitializing`, once its creator wrote the magic number): unlike the ring
/// namespace, a directory of the user's may hold write-only files of any kind.
///
/// ```
/// # let dir = std::env::temp_dir().join(format!("doc-list-dir-{}", std::process::id()));
/// # std::fs::create_dir_all(&dir).unwrap();
/// ipcring::mpmc::Builder::at(dir.join("jobs.ring")).capacity(8).create_detached()?;
/// std::fs::write(dir.join("notes.txt"), "not a ring")?;
/// let found = ipcring::survey::list_dir(&dir)?;
/// assert_eq!(found.len(), 1);
/// assert_eq!(found[0].name, dir.join("jobs.ring").display().to_string());
/// assert_eq!(found[0].ring.as_ref().unwrap().kind, ipcring::survey::Kind::Mpmc);
/// # ipcring::remove_file_ring(dir.join("jobs.ring"))?;
/// # std::fs::remove_dir_all(&dir)?;
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
///
/// # Errors
/// The error of reading the directory.
pub fn list_dir(dir: impl AsRef<Path>) -> io::Result<Vec<Entry>> {
    survey_dir(dir.as_ref(), |dirent| {
        let path = dirent.path();
        let name = path.to_str()?.to_owned();
        let place = Place::file(&path).ok()?;
        let regular = dirent.file_type().is_ok_and(|t| t.is_file());
        (regular && begins_with_magic(&place)).then_some((name, Ok(place)))
    })
}

/// The entries of `dir` that `pick` names and places, surveyed, sorted by name.
fn survey_dir(
    dir: &Path,
    pick: impl Fn(&DirEntry) -> Option<(String, Result<Place, OpenError>)>,
) -> io::Result<Vec<Entry>> {
    let mut entries = Vec::new();
    for dirent in std::fs::read_dir(dir)? {
        let Some((name, place)) = pick(&dirent?) else {
            continue;
        };
        let object = place
            .as_ref()
            .ok()
            .and_then(|p| namespace::lstat(p).ok())
            .map(|st| Object::of(&st));
        let ring = place.and_then(|p| inspect_at(&p, &name));
        entries.push(Entry { name, object, ring });
    }
    entries.sort_by(|a, b| a.name.cmp(&b.name));
    Ok(entries)
}

/// Whether the regular file at `place` can be read and begins with [`MAGIC`] (opened as
/// any ring's object is: never through a symbolic link, never blocking).
fn begins_with_magic(place: &Place) -> bool {
    let Ok(fd) = namespace::open(place, OFlags::RDONLY) else {
        return false;
    };
    let regular = rustix::fs::fstat(&fd).is_ok_and(|st| namespace::is_regular(&st));
    let mut first = [0u8; 8];
    regular
        && rustix::io::pread(&fd, &mut first, 0).is_ok_and(|n| n == 8)
        && first == MAGIC.to_le_bytes()
}
