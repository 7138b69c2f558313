//! Bad input to `imdb-pack`: every broken file or flag gets one clear error naming the file
//! and the problem, a non-zero exit, no panic and no output file (an existing one is kept).

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use fusedrnn_data_tools::ImdbArrays;

mod common;
use common::{target_argv, target_command};

fn fixtures() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures")
}

fn imdb_pack(args: &[&str]) -> Output {
    target_command(env!("CARGO_BIN_EXE_imdb-pack"))
        .args(args)
        .output()
        .unwrap()
}

/// Runs imdb-pack on `npz` into a fresh directory and checks that it failed cleanly.
/// Returns stderr.
fn assert_refused(npz: &Path, extra: &[&str]) -> String {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("out.tok");
    let mut args = vec![
        "--npz",
        npz.to_str().unwrap(),
        "--out",
        out.to_str().unwrap(),
    ];
    args.extend_from_slice(extra);
    let o = imdb_pack(&args);
    let stderr = String::from_utf8_lossy(&o.stderr).into_owned();
    assert!(
        !o.status.success(),
        "{} {extra:?} was accepted",
        npz.display()
    );
    assert!(
        !stderr.contains("panicked"),
        "panic on {}: {stderr}",
        npz.display()
    );
    assert_eq!(
        stderr.trim_end().lines().count(),
        1,
        "one line of error: {stderr}"
    );
    let left: Vec<_> = std::fs::read_dir(dir.path()).unwrap().collect();
    assert!(
        left.is_empty(),
        "output left behind for {}: {left:?}",
        npz.display()
    );
    stderr
}

/// An `--npz` that is a device (`/dev/zero` never ends) or a named pipe (which may never get a
/// writer) is refused by its kind at once, not read into memory or waited on. (Under `timeout`:
/// a regression fails rather than hangs.)
#[cfg(unix)]
#[test]
fn devices_and_pipes_are_refused_by_kind() {
    let pipes = tempfile::tempdir().unwrap();
    let fifo = pipes.path().join("imdb.npz");
    let made = Command::new("mkfifo").arg(&fifo).status();
    assert!(made.unwrap().success(), "mkfifo");
    for (npz, says) in [
        (Path::new("/dev/zero"), "a device, not a regular file"),
        (fifo.as_path(), "a pipe, not a regular file"),
    ] {
        let dir = tempfile::tempdir().unwrap();
        let out = dir.path().join("out.tok");
        let o = Command::new("timeout")
            .arg("60")
            .args(target_argv(env!("CARGO_BIN_EXE_imdb-pack")))
            .args([
                "--npz",
                npz.to_str().unwrap(),
                "--out",
                out.to_str().unwrap(),
            ])
            .output()
            .unwrap();
        let err = String::from_utf8_lossy(&o.stderr);
        assert_eq!(
            o.status.code(),
            Some(1),
            "{} (124: it waited): {err}",
            npz.display()
        );
        assert!(err.contains(&format!("{}: {says}", npz.display())), "{err}");
        assert!(!out.exists(), "{}", npz.display());
    }
}

