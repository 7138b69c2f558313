#!/usr/bin/env python3
"""README's figures from one command: measure, write a results file, render README's tables.

    benches/report/report.py run [--runs N] [--quick] [--no-peers] [--peers-python PY] [--no-readme]
    benches/report/report.py render [--results FILE] [--force]
    benches/report/report.py check

``run`` builds what it needs (release), then runs every benchmark ``--runs`` times (3 by default),
round-robin so slow drift spreads over all of them: the criterion benches (``kernels``,
``throughput``, ``train``, ``text`` and data-tools' ``pack``, each into its own ``CRITERION_HOME``),
``fusedrnn bench``, the C API latency tool (``examples/c/latency.c``), the CLI pipe latency tool
(``examples/stdin_latency.rs``), the clock (``benches/report/clock.c``, a dependent-add chain) and,
unless ``--no-peers``, ``benches/peers/run.sh`` (PyTorch, ONNX Runtime, Keras; its own venv) and
``benches/peers/text_latency.py``. It writes one results file, ``benches/results/<UTC time>-<commit>.json``
(``-quick`` added for ``--quick``), then rewrites README's tables from it (not for ``--quick``).

``render`` rewrites README's tables from a results file (default: the newest in ``benches/results/``);
a ``--quick`` results file is refused unless ``--force``, and then every table says so.
``check`` re-renders every table from the results file its marker names and exits 1 with a diff
when README differs: the drift test (``tests/readme_figures.rs``) runs it in CI.

Python 3.9+ standard library only. The kernel name is always read from the binaries, never assumed.
"""

from __future__ import annotations

import argparse
import datetime as dt
import difflib
import json
import math
import os
import platform
import re
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any, Callable, Dict, List, Optional, Sequence, Tuple

ROOT = Path(__file__).resolve().parents[2]
HERE = Path(__file__).resolve().parent
RESULTS_DIR = ROOT / "benches" / "results"
README = ROOT / "README.md"
SCHEMA = 1
# A run whose 1-minute load average is above this when its measurements start is flagged noisy.
QUIET_LOAD = 0.5

# The ISA flags (as /proc/cpuinfo spells them) that decide which kernel can run.
ISA_FLAGS = ("avx2", "fma", "avx512f", "avx512bw", "avx512vl")

# README's generated blocks, in README order.
BLOCKS = ("machine", "inference", "latency", "training", "peers", "shapes", "datapath")

# The criterion benches every run measures: (package, bench, filter); ``{kernel}`` in a filter is the
# kernel's name, escaped. prepare() builds exactly these.
CRITERION_BENCHES: Tuple[Tuple[str, str, str], ...] = (
    (
        "fusedrnn",
        "kernels",
        r"^(activations/(sigmoid|tanh)4096|step_latency/(lstm|rnn)|steps_together/(lstm|rnn)|sequence_latency/(lstm|rnn))/{kernel}$",
    ),
    ("fusedrnn", "throughput", r"^throughput/"),
    ("fusedrnn", "train", r"^(train_batch/batch64/lstm/|train_parts/|train_epoch/)"),
    ("fusedrnn", "text", r"^tokenize/"),
    ("fusedrnn", "net", r"^net/"),
    ("fusedrnn-data-tools", "pack", r"^pack/"),
)

Figures = Dict[str, Dict[str, Any]]


class ReportError(Exception):
    """A failure the user can act on: printed as one error line, exit status 1."""


class QuickRefused(ReportError):
    """A ``--quick`` results file offered for README without ``--force``."""


# ------------------------------------------------------------------------------------------------
# Statistics and formatting


def summarize(values: Sequence[float]) -> Dict[str, float]:
    """Median and range of one figure over the runs (``values`` must not be empty)."""
    if not values:
        raise ValueError("summarize: no values")
    return {"median": statistics.median(values), "min": min(values), "max": max(values)}


def sig3(v: float) -> str:
    """``v`` with three significant digits (thousands separated), e.g. 38.5, 0.101, 1,180."""
    if v == 0 or not math.isfinite(v):
        return f"{v:g}"
    decimals = max(0, 2 - math.floor(math.log10(abs(v))))
    return f"{round(v, decimals):,.{decimals}f}"


def rate(v: float) -> str:
    """A rate in k / M with three significant digits: 619k, 1.18M, 5.35M."""
    if abs(v) >= 1e6:
        return sig3(v / 1e6) + "M"
    if abs(v) >= 1e3:
        return sig3(v / 1e3) + "k"
    return sig3(v)


def cell(values: Optional[Sequence[float]], fmt: Callable[[float], str] = sig3) -> str:
    """``median (min–max)`` of the runs, or ``—`` when the figure was not measured."""
    if not values:
        return "—"
    s = summarize(values)
    if len(values) == 1:
        return f"{fmt(s['median'])} (1 run)"
    return f"{fmt(s['median'])} ({fmt(s['min'])}–{fmt(s['max'])})"


# ------------------------------------------------------------------------------------------------
# Parsers of the tools' outputs (pure functions of text, tested on fixtures)


def parse_cpuinfo(text: str) -> Dict[str, Any]:
    """The first processor of ``/proc/cpuinfo``: model name, vendor, family, model, ISA flags."""
    first = text.split("\n\n")[0]
    fields: Dict[str, str] = {}
    for line in first.splitlines():
        if ":" in line:
            k, v = line.split(":", 1)
            fields.setdefault(k.strip(), v.strip())
    flags = set(fields.get("flags", fields.get("Features", "")).split())

    def num(key: str) -> Optional[int]:
        v = fields.get(key)
        try:
            return int(v, 0) if v is not None else None
        except ValueError:
            return None

    return {
        "model_name": fields.get("model name") or fields.get("Model") or platform.processor() or "unknown",
        "vendor": fields.get("vendor_id") or fields.get("CPU implementer") or "unknown",
        "family": num("cpu family"),
        "model": num("model"),
        "stepping": num("stepping"),
        "isa": {f: f in flags for f in ISA_FLAGS},
        "hypervisor": "hypervisor" in flags,
    }


def parse_clock(text: str) -> Dict[str, List[float]]:
    """``clock``'s lines ``best_ghz B typical_ghz T`` → both lists."""
    best, typical = [], []
    for m in re.finditer(r"best_ghz ([0-9.]+) typical_ghz ([0-9.]+)", text):
        best.append(float(m.group(1)))
        typical.append(float(m.group(2)))
    if not best:
        raise ReportError(f"clock printed no measurement: {text!r}")
    return {"best": best, "typical": typical}


def parse_fma_peak(text: str) -> Dict[str, float]:
    """``insn_latency --peak``'s line → {"ymm": Y, "zmm": Z}, without zmm where it printed 0 (no AVX-512)."""
    m = re.search(r"ymm_macs_per_cycle ([0-9.]+) zmm_macs_per_cycle ([0-9.]+)", text)
    if not m or float(m.group(1)) <= 0:
        raise ReportError(f"insn_latency --peak printed no peak: {text!r}")
    out = {"ymm": float(m.group(1))}
    if float(m.group(2)) > 0:
        out["zmm"] = float(m.group(2))
    return out


_LAT = re.compile(r"^(?P<what>.+?)\s+p50\s+(?P<p50>[0-9.]+) us\s+p99\s+(?P<p99>[0-9.]+) us", re.M)


def parse_latency_lines(text: str) -> Dict[str, Tuple[float, float]]:
    """Lines ``WHAT p50 X us  p99 Y us ...`` (latency.c, stdin_latency, text_latency.py) → {WHAT: (p50, p99)}."""
    out = {m.group("what").strip(): (float(m.group("p50")), float(m.group("p99"))) for m in _LAT.finditer(text)}
    if not out:
        raise ReportError(f"no 'p50 … us  p99 … us' line in: {text!r}")
    return out


def parse_capi_kernel(text: str) -> str:
    """The kernel latency.c's first line names: ``lstm model, KERNEL kernel, review of …``."""
    m = re.search(r"^\S+ model, (\S+) kernel", text, re.M)
    if not m:
        raise ReportError(f"latency.c did not name its kernel: {text!r}")
    return m.group(1)


def read_criterion(home: Path, kernel: str) -> Figures:
    """Every benchmark criterion wrote under ``home`` (``*/new/benchmark.json`` + ``estimates.json``).

    The figure is criterion's median time per iteration, in ns; the kernel's name in the id becomes
    ``KERNEL`` so that figures keep their key whatever kernel ran (the kernel is recorded apart).
    """
    figures: Figures = {}
    for bench in sorted(home.rglob("new/benchmark.json")):
        meta = json.loads(bench.read_text())
        est = json.loads((bench.parent / "estimates.json").read_text())
        full_id = meta["full_id"]
        key = "criterion." + full_id.replace(kernel, "KERNEL")
        fig: Dict[str, Any] = {
            "unit": "ns",
            "value": est["median"]["point_estimate"],
            "source": full_id,
        }
        thr = meta.get("throughput") or {}
        if "Elements" in thr:
            fig["elements"] = thr["Elements"]
        if "Bytes" in thr:
            fig["bytes"] = thr["Bytes"]
        figures[key] = fig
    return figures


def criterion_kernel(full_id: str) -> Optional[str]:
    """The kernel name inside a criterion id of ours, where the bench puts one (see benches/*.rs)."""
    parts = full_id.split("/")
    if parts[0] == "throughput" and len(parts) == 5:
        return parts[3]  # throughput/ARCH/test25000/KERNEL/Nt
    if parts[0] == "net" and len(parts) == 5 and parts[1].startswith("batch"):
        return parts[3]  # net/batch1024/CELLUNITS/KERNEL/THREADS
    if parts[0] == "net" and len(parts) == 4 and parts[1] in ("one", "step"):
        return parts[3]  # net/one/CELLUNITS/KERNEL, net/step/CELLUNITS/KERNEL
    if parts[0] in (
        "activations",
        "step_latency",
        "steps_together",
        "sequence_latency",
        "train_batch",
        "train_epoch",
    ) or (parts[0] == "train_parts" and parts[1].startswith("shard")):
        return parts[-1]
    return None


