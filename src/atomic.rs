//! Atomic file output: write a temporary file beside the target, flush it to disk, rename it
//! over the target. A crash or a kill at any moment leaves either the old file or the new one
//! at the target path, never a partial one.
//!
//! An interrupted program (Ctrl-C, SIGTERM, SIGHUP) can remove the temporary files it was
//! writing with [`remove_temporaries`]; the command-line tools do so from their signal handler
//! (`fusedrnn::cli::clean_up_on_interrupt`) before they exit with status 130. Only a SIGKILL,
//! which no program can catch, can leave a hidden `.NAME.tmp.PID` file beside the target; the target itself is still either the old file or the new one.

use std::fs::{self, File};
use std::io::{self, BufWriter, Write};
use std::path::{Path, PathBuf};
use std::sync::Mutex;

/// Temporary files being written now, removed by [`remove_temporaries`].
static PENDING: Mutex<Vec<PathBuf>> = Mutex::new(Vec::new());

fn pending() -> std::sync::MutexGuard<'static, Vec<PathBuf>> {
    // A panic while holding the lock cannot leave the list inconsistent: keep using it.
    PENDING.lock().unwrap_or_else(|e| e.into_inner())
}

/// Removes the temporary file of every write in progress (for a signal handler that is about to
/// end the process). Returns how many it removed. The writes themselves are not stopped: call it
/// only when the process exits next.
pub fn remove_temporaries() -> usize {
    let mut removed = 0;
    for tmp in pending().drain(..) {
        if fs::remove_file(tmp).is_ok() {
            removed += 1;
        }
    }
    removed
}

/// Runs `write` on a buffered temporary file beside `path`, then publishes it at `path`.
/// On any error the temporary file is removed and `path` is untouched.
pub fn write_with<T, E, F>(path: &Path, write: F) -> Result<T, E>
where
    E: From<io::Error>,
    F: FnOnce(&mut BufWriter<File>) -> Result<T, E>,
{
    let tmp = temp_path(path);
    pending().push(tmp.clone());
    let file = match File::create(&tmp) {
        Ok(f) => f,
        Err(e) => {
            forget(&tmp);
            let msg = format!("cannot create the temporary file {}: {e}", tmp.display());
            return Err(io::Error::new(e.kind(), msg).into());
        }
    };
    let result = (|| {
        let mut w = BufWriter::with_capacity(1 << 20, file);
        let value = write(&mut w)?;
        w.flush()?;
        let file = w.into_inner().map_err(|e| e.into_error())?;
        file.sync_all()?;
        drop(file);
        fs::rename(&tmp, path)?;
        Ok(value)
    })();
    match result {
        Ok(value) => {
            forget(&tmp);
            sync_parent(path);
            Ok(value)
        }
        Err(e) => {
            let _ = fs::remove_file(&tmp);
            forget(&tmp);
            Err(e)
        }
    }
}

/// Puts a temporary file written by other means (the PNG encoder) on the interrupt handler's
/// list; [`forget`] it once it is renamed or removed.
pub(crate) fn track(tmp: &Path) {
    pending().push(tmp.to_path_buf());
}

/// Takes `tmp` off the interrupt handler's list once it is renamed or removed.
pub(crate) fn forget(tmp: &Path) {
    let mut list = pending();
    if let Some(i) = list.iter().position(|p| p == tmp) {
        list.swap_remove(i);
    }
}

/// Writes `bytes` to `path` atomically.
pub fn write_bytes(path: &Path, bytes: &[u8]) -> io::Result<()> {
    write_with(path, |w| w.write_all(bytes))
}

/// `dir/.name.tmp.PID` beside `path`, so that the rename stays on one file system.
fn temp_path(path: &Path) -> PathBuf {
    let name = path
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    path.with_file_name(format!(".{name}.tmp.{}", std::process::id()))
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
