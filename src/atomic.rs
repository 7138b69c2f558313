//! Atomic file output: write a temporary file beside the target, flush it to disk, rename it
//! over the target. A crash or a kill at any moment leaves either the old file or the new one
//! at the target path, never a partial one.
//!
//! The temporary is `.NAME.tmp.XXXXXXXXXXXXXXXX` (16 hex digits from a randomly keyed hash, so
//! the name cannot be guessed in advance), created with `O_CREAT | O_EXCL | O_NOFOLLOW`: a file
//! or symlink planted under that name makes the creation fail (and another name is tried); it is
//! never written through. A [`Temporary`] removes its file when it is dropped without being
//! published: on every error path and when a panic unwinds through the writer.
//!
//! A program that is interrupted (Ctrl-C, SIGTERM, SIGHUP) can remove the temporaries being
//! written at that moment with [`remove_temporaries`]; the command-line tools do so from their
//! signal handler (`fusedrnn::cli::clean_up_on_interrupt`) before they exit with status 130. Only a SIGKILL, which no program can
//! catch, can leave a hidden temporary beside the target; the target itself is still either the
//! old file or the new one.

use std::fs::{self, File, OpenOptions};
use std::hash::{BuildHasher, Hasher};
use std::io::{self, BufWriter, Write};
use std::path::{Path, PathBuf};
use std::sync::Mutex;
use std::sync::atomic::{AtomicU64, Ordering};

/// Temporary files being written now, removed by [`remove_temporaries`].
static PENDING: Mutex<Vec<PathBuf>> = Mutex::new(Vec::new());

fn pending() -> std::sync::MutexGuard<'static, Vec<PathBuf>> {
    // A panic while holding the lock cannot leave the list inconsistent: keep using it.
    PENDING.lock().unwrap_or_else(|e| e.into_inner())
}

/// Removes the temporary file of every write in progress (for a signal handler that is about to
/// end the process). Returns how many it removed. The writes themselves are not stopped, so it
/// keeps the list's lock until the process ends: a write that would create (or finish) a
/// temporary after it, on a thread that runs on while the handler exits, waits on that lock
/// instead of leaving a file behind (a temporary is created and listed under the lock, see
/// [`Temporary::create`]). Call it only when the process exits next.
pub fn remove_temporaries() -> usize {
    let mut list = pending();
    let mut removed = 0;
    for tmp in list.drain(..) {
        if fs::remove_file(tmp).is_ok() {
            removed += 1;
        }
    }
    std::mem::forget(list);
    removed
}

/// How many times a fresh name is tried when the one drawn already exists.
const NAME_ATTEMPTS: usize = 16;

/// A temporary file beside its target, removed when dropped unless [`published`](Self::publish).
#[derive(Debug)]
pub struct Temporary {
    path: PathBuf,
    target: PathBuf,
    /// Still on disk under `path` (not yet renamed or removed).
    live: bool,
}

impl Temporary {
    /// Creates a new, empty temporary file beside `target` (same folder, so the final rename
    /// stays on one file system), exclusively: never an existing file, never through a symlink.
    /// The error names the temporary file and the target.
    pub fn create(target: &Path) -> io::Result<(Temporary, File)> {
        Temporary::create_with_suffix(target, "")
    }

    /// [`Temporary::create`] with a name ending in `suffix` (`.png` for an encoder that picks
    /// the format from the name).
    pub fn create_with_suffix(target: &Path, suffix: &str) -> io::Result<(Temporary, File)> {
        let name = target
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_default();
        let mut last = None;
        for _ in 0..NAME_ATTEMPTS {
            let path =
                target.with_file_name(format!(".{name}.tmp.{:016x}{suffix}", unpredictable()));
            // Created and listed under the lock, so that `remove_temporaries` sees every
            // temporary that exists (a handler running between the two would miss it).
            let mut list = pending();
            match open_exclusive(&path) {
                Ok(file) => {
                    list.push(path.clone());
                    drop(list);
                    let tmp = Temporary {
                        path,
                        target: target.to_path_buf(),
                        live: true,
                    };
                    return Ok((tmp, file));
                }
                Err(e) if e.kind() == io::ErrorKind::AlreadyExists => last = Some((path, e)),
                Err(e) => {
                    return Err(io::Error::new(
                        e.kind(),
                        format!(
                            "cannot create the temporary file {}: {e}",
                            crate::display::path(&path)
                        ),
                    ));
                }
            }
        }
        let (path, e) = last.expect("at least one attempt");
        Err(io::Error::new(
            e.kind(),
            format!(
                "cannot create a temporary file beside {}: {} and {} other names exist",
                crate::display::path(target),
                crate::display::path(&path),
                NAME_ATTEMPTS - 1
            ),
        ))
    }

    /// Where the temporary file is.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// Renames the temporary file over the target and makes the rename durable (best effort).
    /// On failure the temporary file is removed.
    pub fn publish(mut self) -> io::Result<()> {
        fs::rename(&self.path, &self.target)?;
        self.live = false;
        forget(&self.path);
        sync_parent(&self.target);
        Ok(())
    }
}