#[test]
fn every_bad_fixture_is_refused_with_a_clear_message() {
    // (file, words the message must contain)
    let cases: &[(&str, &[&str])] = &[
        ("missing_y_test.npz", &["no array \"y_test\""]),
        (
            "x_train_2d_int64.npz",
            &["x_train", "expected an object array"],
        ),
        ("x_train_float_lists.npz", &["x_train", "BINFLOAT"]),
        (
            "x_train_string_element.npz",
            &["x_train", "is a str, not a list of ints"],
        ),
        (
            "x_train_nested_lists.npz",
            &["x_train", "a list mixes ints with other values"],
        ),
        (
            "x_train_huge_rank.npz",
            &["x_train", "does not fit in 32 bits"],
        ),
        (
            "x_train_numpy_int_scalars.npz",
            &["x_train", "is not allowed"],
        ),
        ("y_train_label2.npz", &["y_train", "label 2", "not 0 or 1"]),
        ("y_train_float64.npz", &["y_train", "floating-point"]),
        ("y_train_length_mismatch.npz", &["reviews but y_train has"]),
        ("y_train_2d.npz", &["y_train", "1-D"]),
        ("y_train_fortran_2d.npz", &["y_train", "1-D"]),
        (
            "pickle_global_ordereddict.npz",
            &["collections.OrderedDict is not allowed"],
        ),
        ("pickle_global_os_system.npz", &["os.system is not allowed"]),
        ("pickle_protocol0.npz", &["protocols 0 and 1 are not read"]),
        ("pickle_protocol1.npz", &["protocols 0 and 1 are not read"]),
        ("x_train_truncated_pickle.npz", &["x_train", "truncated"]),
        ("bad_npy_magic.npz", &["not a .npy stream"]),
        (
            "zip_bzip2_member.npz",
            &["compression method", "not supported"],
        ),
        (
            "zip_lzma_member.npz",
            &["compression method", "not supported"],
        ),
        ("empty_zip.npz", &["no array"]),
        ("not_a_zip.npz", &["not a readable zip archive"]),
        ("truncated_zip.npz", &["zip"]),
    ];
    for (file, words) in cases {
        let path = fixtures().join("bad").join(file);
        let stderr = assert_refused(&path, &[]);
        assert!(
            stderr.contains(path.to_str().unwrap()),
            "{file}: message does not name the file: {stderr}"
        );
        for w in *words {
            assert!(stderr.contains(w), "{file}: expected {w:?} in: {stderr}");
        }
    }
}

#[test]
fn negative_ranks_follow_keras_and_become_oov() {
    // Keras' filter `skip_top <= w < num_words` sends any negative id to the OOV char.
    let arrays = ImdbArrays::read(&fixtures().join("bad/x_train_negative_rank.npz")).unwrap();
    let packed =
        fusedrnn_data_tools::pack(&arrays, &fusedrnn_data_tools::PackParams::NOTEBOOK).unwrap();
    assert!(
        packed
            .splits
            .iter()
            .all(|s| s.tokens.iter().all(|&t| t < 500))
    );
}

#[test]
fn every_truncation_of_a_good_archive_is_refused_without_panic() {
    let good = std::fs::read(fixtures().join("many_short_p3_stored.npz")).unwrap();
    assert!(ImdbArrays::from_bytes(&good).is_ok());
    for cut in (0..good.len()).step_by(7) {
        assert!(
            ImdbArrays::from_bytes(&good[..cut]).is_err(),
            "cut at {cut} accepted"
        );
    }
}

#[test]
fn bit_flips_never_panic() {
    // Stored members: a flipped payload bit fails the member CRC; a flipped header bit fails
    // somewhere else. Some flips (timestamps, comments) are harmless, and that is fine.
    let good = std::fs::read(fixtures().join("many_short_p3_stored.npz")).unwrap();
    let reference = ImdbArrays::from_bytes(&good).unwrap();
    let mut rejected = 0;
    for i in (0..good.len()).step_by(3) {
        let mut bad = good.clone();
        bad[i] ^= 1 << (i % 8);
        match ImdbArrays::from_bytes(&bad) {
            Err(_) => rejected += 1,
            // A flip that is accepted must not change the data silently.
            Ok(arrays) => assert_eq!(
                arrays, reference,
                "flip at byte {i} changed the data silently"
            ),
        }
    }
    assert!(rejected > good.len() / 6, "only {rejected} flips rejected");
}

