//! The token file: write → open round trips, and every corruption the opener must catch.

mod common;

use common::tok_layout::{ENTRY_BYTES, SECTIONS, TABLE_AT, entry, fix_header_crc, fix_section_crc};
use fusedrnn::tokfile::{FormatError, PackParams, Side, SplitData, SplitName, TokFile, encode};
use proptest::prelude::*;

struct Owned {
    tokens: Vec<u16>,
    labels: Vec<u8>,
    lengths: Vec<u32>,
}

impl Owned {
    fn data(&self) -> SplitData<'_> {
        SplitData {
            tokens: &self.tokens,
            labels: &self.labels,
            lengths: &self.lengths,
        }
    }
}

fn small_params() -> PackParams {
    PackParams {
        num_words: 50,
        seq_len: 7,
        ..PackParams::NOTEBOOK
    }
}

fn split(rows: usize, seq_len: usize, num_words: u16, salt: u32) -> Owned {
    Owned {
        tokens: (0..rows * seq_len)
            .map(|i| ((i as u32 * 31 + salt) % u32::from(num_words)) as u16)
            .collect(),
        labels: (0..rows).map(|i| ((i as u32 + salt) % 2) as u8).collect(),
        lengths: (0..rows).map(|i| i as u32 * 3 + salt).collect(),
    }
}

fn encode_vec(params: &PackParams, splits: [&Owned; 3]) -> Vec<u8> {
    let mut out = Vec::new();
    encode(
        &mut out,
        params,
        [splits[0].data(), splits[1].data(), splits[2].data()],
    )
    .unwrap();
    out
}

fn sample_file() -> Vec<u8> {
    let p = small_params();
    encode_vec(
        &p,
        [
            &split(5, 7, 50, 1),
            &split(0, 7, 50, 2),
            &split(3, 7, 50, 3),
        ],
    )
}

fn format_error(bytes: &[u8]) -> FormatError {
    TokFile::from_bytes(bytes)
        .unwrap_err()
        .format_error()
        .cloned()
        .expect("a format error")
}

#[test]
fn round_trip_keeps_everything() {
    let bytes = sample_file();
    let tok = TokFile::from_bytes(&bytes).unwrap();
    assert_eq!(tok.params(), &small_params());
    let train = tok.split(SplitName::Train);
    let want = split(5, 7, 50, 1);
    assert_eq!(
        (train.tokens, train.labels, train.lengths),
        (&want.tokens[..], &want.labels[..], &want.lengths[..])
    );
    assert!(tok.split(SplitName::Val).is_empty());
    assert_eq!(train.row(4), &want.tokens[28..35]);
    assert_eq!(train.rows_fixed::<7>().unwrap()[4], want.tokens[28..35]);
    assert!(train.rows_fixed::<8>().is_none());
    let batches: Vec<_> = train.batches(2).map(|b| (b.start, b.len())).collect();
    assert_eq!(batches, [(0, 2), (2, 2), (4, 1)]);
    assert_eq!(train.batches(2).len(), 3);
}

#[test]
fn every_payload_is_64_byte_aligned() {
    let bytes = sample_file();
    for i in 0..SECTIONS {
        assert_eq!(entry(&bytes, i).0 % 64, 0, "section {i}");
    }
}

