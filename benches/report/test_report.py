"""Tests of benches/report/report.py: spread, parsers, rendering, markers, quick refusal, drift.

    python3 -m unittest discover -s benches/report -p 'test_*.py'

(``tests/readme_figures.rs`` runs this under ``cargo test``.) ``fixtures/small.json`` is a hand-made
results file with round numbers, so the rendered figures can be checked by hand: e.g. LSTM 1 thread
is 25,000 reviews in 40 ms (runs 1 and 3) and 50 ms (run 2): 625k (500k–625k) reviews/s.
"""

from __future__ import annotations

import copy
import json
import sys
import tempfile
import unittest
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

import report  # noqa: E402

FIXTURE = HERE / "fixtures" / "small.json"
SOURCE = "benches/report/fixtures/small.json"


def fixture() -> dict:
    return report.load_results(FIXTURE)


def fig(unit: str, values: list) -> dict:
    """A figure of a results file, as ``report.py run`` writes it."""
    return {"unit": unit, "source": "fixture", "values": values}


def skeleton_readme() -> str:
    parts = ["# title", "", "prose before, 123 untouched", ""]
    for name in report.BLOCKS:
        parts += [
            f"<!-- figures:{name} begin source=old.json -->",
            "stale 1",
            "stale 2",
            f"<!-- figures:{name} end -->",
            "",
            f"prose after {name}",
            "",
        ]
    return "\n".join(parts)


class Spread(unittest.TestCase):
    def test_odd_count(self) -> None:
        self.assertEqual(report.summarize([3.0, 1.0, 2.0]), {"median": 2.0, "min": 1.0, "max": 3.0})

    def test_even_count_takes_the_mean_of_the_middle_two(self) -> None:
        self.assertEqual(report.summarize([4.0, 1.0, 2.0, 10.0]), {"median": 3.0, "min": 1.0, "max": 10.0})

    def test_empty_is_an_error(self) -> None:
        with self.assertRaises(ValueError):
            report.summarize([])

    def test_cell_shows_median_and_range(self) -> None:
        self.assertEqual(report.cell([38.5, 37.26, 41.0]), "38.5 (37.3–41.0)")
        self.assertEqual(report.cell([619_000, 612_000, 626_400], report.rate), "619k (612k–626k)")
        self.assertEqual(report.cell([0.101]), "0.101 (1 run)")
        self.assertEqual(report.cell(None), "—")

    def test_sig3(self) -> None:
        self.assertEqual(
            [report.sig3(x) for x in (1234.6, 38.46, 3.641, 0.10149)],
            ["1,235", "38.5", "3.64", "0.101"],
        )

    def test_hand_edited_summary_is_refused(self) -> None:
        res = json.loads(FIXTURE.read_text())
        res["figures"]["capi.score_text.p50_us"]["median"] = 3.0
        with tempfile.TemporaryDirectory() as d:
            p = Path(d) / "edited.json"
            p.write_text(json.dumps(res))
            with self.assertRaisesRegex(report.ReportError, "capi.score_text.p50_us"):
                report.load_results(p)