#[test]
fn zip_bomb_member_is_refused() {
    // A stored member whose header claims more than it holds, and a deflated member whose
    // stated size is far below what it inflates to.
    let mut zip = Vec::new();
    {
        use std::io::Write;
        let mut w = zip::ZipWriter::new(std::io::Cursor::new(&mut zip));
        let opts = zip::write::SimpleFileOptions::default()
            .compression_method(zip::CompressionMethod::Deflated);
        w.start_file("x_train.npy", opts).unwrap();
        w.write_all(&vec![0u8; 1 << 20]).unwrap();
        w.finish().unwrap();
    }
    // Patch the stated uncompressed size (local header offset 22, central directory +24) to 100.
    let cd = zip.windows(4).rposition(|w| w == b"PK\x01\x02").unwrap();
    zip[22..26].copy_from_slice(&100u32.to_le_bytes());
    zip[cd + 24..cd + 28].copy_from_slice(&100u32.to_le_bytes());
    let mut npz = fusedrnn_data_tools::npz::Npz::new(&zip).unwrap();
    let err = npz.read("x_train").unwrap_err().to_string();
    // The zip reader stops at the declared size itself; our own `take(size + 1)` check is the
    // second line of defence.
    assert!(
        err.contains("x_train.npy")
            && (err.contains("larger than its declared") || err.contains("but says 100")),
        "{err}"
    );
}

#[test]
fn bad_flags_are_refused() {
    let good = fixtures().join("small_p4_deflated.npz");
    for (flags, words) in [
        (&["--val-split", "1.5"][..], "--val-split 1.5"),
        (&["--num-words", "4294967296"], "\"none\""),
        (
            &["--oov-char", "600"],
            "oov_char 600 is not below num_words 500",
        ),
        (&["--maxlen", "0"], "maxlen"),
        (&["--padding", "middle"], "expected 'pre' or 'post'"),
        (&["--seed", "-1"], "unexpected argument '-1'"),
        (&["--seed", "4294967296"], "--seed"),
        (&["--num-words", "many"], "\"none\""),
    ] {
        let dir = tempfile::tempdir().unwrap();
        let out = dir.path().join("out.tok");
        let mut args = vec![
            "--npz",
            good.to_str().unwrap(),
            "--out",
            out.to_str().unwrap(),
        ];
        args.extend_from_slice(flags);
        let o = imdb_pack(&args);
        let stderr = String::from_utf8_lossy(&o.stderr);
        assert!(!o.status.success(), "{flags:?} accepted");
        assert!(stderr.contains(words), "{flags:?}: {stderr}");
        assert!(!stderr.contains("panicked"), "{stderr}");
        assert!(!out.exists());
    }
}

/// Every vocabulary Keras accepts is packed: `none` and `0` (Keras' `if not num_words`) keep
/// every word (here up to id 100003, so u32 ids, version 2), as does a `num_words` above 65,536;
/// 65,536 itself is the last u16 (version 1) file. Contents are checked against Keras in
/// `parity.rs`; this is the command line.
#[test]
fn wide_vocabularies_are_packed_from_the_command_line() {
    let good = fixtures().join("small_p4_deflated.npz");
    let dir = tempfile::tempdir().unwrap();
    let mut files = Vec::new();
    for (words, num_words, version) in [
        ("none", 100_003, 2),
        ("0", 100_003, 2),
        ("NONE", 100_003, 2),
        ("88587", 88_587, 2),
        ("65537", 65_537, 2),
        ("65536", 65_536, 1),
    ] {
        let out = dir.path().join(format!("{words}.tok"));
        let o = imdb_pack(&[
            "--npz",
            good.to_str().unwrap(),
            "--out",
            out.to_str().unwrap(),
            "--num-words",
            words,
        ]);
        assert!(
            o.status.success(),
            "{words}: {}",
            String::from_utf8_lossy(&o.stderr)
        );
        let tok = fusedrnn::tokfile::TokFile::open(&out).unwrap();
        assert_eq!(
            (tok.num_words(), tok.version()),
            (num_words, version),
            "{words}"
        );
        files.push(std::fs::read(&out).unwrap());
    }
    assert!(
        files[0] == files[1] && files[1] == files[2],
        "none, 0 and NONE differ"
    );
}

