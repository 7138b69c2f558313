//! Nothing lost: `imdb-pack` interrupted by SIGINT or SIGKILL at pseudo-random moments never
//! leaves a truncated token file where a good one stood: the target is the complete earlier
//! file or the complete new one. SIGINT also removes the temporary file (exit status 130).

use std::fs;
use std::path::Path;
use std::process::{Command, Stdio};
use std::time::Instant;

use fusedrnn::tokfile::TokFile;
use fusedrnn::train::SplitMix64;
use fusedrnn_data_tools::synth::{SynthConfig, generate, npz_bytes};

mod common;

fn s(p: &Path) -> &str {
    p.to_str().expect("utf-8 path")
}

fn pack(npz: &Path, out: &Path, maxlen: &str) -> Command {
    let mut c = common::target_command(env!("CARGO_BIN_EXE_imdb-pack"));
    c.args(["--npz", s(npz), "--out", s(out), "--maxlen", maxlen])
        .stdout(Stdio::null())
        .stderr(Stdio::piped());
    c
}

#[test]
fn interrupted_pack_leaves_the_old_or_the_new_file() {
    let dir = tempfile::tempdir().unwrap();
    let npz = dir.path().join("synth.npz");
    let (xa, ya, xb, yb) = generate(&SynthConfig::default());
    fs::write(&npz, npz_bytes(&xa, &ya, &xb, &yb).unwrap()).unwrap();
    let out = dir.path().join("imdb.tok");
    let o = pack(&npz, &out, "50").output().unwrap();
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let old = fs::read(&out).unwrap();
    let start = Instant::now();
    let o = pack(&npz, &out, "100").output().unwrap();
    let full = start.elapsed();
    assert!(o.status.success());
    let new = fs::read(&out).unwrap();
    assert_ne!(old, new);
    TokFile::open(&out).unwrap();

    let mut rng = SplitMix64::new(5);
    let mut interrupted = 0;
    // At least 12 rounds, and more (up to 48) until 6 were really interrupted: on a loaded
    // machine a run can outpace the one `full` was timed on, and a round whose delay outlasts it
    // checks nothing.
    let mut rounds = 0;
    for round in 0..48 {
        if round >= 12 && interrupted >= 6 {
            break;
        }
        rounds += 1;
        let sigint = round % 2 == 0;
        fs::write(&out, &old).unwrap();
        let delay = full.mul_f64(0.05 + 0.9 * rng.next_f64());
        let mut child = pack(&npz, &out, "100").spawn().unwrap();
        std::thread::sleep(delay);
        if child.try_wait().unwrap().is_none() {
            interrupted += 1;
            if sigint {
                let pid = child.id().to_string();
                assert!(
                    Command::new("kill")
                        .args(["-s", "INT", &pid])
                        .status()
                        .unwrap()
                        .success()
                );
            } else {
                child.kill().unwrap();
            }
        }
        let o = child.wait_with_output().unwrap();
        let stderr = String::from_utf8_lossy(&o.stderr);
        assert!(!stderr.contains("panicked"), "{stderr}");
        if sigint {
            assert!(
                matches!(o.status.code(), Some(130 | 0)),
                "{:?} {stderr}",
                o.status
            );
        }
        let bytes = fs::read(&out).unwrap();
        assert!(
            bytes == old || bytes == new,
            "round {round} after {delay:?}: {} bytes, neither file",
            bytes.len()
        );
        for e in fs::read_dir(dir.path()).unwrap() {
            let p = e.unwrap().path();
            if p.file_name().unwrap().to_string_lossy().contains(".tmp.") {
                assert!(!sigint, "SIGINT left {}", p.display());
                fs::remove_file(p).unwrap();
            }
        }
    }
    assert!(
        interrupted >= 6,
        "only {interrupted} of {rounds} runs were interrupted"
    );
}