def peers_figures(res: Dict[str, Any]) -> Tuple[Dict[str, float], Dict[str, str], Dict[str, str]]:
    """One ``peers.py`` results file → (figures, notes, kernels seen).

    PyTorch's throughput is its best batch size of that run (the note says which), as peers.py's table.
    """
    figs: Dict[str, float] = {}
    notes: Dict[str, str] = {}
    kernels: Dict[str, str] = {}
    for arch, r in res.get("models", {}).items():
        for peer in ("pytorch", "onnxruntime", "keras"):
            for t, pr in (r.get(peer) or {}).get("threads", {}).items():
                best = None
                for name, v in pr.items():
                    if isinstance(v, dict) and "reviews_per_s" in v and (best is None or v["reviews_per_s"] > best[1]):
                        best = (name, v["reviews_per_s"])
                if best:
                    key = f"peers.{arch}.{peer}.{t}t.reviews_per_s"
                    figs[key] = best[1]
                    notes[key] = best[0].replace("batch", "b").replace("whole_split", "whole split")
                if str(t) == "1":
                    if "batch1_latency_us" in pr:
                        figs[f"peers.{arch}.{peer}.b1_p50_us"] = pr["batch1_latency_us"]["p50"]
                        figs[f"peers.{arch}.{peer}.b1_p99_us"] = pr["batch1_latency_us"]["p99"]
                    if "step_latency_ns" in pr:
                        figs[f"peers.{arch}.{peer}.step_p50_ns"] = pr["step_latency_ns"]["p50"]
        for t, b in r.get("fusedrnn", {}).get("threads", {}).items():
            figs[f"peers.{arch}.fusedrnn.{t}t.reviews_per_s"] = b["reviews_per_s"]
            kernels["peers"] = b["kernel"]
            if str(t) == "1":
                figs[f"peers.{arch}.fusedrnn.b1_p50_us"] = b["review_latency_us"]["p50"]
                figs[f"peers.{arch}.fusedrnn.b1_p99_us"] = b["review_latency_us"]["p99"]
                figs[f"peers.{arch}.fusedrnn.step_p50_ns"] = b["step_latency_ns"]["p50"]
        for peer, ag in res.get("agreement", {}).get(arch, {}).items():
            figs[f"peers.{arch}.{peer}.max_abs_diff"] = ag["max_abs_diff"]
    tr = res.get("training") or {}
    keras = tr.get("keras") or {}
    if len(keras.get("seconds", [])) >= 2:
        figs["peers.train.keras.epoch1_s"] = keras["seconds"][0]
        figs["peers.train.keras.epoch_s"] = keras["seconds"][-1]
    ours = tr.get("fusedrnn") or {}
    if ours.get("seconds"):
        figs["peers.train.fusedrnn.epoch_s"] = ours["seconds"][-1]
    return figs, notes, kernels


def shapes_figures(res: Dict[str, Any]) -> Dict[str, float]:
    """One ``benches/peers/shapes.py`` results file → figures ``shapes.CELLUNITS.PEER.Nt.{reviews_per_s,b1_p*_us}``."""
    figs: Dict[str, float] = {}
    for shape, peers in res["shapes"].items():
        for peer in ("pytorch", "onnxruntime"):
            for t, r in peers[peer].items():
                pre = f"shapes.{shape}.{peer}.{t}t"
                figs[f"{pre}.reviews_per_s"] = r["reviews_per_s"]
                figs[f"{pre}.b1_p50_us"] = r["batch1_latency_us"]["p50"]
                figs[f"{pre}.b1_p99_us"] = r["batch1_latency_us"]["p99"]
        agree = peers.get("fusedrnn_agreement") or {}
        if agree.get("checked"):
            figs[f"shapes.{shape}.max_abs_diff"] = agree["max_abs_diff"]
    return figs


def peers_versions(res: Dict[str, Any]) -> Dict[str, Any]:
    """The library versions and torch's CPU path from one peers.py results file."""
    v = res.get("versions", {})
    return {k: v.get(k) for k in ("torch", "onnxruntime", "keras", "keras_backend", "jax", "numpy", "python")} | {
        "torch_cpu_capability": (res.get("torch") or {}).get("cpu_capability")
    }


# ------------------------------------------------------------------------------------------------
# Measuring