#[test]
fn missing_input_and_output_directory_are_named() {
    let dir = tempfile::tempdir().unwrap();
    let missing = dir.path().join("nope.npz");
    let stderr = assert_refused(&missing, &[]);
    assert!(
        stderr.contains("nope.npz") && stderr.contains("No such file"),
        "{stderr}"
    );

    let good = fixtures().join("small_p4_deflated.npz");
    let out = dir.path().join("no/such/dir/out.tok");
    let o = imdb_pack(&[
        "--npz",
        good.to_str().unwrap(),
        "--out",
        out.to_str().unwrap(),
    ]);
    let stderr = String::from_utf8_lossy(&o.stderr);
    assert!(
        !o.status.success() && stderr.contains("no/such/dir"),
        "{stderr}"
    );
}

#[test]
fn a_failed_run_keeps_the_existing_output() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("imdb.tok");
    let good = fixtures().join("small_p4_deflated.npz");
    let o = imdb_pack(&[
        "--npz",
        good.to_str().unwrap(),
        "--out",
        out.to_str().unwrap(),
        "--quiet",
    ]);
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let before = std::fs::read(&out).unwrap();
    let bad = fixtures().join("bad/y_train_label2.npz");
    let o = imdb_pack(&[
        "--npz",
        bad.to_str().unwrap(),
        "--out",
        out.to_str().unwrap(),
    ]);
    assert!(!o.status.success());
    assert_eq!(std::fs::read(&out).unwrap(), before);
    assert_eq!(
        std::fs::read_dir(dir.path()).unwrap().count(),
        1,
        "temporary file left behind"
    );
}

#[test]
fn summary_reports_the_splits() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("imdb.tok");
    let good = fixtures().join("small_p4_deflated.npz");
    let o = imdb_pack(&[
        "--npz",
        good.to_str().unwrap(),
        "--out",
        out.to_str().unwrap(),
    ]);
    let stdout = String::from_utf8_lossy(&o.stdout);
    assert!(o.status.success());
    for w in [
        "load_data(num_words=500",
        "train_test_split(test_size=0.2, random_state=42)",
        "pad_sequences(maxlen=100",
    ] {
        assert!(stdout.contains(w), "{stdout}");
    }
    let rows: Vec<&str> = stdout
        .lines()
        .filter(|l| {
            ["train ", "val ", "test "]
                .iter()
                .any(|s| l.trim_start().starts_with(s))
        })
        .collect();
    assert_eq!(rows.len(), 3, "{stdout}");
    assert!(
        rows[0].contains(" 120 ") && rows[1].contains(" 30 ") && rows[2].contains(" 90 "),
        "{stdout}"
    );
}

/// The members of a fixture archive, in order.
fn members(npz: &[u8]) -> Vec<(String, Vec<u8>)> {
    use std::io::Read;
    let mut z = zip::ZipArchive::new(std::io::Cursor::new(npz)).unwrap();
    (0..z.len())
        .map(|i| {
            let mut f = z.by_index(i).unwrap();
            let mut bytes = Vec::new();
            f.read_to_end(&mut bytes).unwrap();
            (f.name().unwrap().to_string(), bytes)
        })
        .collect()
}

/// A stored archive of `members` with correct CRCs, so a damaged member reaches the npy and
/// pickle parsers instead of failing the zip checksum.
fn rezip(members: &[(String, Vec<u8>)]) -> Vec<u8> {
    use std::io::Write;
    let mut zip = Vec::new();
    let mut w = zip::ZipWriter::new(std::io::Cursor::new(&mut zip));
    let opts =
        zip::write::SimpleFileOptions::default().compression_method(zip::CompressionMethod::Stored);
    for (name, bytes) in members {
        w.start_file(name.as_str(), opts).unwrap();
        w.write_all(bytes).unwrap();
    }
    w.finish().unwrap();
    zip
}