class Parsers(unittest.TestCase):
    def test_cpuinfo(self) -> None:
        text = (
            "processor\t: 0\nvendor_id\t: GenuineIntel\ncpu family\t: 6\nmodel\t\t: 167\n"
            "model name\t: Intel(R) Xeon(R) Processor\nstepping\t: 1\n"
            "flags\t\t: fpu sse2 avx2 fma avx512f avx512vl hypervisor\n\nprocessor\t: 1\nmodel\t\t: 99\n"
        )
        info = report.parse_cpuinfo(text)
        self.assertEqual((info["vendor"], info["family"], info["model"]), ("GenuineIntel", 6, 167))
        self.assertEqual(info["model_name"], "Intel(R) Xeon(R) Processor")
        self.assertEqual(
            info["isa"],
            {"avx2": True, "fma": True, "avx512f": True, "avx512bw": False, "avx512vl": True},
        )
        self.assertTrue(info["hypervisor"])

    def test_latency_lines_of_the_three_tools(self) -> None:
        capi = (
            "lstm model, x86_64-avx512 kernel, review of 1287 bytes (229 spaces)\n"
            "score_text             p50   6.160 us  p99   6.380 us  mean   6.200 us  (200000 calls, prob 0.224802)\n"
            "score_ids (100 ids)    p50   3.520 us  p99   3.700 us  mean   3.530 us  (200000 calls, prob 0.5)\n"
        )
        self.assertEqual(report.parse_capi_kernel(capi), "x86_64-avx512")
        self.assertEqual(
            report.parse_latency_lines(capi),
            {"score_text": (6.16, 6.38), "score_ids (100 ids)": (3.52, 3.7)},
        )
        stdin = "predict --stdin round trip  p50 12.000 us  p99 15.500 us  mean 12.3 us  (20000 lines, prob 0.2)\n"
        self.assertEqual(report.parse_latency_lines(stdin), {"predict --stdin round trip": (12.0, 15.5)})
        with self.assertRaises(report.ReportError):
            report.parse_latency_lines("nothing here")

    def test_last_line_of_an_error(self) -> None:
        self.assertEqual(
            report.last_line("cmd failed (exit 127):\nrun.sh: python: No such file\n\n"), "run.sh: python: No such file"
        )

    def test_clock(self) -> None:
        c = report.parse_clock("best_ghz 3.9915 typical_ghz 3.5898\nbest_ghz 3.7922 typical_ghz 3.5808\n")
        self.assertEqual(c, {"best": [3.9915, 3.7922], "typical": [3.5898, 3.5808]})

    def test_criterion_tree_and_kernel_in_ids(self) -> None:
        with tempfile.TemporaryDirectory() as d:
            home = Path(d)
            for full_id, ns, thr in (
                ("step_latency/lstm/x86_64-avx2-fma", 38.0, {"Elements": 1}),
                ("throughput/lstm/test25000/x86_64-avx2-fma/2t", 2e7, {"Elements": 25000}),
                ("tokenize/all_words/2000reviews", 1e7, {"Bytes": 2_460_000}),
            ):
                new = home / full_id.replace("/", "_") / "new"
                new.mkdir(parents=True)
                (new / "benchmark.json").write_text(json.dumps({"full_id": full_id, "throughput": thr}))
                (new / "estimates.json").write_text(json.dumps({"median": {"point_estimate": ns}}))
            figs = report.read_criterion(home, "x86_64-avx2-fma")
        self.assertEqual(figs["criterion.step_latency/lstm/KERNEL"]["value"], 38.0)
        self.assertEqual(figs["criterion.throughput/lstm/test25000/KERNEL/2t"]["elements"], 25000)
        self.assertEqual(figs["criterion.tokenize/all_words/2000reviews"]["bytes"], 2_460_000)
        self.assertEqual(report.criterion_kernel("throughput/lstm/test25000/x86_64-avx512/1t"), "x86_64-avx512")
        self.assertEqual(report.criterion_kernel("train_epoch/lstm/threads2/portable-wide"), "portable-wide")
        self.assertIsNone(report.criterion_kernel("train_parts/rmsprop/lstm"))
        self.assertEqual(report.criterion_kernel("net/batch1024/gru32/x86_64-avx512/2"), "x86_64-avx512")
        self.assertEqual(report.criterion_kernel("net/one/rnn64/portable-wide"), "portable-wide")
        self.assertEqual(report.criterion_kernel("net/step/gru16/x86_64-avx512"), "x86_64-avx512")

    def test_committed_peers_results(self) -> None:
        """The extraction reads the real peers.py output committed in benches/peers/results/."""
        res = json.loads((HERE.parent / "peers" / "results" / "latest.json").read_text())
        figs, notes, kernels = report.peers_figures(res)
        lstm = res["models"]["lstm"]
        self.assertEqual(
            figs["peers.lstm.fusedrnn.1t.reviews_per_s"],
            lstm["fusedrnn"]["threads"]["1"]["reviews_per_s"],
        )
        best = max(
            v["reviews_per_s"]
            for v in lstm["pytorch"]["threads"]["2"].values()
            if isinstance(v, dict) and "reviews_per_s" in v
        )
        self.assertEqual(figs["peers.lstm.pytorch.2t.reviews_per_s"], best)
        self.assertIn(notes["peers.lstm.pytorch.2t.reviews_per_s"], ("b64", "b1024", "whole split"))
        self.assertEqual(
            figs["peers.lstm.onnxruntime.b1_p50_us"],
            lstm["onnxruntime"]["threads"]["1"]["batch1_latency_us"]["p50"],
        )
        self.assertEqual(figs["peers.train.keras.epoch_s"], res["training"]["keras"]["seconds"][-1])
        self.assertEqual(kernels, {"peers": lstm["fusedrnn"]["threads"]["1"]["kernel"]})


