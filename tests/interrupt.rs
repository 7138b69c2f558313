//! Nothing lost: `fusedrnn predict` and `fusedrnn train` interrupted by SIGINT or SIGKILL at
//! pseudo-random moments never leave a truncated or corrupt file where a good one stood.
//! Every output is either the complete earlier file or the complete new one; SIGINT also
//! removes the temporary files (exit status 130), and after SIGKILL, which no program can
//! catch, only a hidden `.NAME.tmp.XXXXXXXXXXXXXXXX` file may remain beside the target.
//! (`imdb-pack` has the same test in `data-tools/tests/interrupt.rs`.) An input truncated or
//! overwritten while `predict` runs gives a clean result or a clean error naming it, never a
//! signal, a panic or a temporary left behind.

use std::fs;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use fusedrnn::model::Model;
use fusedrnn::shape::SEQ_LEN;
use fusedrnn::tokfile::{PackParams, SplitData};
use fusedrnn::train::SplitMix64;

// The binary is started through the target's runner when the tests run under an emulator.
use crate::common::runner;

fn s(p: &Path) -> &str {
    p.to_str().expect("utf-8 path")
}

fn spawn(args: &[&str]) -> Child {
    runner::target_command(env!("CARGO_BIN_EXE_fusedrnn"))
        .args(args)
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .expect("run fusedrnn")
}

/// Runs to completion; returns the wall time.
fn run_ok(args: &[&str]) -> Duration {
    let start = Instant::now();
    let o = spawn(args).wait_with_output().unwrap();
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    start.elapsed()
}

#[derive(Clone, Copy, Debug)]
enum Signal {
    Int,
    Kill,
}

/// Starts `args`, waits `delay`, sends `signal`, and reaps the process. Returns whether the
/// signal arrived before the process finished on its own.
fn interrupt(args: &[&str], delay: Duration, signal: Signal) -> bool {
    let mut child = spawn(args);
    std::thread::sleep(delay);
    if child.try_wait().unwrap().is_some() {
        return false;
    }
    match signal {
        Signal::Kill => child.kill().unwrap(),
        Signal::Int => {
            let ok = Command::new("kill")
                .args(["-s", "INT", &child.id().to_string()])
                .status()
                .unwrap();
            assert!(ok.success());
        }
    }
    let o = child.wait_with_output().unwrap();
    let stderr = String::from_utf8_lossy(&o.stderr);
    assert!(!stderr.contains("panicked"), "{stderr}");
    if let Signal::Int = signal {
        // Either the handler ran (130), or the run had just finished (0).
        assert!(
            matches!(o.status.code(), Some(130 | 0)),
            "{:?} {stderr}",
            o.status
        );
    }
    true
}

/// Files in `dir` that are temporaries (`.NAME.tmp.XXXXXXXXXXXXXXXX`); removes them.
fn sweep_temporaries(dir: &Path) -> Vec<PathBuf> {
    let mut found = Vec::new();
    for e in fs::read_dir(dir).unwrap() {
        let p = e.unwrap().path();
        let name = p.file_name().unwrap().to_string_lossy().into_owned();
        if name.starts_with('.') && name.contains(".tmp.") {
            fs::remove_file(&p).unwrap();
            found.push(p);
        }
    }
    found
}

/// A token file whose test split takes the debug build a second or more to score.
fn big_token_file(path: &Path, rows: usize) {
    let mut rng = SplitMix64::new(7);
    let mut tokens = Vec::with_capacity(rows * SEQ_LEN);
    let mut labels = Vec::with_capacity(rows);
    let mut lengths = Vec::with_capacity(rows);
    for _ in 0..rows {
        let len = 1 + (rng.next_u64() % SEQ_LEN as u64) as usize;
        tokens.extend(std::iter::repeat_n(0u16, SEQ_LEN - len));
        tokens.extend((0..len).map(|_| 1 + (rng.next_u64() % 499) as u16));
        labels.push((rng.next_u64() & 1) as u8);
        lengths.push(len as u32);
    }
    let train = SplitData {
        tokens: &tokens[..2000 * SEQ_LEN],
        labels: &labels[..2000],
        lengths: &lengths[..2000],
    };
    let val = SplitData {
        tokens: &tokens[..500 * SEQ_LEN],
        labels: &labels[..500],
        lengths: &lengths[..500],
    };
    let test = SplitData {
        tokens: &tokens,
        labels: &labels,
        lengths: &lengths,
    };
    fusedrnn::tokfile::write_atomic(path, &PackParams::NOTEBOOK, [train, val, test]).unwrap();
}