/// Where a member's npy payload starts (after magic, version, header length and header).
fn npy_payload_at(npy: &[u8]) -> usize {
    match npy[6] {
        1 => 10 + usize::from(u16::from_le_bytes([npy[8], npy[9]])),
        _ => 12 + u32::from_le_bytes(npy[8..12].try_into().unwrap()) as usize,
    }
}

#[test]
fn every_member_truncation_and_header_flip_reaches_the_parsers_and_is_refused() {
    let good = std::fs::read(fixtures().join("many_short_p3_stored.npz")).unwrap();
    let reference = ImdbArrays::from_bytes(&good).unwrap();
    let parts = members(&good);
    assert_eq!(ImdbArrays::from_bytes(&rezip(&parts)).unwrap(), reference);
    let mut refused = 0;
    for (m, (name, bytes)) in parts.iter().enumerate() {
        let payload = npy_payload_at(bytes);
        // Every cut inside the npy header and the first 600 payload bytes (the pickle's
        // opening opcodes: global, reduce, shape, dtype, state), every 37th after, and a few
        // bytes short of the end.
        let mut cuts: Vec<usize> = (0..(payload + 600).min(bytes.len())).collect();
        cuts.extend((payload + 600..bytes.len()).step_by(37));
        cuts.extend(bytes.len().saturating_sub(3)..bytes.len());
        for cut in cuts {
            let mut damaged = parts.clone();
            damaged[m].1.truncate(cut);
            let err = ImdbArrays::from_bytes(&rezip(&damaged))
                .expect_err(&format!("{name} cut at {cut} of {} accepted", bytes.len()));
            assert!(
                err.to_string().contains(name.trim_end_matches(".npy")),
                "{err}"
            );
            refused += 1;
        }
        // Every bit of the npy header and of the pickle's first 200 bytes, flipped. Most
        // are refused; the rest land in header padding or in values that are still legal
        // (another rank, another label), which Keras would load too. None may panic.
        let (mut flips, mut accepted) = (0, 0);
        for at in 0..(payload + 200).min(bytes.len()) {
            for bit in 0..8 {
                let mut damaged = parts.clone();
                damaged[m].1[at] ^= 1 << bit;
                flips += 1;
                match ImdbArrays::from_bytes(&rezip(&damaged)) {
                    Err(_) => refused += 1,
                    Ok(_) => accepted += 1,
                }
            }
        }
        assert!(
            accepted * 3 < flips,
            "{name}: {accepted} of {flips} flips accepted"
        );
    }
    assert!(refused > 4000, "{refused}");
}

