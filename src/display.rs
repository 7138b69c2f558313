//! How messages show paths: as they are when that is unambiguous, quoted and escaped otherwise.
//!
//! A file name may hold a newline, a quote or bytes that are not UTF-8; printed as is, it could
//! split one error into several lines and forge an `error:` line of its own. [`path`] leaves a
//! plain name (`/data/imdb.tok`) as it is and shows any other as a Rust string literal
//! (`"/tmp/a\nerror: b"`), so every message stays one line and names the file unambiguously.

use std::path::Path;

/// `p` for a message: as is if every character is printable (no control character, no quote or
/// backslash, no leading or trailing space) and the path is UTF-8; else quoted and escaped.
pub fn path(p: &Path) -> String {
    match p.to_str() {
        Some(s) if is_plain(s) => s.to_owned(),
        _ => format!("{p:?}"),
    }
}

fn is_plain(s: &str) -> bool {
    !s.is_empty()
        && s.trim() == s
        && s.chars()
            .all(|c| !c.is_control() && c != '"' && c != '\\' && c != '\u{2028}' && c != '\u{2029}')
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn plain_paths_stay_and_others_are_quoted() {
        assert_eq!(path(Path::new("/data/imdb.tok")), "/data/imdb.tok");
        assert_eq!(path(Path::new("a b/ç.tok")), "a b/ç.tok");
        assert_eq!(
            path(Path::new("/tmp/a\nfusedrnn: error: b")),
            r#""/tmp/a\nfusedrnn: error: b""#
        );
        assert_eq!(path(Path::new("")), r#""""#);
        assert_eq!(path(Path::new(" x")), r#"" x""#);
        #[cfg(unix)]
        {
            use std::os::unix::ffi::OsStrExt;
            let p = Path::new(std::ffi::OsStr::from_bytes(b"/tmp/\xff.tok"));
            assert!(!path(p).contains('\u{fffd}') && path(p).starts_with('"'));
        }
    }
}