#[test]
fn interrupted_predict_leaves_the_old_or_the_new_file() {
    let dir = tempfile::tempdir().unwrap();
    let tok = dir.path().join("big.tok");
    big_token_file(&tok, 100_000);
    let fixtures = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/parity");
    let lstm = fixtures.join("lstm.safetensors");
    let rnn = fixtures.join("rnn.safetensors");
    let out = dir.path().join("p.npy");
    let predict = |model: &Path| {
        [
            "predict",
            "--model",
            s(model),
            "--data",
            s(&tok),
            "--out",
            s(&out),
            "--threads",
            "1",
        ]
        .map(str::to_owned)
    };
    // The earlier good result (another model's) and what a complete new run writes.
    run_ok(&predict(&rnn).each_ref().map(String::as_str));
    let old = fs::read(&out).unwrap();
    let full = run_ok(&predict(&lstm).each_ref().map(String::as_str));
    let new = fs::read(&out).unwrap();
    assert_ne!(old, new);
    assert_eq!(new.len(), 128 + 4 * 100_000);

    let mut rng = SplitMix64::new(2026);
    let mut interrupted = 0;
    // At least 12 rounds, and more (up to 48) until 6 were really interrupted: on a loaded
    // machine a run can outpace the one `full` was timed on, and a round whose delay outlasts it
    // checks nothing. The pattern below repeats every 12 rounds.
    let mut rounds = 0;
    for round in 0..48 {
        if round >= 12 && interrupted >= 6 {
            break;
        }
        rounds += 1;
        let signal = if round % 2 == 0 {
            Signal::Int
        } else {
            Signal::Kill
        };
        // With no earlier file in rounds 0, 1, 6, 7: then the file may be absent.
        let had_old = !matches!(round % 12, 0 | 1 | 6 | 7);
        if had_old {
            fs::write(&out, &old).unwrap();
        } else {
            let _ = fs::remove_file(&out);
        }
        let delay = full.mul_f64(0.05 + 0.9 * rng.next_f64());
        let args = predict(&lstm);
        let args: Vec<&str> = args.iter().map(String::as_str).collect();
        interrupted += usize::from(interrupt(&args, delay, signal));
        match fs::read(&out) {
            Ok(bytes) => assert!(
                bytes == new || (had_old && bytes == old),
                "round {round} ({signal:?} after {delay:?}): {} bytes, neither file",
                bytes.len()
            ),
            Err(e) => assert!(!had_old, "round {round}: the old file is gone: {e}"),
        }
        let temporaries = sweep_temporaries(dir.path());
        if let Signal::Int = signal {
            assert!(temporaries.is_empty(), "SIGINT left {temporaries:?}");
        }
    }
    assert!(
        interrupted >= 6,
        "only {interrupted} of {rounds} runs were interrupted"
    );
}

/// `history.csv` must be whole: the header, then complete lines numbered 1, 2, ...
fn check_history(path: &Path) -> usize {
    let text = fs::read_to_string(path).unwrap();
    assert!(text.ends_with('\n'), "{text}");
    let mut lines = text.lines();
    assert_eq!(
        lines.next(),
        Some("epoch,loss,accuracy,val_loss,val_accuracy,seconds")
    );
    let mut n = 0;
    for (i, line) in lines.enumerate() {
        let fields: Vec<f64> = line.split(',').map(|f| f.parse().unwrap()).collect();
        assert_eq!(fields.len(), 6, "{line}");
        assert_eq!(fields[0], (i + 1) as f64, "{text}");
        n += 1;
    }
    n
}

