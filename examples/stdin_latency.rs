//! Latency of `fusedrnn predict --stdin` as a pipeline sees it: write one review line, read its
//! probability line, repeat; each round trip timed (pipes, the CLI's line loop, tokenizing,
//! scoring, the flush).
//!
//! ```sh
//! cargo build --release
//! cargo run --release --example stdin_latency -- target/release/fusedrnn M.safetensors \
//!     imdb_word_index.json benches/peers/review_230.txt [ROUND_TRIPS]
//! ```

use std::io::{BufRead, BufReader, Write};
use std::process::{Command, Stdio};
use std::time::Instant;

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let [exe, model, index, review, rest @ ..] = args.as_slice() else {
        return Err("usage: stdin_latency FUSEDRNN_EXE MODEL WORD_INDEX REVIEW.txt [N]".into());
    };
    let n: usize = rest.first().map_or(Ok(20_000), |s| s.parse())?;
    let text = std::fs::read_to_string(review)?;
    let line = format!("{}\n", text.trim_end_matches(['\n', '\r']));
    let mut child = Command::new(exe)
        .args([
            "predict",
            "--model",
            model,
            "--word-index",
            index,
            "--stdin",
        ])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .spawn()?;
    let mut stdin = child.stdin.take().ok_or("no stdin")?;
    let mut stdout = BufReader::new(child.stdout.take().ok_or("no stdout")?);
    let mut answer = String::new();
    let mut round_trip = |answer: &mut String| -> std::io::Result<f64> {
        let t = Instant::now();
        stdin.write_all(line.as_bytes())?;
        stdin.flush()?;
        answer.clear();
        stdout.read_line(answer)?;
        Ok(t.elapsed().as_nanos() as f64)
    };
    for _ in 0..n / 10 {
        round_trip(&mut answer)?;
    }
    let mut ns = (0..n)
        .map(|_| round_trip(&mut answer))
        .collect::<Result<Vec<f64>, _>>()?;
    ns.sort_by(f64::total_cmp);
    println!(
        "predict --stdin round trip  p50 {:.3} us  p99 {:.3} us  mean {:.3} us  ({n} lines, prob {})",
        ns[n / 2] / 1e3,
        ns[n * 99 / 100] / 1e3,
        ns.iter().sum::<f64>() / n as f64 / 1e3,
        answer.trim()
    );
    drop(stdin); // EOF: the CLI exits
    child.wait()?;
    Ok(())
}