class Runner:
    """One ``run``: the tools, the per-run figures they produce, progress on stderr."""

    def __init__(self, args: argparse.Namespace) -> None:
        self.args = args
        self.quick: bool = args.quick
        self.started = time.monotonic()
        self.work = ROOT / "target" / "report"
        self.work.mkdir(parents=True, exist_ok=True)
        self.tmp = Path(tempfile.mkdtemp(prefix="run-", dir=self.work))
        self.values: Dict[str, List[float]] = {}
        self.meta: Dict[str, Dict[str, Any]] = {}
        self.notes: Dict[str, List[str]] = {}
        self.kernels: Dict[str, set] = {}
        self.peer_versions: Optional[Dict[str, Any]] = None
        shared = ROOT.parent / "shared" / "data"
        self.npz = Path(os.environ.get("FUSEDRNN_IMDB_NPZ", shared / "imdb.npz"))
        self.word_index = Path(os.environ.get("FUSEDRNN_WORD_INDEX", shared / "imdb_word_index.json"))
        self.tok = self.work / "imdb.tok"
        self.models = {
            a: ROOT / "tests" / "fixtures" / "parity" / f"{a}.safetensors" for a in ("lstm", "rnn", "rnn-onehot")
        }
        self.review = ROOT / "benches" / "peers" / "review_230.txt"
        self.kernel: Optional[str] = None
        self.kernel_tuning: Optional[str] = None
        self.peers_failed: Optional[str] = None

    # -- plumbing

    def say(self, msg: str) -> None:
        """Progress on stderr, with the time since the start."""
        el = int(time.monotonic() - self.started)
        print(f"[report {el // 60:2d}:{el % 60:02d}] {msg}", file=sys.stderr, flush=True)

    def sh(self, cmd: Sequence[Any], env: Optional[Dict[str, str]] = None, cpu: Optional[int] = None) -> str:
        """Runs ``cmd`` (stdout captured, stderr shown on failure); raises ReportError on failure."""
        full_env = dict(os.environ, **(env or {}))
        pre = (lambda: os.sched_setaffinity(0, {cpu})) if cpu is not None else None
        p = subprocess.run(
            [str(c) for c in cmd],
            cwd=ROOT,
            env=full_env,
            capture_output=True,
            text=True,
            preexec_fn=pre,
        )
        if p.returncode != 0:
            tail = "\n".join((p.stderr or p.stdout).splitlines()[-30:])
            raise ReportError(f"{' '.join(map(str, cmd))} failed (exit {p.returncode}):\n{tail}")
        return p.stdout

    def add(self, key: str, value: float, unit: str, source: str, **meta: Any) -> None:
        """Records one run's value of figure ``key``."""
        self.values.setdefault(key, []).append(float(value))
        self.meta.setdefault(key, {"unit": unit, "source": source, **meta})

    def saw_kernel(self, tool: str, kernel: str) -> None:
        """Records the kernel a tool reported (all tools must agree)."""
        self.kernels.setdefault(tool, set()).add(kernel)

    # -- preparation (not timed as figures)

    def prepare(self) -> None:
        """Checks the data and tools, builds everything, packs the token file (untimed)."""
        for path, what in (
            (self.npz, "Keras' imdb.npz ($FUSEDRNN_IMDB_NPZ)"),
            (self.word_index, "imdb_word_index.json ($FUSEDRNN_WORD_INDEX)"),
        ):
            if not path.is_file():
                raise ReportError(f"{path}: not found: the figures need {what}")
        for tool in ("cargo", "gcc"):
            if shutil.which(tool) is None:
                raise ReportError(f"{tool} not found on PATH: the report builds the benches and tools with it")
        self.say("building (release): fusedrnn, imdb-pack, libfusedrnn_c, stdin_latency, the criterion benches")
        # First what benches/peers/run.sh builds (every default member), so that its build finds nothing to do.
        self.sh(["cargo", "build", "--release", "--locked"])
        self.sh(
            [
                "cargo",
                "build",
                "--release",
                "--locked",
                "-p",
                "fusedrnn",
                "--bins",
                "--example",
                "stdin_latency",
                "--example",
                "net_dump",
            ]
        )
        self.sh(["cargo", "build", "--release", "--locked", "-p", "fusedrnn-data-tools", "--bins"])
        self.sh(["cargo", "build", "--release", "--locked", "-p", "fusedrnn-capi"])
        for pkg in dict.fromkeys(pkg for pkg, _, _ in CRITERION_BENCHES):
            names = [x for p, bench, _ in CRITERION_BENCHES if p == pkg for x in ("--bench", bench)]
            self.sh(["cargo", "bench", "--locked", "--no-run", "-p", pkg, *names])
        cc: List[Any] = ["gcc", "-std=c11", "-O2", "-Wall", "-Wextra"]
        self.sh(cc + ["-o", self.work / "clock", HERE / "clock.c"])
        # -mavx512f only lets its asm name zmm registers; it runs the zmm probe where the CPU has AVX-512.
        self.sh(cc + ["-mavx512f", "-o", self.work / "insn_latency", HERE / "insn_latency.c"])
        self.sh(
            cc + ["-Iinclude", "examples/c/latency.c", "-Ltarget/release", "-lfusedrnn_c", "-o", self.work / "latency"]
        )
        self.say(f"packing {self.npz} -> {self.tok}")
        self.sh([ROOT / "target/release/imdb-pack", "--npz", self.npz, "--out", self.tok, "--quiet"])
        if self.args.peers:
            # run.sh creates benches/peers/.venv on first use (torch: several GB): here, not in a timed run.
            self.say("checking the peers' Python environment (run.sh; its first use creates benches/peers/.venv)")
            cmd: List[Any] = [ROOT / "benches/peers/run.sh", "--tok", self.tok]
            if self.args.peers_python:
                cmd += ["--python", self.args.peers_python]
            try:
                self.sh(cmd + ["--help"])
            except ReportError as e:
                self.peers_failed = last_line(str(e))
                self.say(f"PEERS UNAVAILABLE, continuing without them: {e}")

    # -- the tools; each adds one value per figure per call

    def clock(self, run: int) -> None:
        """The measured clock: ``clock.c``'s median best and typical GHz."""
        c = parse_clock(self.sh([self.work / "clock", "5" if self.quick else "9"]))
        self.add("clock.best_ghz", statistics.median(c["best"]), "GHz", "benches/report/clock.c")
        self.add("clock.typical_ghz", statistics.median(c["typical"]), "GHz", "benches/report/clock.c")

    def fma_peak(self, run: int) -> None:
        """This core's FMA peak in f32 multiply-adds per cycle, ymm and (with AVX-512) zmm: ``insn_latency --peak``."""
        p = parse_fma_peak(self.sh([self.work / "insn_latency", "--peak"]))
        for width, macs in p.items():
            self.add(f"fma.peak_macs_per_cycle.{width}", macs, "MACs/cycle", "benches/report/insn_latency.c --peak")

    def fusedrnn_bench(self, run: int) -> None:
        """``fusedrnn bench --json``, each model at 1 and 2 threads; names the kernel."""
        exe = ROOT / "target/release/fusedrnn"
        for arch, model in self.models.items():
            for t in (1, 2):
                b = json.loads(
                    self.sh(
                        [
                            exe,
                            "bench",
                            "--model",
                            model,
                            "--data",
                            self.tok,
                            "--threads",
                            t,
                            "--json",
                        ]
                    )
                )
                self.saw_kernel("fusedrnn bench", b["kernel"])
                self.kernel = self.kernel or b["kernel"]
                self.kernel_tuning = self.kernel_tuning or b.get("kernel_tuning") or None
                src = f"fusedrnn bench --model {model.name} --threads {t} --json"
                self.add(f"bench.{arch}.{t}t.reviews_per_s", b["reviews_per_s"], "reviews/s", src)
                if t == 1:
                    self.add(f"bench.{arch}.step_p50_ns", b["step_latency_ns"]["p50"], "ns", src)
                    self.add(f"bench.{arch}.step_p99_ns", b["step_latency_ns"]["p99"], "ns", src)
                    if "steps_together_ns" in b:
                        together = b["steps_together_ns"]
                        self.add(f"bench.{arch}.steps_together_p50_ns", together["p50"], "ns", src)
                        self.add(f"bench.{arch}.steps_together_p99_ns", together["p99"], "ns", src)
                    self.add(f"bench.{arch}.review_p50_us", b["review_latency_us"]["p50"], "µs", src)
                    self.add(f"bench.{arch}.review_p99_us", b["review_latency_us"]["p99"], "µs", src)

    def avx2_forced(self, run: int) -> None:
        """``fusedrnn bench --json`` with ``FUSEDRNN_KERNEL=avx2-fma`` where this CPU runs AVX-512.

        Issue 16 sets its AVX2 targets for AVX2-only cores (Zen 3); on an AVX-512 machine the
        AVX2 kernel is what those users run, measured here on this core (not a Zen 3).
        """
        if not self.kernel or "avx512" not in self.kernel:
            return
        exe = ROOT / "target/release/fusedrnn"
        for arch in ("lstm", "rnn"):
            model = self.models[arch]
            for t in (1, 2):
                cmd = [exe, "bench", "--model", model, "--data", self.tok, "--threads", t, "--json"]
                b = json.loads(self.sh(cmd, env={"FUSEDRNN_KERNEL": "avx2-fma"}))
                if b["kernel"] != AVX2_KERNEL:
                    raise ReportError(f"FUSEDRNN_KERNEL=avx2-fma ran kernel {b['kernel']!r}")
                src = f"FUSEDRNN_KERNEL=avx2-fma fusedrnn bench --model {model.name} --threads {t} --json"
                self.add(f"bench_avx2.{arch}.{t}t.reviews_per_s", b["reviews_per_s"], "reviews/s", src)
                if t == 1:
                    self.add(f"bench_avx2.{arch}.step_p50_ns", b["step_latency_ns"]["p50"], "ns", src)
                    self.add(f"bench_avx2.{arch}.review_p50_us", b["review_latency_us"]["p50"], "µs", src)

    def criterion(self, run: int) -> None:
        """The criterion benches, each into its own ``CRITERION_HOME``."""
        assert self.kernel, "fusedrnn bench runs first: it names the kernel"
        k = re.escape(self.kernel)
        benches = [(pkg, bench, filt.replace("{kernel}", k)) for pkg, bench, filt in CRITERION_BENCHES]
        for pkg, bench, filt in benches:
            home = self.tmp / f"criterion-{bench}-{run}"
            self.say(f"  criterion {bench}")
            extra = ["--quick"] if self.quick else ["--warm-up-time", "1"]
            self.sh(
                [
                    "cargo",
                    "bench",
                    "--locked",
                    "-q",
                    "-p",
                    pkg,
                    "--bench",
                    bench,
                    "--",
                    *extra,
                    filt,
                ],
                env={"CRITERION_HOME": str(home)},
            )
            figs = read_criterion(home, self.kernel)
            if not figs:
                raise ReportError(f"criterion bench {bench} wrote no results under {home} (filter {filt})")
            for key, f in figs.items():
                if (kern := criterion_kernel(f["source"])) is not None:
                    self.saw_kernel(f"criterion {bench}", kern)
                meta = {x: f[x] for x in ("elements", "bytes") if x in f}
                self.add(key, f["value"], "ns", f"cargo bench --bench {bench}: {f['source']}", **meta)

    def capi(self, run: int) -> None:
        """``examples/c/latency.c``: the C API's text and ids latencies."""
        calls = 20_000 if self.quick else 200_000
        out = self.sh(
            [self.work / "latency", self.models["lstm"], self.word_index, self.review, calls],
            env={"LD_LIBRARY_PATH": str(ROOT / "target/release")},
        )
        self.saw_kernel("C API", parse_capi_kernel(out))
        lat = parse_latency_lines(out)
        src = f"examples/c/latency.c, {calls} calls"
        for what, key in (
            ("score_text", "capi.score_text"),
            ("score_ids (100 ids)", "capi.score_ids"),
        ):
            self.add(f"{key}.p50_us", lat[what][0], "µs", src)
            self.add(f"{key}.p99_us", lat[what][1], "µs", src)

    def stdin(self, run: int) -> None:
        """``examples/stdin_latency.rs``: the CLI pipe, pinned to one core and free."""
        n = 2_000 if self.quick else 20_000
        exe = ROOT / "target/release/examples/stdin_latency"
        args = [
            exe,
            ROOT / "target/release/fusedrnn",
            self.models["lstm"],
            self.word_index,
            self.review,
            n,
        ]
        for name, cpu in (("one_core", 0), ("two_cores", None)):
            lat = parse_latency_lines(self.sh(args, cpu=cpu))
            p50, p99 = next(iter(lat.values()))
            src = f"examples/stdin_latency.rs, {n} lines" + (", both processes on CPU 0" if cpu == 0 else "")
            self.add(f"cli_stdin.{name}.p50_us", p50, "µs", src)
            self.add(f"cli_stdin.{name}.p99_us", p99, "µs", src)

    def under_load(self, run: int) -> None:
        """Step and review latencies with the other core busy (issue 16, item 7).

        ``fusedrnn bench --threads 1``, pinned to CPU 0, while CPU 1 runs a batch ``fusedrnn predict``
        of the test split (one thread) again and again: how a latency-sensitive pipeline shares a
        machine with batch work.
        """
        if (os.cpu_count() or 1) < 2:
            self.say("  one CPU: no latency under the other core's load")
            return
        exe = ROOT / "target/release/fusedrnn"
        out, log = self.tmp / "under-load.npy", self.tmp / "under-load.log"
        loop = (
            f'while :; do "{exe}" predict --model "{self.models["lstm"]}" --data "{self.tok}" '
            f'--threads 1 --out "{out}" >/dev/null 2>>"{log}" || exit 1; done'
        )
        load = subprocess.Popen(
            ["sh", "-c", loop],
            cwd=ROOT,
            preexec_fn=lambda: os.sched_setaffinity(0, {1}),
            start_new_session=True,
        )
        try:
            time.sleep(0.5)
            for arch in ("lstm", "rnn"):
                if load.poll() is not None:
                    raise ReportError(f"the background predict stopped (exit {load.returncode}; its stderr: {log})")
                model = self.models[arch]
                b = json.loads(
                    self.sh([exe, "bench", "--model", model, "--data", self.tok, "--threads", 1, "--json"], cpu=0)
                )
                self.saw_kernel("fusedrnn bench (under load)", b["kernel"])
                src = (
                    f"fusedrnn bench --model {model.name} --threads 1 --json on CPU 0, while CPU 1 runs "
                    "fusedrnn predict --threads 1 over the test split in a loop"
                )
                self.add(f"loaded.{arch}.step_p50_ns", b["step_latency_ns"]["p50"], "ns", src)
                self.add(f"loaded.{arch}.step_p99_ns", b["step_latency_ns"]["p99"], "ns", src)
                self.add(f"loaded.{arch}.review_p50_us", b["review_latency_us"]["p50"], "µs", src)
                self.add(f"loaded.{arch}.review_p99_us", b["review_latency_us"]["p99"], "µs", src)
        finally:
            os.killpg(load.pid, signal.SIGTERM)
            load.wait()

    def peers_python(self) -> Path:
        """The interpreter with the peers' requirements."""
        return Path(self.args.peers_python) if self.args.peers_python else ROOT / "benches/peers/.venv/bin/python"

    def peers(self, run: int) -> None:
        """``benches/peers/run.sh`` into a fresh results folder, then ``text_latency.py``."""
        out = self.tmp / f"peers-{run}"
        opts = (
            [
                "--budget",
                "0.3",
                "--min-reps",
                "1",
                "--latency-reviews",
                "200",
                "--step-reviews",
                "30",
            ]
            if self.quick
            else ["--budget", "2"]
        )
        cmd: List[Any] = [ROOT / "benches/peers/run.sh", "--tok", self.tok]
        if self.args.peers_python:
            cmd += ["--python", self.args.peers_python]
        self.sh(cmd + ["--results", out, *opts])
        res = json.loads((out / "latest.json").read_text())
        figs, notes, kernels = peers_figures(res)
        for tool, kern in kernels.items():
            self.saw_kernel(tool, kern)
        for key, v in figs.items():
            unit = "reviews/s" if key.endswith("reviews_per_s") else key.rsplit("_", 1)[-1]
            self.add(key, v, unit, "benches/peers/run.sh")
            if key in notes:
                self.notes.setdefault(key, []).append(notes[key])
        self.peer_versions = peers_versions(res)
        calls = 2_000 if self.quick else 20_000
        text = self.sh(
            [
                self.peers_python(),
                ROOT / "benches/peers/text_latency.py",
                self.models["lstm"],
                self.word_index,
                self.review,
                "--calls",
                calls,
            ]
        )
        lat = parse_latency_lines(text)
        src = f"benches/peers/text_latency.py, {calls} calls"
        for what, key in (
            ("text -> prob (tokenize+LSTM)", "torch_text.text"),
            ("model alone (tensor ready)", "torch_text.model"),
            ("tokenize + pad alone", "torch_text.tokenize"),
        ):
            self.add(f"{key}.p50_us", lat[what][0], "µs", src)
            self.add(f"{key}.p99_us", lat[what][1], "µs", src)

    def peer_shapes(self, run: int) -> None:
        """``benches/peers/shapes.py``: PyTorch and ONNX Runtime on LSTM(32) / GRU(32), Embedding(5000, 64)."""
        out = self.tmp / f"shapes-{run}.json"
        budget = "0.3" if self.quick else "2"
        dump = self.tmp / "net-dump"
        if not dump.is_dir():
            # The weights benches/net.rs times, and fusedrnn's probabilities, for shapes.py to load and check.
            self.sh([ROOT / "target/release/examples/net_dump", dump])
        self.sh(
            [
                self.peers_python(),
                ROOT / "benches/peers/shapes.py",
                "--out",
                out,
                "--budget",
                budget,
                "--fusedrnn-dump",
                dump,
            ]
        )
        for key, v in shapes_figures(json.loads(out.read_text())).items():
            unit = "reviews/s" if key.endswith("reviews_per_s") else "" if key.endswith("diff") else "µs"
            self.add(key, v, unit, f"benches/peers/shapes.py --budget {budget}")

    # -- the whole run

    def wait_for_quiet(self) -> None:
        """Wait (at most ``--wait-quiet`` seconds) for the 1-minute load average to fall to QUIET_LOAD.

        The build just before raises it; measuring at once would flag a quiet machine as noisy.
        """
        deadline = time.monotonic() + self.args.wait_quiet
        while os.getloadavg()[0] > QUIET_LOAD and time.monotonic() < deadline:
            self.say(f"waiting for the load average ({os.getloadavg()[0]:.2f}) to fall to {QUIET_LOAD}")
            time.sleep(10)

    def run(self) -> Dict[str, Any]:
        """Every step ``--runs`` times, round-robin; returns the results."""
        self.prepare()
        self.build_seconds = round(time.monotonic() - self.started, 1)
        self.wait_for_quiet()
        load_before = os.getloadavg()
        steps: List[Tuple[str, Callable[[int], None]]] = [
            ("clock", self.clock),
            ("FMA peak", self.fma_peak),
            ("fusedrnn bench", self.fusedrnn_bench),
            ("fusedrnn bench, AVX2 forced", self.avx2_forced),
            ("criterion benches", self.criterion),
            ("C API latency", self.capi),
            ("CLI predict --stdin latency", self.stdin),
            ("latency under the other core's load", self.under_load),
        ]
        if self.args.peers and not self.peers_failed:
            steps.append(("peers (PyTorch, ONNX Runtime, Keras) + text_latency.py", self.peers))
            steps.append(("peers on the larger shapes (benches/peers/shapes.py)", self.peer_shapes))
        optional = (self.peers, self.peer_shapes)
        loads = []
        for run in range(1, self.args.runs + 1):
            loads.append(os.getloadavg()[0])
            for name, step in list(steps):
                if (name, step) not in steps:
                    continue  # an optional step dropped after a failure earlier in this run
                self.say(f"run {run}/{self.args.runs}: {name} (load average {os.getloadavg()[0]:.2f})")
                if step not in optional:
                    step(run)
                    continue
                try:
                    step(run)
                except ReportError as e:
                    # The peers are optional figures: a failure there (a missing venv, a disagreement
                    # peers.py reports) drops them from this run instead of losing every other figure.
                    self.peers_failed = last_line(str(e))
                    self.say(f"PEERS FAILED, continuing without them: {e}")
                    steps[:] = [(n, s) for n, s in steps if s not in optional]
                    for key in [k for k in self.values if k.startswith(("peers.", "torch_text.", "shapes."))]:
                        del self.values[key]
        load_after = os.getloadavg()
        return self.results(load_before, load_after, loads)

    def results(self, before: Tuple[float, ...], after: Tuple[float, ...], loads: List[float]) -> Dict[str, Any]:
        """The results file's content from the values gathered."""
        figures: Figures = {}
        for key, vals in sorted(self.values.items()):
            if len(vals) != self.args.runs:
                raise ReportError(f"{key}: {len(vals)} values for {self.args.runs} runs")
            f = dict(self.meta[key], values=vals, **summarize(vals))
            if key in self.notes:
                f["notes"] = self.notes[key]
            figures[key] = f
        kernels = sorted({k for ks in self.kernels.values() for k in ks})
        if len(kernels) != 1:
            raise ReportError(f"the tools ran different kernels: { {t: sorted(k) for t, k in self.kernels.items()} }")
        cpuinfo = Path("/proc/cpuinfo").read_text() if Path("/proc/cpuinfo").exists() else ""
        commit = self.sh(["git", "rev-parse", "HEAD"]).strip()
        dirty = bool(self.sh(["git", "status", "--porcelain", "--untracked-files=no"]).strip())
        rustc = self.sh(["rustc", "--version"]).strip()
        return {
            "schema": SCHEMA,
            "quick": self.quick,
            "date": dt.datetime.now(dt.timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ"),
            "commit": commit,
            "dirty": dirty,
            "runs": self.args.runs,
            "seconds": round(time.monotonic() - self.started, 1),
            "build_seconds": self.build_seconds,
            "machine": dict(parse_cpuinfo(cpuinfo), cpus=os.cpu_count(), platform=platform.platform()),
            "build": {
                "profile": "release (cargo's bench profile for criterion)",
                "rustc": rustc,
                "rustflags": os.environ.get("RUSTFLAGS", ""),
                "kernel_override": os.environ.get("FUSEDRNN_KERNEL"),
            },
            "kernel": kernels[0],
            "kernel_tuning": self.kernel_tuning,
            "kernels_seen": {t: sorted(k) for t, k in sorted(self.kernels.items())},
            "load_average": {
                "before": list(before),
                "after": list(after),
                "at_each_run_start": loads,
            },
            "peers": (
                {"included": False, "reason": f"failed: {self.peers_failed}"}
                if self.peers_failed
                else {"included": True, "versions": self.peer_versions}
                if self.args.peers
                else {"included": False, "reason": "skipped with --no-peers"}
            ),
            "figures": figures,
        }


def last_line(text: str) -> str:
    """The last non-empty line of an error: usually what went wrong."""
    lines = [line for line in text.splitlines() if line.strip()]
    return lines[-1].strip() if lines else text


def results_name(res: Dict[str, Any]) -> str:
    """``2026-12-02T023500Z-abc1234[-quick].json``: sorts by date."""
    stamp = res["date"].replace(":", "")
    return f"{stamp}-{res['commit'][:7]}{'-quick' if res['quick'] else ''}.json"


def newest_results() -> Path:
    """The newest results file (names sort by date)."""
    files = sorted(RESULTS_DIR.glob("*.json"))
    if not files:
        raise ReportError(f"no results file in {RESULTS_DIR.relative_to(ROOT)}: run `benches/report/report.py run`")
    return files[-1]


def load_results(path: Path) -> Dict[str, Any]:
    """Reads a results file and checks that its summaries agree with its values (no hand edits)."""
    try:
        res = json.loads(path.read_text())
    except (OSError, ValueError) as e:
        raise ReportError(f"{path}: cannot read a results file: {e}") from e
    if res.get("schema") != SCHEMA:
        raise ReportError(f"{path}: schema {res.get('schema')!r}, this renderer reads {SCHEMA}")
    for key, f in res["figures"].items():
        want = summarize(f["values"])
        if any(f.get(k) != v for k, v in want.items()):
            raise ReportError(f"{path}: figure {key}: median/min/max do not match its values")
    return res


# ------------------------------------------------------------------------------------------------
# Targets: from issue 16 (kernel frontier). Each is (figure, "≥" or "≤", value, unit label); the
# AVX-512 row replaces the AVX2 one where the results' kernel is an AVX-512 kernel.

TARGETS_AVX2: Dict[str, Tuple[str, float]] = {
    "lstm.1t": ("≥", 700_000),
    "lstm.2t": ("≥", 1_400_000),
    "rnn.2t": ("≥", 7_000_000),
    "lstm.step": ("≤", 28.0),
    "rnn.step": ("≤", 14.0),
    "lstm.review": ("≤", 2.8),
    "capi.text": ("≤", 4.0),
    "epoch.lstm": ("≤", 0.07),
    "tokenize": ("≥", 50.0),
}
# The kernel name `fusedrnn bench` reports for FUSEDRNN_KERNEL=avx2-fma.
AVX2_KERNEL = "x86_64-avx2-fma"
TARGETS_AVX512: Dict[str, Tuple[str, float]] = {
    "lstm.2t": ("≥", 2_000_000),
    "lstm.step": ("≤", 22.0),
    "epoch.lstm": ("≤", 0.05),
}


def targets_for(res: Dict[str, Any]) -> Tuple[Dict[str, Tuple[str, float]], str]:
    """The target set for this results file's kernel, and its name."""
    if "avx512" in res["kernel"]:
        return dict(
            TARGETS_AVX2, **TARGETS_AVX512
        ), "AVX-512 targets of issue 16 where it sets one, else its AVX2 targets"
    return dict(TARGETS_AVX2), "issue 16's targets for 2 AVX2 cores"


def verdict(
    values: Optional[Sequence[float]],
    target: Optional[Tuple[str, float]],
    fmt: Callable[[float], str] = lambda g: f"{g:,g}",
) -> Tuple[str, str]:
    """(target text, met text) computed from the median; the runs that met it are counted."""
    if target is None:
        return "—", ""
    op, goal = target
    if not values:
        return f"{op} {fmt(goal)}", "not measured"
    ok = (lambda v: v >= goal) if op == "≥" else (lambda v: v <= goal)
    n_ok = sum(ok(v) for v in values)
    met = "met" if ok(statistics.median(values)) else "not met"
    return f"{op} {fmt(goal)}", f"{met} ({n_ok}/{len(values)} runs)"


# ------------------------------------------------------------------------------------------------
# Lower bounds (issue 16: each target "with its cycle count and its share of the lower bound"), in
# cycles, for the cores and kernels whose bound has been counted in the compiled code; the module
# docs of src/kernels/simd.rs ("The bounds on <core>, counted on this code") derive each one.
# A bound holds for one core and one kernel's code: keyed by (vendor, family, model, kernel).
# Throughput rows: cycles per sequence-step of one core (the µops of a block-step on the pipes or
# ports that bound it); latency rows: the dependency chain at the latencies measured by
# benches/report/insn_latency.c on that core, per step or per 100-step review.

# Each entry: the core's name as the section of src/kernels/simd.rs names it, and its bounds.
BOUNDS: Dict[Tuple[str, int, int, str], Tuple[str, Dict[str, float]]] = {
    # Golden Cove: 512-bit µops on ports 0 and 5.
    ("GenuineIntel", 6, 167, "x86_64-avx512"): (
        "Golden Cove",
        {
            "lstm.seq_step": 31.5,
            "rnn.seq_step": 7.25,
            "rnn-onehot.seq_step": 7.25,
            "lstm.step": 89.0,
            "rnn.step": 51.0,
            "lstm.review": 8_600.0,
            "rnn.review": 4_800.0,
        },
    ),
    # Zen 4: zmm FMAs and multiplies on the two 256-bit FMA pipes, one a cycle.
    ("AuthenticAMD", 25, 17, "x86_64-avx512"): (
        "Zen 4",
        {
            "lstm.seq_step": 38.5,
            "rnn.seq_step": 8.75,
            "rnn-onehot.seq_step": 8.75,
            "lstm.step": 77.0,
            "rnn.step": 47.0,
            "lstm.review": 7_100.0,
            "rnn.review": 4_100.0,
        },
    ),
    # Zen 3 (AVX2 only): ymm FMAs and multiplies on two FMA pipes, two a cycle; the latency
    # steps with `h` splatted from its halves (`Avx2Fma::splats_from_halves`).
    ("AuthenticAMD", 25, 1, "x86_64-avx2-fma"): (
        "Zen 3",
        {
            "lstm.seq_step": 41.0,
            "rnn.seq_step": 9.25,
            "rnn-onehot.seq_step": 9.25,
            "lstm.step": 88.0,
            "rnn.step": 52.0,
            "lstm.review": 8_100.0,
            "rnn.review": 4_500.0,
        },
    ),
}


def bound_key(res: Dict[str, Any]) -> Tuple[str, int, int, str]:
    """The (vendor, family, model, kernel) key of this results file in BOUNDS."""
    m = res["machine"]
    return (m.get("vendor"), m.get("family"), m.get("model"), res["kernel"])


def bounds_for(res: Dict[str, Any]) -> Dict[str, float]:
    """The counted lower bounds (cycles) for this results file's core and kernel; empty if none."""
    return dict(BOUNDS.get(bound_key(res), ("", {}))[1])


def bound_cell(bound: Optional[float], cycles: Optional[float]) -> str:
    """``bound (share %)``: the share of the bound that the measured cycles reach, or —."""
    if bound is None or not cycles:
        return "—"
    return f"{sig3(bound)} ({100 * bound / cycles:.0f} %)"


# ------------------------------------------------------------------------------------------------
# Rendering


class View:
    """Read access to a results file's figures, with the derived forms README shows."""

    def __init__(self, res: Dict[str, Any], source: str) -> None:
        self.res = res
        self.source = source
        self.f: Figures = res["figures"]
        self.targets, self.targets_name = targets_for(res)
        self.bounds = bounds_for(res)

    def raw(self, key: str) -> Optional[List[float]]:
        """Figure ``key``'s values over the runs, or None."""
        f = self.f.get(key)
        return list(f["values"]) if f else None

    def crit(self, cid: str) -> Optional[List[float]]:
        """Criterion's ns per iteration for ``cid`` (``KERNEL`` for the kernel's name)."""
        return self.raw("criterion." + cid)

    def crit_rate(self, cid: str, scale: float = 1.0) -> Optional[List[float]]:
        """Elements (or bytes) per second of a criterion figure, per run, times ``scale``."""
        f = self.f.get("criterion." + cid)
        if not f:
            return None
        n = f.get("elements") or f.get("bytes")
        return [n / (ns * 1e-9) * scale for ns in f["values"]]

    def scaled(self, key: str, scale: float, crit: bool = False) -> Optional[List[float]]:
        """Figure ``key`` (a criterion id when ``crit``) times ``scale``, per run."""
        v = self.crit(key) if crit else self.raw(key)
        return [x * scale for x in v] if v else None

    def clock(self) -> Optional[float]:
        """The median measured clock in GHz."""
        v = self.raw("clock.best_ghz")
        return statistics.median(v) if v else None

    def header(self) -> str:
        """The line above every table: CPU, kernel, date, runs, results file."""
        m = self.res["machine"]
        return (
            f"*{m['model_name']} (family {m['family']} model {m['model']}), kernel `{self.res['kernel']}`, "
            f"{self.res['date'][:10]}: median (min–max) of {self.res['runs']} runs, "
            f"from [`{self.source}`]({self.source}).*"
        )

    def quick_banner(self) -> str:
        """The warning every block of a forced ``--quick`` rendering starts with."""
        if not self.res["quick"]:
            return ""
        return (
            "**QUICK RUN (`--quick`): development figures from a few iterations, rendered with `--force`; "
            "not for quoting.**\n\n"
        )


def run_minutes(r: Dict[str, Any]) -> str:
    """How long the measurements took, and the build before them (older files lack the split)."""
    total = r["seconds"] / 60
    build = r.get("build_seconds")
    if build is None or build < 60:
        return f"{total - (build or 0) / 60:.0f} min"
    return f"{total - build / 60:.0f} min (after {build / 60:.0f} min of building)"


def p50_cell(values: Optional[Sequence[float]]) -> str:
    """A ``fusedrnn bench`` latency cell: its p50 over the runs."""
    return cell(values) + " p50" if values else "—"


def yn(b: Optional[bool]) -> str:
    """Yes or no."""
    return "yes" if b else "no"


def render_machine(v: View) -> str:
    """The machine block: CPU, ISA, build, kernel, clock, load, noise."""
    r, m = v.res, v.res["machine"]
    isa = m["isa"]
    la = r["load_average"]
    best, typ = v.raw("clock.best_ghz"), v.raw("clock.typical_ghz")
    hyper = ", under a hypervisor" if m.get("hypervisor") else ""
    avx512 = "/".join(yn(isa.get(f)) for f in ("avx512f", "avx512bw", "avx512vl"))
    when = r["date"].replace("T", " ").replace("Z", " UTC")
    dirty = " (with local changes)" if r["dirty"] else ""
    flags = f" with RUSTFLAGS=`{r['build']['rustflags']}`" if r["build"]["rustflags"] else " (no `target-cpu`)"
    chosen = ", forced by FUSEDRNN_KERNEL" if r["build"].get("kernel_override") else ", chosen at run time"
    tuning = f"; tuned for this CPU: {r['kernel_tuning']}" if r.get("kernel_tuning") else ""
    lines = [
        f"The figures below come from one run of `benches/report/report.py` on **{m['model_name']}** "
        f"({m['vendor']}, family {m['family']} model {m['model']}, {m['cpus']} CPUs{hyper}; "
        f"AVX2 {yn(isa.get('avx2'))}, FMA {yn(isa.get('fma'))}, AVX-512 F/BW/VL {avx512}), {when}, "
        f"commit `{r['commit'][:12]}`{dirty}, {r['build']['rustc']}, default `cargo build --release`{flags}, "
        f"kernel `{r['kernel']}` (read from the binaries{chosen}{tuning}).",
        "",
        f"Measured clock (a chain of dependent adds, `benches/report/clock.c`): {cell(best)} GHz with the core to "
        f"itself, {cell(typ)} GHz typical. Load average (1 min) {la['before'][0]:.2f} before the run, "
        f"{la['after'][0]:.2f} after; the run took {run_minutes(r)}. Each figure is the median over "
        f"{r['runs']} runs, with the lowest and highest run in brackets. Results file: [`{v.source}`]({v.source}).",
    ]
    ymm, zmm = v.raw("fma.peak_macs_per_cycle.ymm"), v.raw("fma.peak_macs_per_cycle.zmm")
    if ymm:
        on_zmm = f", {cell(zmm)} with zmm" if zmm else ""
        lines[-1] += (
            f" Measured FMA peak (`benches/report/insn_latency.c --peak`): {cell(ymm)} f32 multiply-adds per cycle "
            f"with ymm{on_zmm}."
        )
    noisy = []
    if la["before"][0] > QUIET_LOAD:
        noisy.append(f"the load average was {la['before'][0]:.2f} before the run started")
    if best and typ and statistics.median(typ) < 0.9 * statistics.median(best):
        noisy.append("the clock chain was often interrupted (typical below 90 % of best)")
    if noisy:
        lines += [
            "",
            "**Noisy run:** " + "; ".join(noisy) + ": other work shared the cores. Rerun on a quiet "
            "machine before quoting these figures.",
        ]
    if not r["peers"]["included"]:
        lines += [
            "",
            f"The peers (PyTorch, ONNX Runtime, Keras) were not measured in this run ({r['peers']['reason']}).",
        ]
    return v.quick_banner() + "\n".join(lines)


def render_inference(v: View) -> str:
    """Throughput and latency of the kernels, with targets and cycles."""
    clock = v.clock()
    t = v.targets
    rows = []
    steps_per_review = 100
    for arch, label in (
        ("lstm", "LSTM"),
        ("rnn", "SimpleRNN"),
        ("rnn-onehot", "one-hot SimpleRNN"),
    ):
        for th in (1, 2):
            vals = v.crit_rate(f"throughput/{arch}/test25000/KERNEL/{th}t")
            tgt, met = verdict(vals, t.get(f"{arch}.{th}t"), rate)
            cyc, cycles = "—", None
            if vals and clock:
                cycles = clock * 1e9 * th / (statistics.median(vals) * steps_per_review)
                cyc = sig3(cycles) + " per step"
            rows.append(
                (
                    f"{label} reviews/s, {th} thread{'s' if th > 1 else ''}",
                    cell(vals, rate),
                    cell(v.raw(f"bench.{arch}.{th}t.reviews_per_s"), rate),
                    tgt,
                    met,
                    cyc,
                    bound_cell(v.bounds.get(f"{arch}.seq_step"), cycles),
                )
            )
    for arch, label in (("lstm", "LSTM"), ("rnn", "SimpleRNN")):
        vals = v.crit(f"step_latency/{arch}/KERNEL")
        tgt, met = verdict(vals, t.get(f"{arch}.step"))
        cycles = clock * statistics.median(vals) if vals and clock else None
        rows.append(
            (
                f"{label} one step (latency kernel), ns",
                cell(vals),
                p50_cell(v.raw(f"bench.{arch}.step_p50_ns")),
                tgt,
                met,
                sig3(cycles) if cycles else "—",
                bound_cell(v.bounds.get(f"{arch}.step"), cycles),
            )
        )
    for arch, label in (("lstm", "LSTM"), ("rnn", "SimpleRNN")):
        # A call of 100 tokens (`Kernel::lstm_steps`, `Session::feed_all`), per step; its bound is
        # the review's (the same loop), per step. Results from before it was measured lack it.
        vals = v.scaled(f"steps_together/{arch}/KERNEL", 1 / 100, crit=True)
        bench = v.raw(f"bench.{arch}.steps_together_p50_ns")
        if not vals and not bench:
            continue
        cycles = clock * statistics.median(vals) if vals and clock else None
        review_bound = v.bounds.get(f"{arch}.review")
        rows.append(
            (
                f"{label} step, 100 tokens a call (`feed_all`), ns",
                cell(vals),
                p50_cell(bench),
                "—",
                "",
                sig3(cycles) if cycles else "—",
                bound_cell(review_bound / 100 if review_bound else None, cycles),
            )
        )
    for arch, label in (("lstm", "LSTM"), ("rnn", "SimpleRNN")):
        vals = v.scaled(f"sequence_latency/{arch}/KERNEL", 1e-3, crit=True)
        tgt, met = verdict(vals, t.get(f"{arch}.review"))
        cycles = clock * 1e3 * statistics.median(vals) if vals and clock else None
        rows.append(
            (
                f"{label} one 100-step review, µs",
                cell(vals),
                p50_cell(v.raw(f"bench.{arch}.review_p50_us")),
                tgt,
                met,
                sig3(cycles) if cycles else "—",
                bound_cell(v.bounds.get(f"{arch}.review"), cycles),
            )
        )
    rows += avx2_rows(v)
    for fn in ("sigmoid", "tanh"):
        vals = v.scaled(f"activations/{fn}4096/KERNEL", 1e-3, crit=True)
        rows.append((f"{fn} over 4,096 floats, µs", cell(vals), "—", "—", "", "—", "—"))
    head = (
        "| figure | criterion | `fusedrnn bench` | target | met? | cycles at the measured clock "
        "| lower bound, cycles (share) |\n"
        "|---|---:|---:|---:|---|---:|---:|"
    )
    body = "\n".join("| " + " | ".join(r) + " |" for r in rows)
    return (
        v.quick_banner() + v.header() + "\n\n" + head + "\n" + body + "\n\n"
        f"Targets: {v.targets_name}; met or not is computed from the median (in brackets: the runs that met "
        "it). Criterion: `cargo bench --bench throughput` (the 25,000-review test split, parity fixtures' "
        "weights) and `--bench kernels` (criterion's median time per iteration). `fusedrnn bench` times its "
        "own passes over the same split (one review at a time for the latencies, its p50). Cycles: the measured "
        "clock × threads ÷ sequence-steps per second, or × the latency." + bounds_note(v) + avx2_note(v)
    )


def avx2_rows(v: View) -> List[Tuple[str, ...]]:
    """Rows of the AVX2 kernel forced on an AVX-512 machine (``bench_avx2.*``).

    Against issue 16's AVX2 targets; `fusedrnn bench` only (criterion runs the chosen kernel);
    none where the file has no such figures.
    """
    clock = v.clock()
    rows: List[Tuple[str, ...]] = []
    forced = "AVX2 forced (`FUSEDRNN_KERNEL=avx2-fma`)"
    for arch, label in (("lstm", "LSTM"), ("rnn", "SimpleRNN")):
        for th in (1, 2):
            vals = v.raw(f"bench_avx2.{arch}.{th}t.reviews_per_s")
            if not vals:
                continue
            tgt, met = verdict(vals, TARGETS_AVX2.get(f"{arch}.{th}t"), rate)
            cycles = clock * 1e9 * th / (statistics.median(vals) * 100) if clock else None
            name = f"{label} reviews/s, {th} thread{'s' if th > 1 else ''}, {forced}"
            rows.append((name, "—", cell(vals, rate), tgt, met, f"{sig3(cycles)} per step" if cycles else "—", "—"))
    for arch, label, key, unit, scale in (
        ("lstm", "LSTM", "step", "ns", 1.0),
        ("rnn", "SimpleRNN", "step", "ns", 1.0),
        ("lstm", "LSTM", "review", "µs", 1e3),
    ):
        vals = v.raw(f"bench_avx2.{arch}.{key}_p50_{unit.replace('µ', 'u')}")
        if not vals:
            continue
        tgt, met = verdict(vals, TARGETS_AVX2.get(f"{arch}.{key}"))
        cycles = clock * scale * statistics.median(vals) if clock else None
        what = "one step (latency kernel)" if key == "step" else "one 100-step review"
        cyc = sig3(cycles) if cycles else "—"
        rows.append((f"{label} {what}, {unit}, {forced}", "—", p50_cell(vals), tgt, met, cyc, "—"))
    return rows


def bounds_note(v: View) -> str:
    """The sentence under the inference table that says where the lower bounds come from."""
    if not v.bounds:
        return (
            " Lower bound: none counted for this core and kernel (`BOUNDS` in `benches/report/report.py`), "
            "so no share is shown."
        )
    core = BOUNDS[bound_key(v.res)][0]
    return (
        f' Lower bound: counted for this core and kernel on its code (`src/kernels/simd.rs`, "The '
        f'bounds on {core}, counted on this code"): for throughput the µops of a block-step on the pipes '
        "or ports that bound it, per sequence-step; for latency the dependency chain at this core's "
        "measured latencies (`benches/report/insn_latency.c`). Share: the bound ÷ the measured cycles "
        "(the criterion median), so 100 % is the bound. The cycles use the run's median clock, which moves by a "
        "few per cent within a run: a share within that of 100 % (or above it) is a figure at its bound."
    )


def avx2_note(v: View) -> str:
    """The sentence under the inference table on its AVX2-forced rows, where it has them."""
    if not any(k.startswith("bench_avx2.") for k in v.res["figures"]):
        return ""
    return (
        " The rows marked AVX2 forced run this CPU with the AVX2 kernel (`FUSEDRNN_KERNEL=avx2-fma`), what an "
        "AVX2-only core runs, against issue 16's AVX2 targets, which it sets for a Zen 3: this core is not one; "
        "`fusedrnn bench` only (median over the runs; cycles at this core's clock), no bound counted."
    )


def render_latency(v: View) -> str:
    """Text → probability, one review at a time: C API, CLI, PyTorch."""
    t = v.targets
    rows = []
    specs = [
        (
            "C API `fusedrnn_score_text`",
            "capi.score_text",
            "one call: UTF-8 check, tokenize the kept words, pad, 100 LSTM steps",
            "capi.text",
        ),
        ("C API `fusedrnn_score_ids`, 100 ids", "capi.score_ids", "the model alone", None),
        (
            "CLI `predict --stdin`, both processes on CPU 0",
            "cli_stdin.one_core",
            "write a line to the pipe, read the probability line back",
            None,
        ),
        (
            "CLI `predict --stdin`, free to use both cores",
            "cli_stdin.two_cores",
            "same: each line may wake the other process on the other core",
            None,
        ),
        (
            "PyTorch, tokenize (Python `re`) + `nn.LSTM`, batch 1, 1 thread",
            "torch_text.text",
            "the same text to the same probability",
            None,
        ),
        ("PyTorch model alone (tensor ready)", "torch_text.model", "", None),
    ]
    for label, key, what, tkey in specs:
        p50 = v.raw(f"{key}.p50_us")
        tgt, met = verdict(p50, t.get(tkey) if tkey else None)
        rows.append((label, cell(p50), cell(v.raw(f"{key}.p99_us")), tgt, met, what))
    head = "| path | p50 µs | p99 µs | target p50 | met? | what is timed |\n|---|---:|---:|---:|---|---|"
    body = "\n".join("| " + " | ".join(r) + " |" for r in rows)
    notes = []
    text, ids = v.raw("capi.score_text.p50_us"), v.raw("capi.score_ids.p50_us")
    if text and ids:
        mt, mi = statistics.median(text), statistics.median(ids)
        notes.append(
            f"Of the C API's {sig3(mt)} µs, the model alone is {sig3(mi)} µs and the rest, "
            f"{sig3(mt - mi)} µs, is the UTF-8 check, tokenizing and padding (difference of the medians)."
        )
    torch_text = v.raw("torch_text.text.p50_us")
    if text and torch_text:
        notes.append(
            f"PyTorch takes {sig3(statistics.median(torch_text) / statistics.median(text))}× as long "
            "as the C API at the median."
        )
    elif not v.res["peers"]["included"]:
        notes.append("PyTorch was not measured in this run (`--no-peers`).")
    loaded_rows = []
    for arch, label in (("lstm", "LSTM"), ("rnn", "SimpleRNN")):
        for what, key in (("one step, ns", "step_p{}_ns"), ("one 100-step review, µs", "review_p{}_us")):
            loaded_rows.append(
                (
                    f"{label} {what}",
                    *(cell(v.raw(f"{src}.{arch}.{key.format(q)}")) for src in ("bench", "loaded") for q in (50, 99)),
                )
            )
    loaded = (
        "\n\nUnder load: `fusedrnn bench --threads 1` alone, and pinned to CPU 0 while CPU 1 runs a batch "
        "`fusedrnn predict --threads 1` of the test split in a loop.\n\n"
        "| latency kernel | alone p50 | alone p99 | under load p50 | under load p99 |\n|---|---:|---:|---:|---:|\n"
        + "\n".join("| " + " | ".join(r) + " |" for r in loaded_rows)
    )
    if not any(v.raw(f"loaded.{a}.step_p50_ns") for a in ("lstm", "rnn")):
        loaded = ""
    return (v.quick_banner() + v.header() + "\n\n" + head + "\n" + body + "\n\n" + " ".join(notes)).rstrip() + loaded


def render_training(v: View) -> str:
    """Epoch times and one batch's breakdown."""
    t = v.targets
    rows = []
    for cid, label, tkey in (
        ("lstm/threads2/KERNEL", "LSTM", "epoch.lstm"),
        ("lstm+dropout/threads2/KERNEL", "LSTM(8, dropout=0.3)", None),
        ("rnn/threads2/KERNEL", "SimpleRNN", None),
        ("rnn-onehot/threads2/KERNEL", "one-hot SimpleRNN", None),
    ):
        vals = v.scaled(f"train_epoch/{cid}", 1e-9, crit=True)
        tgt, met = verdict(vals, t.get(tkey) if tkey else None)
        rows.append((f"one {label} epoch, 2 threads, s", cell(vals), tgt, met))
    head = "| figure | median (min–max) | target | met? |\n|---|---:|---:|---|"
    out = [v.quick_banner() + v.header(), "", head] + ["| " + " | ".join(r) + " |" for r in rows]
    batch = v.scaled("train_batch/batch64/lstm/KERNEL", 1e-3, crit=True)
    shard_key = next(
        (k for k in v.f if re.fullmatch(r"criterion\.train_parts/shard(\d+)_forward_backward/lstm/KERNEL", k)),
        None,
    )
    gemm = v.scaled("train_parts/gemm_per_batch/lstm", 1e-3, crit=True)
    rms = v.scaled("train_parts/rmsprop/lstm", 1e-3, crit=True)
    out += [
        "",
        "One LSTM batch of 64 (forward, backward, RMSprop update) on one thread, and its parts, each "
        "measured on its own (`cargo bench --bench train`, groups `train_batch` and `train_parts`):",
        "",
        "| part | µs |",
        "|---|---:|",
        f"| whole batch (`train_batch`) | {cell(batch)} |",
    ]
    if batch and shard_key and gemm and rms:
        lanes = int(re.search(r"shard(\d+)_", shard_key).group(1))  # type: ignore[union-attr]
        shards = 64 // lanes
        shard = v.scaled(shard_key[len("criterion.") :], 1e-3, crit=True) or []
        med = statistics.median
        parts = shards * med(shard) + med(gemm) + med(rms)
        rest = med(batch) - parts
        out += [
            f"| {shards} shards of {lanes} sequences, forward + backward ({shards} × {cell(shard)}) "
            f"| {sig3(shards * med(shard))} |",
            f"| table-gradient GEMMs | {cell(gemm)} |",
            f"| RMSprop | {cell(rms)} |",
            f"| sum of the parts | {sig3(parts)} |",
            f"| rest of the batch, not broken down by the benches | {sig3(rest)} |"
            if rest >= 0
            else f"| the parts exceed the whole by (each part runs alone, with warm caches) | {sig3(-rest)} |",
        ]
        out += ["", "Sums use the medians; the rest is the whole batch's median minus the sum."]
    else:
        out += ["", "The parts were not measured in this run."]
    return "\n".join(out)


PEER_LABEL = {
    "pytorch": "PyTorch",
    "onnxruntime": "ONNX Runtime",
    "keras": "Keras",
    "fusedrnn": "fusedrnn",
}


def render_peers(v: View) -> str:
    """Our figures beside PyTorch, ONNX Runtime and Keras."""
    if not v.res["peers"]["included"]:
        return (
            v.quick_banner() + v.header() + "\n\n" + f"Not measured in this run ({v.res['peers']['reason']}): "
            "run `benches/report/report.py run` without `--no-peers` (it needs `benches/peers/`' venv)."
        )
    peers = ("pytorch", "onnxruntime", "keras")
    rows = []
    for arch, label in (("lstm", "LSTM"), ("rnn", "SimpleRNN")):
        for th in (1, 2):
            rows.append(
                _peer_row(
                    v,
                    f"{label} reviews/s, {th} thread{'s' if th > 1 else ''}",
                    f"peers.{arch}.{{peer}}.{th}t.reviews_per_s",
                    peers,
                    higher=True,
                    fmt=rate,
                )
            )
        for q in ("p50", "p99"):
            rows.append(
                _peer_row(
                    v,
                    f"{label} one review (100 steps) {q} µs, batch 1, 1 thread",
                    f"peers.{arch}.{{peer}}.b1_{q}_us",
                    peers,
                    higher=False,
                )
            )
        rows.append(
            _peer_row(
                v,
                f"{label} one step p50 ns, batch 1 (PyTorch: nn.{'LSTMCell' if arch == 'lstm' else 'RNNCell'})",
                f"peers.{arch}.{{peer}}.step_p50_ns",
                peers,
                higher=False,
            )
        )
    keras_epoch = v.raw("peers.train.keras.epoch_s")
    ours = v.raw("peers.train.fusedrnn.epoch_s")
    ratio = f"{sig3(statistics.median(keras_epoch) / statistics.median(ours))}×" if keras_epoch and ours else "—"
    first = v.raw("peers.train.keras.epoch1_s")
    rows.append(
        (
            "Keras-notebook LSTM training epoch (20k+5k), s",
            "—",
            "—",
            cell(keras_epoch) + (f"; epoch 1: {cell(first)}" if first else ""),
            cell(ours),
            ratio,
        )
    )
    head = (
        "| figure | PyTorch | ONNX Runtime | Keras | fusedrnn | fusedrnn ÷ best peer |\n|---|---:|---:|---:|---:|---:|"
    )
    pv = v.res["peers"].get("versions") or {}
    diffs = [max(f["values"]) for k, f in v.f.items() if k.endswith(".max_abs_diff")]
    agree = f"largest |peer − fusedrnn| probability difference over the split: {max(diffs):.1e}" if diffs else ""
    return "\n".join(
        [
            v.quick_banner() + v.header(),
            "",
            f"torch {pv.get('torch')} (CPU capability {pv.get('torch_cpu_capability')}), onnxruntime "
            f"{pv.get('onnxruntime')}, keras {pv.get('keras')} on {pv.get('keras_backend')} {pv.get('jax')}; "
            f"same `.tok`, same weights; {agree}.",
            "",
            head,
        ]
        + ["| " + " | ".join(r) + " |" for r in rows]
        + [
            "",
            "The last column divides the medians: fusedrnn ÷ best peer for reviews/s, best peer ÷ fusedrnn for times. "
            "PyTorch's reviews/s is its best batch size of each run (in brackets: which). fusedrnn's cells here are "
            "`fusedrnn bench` and `fusedrnn train` inside the peers run; the epoch row compares Keras' second epoch "
            "(the first compiles) with fusedrnn's.",
        ]
    )


def _peer_row(
    v: View,
    label: str,
    key: str,
    peers: Sequence[str],
    higher: bool,
    fmt: Callable[[float], str] = sig3,
) -> Tuple[str, ...]:
    """One row of the peers table; ``key`` has a ``{peer}`` field for the peer's name."""
    cells = []
    best: Optional[float] = None
    for p in peers:
        vals = v.raw(key.format(peer=p))
        c = cell(vals, fmt)
        notes = v.f.get(key.format(peer=p), {}).get("notes")
        if vals and notes:
            c += " (" + "/".join(sorted(set(notes))) + ")"
        cells.append(c)
        if vals:
            m = statistics.median(vals)
            best = m if best is None else (max(best, m) if higher else min(best, m))
    ours = v.raw(key.format(peer="fusedrnn"))
    ratio = "—"
    if ours and best:
        m = statistics.median(ours)
        ratio = f"{sig3(m / best if higher else best / m)}×"
    return (label, *cells, cell(ours, fmt), ratio)


# Issue 14's general shapes: (cell as benches/net.rs names it, label, gates G); MACs per sequence-step are
# G·H² (recurrent product) + G·H (adding the embedding's precomputed input projection).
SHAPE_CELLS = (("lstm", "LSTM", 4), ("gru", "GRU", 3), ("rnn", "SimpleRNN", 1))
SHAPE_UNITS = (8, 16, 24, 32, 64)
SHAPE_BATCH = 1024
SHAPE_LEN = 200
# Issue 14's FMA-share targets (batch throughput, one thread), by units.
SHAPE_FMA_TARGETS = {32: 0.55, 64: 0.70}


def fma_peak_per_cycle(v: View) -> Tuple[float, str]:
    """Peak multiply-adds per cycle of the kernel's vectors, and the sentence saying where it comes from.

    Measured (``insn_latency --peak``) where the results file has it, as the kernel's f32 lanes × its FMAs
    per cycle rounded to the nearest half (the probe's 8 chains run a little under a whole pipe); else
    assumed: 2 FMA pipes × the lanes, which a Zen 4 does not have for zmm (it runs one 512-bit FMA a cycle).
    """
    kernel = v.res["kernel"]
    lanes, width = (16, "zmm") if "avx512" in kernel else (8, "ymm")
    got = v.raw(f"fma.peak_macs_per_cycle.{width}")
    if got:
        raw = statistics.median(got)
        per_cycle = max(0.5, round(raw / lanes * 2) / 2)
        return lanes * per_cycle, (
            f"the peak is {per_cycle:g} {width} FMA{'' if per_cycle == 1 else 's'} per cycle × {lanes} lanes of "
            f"kernel `{kernel}`, measured "
            f"(`benches/report/insn_latency.c --peak`: {sig3(raw)} multiply-adds per cycle, to the nearest half FMA)"
        )
    return 2.0 * lanes, (
        f"the peak is 2 FMA pipes × {lanes} lanes of kernel `{kernel}`, assumed, not measured "
        "(`examples/net_fma_share.rs` measures it)"
    )


def render_shapes(v: View) -> str:
    """Issue 14's general shapes (``benches/net.rs``): throughput, latency, cycles and FMA share; peers beside."""
    head = v.quick_banner() + v.header()
    if not any(k.startswith("criterion.net/") for k in v.f):
        return (
            head + "\n\n"
            "The general shapes (`cargo bench --bench net`, `benches/peers/shapes.py`) are not in this results file: "
            "a `benches/report/report.py run` newer than the `net` bench measures them."
        )
    ghz = v.clock()
    peak, peak_source = fma_peak_per_cycle(v)
    rows = []
    for cell_name, label, gates in SHAPE_CELLS:
        for units in SHAPE_UNITS:
            name = f"{cell_name}{units}"
            r1 = v.crit_rate(f"net/batch{SHAPE_BATCH}/{name}/KERNEL/1")
            r2 = v.crit_rate(f"net/batch{SHAPE_BATCH}/{name}/KERNEL/2")
            one = v.scaled(f"net/one/{name}/KERNEL", 1e-3, crit=True)
            # A review streamed a token a call (the bench times its SHAPE_LEN steps), and its steps
            # in one call (score_one) per step.
            step = v.scaled(f"net/step/{name}/KERNEL", 1 / SHAPE_LEN, crit=True)
            steps = [x * 1e3 / SHAPE_LEN for x in one] if one else None
            macs = gates * units * units + gates * units
            cyc = [ghz * 1e9 / (r * SHAPE_LEN) for r in r1] if (r1 and ghz) else None
            share = [macs / (peak * c) * 100 for c in cyc] if cyc else None
            goal = SHAPE_FMA_TARGETS.get(units)
            target, met = verdict(share, ("≥", goal * 100) if goal else None, lambda g: f"{g:g} %")
            if not (r1 or r2 or one):
                continue
            rows.append(
                (
                    f"{label}({units})",
                    cell(r1, rate),
                    cell(r2, rate),
                    cell(one),
                    cell(step),
                    cell(steps),
                    cell(cyc),
                    f"{macs:,}",
                    cell(share),
                    f"{target} {met}".strip() if goal else "—",
                )
            )
    out = [
        head,
        "",
        f"Embedding(5000, 64), length {SHAPE_LEN} without pads (every step computed), Dense(1, sigmoid); "
        f"`cargo bench --bench net` (criterion medians). Cycles per sequence-step = one thread's time per review "
        f"÷ {SHAPE_LEN} steps × the measured clock ({sig3(ghz) if ghz else '—'} GHz). MACs per step = G·H² "
        "recurrent + G·H input adds (G = 4 LSTM, 3 GRU, 1 SimpleRNN; the embedding's input projection is a "
        f"precomputed table). FMA share = MACs per step ÷ ({peak:g} peak MACs per cycle × cycles per step); "
        f"{peak_source}. Streamed steps: one sequence's step, ns, its {SHAPE_LEN} tokens fed a call each "
        f"(`NetSession::feed`) or all in one call (one review ÷ {SHAPE_LEN}: `score_one`, as "
        "`NetSession::feed_all`), the same bits. Shapes the bench does not measure are left out.",
        "",
        "| shape | reviews/s, 1 thread | reviews/s, 2 threads | one review µs | streamed step ns, a token a call "
        f"| streamed step ns, {SHAPE_LEN} a call | cycles / step | MACs / step | FMA share % | target |",
        "|---|---:|---:|---:|---:|---:|---:|---:|---:|---|",
    ]
    out += ["| " + " | ".join(r) + " |" for r in rows]
    prow = []
    for cell_name, label in (("lstm", "LSTM"), ("gru", "GRU")):
        name = f"{cell_name}32"
        for th in (1, 2):
            ours = v.crit_rate(f"net/batch{SHAPE_BATCH}/{name}/KERNEL/{th}")
            prow.append(
                _shape_peer_row(
                    v,
                    f"{label}(32) reviews/s, {th} thread{'s' if th > 1 else ''}",
                    name,
                    ours,
                    f"{th}t.reviews_per_s",
                    higher=True,
                )
            )
        ours = v.scaled(f"net/one/{name}/KERNEL", 1e-3, crit=True)
        prow.append(
            _shape_peer_row(v, f"{label}(32) one review µs, 1 thread", name, ours, "1t.b1_p50_us", higher=False)
        )
    if any(k.startswith("shapes.") for k in v.f):
        pv = v.res["peers"].get("versions") or {}
        diffs = [max(f["values"]) for k, f in v.f.items() if k.startswith("shapes.") and k.endswith(".max_abs_diff")]
        agree = (
            f"largest |PyTorch − fusedrnn| probability difference: {max(diffs):.1e}"
            if diffs
            else "PyTorch not checked against fusedrnn in this run"
        )
        out += [
            "",
            f"Beside torch {pv.get('torch')} (`nn.LSTM` / `nn.GRU`) and onnxruntime {pv.get('onnxruntime')} (the "
            "same module exported by `torch.onnx.export`, TorchScript exporter), `benches/peers/shapes.py`, batch "
            f"{SHAPE_BATCH}, with the weights `benches/net.rs` times ({agree}); peers' one review is the p50 of "
            "per-call times, fusedrnn's criterion's median. Issue 14 "
            "aims at leading PyTorch in throughput and ONNX Runtime in one-review latency by the notebook shape's "
            "margins (4× and 6×).",
            "",
            "| figure | PyTorch | ONNX Runtime | fusedrnn | fusedrnn ÷ PyTorch | fusedrnn ÷ ONNX Runtime |",
            "|---|---:|---:|---:|---:|---:|",
        ]
        out += ["| " + " | ".join(r) + " |" for r in prow]
    else:
        reason = v.res["peers"].get("reason") or "benches/peers/shapes.py was not run"
        out += ["", f"PyTorch and ONNX Runtime on these shapes were not measured in this run ({reason})."]
    return "\n".join(out)


def _shape_peer_row(
    v: View, label: str, name: str, ours: Optional[List[float]], suffix: str, higher: bool
) -> Tuple[str, ...]:
    """One row of the shapes' peer table: PyTorch, ONNX Runtime, fusedrnn, and the two ratios (medians)."""
    fmt = rate if higher else sig3
    cells = []
    ratios = []
    for peer in ("pytorch", "onnxruntime"):
        vals = v.raw(f"shapes.{name}.{peer}.{suffix}")
        cells.append(cell(vals, fmt))
        if vals and ours:
            p, m = statistics.median(vals), statistics.median(ours)
            ratios.append(f"{sig3(m / p if higher else p / m)}×")
        else:
            ratios.append("—")
    return (label, *cells, cell(ours, fmt), *ratios)


def render_datapath(v: View) -> str:
    """imdb.npz → .tok, its parts and sum, and the tokenizer."""
    ms = 1e-6
    parts = [
        ("read `imdb.npz` (inflate + decode both pickled arrays)", "pack/read_npz"),
        ("`load_data` + `train_test_split` + `pad_sequences`", "pack/load_data_split_pad"),
        ("write the `.tok`", "pack/write_tok"),
    ]
    rows = []
    med = statistics.median
    total = 0.0
    have_all = True
    for label, cid in parts:
        vals = v.scaled(cid, ms, crit=True)
        rows.append((label, cell(vals)))
        if vals:
            total += med(vals)
        else:
            have_all = False
    e2e = v.scaled("pack/end_to_end", ms, crit=True)
    rows.append(("sum of the three parts above", sig3(total) if have_all else "—"))
    rows.append(("end to end: the three in one pass (`pack/end_to_end`)", cell(e2e)))
    rows.append(
        (
            "open + validate the `.tok` (read into memory, checksums, every token; not in end to end)",
            cell(v.scaled("pack/open_tok_validated", ms, crit=True)),
        )
    )
    out = [v.quick_banner() + v.header(), "", "| what | ms |", "|---|---:|"] + [f"| {a} | {b} |" for a, b in rows]
    if have_all and e2e:
        diff = med(e2e) - total
        out += [
            "",
            f"End to end minus the sum of its parts: {sig3(diff)} ms (medians; each part is timed alone, "
            "with its input already in memory, so caches and allocations differ).",
        ]
    tk = v.targets.get("tokenize")
    trows = []
    for cid, label in (
        ("tokenize/num_words500/2000reviews", "`num_words = 500`"),
        ("tokenize/all_words/2000reviews", "all words kept"),
    ):
        vals = v.crit_rate(cid, 1e-6)
        tgt, met = verdict(vals, tk)
        trows.append(f"| tokenizer, {label}, MB/s | {cell(vals)} | {tgt} | {met} |")
    out += [
        "",
        "Tokenizer (`cargo bench --bench text`, one core, the first 2,000 shared test reviews decoded to "
        "words: lowercase ASCII words and spaces, so raw text's capitals, punctuation and `<br />` are not "
        "in this figure; MB = 10⁶ bytes):",
        "",
        "| figure | median (min–max) | target | met? |",
        "|---|---:|---:|---|",
    ] + trows
    return "\n".join(out)


RENDERERS: Dict[str, Callable[[View], str]] = {
    "machine": render_machine,
    "inference": render_inference,
    "latency": render_latency,
    "training": render_training,
    "peers": render_peers,
    "shapes": render_shapes,
    "datapath": render_datapath,
}


def render_block(res: Dict[str, Any], name: str, source: str, force: bool = False) -> str:
    """The markdown of block ``name`` from a results file (``source``: its path as README links it)."""
    if res.get("quick") and not force:
        raise QuickRefused(
            f"{source} is a --quick results file: not for README (use --force to render it anyway, labelled as quick)"
        )
    return RENDERERS[name](View(res, source))


# ------------------------------------------------------------------------------------------------
# README markers: <!-- figures:NAME begin source=PATH --> ... <!-- figures:NAME end -->

_BEGIN = re.compile(r"<!-- figures:(?P<name>[a-z]+) begin source=(?P<source>\S+) -->\n")


def find_blocks(text: str) -> Dict[str, Tuple[str, int, int]]:
    """{name: (source, start of content, end of content)}; every block once, each begin with its end."""
    found: Dict[str, Tuple[str, int, int]] = {}
    for m in _BEGIN.finditer(text):
        name = m.group("name")
        if name not in RENDERERS:
            raise ReportError(f"README: unknown figures block {name!r}")
        if name in found:
            raise ReportError(f"README: figures block {name!r} appears twice")
        end = text.find(f"<!-- figures:{name} end -->", m.end())
        if end < 0:
            raise ReportError(f"README: figures block {name!r} has no end marker")
        if _BEGIN.search(text, m.end(), end):
            raise ReportError(f"README: figures block {name!r} contains another block's begin marker")
        found[name] = (m.group("source"), m.end(), end)
    missing = [b for b in BLOCKS if b not in found]
    if missing:
        raise ReportError(f"README: figures block(s) missing: {', '.join(missing)}")
    return found


def replace_blocks(text: str, contents: Dict[str, str], source: str) -> str:
    """README text with every block's content (and its begin marker's source) replaced."""
    blocks = find_blocks(text)
    out = text
    for name, (_, start, end) in sorted(blocks.items(), key=lambda kv: -kv[1][1]):
        begin = out.rfind("<!-- figures:", 0, start)
        out = (
            out[:begin]
            + f"<!-- figures:{name} begin source={source} -->\n"
            + contents[name].rstrip("\n")
            + "\n"
            + out[end:]
        )
    return out


def render_readme(text: str, res: Dict[str, Any], source: str, force: bool = False) -> str:
    """README text with every block rendered from ``res``."""
    return replace_blocks(text, {n: render_block(res, n, source, force) for n in BLOCKS}, source)


def check_readme(text: str, root: Path = ROOT) -> List[str]:
    """Differences between README's blocks and what their results files render (empty: none)."""
    problems: List[str] = []
    for name, (source, start, end) in find_blocks(text).items():
        path = root / source
        if not path.is_file():
            problems.append(f"block {name}: results file {source} does not exist")
            continue
        want = render_block(load_results(path), name, source, force=True).rstrip("\n") + "\n"
        have = text[start:end]
        if have != want:
            diff = difflib.unified_diff(
                have.splitlines(),
                want.splitlines(),
                f"README.md ({name})",
                f"rendered from {source}",
                lineterm="",
            )
            problems.append("\n".join(diff))
    return problems


# ------------------------------------------------------------------------------------------------
# Command line


def cmd_run(args: argparse.Namespace) -> int:
    """``run``: measure, write the results file, render README."""
    if args.runs < 1 or args.runs > 20:
        raise ReportError(f"--runs must be 1..20, got {args.runs}")
    runner = Runner(args)
    try:
        res = runner.run()
    finally:
        shutil.rmtree(runner.tmp, ignore_errors=True)
    RESULTS_DIR.mkdir(parents=True, exist_ok=True)
    path = RESULTS_DIR / results_name(res)
    tmp = path.with_name("." + path.name + ".tmp")
    tmp.write_text(json.dumps(res, indent=1, ensure_ascii=False) + "\n")
    tmp.replace(path)
    runner.say(f"wrote {path.relative_to(ROOT)} ({res['seconds']:.0f} s, kernel {res['kernel']})")
    status = 0
    if runner.peers_failed:
        runner.say(f"the peers failed ({runner.peers_failed}): the results file says so; exit status 1")
        status = 1
    if args.no_readme:
        return status
    if res["quick"] and not args.force:
        runner.say("a --quick run: README left as it is (render it with `render --force` if you must)")
        return status
    return cmd_render(argparse.Namespace(results=str(path), force=args.force)) or status


def cmd_render(args: argparse.Namespace) -> int:
    """``render``: README's blocks from a results file."""
    path = Path(args.results).resolve() if args.results else newest_results()
    if ROOT not in path.parents:
        raise ReportError(f"{path}: README links its results file, so it must be inside {ROOT}")
    res = load_results(path)
    source = path.relative_to(ROOT).as_posix()
    text = README.read_text()
    new = render_readme(text, res, source, force=args.force)
    if new != text:
        tmp = README.with_name(".README.md.tmp")
        tmp.write_text(new)
        tmp.replace(README)
    print(f"README.md: figures rendered from {source}", file=sys.stderr)
    return 0


def cmd_check(args: argparse.Namespace) -> int:
    """``check``: exit 1 when README differs from what its results files render."""
    problems = check_readme(README.read_text())
    if problems:
        print(
            "README's figures differ from what their results file renders "
            "(regenerate: benches/report/report.py render --results FILE):\n",
            file=sys.stderr,
        )
        print("\n\n".join(problems), file=sys.stderr)
        return 1
    print("README.md: every figures block matches its results file", file=sys.stderr)
    return 0


def main(argv: Optional[Sequence[str]] = None) -> int:
    """The command line; returns the exit status."""
    ap = argparse.ArgumentParser(prog="benches/report/report.py", description=__doc__.split("\n\n")[0])
    sub = ap.add_subparsers(dest="cmd", required=True)
    r = sub.add_parser("run", help="measure everything, write a results file, render README")
    r.add_argument("--runs", type=int, default=None, help="runs of every benchmark (default 3; 2 with --quick)")
    r.add_argument(
        "--quick",
        action="store_true",
        help="development mode: few iterations; marked in the results file, and README is not rendered from it",
    )
    r.add_argument(
        "--no-peers",
        dest="peers",
        action="store_false",
        help="skip PyTorch / ONNX Runtime / Keras (benches/peers/); the results file says so",
    )
    r.add_argument(
        "--peers-python",
        default=None,
        help="a Python with benches/peers/requirements.txt "
        "(default: run.sh's benches/peers/.venv, created on first use)",
    )
    r.add_argument(
        "--wait-quiet",
        type=float,
        default=300,
        help=f"after building, wait up to this many seconds for the load average to fall to {QUIET_LOAD} (default 300)",
    )
    r.add_argument("--no-readme", action="store_true", help="write the results file only")
    r.add_argument("--force", action="store_true", help="render README even from a --quick run (labelled)")
    r.set_defaults(func=cmd_run)
    g = sub.add_parser("render", help="rewrite README's figures from a results file")
    g.add_argument("--results", default=None, help="default: the newest file in benches/results/")
    g.add_argument("--force", action="store_true", help="accept a --quick results file (every table says so)")
    g.set_defaults(func=cmd_render)
    c = sub.add_parser("check", help="exit 1 if README's figures differ from their results file")
    c.set_defaults(func=cmd_check)
    args = ap.parse_args(argv)
    if args.cmd == "run" and args.runs is None:
        args.runs = 2 if args.quick else 3
    try:
        return int(args.func(args))
    except ReportError as e:
        print(f"error: {e}", file=sys.stderr)
        return 1


if __name__ == "__main__":
    sys.exit(main())
