//! Checks on output paths made before anything is read or written, so that a mistake is told as
//! the user made it ("is a folder", "is the same file as --data") rather than as the system call
//! that would fail on it, and so that no output ever replaces an input.

use std::fs;
use std::path::Path;

use crate::display;

/// Refuses an `--out` file that cannot be what the user meant: a path ending in `/`, an existing
/// folder, device or pipe (an atomic rename would replace it), a path whose folder is missing or
/// is a file, or the same file (device and inode, however spelled or linked) as one of `inputs`
/// (`(flag, path)`), which the output would replace.
pub fn check_out_file(out: &Path, inputs: &[(&str, &Path)]) -> Result<(), String> {
    let shown = display::path(out);
    if out.as_os_str().as_encoded_bytes().ends_with(b"/") {
        return Err(format!(
            "--out {shown} ends with '/': give a file name, not a folder"
        ));
    }
    match fs::metadata(out) {
        Ok(meta) if meta.is_dir() => {
            return Err(format!(
                "--out {shown} is a folder: give a file name (inside it, for example)"
            ));
        }
        Ok(meta) if !meta.is_file() => {
            return Err(format!(
                "--out {shown} exists and is not a regular file (a device or a pipe): give a \
                 file name"
            ));
        }
        _ => {}
    }
    let parent = match out.parent() {
        Some(p) if !p.as_os_str().is_empty() => p,
        _ => Path::new("."),
    };
    match fs::metadata(parent) {
        Ok(meta) if meta.is_dir() => {}
        Ok(_) => {
            return Err(format!(
                "--out {shown}: {} is a file, not a folder",
                display::path(parent)
            ));
        }
        Err(_) => {
            return Err(format!(
                "--out {shown}: folder {} does not exist",
                display::path(parent)
            ));
        }
    }
    for &(flag, input) in inputs {
        if same_file(out, input) {
            return Err(format!(
                "--out {shown} is the same file as {flag} {}: refusing to replace an input",
                display::path(input)
            ));
        }
    }
    Ok(())
}

/// Whether `a` and `b` both exist and are one file (same device and inode).
pub fn same_file(a: &Path, b: &Path) -> bool {
    match (fs::metadata(a), fs::metadata(b)) {
        (Ok(a), Ok(b)) => matches!((file_id(&a), file_id(&b)), (Some(x), Some(y)) if x == y),
        _ => false,
    }
}

#[cfg(unix)]
fn file_id(m: &fs::Metadata) -> Option<(u64, u64)> {
    use std::os::unix::fs::MetadataExt;
    Some((m.dev(), m.ino()))
}

#[cfg(not(unix))]
fn file_id(_: &fs::Metadata) -> Option<(u64, u64)> {
    // No inode to compare: only the spelling check of the caller remains.
    None
}
