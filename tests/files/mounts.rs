//! File systems of a test's own, mounted on a directory of its own (where the test may
//! mount: as root, here and in CI).

use crate::common::TestDir;
use std::path::PathBuf;

/// A file system mounted for one test, unmounted (and its directory removed) when dropped.
pub struct Mount(TestDir);

impl Mount {
    /// Mounts a file system of type `fstype` with `options`; `None` where this process
    /// may not mount it (not root, no such file system, no mount privileges).
    pub fn new(fstype: &str, options: &str) -> Option<Mount> {
        let dir = TestDir::new(&format!("mount-{fstype}"));
        let data = std::ffi::CString::new(options).expect("no NUL");
        rustix::mount::mount(
            "ipcring-test",
            dir.path(),
            fstype,
            rustix::mount::MountFlags::empty(),
            data.as_c_str(),
        )
        .ok()?;
        Some(Mount(dir))
    }

    /// The path of `file` on the file system.
    pub fn join(&self, file: &str) -> PathBuf {
        self.0.join(file)
    }
}

impl Drop for Mount {
    fn drop(&mut self) {
        let _ = rustix::mount::unmount(self.0.path(), rustix::mount::UnmountFlags::DETACH);
    }
}
