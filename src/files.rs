//! Opening the files a user names for reading: regular files only, refused by kind (a folder, a
//! device, a pipe) without blocking on a pipe that has no writer.

use std::fs::{File, Metadata};
use std::io;
use std::path::Path;

/// `path` opened for reading, and what it is. On Unix the open does not wait for a named pipe's
/// writer (`O_NONBLOCK`, which changes nothing for a regular file), so the caller can refuse a
/// pipe by its metadata instead of hanging in `open`.
pub fn open_for_reading(path: &Path) -> io::Result<(File, Metadata)> {
    let mut options = std::fs::OpenOptions::new();
    options.read(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        options.custom_flags(libc::O_NONBLOCK);
    }
    let file = options.open(path)?;
    let meta = file.metadata()?;
    Ok((file, meta))
}

/// `path` opened for reading if it is a regular file, with its length when opened; otherwise
/// an [`io::ErrorKind::InvalidInput`] error saying what it is ([`kind`]), without waiting on a
/// pipe ([`open_for_reading`]).
pub fn open_regular(path: &Path) -> io::Result<(File, u64)> {
    let (file, meta) = open_for_reading(path)?;
    if !meta.is_file() {
        return Err(io::Error::new(
            io::ErrorKind::InvalidInput,
            format!("{}, not a regular file", kind(&meta)),
        ));
    }
    Ok((file, meta.len()))
}

/// What a non-regular file is, for messages.
pub fn kind(meta: &Metadata) -> &'static str {
    let ft = meta.file_type();
    #[cfg(unix)]
    {
        use std::os::unix::fs::FileTypeExt;
        if ft.is_char_device() || ft.is_block_device() {
            return "a device";
        }
        if ft.is_fifo() {
            return "a pipe";
        }
        if ft.is_socket() {
            return "a socket";
        }
    }
    if ft.is_dir() {
        "a folder"
    } else {
        "not a regular file"
    }
}

#[cfg(all(test, unix))]
mod tests {
    use super::*;

    #[test]
    fn a_pipe_without_a_writer_is_refused_at_once() {
        let dir = tempfile::tempdir().unwrap();
        let fifo = dir.path().join("fifo");
        let made = std::process::Command::new("mkfifo").arg(&fifo).status();
        assert!(made.unwrap().success(), "mkfifo");
        let e = open_regular(&fifo).unwrap_err();
        assert_eq!(e.kind(), io::ErrorKind::InvalidInput);
        assert_eq!(e.to_string(), "a pipe, not a regular file");
        let e = open_regular(dir.path()).unwrap_err();
        assert_eq!(e.to_string(), "a folder, not a regular file");
        let file = dir.path().join("f");
        std::fs::write(&file, b"x").unwrap();
        assert_eq!(open_regular(&file).unwrap().1, 1, "the length when opened");
    }
}