#[test]
fn interrupted_train_keeps_the_last_good_checkpoint_and_history() {
    let dir = tempfile::tempdir().unwrap();
    let tok = dir.path().join("small.tok");
    big_token_file(&tok, 3000);
    let run_dir = dir.path().join("run");
    let train = [
        "train",
        "--data",
        s(&tok),
        "--arch",
        "lstm",
        "--epochs",
        "6",
        "--patience",
        "10",
        "--threads",
        "1",
        "--out",
        s(&run_dir),
        // Each round trains again into the folder of the round before.
        "--overwrite",
    ];
    let full = run_ok(&train);
    let best = run_dir.join("best.safetensors");
    let history = run_dir.join("history.csv");
    assert_eq!(check_history(&history), 6);
    Model::load(&best).unwrap();

    let mut rng = SplitMix64::new(11);
    let mut interrupted = 0;
    // At least 10 rounds, and more (up to 30) until 5 were really interrupted (see above).
    let mut rounds = 0;
    for round in 0..30 {
        if round >= 10 && interrupted >= 5 {
            break;
        }
        rounds += 1;
        let signal = if round % 2 == 0 {
            Signal::Int
        } else {
            Signal::Kill
        };
        // Half the rounds start from a finished run's folder, half from nothing.
        if round >= 5 {
            let _ = fs::remove_dir_all(&run_dir);
        }
        let delay = full.mul_f64(0.05 + 0.9 * rng.next_f64());
        interrupted += usize::from(interrupt(&train, delay, signal));
        if run_dir.exists() {
            if best.exists() {
                Model::load(&best).unwrap_or_else(|e| panic!("round {round}: {e}"));
            }
            if history.exists() {
                let epochs = check_history(&history);
                assert!((1..=6).contains(&epochs));
                // A history line is written after its checkpoint: one always has the other.
                assert!(best.exists(), "round {round}: history without a checkpoint");
            }
            let temporaries = sweep_temporaries(&run_dir);
            if let Signal::Int = signal {
                assert!(temporaries.is_empty(), "SIGINT left {temporaries:?}");
            }
        }
        if round < 4 {
            // Restore a finished run for the next round.
            run_ok(&train);
        }
    }
    assert!(
        interrupted >= 5,
        "only {interrupted} of {rounds} runs were interrupted"
    );
}

/// Issue 13, item 6: the token file truncated to half, or overwritten with 0xFF bytes, at
/// pseudo-random moments while `predict` reads and scores it. Each run either finishes with the
/// complete right output (the file was read before it changed: it is held in memory, not
/// mapped) or fails with exit 1 and one error naming the file; never a signal (SIGBUS was the
/// old outcome of truncation), a panic (the old outcome of 0xFF tokens) or a temporary file.
#[test]
fn an_input_changed_under_predict_is_an_error_or_harmless() {
    let dir = tempfile::tempdir().unwrap();
    let tok = dir.path().join("big.tok");
    big_token_file(&tok, 100_000);
    let good = fs::read(&tok).unwrap();
    let model =
        Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/parity/lstm.safetensors");
    let out_dir = dir.path().join("out");
    fs::create_dir(&out_dir).unwrap();
    let out = out_dir.join("p.npy");
    let args = [
        "predict",
        "--model",
        s(&model),
        "--data",
        s(&tok),
        "--out",
        s(&out),
        "--threads",
        "1",
    ];
    let full = run_ok(&args);
    let want = fs::read(&out).unwrap();
    let mut rng = SplitMix64::new(13);
    let (mut failed, mut finished) = (0, 0);
    for round in 0..12 {
        fs::write(&tok, &good).unwrap();
        let _ = fs::remove_file(&out);
        let child = spawn(&args);
        // Half the rounds change the file early (while it is opened and read), half while the
        // split is being scored.
        let span = match round {
            0 | 1 => 0.0,
            2..6 => 0.1,
            _ => 0.6,
        };
        std::thread::sleep(full.mul_f64(span * rng.next_f64()));
        if round % 2 == 0 {
            fs::OpenOptions::new()
                .write(true)
                .open(&tok)
                .unwrap()
                .set_len(good.len() as u64 / 2)
                .unwrap();
        } else {
            // In place (same inode), as a careless writer would.
            use std::io::Write;
            let mut f = fs::OpenOptions::new().write(true).open(&tok).unwrap();
            f.write_all(&vec![0xFF; good.len()]).unwrap();
        }
        let o = child.wait_with_output().unwrap();
        let stderr = String::from_utf8_lossy(&o.stderr);
        let ctx = format!("round {round}: {:?}\n{stderr}", o.status);
        assert!(!stderr.contains("panicked"), "{ctx}");
        match o.status.code() {
            Some(0) => {
                finished += 1;
                assert_eq!(fs::read(&out).unwrap(), want, "{ctx}");
            }
            Some(1) => {
                failed += 1;
                let lines: Vec<&str> = stderr.lines().filter(|l| l.contains("error")).collect();
                assert_eq!(lines.len(), 1, "{ctx}");
                assert!(lines[0].contains(s(&tok)), "{ctx}");
                assert!(!out.exists(), "{ctx}");
            }
            _ => panic!("killed by a signal or an unexpected status; {ctx}"),
        }
        assert!(sweep_temporaries(&out_dir).is_empty(), "{ctx}");
    }
    eprintln!("{finished} runs finished, {failed} refused the changed file");
}
