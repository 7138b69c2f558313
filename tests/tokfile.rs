//! The token file: write → open round trips, and every corruption the opener must catch.

use crate::common;

use common::tok_layout::{ENTRY_BYTES, SECTIONS, TABLE_AT, entry, fix_header_crc, fix_section_crc};
use fusedrnn::tokfile::{
    FormatError, PackParams, Side, SplitData, SplitName, TokFile, TokenId, TokenIds, TokenWidth,
    encode,
};
use proptest::prelude::*;

struct Owned<T = u16> {
    tokens: Vec<T>,
    labels: Vec<u8>,
    lengths: Vec<u32>,
}

impl<T: TokenId> Owned<T> {
    fn data(&self) -> SplitData<'_, T> {
        SplitData {
            tokens: &self.tokens,
            labels: &self.labels,
            lengths: &self.lengths,
        }
    }
}

impl Owned<u32> {
    /// The same split with `u16` ids (every id must fit).
    fn narrow(&self) -> Owned<u16> {
        Owned {
            tokens: self
                .tokens
                .iter()
                .map(|&t| u16::try_from(t).unwrap())
                .collect(),
            labels: self.labels.clone(),
            lengths: self.lengths.clone(),
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

/// Ids `0..num_words` spread over the whole range (so a large vocabulary's high ids appear).
fn split_wide(rows: usize, seq_len: usize, num_words: u32, salt: u32) -> Owned<u32> {
    Owned {
        tokens: (0..rows * seq_len)
            .map(|i| ((i as u64 * 2_654_435_761 + u64::from(salt)) % u64::from(num_words)) as u32)
            .collect(),
        labels: (0..rows).map(|i| ((i as u32 + salt) % 2) as u8).collect(),
        lengths: (0..rows).map(|i| i as u32 * 3 + salt).collect(),
    }
}

/// Version 2: 100,000 words, so ids above 65,535 are stored.
fn wide_params() -> PackParams {
    PackParams {
        num_words: 100_000,
        seq_len: 7,
        ..PackParams::NOTEBOOK
    }
}

fn sample_file_u32() -> Vec<u8> {
    encode_vec(
        &wide_params(),
        [
            &split_wide(5, 7, 100_000, 1),
            &split_wide(0, 7, 100_000, 2),
            &split_wide(3, 7, 100_000, 3),
        ],
    )
}

fn encode_vec<T: TokenId>(params: &PackParams, splits: [&Owned<T>; 3]) -> Vec<u8> {
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
    assert_eq!((tok.version(), tok.token_width()), (1, TokenWidth::U16));
    assert_eq!(
        (train.tokens, train.labels, train.lengths),
        (
            TokenIds::U16(&want.tokens[..]),
            &want.labels[..],
            &want.lengths[..]
        )
    );
    assert!(tok.split(SplitName::Val).is_empty());
    assert_eq!(train.row(4), TokenIds::U16(&want.tokens[28..35]));
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
    b[8] = 3;
    assert_eq!(
        format_error(&b),
        FormatError::UnsupportedVersion { found: 3 }
    );

    // Version 2 (u32 ids) for 50 words, checksum consistent: one encoding per vocabulary.
    let mut b = good.clone();
    b[8] = 2;
    fix_header_crc(&mut b);
    let e = format_error(&b);
    assert!(
        matches!(&e, FormatError::BadHeader(m) if m.contains("version 2 with num_words 50")),
        "{e}"
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

    // num_words beyond u16 in a version-1 file.
    let mut b = good.clone();
    b[20..24].copy_from_slice(&70_000u32.to_le_bytes());
    fix_header_crc(&mut b);
    let e = format_error(&b);
    assert!(
        matches!(&e, FormatError::BadHeader(m) if m.contains("version 1 with num_words 70000")),
        "{e}"
    );
}

#[test]
fn u32_round_trip_keeps_everything() {
    let bytes = sample_file_u32();
    assert_eq!(&bytes[8..12], &2u32.to_le_bytes(), "version 2 on disk");
    let tok = TokFile::from_bytes(&bytes).unwrap();
    assert_eq!(tok.params(), &wide_params());
    assert_eq!((tok.version(), tok.token_width()), (2, TokenWidth::U32));
    let train = tok.split(SplitName::Train);
    let want = split_wide(5, 7, 100_000, 1);
    assert!(want.tokens.iter().any(|&t| t > 65_535), "ids beyond u16");
    assert_eq!(
        (train.tokens, train.labels, train.lengths),
        (
            TokenIds::U32(&want.tokens[..]),
            &want.labels[..],
            &want.lengths[..]
        )
    );
    assert_eq!(train.row(4), TokenIds::U32(&want.tokens[28..35]));
    // u32 rows are never handed out as u16 rows; narrowing refuses ids that do not fit.
    assert!(train.rows_fixed::<7>().is_none());
    assert!(train.to_u16_rows::<7>().is_none());
    let batches: Vec<_> = train
        .batches(2)
        .map(|b| (b.start, b.tokens.len()))
        .collect();
    assert_eq!(batches, [(0, 14), (2, 14), (4, 7)]);
    // The stats hash the ids as stored: little-endian u32, row-major.
    let le: Vec<u8> = want.tokens.iter().flat_map(|t| t.to_le_bytes()).collect();
    use sha2::Digest;
    let sha: String = sha2::Sha256::digest(&le)
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect();
    assert_eq!(train.stats().tokens_sha256, sha);
    for i in 0..SECTIONS {
        assert_eq!(entry(&bytes, i).0 % 64, 0, "section {i}");
    }
    // Token payload: 4 bytes per id.
    assert_eq!(entry(&bytes, 0).1, 5 * 7 * 4);
}

#[test]
fn u32_ids_that_fit_narrow_to_the_u16_rows() {
    let wide = split_wide(6, 7, 500, 9);
    let tok = TokFile::from_bytes(&encode_vec(&wide_params(), [&wide, &wide, &wide])).unwrap();
    let train = tok.split(SplitName::Train);
    let narrow = wide.narrow();
    assert_eq!(
        &*train.to_u16_rows::<7>().unwrap(),
        bytemuck::cast_slice::<u16, [u16; 7]>(&narrow.tokens)
    );
    assert!(train.to_u16_rows::<8>().is_none());
}

#[test]
fn the_stored_width_follows_num_words_whatever_the_callers_ids() {
    // u32 ids with a small vocabulary are written as version 1, byte for byte what u16 ids give;
    // u16 ids with a large vocabulary are widened to version 2, as u32 ids give.
    let wide = [
        split_wide(4, 7, 50, 1),
        split_wide(2, 7, 50, 2),
        split_wide(3, 7, 50, 3),
    ];
    let narrow = [wide[0].narrow(), wide[1].narrow(), wide[2].narrow()];
    let small = small_params();
    let from_u16 = encode_vec(&small, [&narrow[0], &narrow[1], &narrow[2]]);
    assert_eq!(from_u16, encode_vec(&small, [&wide[0], &wide[1], &wide[2]]));
    assert_eq!(TokFile::from_bytes(&from_u16).unwrap().version(), 1);
    let big = wide_params();
    let from_u32 = encode_vec(&big, [&wide[0], &wide[1], &wide[2]]);
    assert_eq!(
        from_u32,
        encode_vec(&big, [&narrow[0], &narrow[1], &narrow[2]])
    );
    assert_eq!(TokFile::from_bytes(&from_u32).unwrap().version(), 2);
    // The boundary: 65,536 words is the last u16 vocabulary.
    for (num_words, version) in [(65_536, 1), (65_537, 2), (u32::MAX, 2)] {
        let p = PackParams { num_words, ..small };
        let ids = split_wide(2, 7, num_words, 5);
        let tok = TokFile::from_bytes(&encode_vec(&p, [&ids, &ids, &ids])).unwrap();
        assert_eq!(tok.version(), version, "num_words {num_words}");
        assert_eq!(
            tok.split(SplitName::Test).tokens.iter().collect::<Vec<_>>(),
            ids.tokens
        );
    }
}

#[test]
fn u32_corruptions_are_each_named() {
    let good = sample_file_u32();

    // Version 1 with 100,000 words, checksum consistent.
    let mut b = good.clone();
    b[8] = 1;
    fix_header_crc(&mut b);
    let e = format_error(&b);
    assert!(
        matches!(&e, FormatError::BadHeader(m) if m.contains("version 1 with num_words 100000")),
        "{e}"
    );

    // A version-2 file shrunk to 50 words (checksum consistent): refused by the version rule
    // before any id is read with the wrong width.
    let mut b = good.clone();
    b[20..24].copy_from_slice(&50u32.to_le_bytes());
    fix_header_crc(&mut b);
    assert!(matches!(format_error(&b), FormatError::BadHeader(_)));

    // An id at num_words, checksums consistent: named by split, row, position and value.
    let (offset, _) = entry(&good, 0);
    let mut b = good.clone();
    b[offset + 4 * 9..offset + 4 * 10].copy_from_slice(&100_000u32.to_le_bytes());
    fix_section_crc(&mut b, 0);
    assert_eq!(
        format_error(&b),
        FormatError::TokenOutOfRange {
            split: "train",
            row: 1,
            col: 2,
            token: 100_000,
            num_words: 100_000
        }
    );
    // The largest u32, in the test split's last position.
    let (test_at, test_len) = entry(&good, 6);
    let mut b = good.clone();
    b[test_at + test_len - 4..test_at + test_len].copy_from_slice(&u32::MAX.to_le_bytes());
    fix_section_crc(&mut b, 6);
    assert_eq!(
        format_error(&b),
        FormatError::TokenOutOfRange {
            split: "test",
            row: 2,
            col: 6,
            token: u32::MAX,
            num_words: 100_000
        }
    );

    // The token section's length as if the ids were u16: refused, not read with either width.
    let mut b = good.clone();
    let at = TABLE_AT + 16;
    b[at..at + 8].copy_from_slice(&(5u64 * 7 * 2).to_le_bytes());
    fix_header_crc(&mut b);
    let e = format_error(&b);
    assert!(
        matches!(&e, FormatError::BadSection { split: "train", kind: "tokens", problem } if problem.contains("expected 140")),
        "{e}"
    );

    // Hostile sizes: rows and seq_len whose product times 4 overflows, or runs past the file.
    for (rows, seq_len) in [(u32::MAX, 7u32), (5, 1 << 20), (1 << 30, 1 << 20)] {
        let mut b = good.clone();
        b[TABLE_AT + 4..TABLE_AT + 8].copy_from_slice(&rows.to_le_bytes());
        b[24..28].copy_from_slice(&seq_len.to_le_bytes());
        fix_header_crc(&mut b);
        assert!(
            matches!(format_error(&b), FormatError::BadSection { .. }),
            "rows {rows} seq_len {seq_len}"
        );
    }
    // A stated file size far beyond the bytes: refused before any section is looked at.
    let mut b = good.clone();
    b[72..80].copy_from_slice(&u64::MAX.to_le_bytes());
    fix_header_crc(&mut b);
    assert!(matches!(format_error(&b), FormatError::SizeMismatch { .. }));
}

#[test]
fn every_u32_truncation_and_bit_flip_is_refused_without_panic() {
    let good = sample_file_u32();
    for cut in 0..good.len() {
        assert!(TokFile::from_bytes(&good[..cut]).is_err(), "cut at {cut}");
    }
    let (first, _) = entry(&good, 0);
    for i in 0..good.len() {
        let in_padding = i >= TABLE_AT + SECTIONS * ENTRY_BYTES && i < first
            || (0..SECTIONS - 1).any(|s| {
                let (o, l) = entry(&good, s);
                i >= o + l && i < entry(&good, s + 1).0
            });
        for bit in [0, 3, 7] {
            let mut b = good.clone();
            b[i] ^= 1 << bit;
            assert_eq!(
                TokFile::from_bytes(&b).is_err(),
                !in_padding,
                "flip of bit {bit} at byte {i}"
            );
        }
    }
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
    // u32 ids above num_words, in either stored width: refused, never truncated to fit.
    for (params, id) in [(p, 65_536 + 3), (wide_params(), 100_000)] {
        let bad = Owned::<u32> {
            tokens: vec![id; 7],
            labels: vec![0],
            lengths: vec![1],
        };
        let ok = split_wide(1, 7, 50, 0);
        let err = encode(&mut Vec::new(), &params, [ok.data(), ok.data(), bad.data()])
            .unwrap_err()
            .to_string();
        assert!(
            err.contains(&format!("test row 0, position 0: token id {id}")),
            "{err}"
        );
    }
    let zero_words = PackParams { num_words: 0, ..p };
    assert!(
        encode(
            &mut Vec::new(),
            &zero_words,
            [ok.data(), ok.data(), ok.data()]
        )
        .is_err()
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
        // Both versions, the boundary between them, and the largest vocabulary.
        prop_oneof![1u32..=65536, 65530u32..=65542, 65537u32..=u32::MAX],
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
        let splits: Vec<Owned<u32>> = rows.iter().enumerate()
            .map(|(i, &r)| split_wide(r, params.seq_len as usize, params.num_words, u32::from(salt) + i as u32))
            .collect();
        let bytes = encode_vec(&params, [&splits[0], &splits[1], &splits[2]]);
        let tok = TokFile::from_bytes(&bytes).unwrap();
        prop_assert_eq!(tok.params(), &params);
        let width = if params.num_words <= 65536 { TokenWidth::U16 } else { TokenWidth::U32 };
        prop_assert_eq!(tok.token_width(), width);
        for (s, want) in tok.splits().zip(&splits) {
            prop_assert_eq!(s.tokens.width(), width);
            prop_assert_eq!(s.tokens.iter().collect::<Vec<_>>(), want.tokens.clone());
            prop_assert_eq!(s.labels, &want.labels[..]);
            prop_assert_eq!(s.lengths, &want.lengths[..]);
        }
    }

    #[test]
    fn arbitrary_bytes_never_panic(bytes in proptest::collection::vec(any::<u8>(), 0..1024)) {
        let _ = TokFile::from_bytes(&bytes);
    }
}