class Rendering(unittest.TestCase):
    def test_inference_figures_spread_and_targets(self) -> None:
        out = report.render_block(fixture(), "inference", SOURCE)
        self.assertIn("Fixture CPU 9000 (family 6 model 167), kernel `x86_64-avx2-fma`, 2026-12-01", out)
        self.assertIn(
            "| LSTM reviews/s, 1 thread | 625k (500k–625k) | 610k (600k–620k) | ≥ 700k | "
            "not met (0/3 runs) | 64.0 per step |",
            out,
        )
        self.assertIn(
            "| LSTM reviews/s, 2 threads | 2.00M (1.00M–2.00M) | — | ≥ 1.40M | met (2/3 runs) |",
            out,
        )
        self.assertIn(
            "| LSTM one step (latency kernel), ns | 27.0 (25.0–30.0) | 38.0 (38.0–38.0) p50 | ≤ 28 | "
            "met (2/3 runs) | 108 |",
            out,
        )
        self.assertIn(
            "| LSTM one 100-step review, µs | 3.00 (2.90–3.10) | 3.60 (3.60–3.60) p50 | ≤ 2.8 | not met (0/3 runs) |",
            out,
        )

    def test_avx512_kernel_takes_the_avx512_targets(self) -> None:
        res = copy.deepcopy(fixture())
        res["kernel"] = "x86_64-avx512"
        out = report.render_block(res, "inference", SOURCE)
        self.assertIn(
            "| LSTM reviews/s, 2 threads | 2.00M (1.00M–2.00M) | — | ≥ 2.00M | met (2/3 runs) |",
            out,
        )
        self.assertIn("| ≤ 22 | not met (0/3 runs) |", out)

    def test_lower_bound_share_only_for_a_counted_core_and_kernel(self) -> None:
        out = report.render_block(fixture(), "inference", SOURCE)
        self.assertIn("| 64.0 per step | — |", out)
        self.assertIn("none counted for this core and kernel", out)
        res = copy.deepcopy(fixture())
        res["machine"]["vendor"] = "GenuineIntel"
        self.assertIn("| 64.0 per step | — |", report.render_block(res, "inference", SOURCE))
        res["kernel"] = "x86_64-avx512"
        out = report.render_block(res, "inference", SOURCE)
        # 31.5 of 64.0 cycles per sequence-step; 89 of the step's 108 cycles.
        self.assertIn("| 64.0 per step | 31.5 (49 %) |", out)
        self.assertIn("| 108 | 89.0 (82 %) |", out)
        self.assertIn("| sigmoid over 4,096 floats, µs | 1.05 (1.00–1.10) | — | — |  | — | — |", out)
        self.assertNotIn("none counted", out)
        self.assertIn('"The bounds on Golden Cove, counted on this code"', out)
        # Zen 4 has its own bounds and names its own section.
        res["machine"].update(vendor="AuthenticAMD", family=25, model=17)
        out = report.render_block(res, "inference", SOURCE)
        self.assertIn("| 64.0 per step | 38.5 (60 %) |", out)
        self.assertIn("| 108 | 77.0 (71 %) |", out)
        self.assertIn('"The bounds on Zen 4, counted on this code"', out)
        # Zen 3 (family 25 model 1) has bounds for the AVX2 kernel only, its one kernel.
        res["machine"]["model"] = 1
        self.assertIn("none counted", report.render_block(res, "inference", SOURCE))
        res["kernel"] = "x86_64-avx2-fma"
        out = report.render_block(res, "inference", SOURCE)
        self.assertIn("| 64.0 per step | 41.0 (64 %) |", out)
        self.assertIn("| 108 | 88.0 (81 %) |", out)
        self.assertIn('"The bounds on Zen 3, counted on this code"', out)

    def test_steps_fed_together_show_only_where_measured(self) -> None:
        res = copy.deepcopy(fixture())
        self.assertNotIn("100 tokens a call", report.render_block(res, "inference", SOURCE))

        # Criterion times a call of 100 steps; the row is per step, with the review's bound per step.
        res["figures"]["criterion.steps_together/lstm/KERNEL"] = fig("ns", [2700.0, 2800.0, 2900.0])
        res["figures"]["bench.lstm.steps_together_p50_ns"] = fig("ns", [29.0, 30.0, 31.0])
        res["kernel"] = "x86_64-avx512"
        res["machine"].update(vendor="AuthenticAMD", family=25, model=17)
        out = report.render_block(res, "inference", SOURCE)
        self.assertIn(
            "| LSTM step, 100 tokens a call (`feed_all`), ns | 28.0 (27.0–29.0) | 30.0 (29.0–31.0) p50 "
            "| — |  | 112 | 71.0 (63 %) |",
            out,
        )
        self.assertNotIn("SimpleRNN step, 100 tokens a call", out)

    def test_avx2_forced_rows_take_the_avx2_targets_only_where_measured(self) -> None:
        res = copy.deepcopy(fixture())
        res["kernel"] = "x86_64-avx512"
        out = report.render_block(res, "inference", SOURCE)
        self.assertNotIn("AVX2 forced", out)

        figures = res["figures"]
        figures["bench_avx2.lstm.1t.reviews_per_s"] = fig("reviews/s", [500_000.0, 700_000.0, 750_000.0])
        figures["bench_avx2.rnn.2t.reviews_per_s"] = fig("reviews/s", [5.0e6, 5.2e6, 5.1e6])
        figures["bench_avx2.lstm.step_p50_ns"] = fig("ns", [30.0, 31.0, 32.0])
        figures["bench_avx2.lstm.review_p50_us"] = fig("µs", [2.9, 3.0, 3.1])
        out = report.render_block(res, "inference", SOURCE)
        forced = "AVX2 forced (`FUSEDRNN_KERNEL=avx2-fma`)"
        # 4 GHz × 1 thread ÷ (700k reviews/s × 100 steps) = 57.1 cycles; the AVX2 target, not AVX-512's.
        self.assertIn(
            f"| LSTM reviews/s, 1 thread, {forced} | — | 700k (500k–750k) | ≥ 700k | met (2/3 runs) "
            "| 57.1 per step | — |",
            out,
        )
        self.assertIn(
            f"| SimpleRNN reviews/s, 2 threads, {forced} | — | 5.10M (5.00M–5.20M) | ≥ 7.00M "
            "| not met (0/3 runs) | 15.7 per step | — |",
            out,
        )
        self.assertIn(
            f"| LSTM one step (latency kernel), ns, {forced} | — | 31.0 (30.0–32.0) p50 | ≤ 28 "
            "| not met (0/3 runs) | 124 | — |",
            out,
        )
        self.assertIn(f"| LSTM one 100-step review, µs, {forced} | — | 3.00 (2.90–3.10) p50 | ≤ 2.8 |", out)
        self.assertNotIn(f"LSTM reviews/s, 2 threads, {forced}", out)
        self.assertIn("The rows marked AVX2 forced run this CPU with the AVX2 kernel", out)

    def test_training_breakdown_adds_up(self) -> None:
        out = report.render_block(fixture(), "training", SOURCE)
        self.assertIn(
            "| one LSTM epoch, 2 threads, s | 0.100 (0.0900–0.110) | ≤ 0.07 | not met (0/3 runs) |",
            out,
        )
        self.assertIn("| 8 shards of 8 sequences, forward + backward (8 × 36.0 (36.0–36.0)) | 288 |", out)
        self.assertIn("| sum of the parts | 309 |", out)
        self.assertIn("| rest of the batch, not broken down by the benches | 121 |", out)

    def test_datapath_says_how_the_parts_compare(self) -> None:
        out = report.render_block(fixture(), "datapath", SOURCE)
        self.assertIn("| sum of the three parts above | 180 |", out)
        self.assertIn("End to end minus the sum of its parts: -20.0 ms", out)
        self.assertIn("| tokenizer, `num_words = 500`, MB/s | 100 (100–100) | ≥ 50 | met (3/3 runs) |", out)

    def test_latency_and_peers_ratios_are_computed(self) -> None:
        lat = report.render_block(fixture(), "latency", SOURCE)
        self.assertIn(
            "| C API `fusedrnn_score_text` | 4.00 (3.90–4.50) | 5.00 (5.00–5.00) | ≤ 4 | met (2/3 runs) |",
            lat,
        )
        self.assertIn("PyTorch takes 35.0× as long as the C API", lat)
        peers = report.render_block(fixture(), "peers", SOURCE)
        self.assertIn(
            "| LSTM reviews/s, 1 thread | 140k (100k–150k) (b1024/b64) | — | 200k (200k–200k) (b1024) | "
            "600k (600k–600k) | 3.00× |",
            peers,
        )
        self.assertIn(
            "| 0.400 (0.400–0.400); epoch 1: 2.40 (2.40–2.40) | 0.100 (0.100–0.100) | 4.00× |",
            peers,
        )

    def test_shapes_cycles_fma_share_and_peer_ratios(self) -> None:
        # LSTM(32): 1024 reviews in 20.48 ms = 50k/s = 20 µs per review = 100 ns per step = 400 cycles
        # at 4 GHz; 4·32² + 4·32 = 4,224 MACs ÷ (16 × 400) = 66 % of the AVX2 peak. Streamed: 200
        # feeds in 30 µs, 150 ns a step; one review of 25 µs, 125 ns a step.
        shapes = report.render_block(fixture(), "shapes", SOURCE)
        self.assertIn(
            "| LSTM(32) | 50.0k (50.0k–50.0k) | 100k (100k–100k) | 25.0 (25.0–25.0) | 150 (150–150) "
            "| 125 (125–125) | 400 (400–400) | 4,224 | 66.0 (66.0–66.0) | ≥ 55 % met (3/3 runs) |",
            shapes,
        )
        older = copy.deepcopy(fixture())  # a results file from before the streamed-step bench
        del older["figures"]["criterion.net/step/lstm32/KERNEL"]
        self.assertIn(
            "| 25.0 (25.0–25.0) | — | 125 (125–125) | 400 (400–400) |", report.render_block(older, "shapes", SOURCE)
        )
        self.assertIn("the measured clock (4.00 GHz)", shapes)
        self.assertNotIn("| GRU(64) |", shapes)  # not in the fixture: left out
        eight = copy.deepcopy(fixture())  # LSTM(8) with LSTM(32)'s times: 4·8² + 4·8 = 288 MACs
        for key in [k for k in eight["figures"] if "/lstm32/" in k]:
            eight["figures"][key.replace("/lstm32/", "/lstm8/")] = eight["figures"][key]
        self.assertIn(
            "| LSTM(8) | 50.0k (50.0k–50.0k) | 100k (100k–100k) | 25.0 (25.0–25.0) | 150 (150–150) "
            "| 125 (125–125) | 400 (400–400) | 288 | 4.50 (4.50–4.50) | — |",
            report.render_block(eight, "shapes", SOURCE),
        )
        self.assertIn("| LSTM(32) reviews/s, 2 threads | 20.0k (20.0k–20.0k) | 8.00k (8.00k–8.00k) | 100k", shapes)
        self.assertIn("| 100k (100k–100k) | 5.00× | 12.5× |", shapes)
        self.assertIn("| LSTM(32) one review µs, 1 thread | 200 (200–200) | 100 (100–100) | 25.0", shapes)
        self.assertIn("| 8.00× | 4.00× |", shapes)
        self.assertIn("| GRU(32) reviews/s, 1 thread | — | — | — | — | — |", shapes)
        self.assertIn("PyTorch not checked against fusedrnn in this run", shapes)
        res = copy.deepcopy(fixture())
        res["figures"]["shapes.lstm32.max_abs_diff"] = {"unit": "", "source": "fixture", "values": [6e-8, 5e-8, 0.0]}
        self.assertIn(
            "largest |PyTorch − fusedrnn| probability difference: 6.0e-08", report.render_block(res, "shapes", SOURCE)
        )

    def test_shapes_on_avx512_use_16_lanes_and_can_miss_the_target(self) -> None:
        res = copy.deepcopy(fixture())
        res["kernel"] = "x86_64-avx512"
        shapes = report.render_block(res, "shapes", SOURCE)
        self.assertIn("| 33.0 (33.0–33.0) | ≥ 55 % not met (0/3 runs) |", shapes)
        self.assertIn("2 FMA pipes × 16 lanes", shapes)

    def test_shapes_divide_by_the_measured_peak_where_the_file_has_it(self) -> None:
        # A Zen 4: AVX-512 kernel, but one zmm FMA a cycle (16 MACs), so LSTM(32) is 66 %, not 33 %.
        res = copy.deepcopy(fixture())
        res["kernel"] = "x86_64-avx512"
        for width, macs in (("ymm", [14.9, 15.1, 15.0]), ("zmm", [16.04, 15.8, 16.1])):
            res["figures"][f"fma.peak_macs_per_cycle.{width}"] = {"unit": "", "source": "fixture", "values": macs}
        shapes = report.render_block(res, "shapes", SOURCE)
        self.assertIn("| 66.0 (66.0–66.0) | ≥ 55 % met (3/3 runs) |", shapes)
        self.assertIn("(16 peak MACs per cycle × cycles per step); the peak is 1 zmm FMA per cycle × 16 lanes", shapes)
        self.assertIn("16.0 multiply-adds per cycle, to the nearest half FMA", shapes)
        machine = report.render_block(res, "machine", SOURCE)
        self.assertIn("15.0 (14.9–15.1) f32 multiply-adds per cycle with ymm, 16.0 (15.8–16.1) with zmm.", machine)
        # The AVX2 kernel on the same machine divides by the ymm peak: 2 FMAs × 8 lanes.
        res["kernel"] = "x86_64-avx2-fma"
        self.assertIn("the peak is 2 ymm FMAs per cycle × 8 lanes", report.render_block(res, "shapes", SOURCE))

    def test_fma_peak_parser(self) -> None:
        self.assertEqual(
            report.parse_fma_peak("ymm_macs_per_cycle 14.98 zmm_macs_per_cycle 16.04\n"), {"ymm": 14.98, "zmm": 16.04}
        )
        self.assertEqual(report.parse_fma_peak("ymm_macs_per_cycle 15.5 zmm_macs_per_cycle 0.00"), {"ymm": 15.5})
        with self.assertRaises(report.ReportError):
            report.parse_fma_peak("insn_latency: needs AVX2 and FMA")

    def test_shapes_without_figures_and_without_peers(self) -> None:
        res = copy.deepcopy(fixture())
        res["figures"] = {k: f for k, f in res["figures"].items() if not k.startswith("shapes.")}
        res["peers"] = {"included": False, "reason": "failed: boom"}
        self.assertIn("were not measured in this run (failed: boom)", report.render_block(res, "shapes", SOURCE))
        res["figures"] = {k: f for k, f in res["figures"].items() if not k.startswith("criterion.net/")}
        self.assertIn("are not in this results file", report.render_block(res, "shapes", SOURCE))

    def test_shapes_figures_from_the_script_output(self) -> None:
        out = {
            "shapes": {
                "gru32": {
                    "pytorch": {"1": {"reviews_per_s": 9000.0, "batch1_latency_us": {"p50": 300.0, "p99": 400.0}}},
                    "onnxruntime": {"2": {"reviews_per_s": 7000.0, "batch1_latency_us": {"p50": 90.0, "p99": 99.0}}},
                    "onnx_ops": ["GRU"],
                    "fusedrnn_agreement": {"checked": True, "rows": 64, "max_abs_diff": 6e-8},
                }
            }
        }
        self.assertEqual(
            report.shapes_figures(out),
            {
                "shapes.gru32.pytorch.1t.reviews_per_s": 9000.0,
                "shapes.gru32.pytorch.1t.b1_p50_us": 300.0,
                "shapes.gru32.pytorch.1t.b1_p99_us": 400.0,
                "shapes.gru32.onnxruntime.2t.reviews_per_s": 7000.0,
                "shapes.gru32.onnxruntime.2t.b1_p50_us": 90.0,
                "shapes.gru32.onnxruntime.2t.b1_p99_us": 99.0,
                "shapes.gru32.max_abs_diff": 6e-8,
            },
        )

    def test_latency_under_load_is_shown_beside_alone(self) -> None:
        res = copy.deepcopy(fixture())
        self.assertNotIn("under load p50", report.render_block(res, "latency", SOURCE))

        res["figures"]["bench.lstm.step_p99_ns"] = fig("ns", [80.0, 81.0, 82.0])
        res["figures"]["loaded.lstm.step_p50_ns"] = fig("ns", [50.0, 52.0, 60.0])
        res["figures"]["loaded.lstm.step_p99_ns"] = fig("ns", [100.0, 120.0, 130.0])
        lat = report.render_block(res, "latency", SOURCE)
        self.assertIn("| latency kernel | alone p50 | alone p99 | under load p50 | under load p99 |", lat)
        self.assertIn("| LSTM one step, ns |", lat)
        self.assertIn("| 52.0 (50.0–60.0) | 120 (100–130) |", lat)
        self.assertIn("| SimpleRNN one step, ns | — | — | — | — |", lat)

    def test_skipped_peers_are_said_so(self) -> None:
        res = copy.deepcopy(fixture())
        res["peers"] = {"included": False, "reason": "skipped with --no-peers"}
        self.assertIn(
            "Not measured in this run (skipped with --no-peers)",
            report.render_block(res, "peers", SOURCE),
        )
        self.assertIn(
            "were not measured in this run (skipped with --no-peers)",
            report.render_block(res, "machine", SOURCE),
        )

    def test_kernel_tuning_is_named_where_the_file_has_it(self) -> None:
        res = copy.deepcopy(fixture())
        self.assertNotIn("tuned for this CPU", report.render_block(res, "machine", SOURCE))
        res["kernel_tuning"] = "alternating block pairs, 8-lane LSTM step"
        self.assertIn(
            "(read from the binaries, chosen at run time; tuned for this CPU: alternating block pairs, "
            "8-lane LSTM step).",
            report.render_block(res, "machine", SOURCE),
        )

    def test_noisy_run_is_flagged(self) -> None:
        res = copy.deepcopy(fixture())
        self.assertNotIn("Noisy run", report.render_block(res, "machine", SOURCE))
        res["load_average"]["before"] = [3.5, 3.0, 2.0]
        self.assertIn(
            "**Noisy run:** the load average was 3.50 before the run started",
            report.render_block(res, "machine", SOURCE),
        )