#[test]
fn open_maps_a_real_file_and_names_it_in_errors() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("x.tok");
    let p = small_params();
    let (a, b, c) = (split(4, 7, 50, 1), split(2, 7, 50, 2), split(3, 7, 50, 3));
    fusedrnn::tokfile::write_atomic(&path, &p, [a.data(), b.data(), c.data()]).unwrap();
    let tok = TokFile::open(&path).unwrap();
    assert_eq!(tok.split(SplitName::Test).labels, &c.labels[..]);
    assert_eq!(
        std::fs::read_dir(dir.path()).unwrap().count(),
        1,
        "temporary file left behind"
    );

    let mut bytes = std::fs::read(&path).unwrap();
    bytes[0] = b'X';
    std::fs::write(&path, &bytes).unwrap();
    let msg = TokFile::open(&path).unwrap_err().to_string();
    assert!(
        msg.starts_with(&path.display().to_string()) && msg.contains("not a fusedrnn token file"),
        "{msg}"
    );
    std::fs::write(&path, b"").unwrap();
    assert!(
        TokFile::open(&path)
            .unwrap_err()
            .to_string()
            .contains("too short")
    );
    let msg = TokFile::open(dir.path().join("missing.tok"))
        .unwrap_err()
        .to_string();
    assert!(msg.contains("missing.tok"), "{msg}");
}

#[test]
fn corruptions_are_each_named() {
    let good = sample_file();

    let mut b = good.clone();
    b[3] ^= 0xff;
    assert!(matches!(format_error(&b), FormatError::BadMagic { .. }));

    let mut b = good.clone();
    b[8] = 2;
    assert_eq!(
        format_error(&b),
        FormatError::UnsupportedVersion { found: 2 }
    );

    let mut b = good.clone();
    b[20] ^= 1; // num_words, checksum left stale
    assert!(matches!(
        format_error(&b),
        FormatError::HeaderChecksum { .. }
    ));

    let mut b = good.clone();
    b.push(0);
    assert!(matches!(format_error(&b), FormatError::SizeMismatch { .. }));
    assert!(matches!(
        format_error(&good[..good.len() - 1]),
        FormatError::SizeMismatch { .. }
    ));

    // A flipped token: the section checksum catches it.
    let (offset, _) = entry(&good, 0);
    let mut b = good.clone();
    b[offset] ^= 0x01;
    assert!(matches!(
        format_error(&b),
        FormatError::SectionChecksum {
            split: "train",
            kind: "tokens",
            ..
        }
    ));

    // An out-of-range token with consistent checksums: the range check catches it.
    let mut b = good.clone();
    b[offset + 2 * 9..offset + 2 * 10].copy_from_slice(&50u16.to_le_bytes());
    fix_section_crc(&mut b, 0);
    assert_eq!(
        format_error(&b),
        FormatError::TokenOutOfRange {
            split: "train",
            row: 1,
            col: 2,
            token: 50,
            num_words: 50
        }
    );

    // A label that is not 0/1, checksums consistent.
    let (labels_at, _) = entry(&good, 1);
    let mut b = good.clone();
    b[labels_at + 3] = 7;
    fix_section_crc(&mut b, 1);
    assert_eq!(
        format_error(&b),
        FormatError::BadLabel {
            split: "train",
            row: 3,
            label: 7
        }
    );

    // A misaligned section offset, checksums consistent.
    let mut b = good.clone();
    let at = TABLE_AT + 2 * ENTRY_BYTES + 8;
    let off = u64::from_le_bytes(b[at..at + 8].try_into().unwrap()) + 4;
    b[at..at + 8].copy_from_slice(&off.to_le_bytes());
    fix_header_crc(&mut b);
    assert!(matches!(
        format_error(&b),
        FormatError::BadSection {
            split: "train",
            kind: "lengths",
            ..
        }
    ));

    // A row count near u32::MAX: the size arithmetic must not overflow or allocate.
    let mut b = good.clone();
    b[TABLE_AT + 4..TABLE_AT + 8].copy_from_slice(&u32::MAX.to_le_bytes());
    fix_header_crc(&mut b);
    assert!(matches!(format_error(&b), FormatError::BadSection { .. }));

    // num_words beyond u16.
    let mut b = good.clone();
    b[20..24].copy_from_slice(&70_000u32.to_le_bytes());
    fix_header_crc(&mut b);
    assert!(matches!(format_error(&b), FormatError::BadParams(_)));
}

