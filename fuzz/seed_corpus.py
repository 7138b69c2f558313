#!/usr/bin/env python3
"""Seeds fuzz/corpus/<target>/ from the project's test fixtures (standard library only).

Run from the repository root after `cargo build --release -p fusedrnn-data-tools`:
    python3 fuzz/seed_corpus.py
The ordinary test suite replays every file here (data-tools/tests/fuzz_corpus.rs,
tests/fuzz_corpus.rs), so a crash input added to a corpus stays fixed.
The `hdf5` target's seeds (small Keras model files) are written by
tests/fixtures/keras_import/gen_keras_import.py instead, which needs Keras.
"""
import os
import struct
import subprocess
import zipfile

FX = "data-tools/tests/fixtures"


def put(target, name, data):
    os.makedirs(f"fuzz/corpus/{target}", exist_ok=True)
    with open(f"fuzz/corpus/{target}/{name}", "wb") as f:
        f.write(data)


def npy_data_offset(b):
    if b[6] == 1:
        return struct.unpack("<H", b[8:10])[0] + 10
    return struct.unpack("<I", b[8:12])[0] + 12


def main():
    for f in ["many_short_p2_deflated.npz", "many_short_p3_stored.npz", "bad/y_train_label2.npz",
              "bad/pickle_global_os_system.npz", "bad/x_train_nested_lists.npz", "bad/truncated_zip.npz"]:
        put("npz", os.path.basename(f), open(f"{FX}/{f}", "rb").read())
    for f in ["many_short_p2_deflated.npz", "many_short_p3_stored.npz", "small_npy_v2.npz",
              "small_npy_v3.npz", "small_labels_u8.npz"]:
        z = zipfile.ZipFile(f"{FX}/{f}")
        for m in z.namelist():
            b = z.read(m)
            base = f.replace(".npz", "") + "_" + m.replace(".npy", "")
            if m.startswith("y_"):
                put("npy_header", base + ".npy", b)
            else:
                put("npy_header", base + ".npy", b[:200])  # the header and the start of the pickle
                if f.startswith("many_short"):
                    put("pickle", base + ".pickle", b[npy_data_offset(b):])
    for f in ["bad/pickle_protocol0.npz", "bad/x_train_float_lists.npz"]:
        b = zipfile.ZipFile(f"{FX}/{f}").read("x_train.npy")
        put("pickle", os.path.basename(f).replace(".npz", ".pickle"), b[npy_data_offset(b):])
    for f in ["lstm.safetensors", "rnn.torch.safetensors", "rnn-onehot.safetensors"]:
        put("safetensors", f, open(f"tests/fixtures/parity/{f}", "rb").read())
    os.makedirs("fuzz/corpus/tok", exist_ok=True)
    for npz, name, flags in [
            ("many_short_p3_stored.npz", "many_short_ml8.tok", ["--maxlen", "8"]),
            ("many_short_p3_stored.npz", "many_short_nosplit_post.tok",
             ["--maxlen", "5", "--val-split", "0", "--padding", "post"]),
            # Version 2 (u32 ids): every word of the small set (ids up to 100002), and a
            # vocabulary just past u16 whose ids are all small.
            ("small_p4_deflated.npz", "small_all_words_ml4_v2.tok", ["--maxlen", "4", "--num-words", "none"]),
            ("many_short_p3_stored.npz", "many_short_nw65537_ml3_v2.tok",
             ["--maxlen", "3", "--num-words", "65537", "--val-split", "0"])]:
        subprocess.run(["target/release/imdb-pack", "--quiet", "--npz", f"{FX}/{npz}",
                        "--out", f"fuzz/corpus/tok/{name}", *flags], check=True)


if __name__ == "__main__":
    main()