impl Drop for Temporary {
    fn drop(&mut self) {
        if self.live {
            let _ = fs::remove_file(&self.path);
            forget(&self.path);
        }
    }
}

/// `O_CREAT | O_EXCL` (std's `create_new`), plus `O_NOFOLLOW` where the platform has it.
fn open_exclusive(path: &Path) -> io::Result<File> {
    let mut options = OpenOptions::new();
    options.write(true).create_new(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        options.custom_flags(libc::O_NOFOLLOW);
    }
    options.open(path)
}

/// 64 bits nobody can predict: std's `RandomState` is keyed from the operating system's random
/// source, and a counter, the time and the process id make every call's input distinct.
fn unpredictable() -> u64 {
    static COUNTER: AtomicU64 = AtomicU64::new(0);
    let mut h = std::collections::hash_map::RandomState::new().build_hasher();
    h.write_u64(COUNTER.fetch_add(1, Ordering::Relaxed));
    h.write_u32(std::process::id());
    if let Ok(t) = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH) {
        h.write_u128(t.as_nanos());
    }
    h.finish()
}

/// Runs `write` on a buffered temporary file beside `path`, then publishes it at `path`.
/// On any error, and when a panic unwinds through `write`, the temporary file is removed and
/// `path` is untouched.
pub fn write_with<T, E, F>(path: &Path, write: F) -> Result<T, E>
where
    E: From<io::Error>,
    F: FnOnce(&mut BufWriter<File>) -> Result<T, E>,
{
    let (tmp, file) = Temporary::create(path)?;
    let mut w = BufWriter::with_capacity(1 << 20, file);
    let value = write(&mut w)?;
    w.flush()?;
    let file = w.into_inner().map_err(|e| e.into_error())?;
    file.sync_all()?;
    drop(file);
    tmp.publish()?;
    Ok(value)
}

/// Takes `tmp` off the list once it is renamed or removed.
fn forget(tmp: &Path) {
    let mut list = pending();
    if let Some(i) = list.iter().position(|p| p == tmp) {
        list.swap_remove(i);
    }
}

/// Writes `bytes` to `path` atomically.
pub fn write_bytes(path: &Path, bytes: &[u8]) -> io::Result<()> {
    write_with(path, |w| w.write_all(bytes))
}

/// Makes the rename itself durable. Best effort: not every platform can sync a directory.
fn sync_parent(path: &Path) {
    let parent = match path.parent() {
        Some(p) if !p.as_os_str().is_empty() => p,
        _ => Path::new("."),
    };
    if let Ok(dir) = File::open(parent) {
        let _ = dir.sync_all();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_panic_inside_the_writer_removes_the_temporary() {
        let dir = tempfile::tempdir().unwrap();
        let target = dir.path().join("out.bin");
        let result = std::panic::catch_unwind(|| {
            let _ = write_with::<(), io::Error, _>(&target, |w| {
                w.write_all(b"partial")?;
                panic!("writer fails half way");
            });
        });
        assert!(result.is_err());
        assert_eq!(fs::read_dir(dir.path()).unwrap().count(), 0);
        assert!(pending().iter().all(|p| !p.starts_with(dir.path())));
    }

    #[test]
    fn an_error_inside_the_writer_removes_the_temporary_and_keeps_the_target() {
        let dir = tempfile::tempdir().unwrap();
        let target = dir.path().join("out.bin");
        fs::write(&target, b"old").unwrap();
        let r = write_with(&target, |w| {
            w.write_all(b"new")?;
            Err::<(), _>(io::Error::other("no"))
        });
        assert!(r.is_err());
        assert_eq!(fs::read(&target).unwrap(), b"old");
        assert_eq!(fs::read_dir(dir.path()).unwrap().count(), 1);
    }

    #[test]
    fn temporary_names_differ_and_are_never_reused() {
        let dir = tempfile::tempdir().unwrap();
        let target = dir.path().join("t");
        let (a, _fa) = Temporary::create(&target).unwrap();
        let (b, _fb) = Temporary::create(&target).unwrap();
        assert_ne!(a.path(), b.path());
        let name = a.path().file_name().unwrap().to_string_lossy().into_owned();
        assert!(
            name.starts_with(".t.tmp.") && name.len() == ".t.tmp.".len() + 16,
            "{name}"
        );
        drop((a, b));
        assert_eq!(fs::read_dir(dir.path()).unwrap().count(), 0);
    }

    #[cfg(unix)]
    #[test]
    fn a_planted_symlink_is_never_followed() {
        let dir = tempfile::tempdir().unwrap();
        let victim = dir.path().join("victim");
        fs::write(&victim, b"precious").unwrap();
        let planted = dir.path().join("planted");
        std::os::unix::fs::symlink(&victim, &planted).unwrap();
        let err = open_exclusive(&planted).unwrap_err();
        assert_eq!(err.kind(), io::ErrorKind::AlreadyExists);
        assert_eq!(fs::read(&victim).unwrap(), b"precious");
    }
}