#[test]
fn shapes_near_overflow_are_refused_in_bounded_memory() {
    let good = std::fs::read(fixtures().join("many_short_p3_stored.npz")).unwrap();
    let parts = members(&good);
    let y = parts.iter().position(|(n, _)| n == "y_train.npy").unwrap();
    let header_end = npy_payload_at(&parts[y].1);
    let header = String::from_utf8(parts[y].1[10..header_end].to_vec()).unwrap();
    let n = parts
        .iter()
        .find(|(n, _)| n == "y_train.npy")
        .map(|(_, b)| (b.len() - header_end) / 8)
        .unwrap();
    let dir = tempfile::tempdir().unwrap();
    for shape in [
        "(18446744073709551615,)".to_owned(),
        "(9223372036854775807,)".into(),
        "(4294967296,)".into(),
        "(4294967295,)".into(),
        format!("({},)", n + 1),
        "(4294967296, 4294967296)".into(),
        "(-1,)".into(),
        "(99999999999999999999999999,)".into(),
    ] {
        let patched = header.replace(&format!("({n},)"), &shape);
        assert_ne!(patched, header);
        // Re-pad the header to a multiple of 64 bytes, as numpy writes it.
        let mut text = patched.trim_end().to_owned();
        while (10 + text.len() + 1) % 64 != 0 {
            text.push(' ');
        }
        text.push('\n');
        let mut npy = parts[y].1[..8].to_vec();
        npy.extend((text.len() as u16).to_le_bytes());
        npy.extend(text.as_bytes());
        npy.extend(&parts[y].1[header_end..]);
        let mut damaged = parts.clone();
        damaged[y].1 = npy;
        let npz = dir.path().join("shape.npz");
        std::fs::write(&npz, rezip(&damaged)).unwrap();
        let out = dir.path().join("out.tok");
        // A 1 GiB address space: a shape that sized an allocation would abort.
        let o = Command::new("sh")
            .arg("-c")
            .arg("ulimit -v 1048576 && exec \"$0\" \"$@\"")
            .args(target_argv(env!("CARGO_BIN_EXE_imdb-pack")))
            .args([
                "--npz",
                npz.to_str().unwrap(),
                "--out",
                out.to_str().unwrap(),
            ])
            .output()
            .unwrap();
        let stderr = String::from_utf8_lossy(&o.stderr);
        assert_eq!(o.status.code(), Some(1), "shape {shape}: {stderr}");
        assert!(stderr.contains("y_train"), "shape {shape}: {stderr}");
        assert!(!stderr.contains("panicked") && !stderr.contains("memory allocation"));
        assert_eq!(stderr.trim_end().lines().count(), 1, "{stderr}");
        assert!(!out.exists());
        if std::env::var_os("SHOW_MESSAGES").is_some() {
            eprintln!("{shape}: {stderr}");
        }
    }
}

/// `--out` naming the input itself — by the same path, a symlink or a hard link — is refused
/// before anything is read, and the npz is left byte for byte as it was.
#[test]
fn out_equal_to_the_npz_is_refused_and_the_input_kept() {
    let dir = tempfile::tempdir().unwrap();
    let npz = dir.path().join("imdb.npz");
    std::fs::copy(fixtures().join("small_p4_deflated.npz"), &npz).unwrap();
    let before = std::fs::read(&npz).unwrap();
    let link = dir.path().join("link.tok");
    std::os::unix::fs::symlink(&npz, &link).unwrap();
    let hard = dir.path().join("hard.tok");
    std::fs::hard_link(&npz, &hard).unwrap();
    let dotted = dir.path().join(".").join("imdb.npz");
    for out in [&npz, &link, &hard, &dotted] {
        let o = imdb_pack(&[
            "--npz",
            npz.to_str().unwrap(),
            "--out",
            out.to_str().unwrap(),
        ]);
        let stderr = String::from_utf8_lossy(&o.stderr);
        assert_eq!(o.status.code(), Some(1), "{}: {stderr}", out.display());
        assert!(
            stderr.contains("same file as --npz") && stderr.lines().count() == 1,
            "{}: {stderr}",
            out.display()
        );
        assert_eq!(std::fs::read(&npz).unwrap(), before, "{}", out.display());
    }
    assert!(
        std::fs::symlink_metadata(&link)
            .unwrap()
            .file_type()
            .is_symlink()
    );
}

/// `--num-words 0` is Keras' `num_words=None` (`load_data` tests `if not num_words`): the same
/// file as `--num-words none`, not a refusal.
#[test]
fn num_words_zero_is_none_as_in_keras() {
    let dir = tempfile::tempdir().unwrap();
    let npz = fixtures().join("many_short_p2_deflated.npz");
    let files: Vec<Vec<u8>> = ["none", "0"]
        .iter()
        .map(|n| {
            let out = dir.path().join(format!("{n}.tok"));
            let o = imdb_pack(&[
                "--npz",
                npz.to_str().unwrap(),
                "--out",
                out.to_str().unwrap(),
                "--num-words",
                n,
                "--quiet",
            ]);
            assert!(
                o.status.success(),
                "{n}: {}",
                String::from_utf8_lossy(&o.stderr)
            );
            std::fs::read(&out).unwrap()
        })
        .collect();
    assert_eq!(files[0], files[1]);
}