class Quick(unittest.TestCase):
    def test_quick_results_are_refused_unless_forced(self) -> None:
        res = copy.deepcopy(fixture())
        res["quick"] = True
        for name in report.BLOCKS:
            with self.assertRaises(report.QuickRefused):
                report.render_block(res, name, SOURCE)
            self.assertIn("QUICK RUN", report.render_block(res, name, SOURCE, force=True))
        with self.assertRaises(report.QuickRefused):
            report.render_readme(skeleton_readme(), res, SOURCE)

    def test_quick_is_in_the_file_name(self) -> None:
        res = {"date": "2026-12-02T02:35:00Z", "commit": "abcdef0123", "quick": True}
        self.assertEqual(report.results_name(res), "2026-12-02T023500Z-abcdef0-quick.json")


class Markers(unittest.TestCase):
    def test_only_the_blocks_are_replaced(self) -> None:
        text = skeleton_readme()
        out = report.render_readme(text, fixture(), SOURCE)
        self.assertNotIn("stale", out)
        self.assertNotIn("old.json", out)
        for name in report.BLOCKS:
            self.assertIn(f"<!-- figures:{name} begin source={SOURCE} -->\n", out)
            self.assertIn(f"prose after {name}", out)
        self.assertTrue(out.startswith("# title\n\nprose before, 123 untouched\n"))
        self.assertEqual(report.render_readme(out, fixture(), SOURCE), out, "rendering twice changes nothing")

    def test_broken_markers_are_errors(self) -> None:
        text = skeleton_readme()
        with self.assertRaisesRegex(report.ReportError, "no end marker"):
            report.find_blocks(text.replace("<!-- figures:training end -->", ""))
        with self.assertRaisesRegex(report.ReportError, "missing: peers"):
            report.find_blocks(text.replace("figures:peers begin", "figures-peers begin"))
        dup = text + "\n<!-- figures:latency begin source=x.json -->\n<!-- figures:latency end -->\n"
        with self.assertRaisesRegex(report.ReportError, "appears twice"):
            report.find_blocks(dup)

    def test_check_finds_drift(self) -> None:
        root = HERE.parents[1]
        good = report.render_readme(skeleton_readme(), fixture(), SOURCE)
        self.assertEqual(report.check_readme(good, root), [])
        drifted = good.replace("625k (500k–625k)", "700k (500k–625k)")
        problems = report.check_readme(drifted, root)
        self.assertEqual(len(problems), 1)
        self.assertIn("-| LSTM reviews/s, 1 thread | 700k", problems[0])
        self.assertIn("+| LSTM reviews/s, 1 thread | 625k", problems[0])
        missing = good.replace(f"source={SOURCE}", "source=benches/results/nope.json", 1)
        self.assertIn("does not exist", report.check_readme(missing, root)[0])


if __name__ == "__main__":
    unittest.main()