#[test]
fn every_truncation_and_bit_flip_is_refused_without_panic() {
    let good = sample_file();
    for cut in 0..good.len() {
        assert!(TokFile::from_bytes(&good[..cut]).is_err(), "cut at {cut}");
    }
    for i in 0..good.len() {
        for bit in [0, 3, 7] {
            let mut b = good.clone();
            b[i] ^= 1 << bit;
            // Zero padding between sections is not checksummed; every other byte is.
            let (first, _) = entry(&good, 0);
            let in_padding = i >= TABLE_AT + SECTIONS * ENTRY_BYTES && i < first
                || (0..SECTIONS - 1).any(|s| {
                    let (o, l) = entry(&good, s);
                    i >= o + l && i < entry(&good, s + 1).0
                });
            assert_eq!(
                TokFile::from_bytes(&b).is_err(),
                !in_padding,
                "flip of bit {bit} at byte {i}"
            );
        }
    }
}

#[test]
fn writer_refuses_what_the_reader_would() {
    let p = small_params();
    let bad_token = Owned {
        tokens: vec![50; 7],
        labels: vec![0],
        lengths: vec![1],
    };
    let ok = split(1, 7, 50, 0);
    let mut out = Vec::new();
    let err = encode(&mut out, &p, [bad_token.data(), ok.data(), ok.data()]).unwrap_err();
    assert!(
        err.to_string()
            .contains("token id 50 is not below num_words 50"),
        "{err}"
    );
    let ragged = Owned {
        tokens: vec![1; 6],
        labels: vec![0],
        lengths: vec![1],
    };
    assert!(encode(&mut Vec::new(), &p, [ragged.data(), ok.data(), ok.data()]).is_err());
    let bad_oov = PackParams {
        oov_char: Some(50),
        ..p
    };
    assert!(encode(&mut Vec::new(), &bad_oov, [ok.data(), ok.data(), ok.data()]).is_err());
}

fn params_strategy() -> impl Strategy<Value = PackParams> {
    (
        1u32..=65536,
        1u32..40,
        any::<u32>(),
        0.0f64..0.9,
        any::<u32>(),
        0u32..20,
        proptest::option::of(0u32..5),
        any::<bool>(),
        any::<bool>(),
    )
        .prop_map(
            |(
                num_words,
                seq_len,
                seed,
                val_split,
                split_seed,
                skip_top,
                start_char,
                pad,
                trunc,
            )| PackParams {
                num_words,
                seq_len,
                seed: seed.into(),
                val_split,
                split_seed: split_seed.into(),
                skip_top,
                start_char,
                oov_char: (num_words > 2).then_some(2),
                index_from: 3,
                padding: if pad { Side::Pre } else { Side::Post },
                truncating: if trunc { Side::Pre } else { Side::Post },
            },
        )
}

proptest! {
    // 64 cases: each encodes and validates three small splits (well under a second).
    #![proptest_config(ProptestConfig::with_cases(64))]

    #[test]
    fn write_then_read_is_identity(params in params_strategy(), rows in [0usize..12, 0usize..5, 0usize..12], salt in any::<u16>()) {
        let n = params.num_words.min(65535) as u16;
        let splits: Vec<Owned> = rows.iter().enumerate()
            .map(|(i, &r)| split(r, params.seq_len as usize, n.max(1), u32::from(salt) + i as u32))
            .collect();
        let bytes = encode_vec(&params, [&splits[0], &splits[1], &splits[2]]);
        let tok = TokFile::from_bytes(&bytes).unwrap();
        prop_assert_eq!(tok.params(), &params);
        for (s, want) in tok.splits().zip(&splits) {
            prop_assert_eq!(s.tokens, &want.tokens[..]);
            prop_assert_eq!(s.labels, &want.labels[..]);
            prop_assert_eq!(s.lengths, &want.lengths[..]);
        }
    }

    #[test]
    fn arbitrary_bytes_never_panic(bytes in proptest::collection::vec(any::<u8>(), 0..1024)) {
        let _ = TokFile::from_bytes(&bytes);
    }
}
