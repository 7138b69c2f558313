//! The splitting rules of `shared/data/README.md`, one test each, on the committed fixture index
//! (`tests/fixtures/text/word_index.json`: the = 1, and = 2, a = 3, … br = 7, … movie = 17).

use super::*;

const FIXTURE: &[u8] = include_bytes!("../../tests/fixtures/text/word_index.json");

/// Every word its own id: `num_words` large enough for the fixture.
fn all_words() -> Tokenizer {
    let config = TokenizerConfig {
        num_words: None,
        ..TokenizerConfig::default()
    };
    Tokenizer::from_json(FIXTURE, config).unwrap()
}

fn rank(word: &str) -> u16 {
    let index: HashMap<String, u16> = serde_json::from_slice(FIXTURE).unwrap();
    index[word]
}

/// Ids of `text`, without the start char.
fn ids(t: &Tokenizer, text: &str) -> Vec<u16> {
    let mut out = Vec::new();
    t.tokenize_into(text, &mut out);
    assert_eq!(out[0], 1, "start char first");
    out[1..].to_vec()
}

/// Ids of the given fixture words (rank + 3).
fn words(ws: &[&str]) -> Vec<u16> {
    ws.iter().map(|w| rank(w) + 3).collect()
}

const OOV: u16 = 2;

#[test]
fn empty_text_is_just_the_start_char() {
    let t = all_words();
    assert_eq!(ids(&t, ""), Vec::<u16>::new());
    assert_eq!(ids(&t, "  <>!! ''' "), Vec::<u16>::new());
}

#[test]
fn html_break_gives_br() {
    let t = all_words();
    assert_eq!(
        ids(&t, "the movie.<br /><br />a film"),
        words(&["the", "movie", "br", "br", "a", "film"])
    );
}

#[test]
fn uppercase_is_lowercased() {
    let t = all_words();
    assert_eq!(ids(&t, "THE Movie tHe"), words(&["the", "movie", "the"]));
}

#[test]
fn apostrophes_at_word_ends_are_stripped_inside_kept() {
    let t = all_words();
    assert_eq!(ids(&t, "'the'"), words(&["the"]));
    assert_eq!(ids(&t, "''movie'''"), words(&["movie"]));
    assert_eq!(ids(&t, "don't"), words(&["don't"]));
    assert_eq!(ids(&t, "'don't'"), words(&["don't"]));
    assert_eq!(ids(&t, "DON'T I'm"), words(&["don't", "i'm"]));
    // Inner runs of apostrophes stay, so this is not `don't`.
    assert_eq!(ids(&t, "don''t"), vec![OOV]);
    // A word of apostrophes only is empty once stripped, and dropped.
    assert_eq!(ids(&t, "the ' '' movie"), words(&["the", "movie"]));
    // The typographic apostrophe is a separator: "don’t" is "don" and "t".
    assert_eq!(ids(&t, "don\u{2019}t"), vec![OOV, OOV]);
}

#[test]
fn digits_are_word_characters() {
    let t = all_words();
    assert_eq!(ids(&t, "10 a1 1980s"), vec![OOV, OOV, OOV]);
    let index = Tokenizer::from_index([("10", 1), ("a1", 2)], TokenizerConfig::default()).unwrap();
    assert_eq!(ids(&index, "10/10, A1!"), vec![4, 4, 5]);
}

#[test]
fn punctuation_separates() {
    let t = all_words();
    assert_eq!(
        ids(&t, "the,movie;a-film(the)\"and\"...is_it"),
        words(&["the", "movie", "a", "film", "the", "and", "is", "it"])
    );
}

#[test]
fn non_ascii_letters_separate() {
    let t = all_words();
    // 'é' and 'É' (lowercase 'é') are outside [a-z0-9'], so "théÉmovie" is "th", "movie".
    assert_eq!(ids(&t, "th\u{e9}\u{c9}movie"), vec![OOV, rank("movie") + 3]);
    assert_eq!(ids(&t, "the\u{e9}a"), words(&["the", "a"]));
    // Emoji, CJK, non-breaking space.
    assert_eq!(
        ids(&t, "the\u{1f600}movie\u{4e2d}a\u{a0}film"),
        words(&["the", "movie", "a", "film"])
    );
}

/// Python's `str.lower` (and Rust's `char::to_lowercase`) maps exactly two non-ASCII characters
/// into ASCII; the split sees the lowercased text, so they behave as their lowercase.
#[test]
fn characters_whose_lowercase_is_ascii() {
    let t = all_words();
    // 'İ' lowercases to "i\u{307}": the word "i", then a separator.
    assert_eq!(ids(&t, "\u{130}"), words(&["i"]));
    assert_eq!(
        ids(&t, "\u{130}t"),
        words(&["i"]).into_iter().chain([OOV]).collect::<Vec<_>>()
    );
    // The Kelvin sign lowercases to 'k', a word character inside the word.
    let kelvin = Tokenizer::from_index([("ok", 1)], TokenizerConfig::default()).unwrap();
    assert_eq!(ids(&kelvin, "o\u{212A} OK"), vec![4, 4]);
    // Pin the claim: no other character lowercases to anything containing [a-z0-9'].
    let mapped: Vec<char> = (0x80..=0x10FFFF)
        .filter_map(char::from_u32)
        .filter(|c| {
            c.to_lowercase()
                .any(|l| l.is_ascii_lowercase() || l.is_ascii_digit() || l == '\'')
        })
        .collect();
    assert_eq!(mapped, vec!['\u{130}', '\u{212A}']);
}

#[test]
fn num_words_cuts_to_oov() {
    // ids ≥ 10 are oov: ranks 1..=6 survive (ids 4..=9).
    let config = TokenizerConfig {
        num_words: Some(10),
        ..TokenizerConfig::default()
    };
    let t = Tokenizer::from_json(FIXTURE, config).unwrap();
    assert_eq!(t.words_kept(), 6);
    assert_eq!(ids(&t, "the is br movie zzz"), vec![4, 9, OOV, OOV, OOV]);
}

#[test]
fn default_config_is_the_notebook() {
    let t = Tokenizer::from_json(FIXTURE, TokenizerConfig::default()).unwrap();
    assert_eq!(t.max_id(), 85);
    let mut out = Vec::new();
    t.tokenize_into("This movie was GREAT!", &mut out);
    assert_eq!(out, [1, 14, 20, 16, rank("great") + 3]);
}

#[test]
fn long_words_are_oov_and_apostrophe_runs_still_strip() {
    let t = all_words();
    let long = "x".repeat(MAX_WORD_BYTES + 10);
    assert_eq!(ids(&t, &format!("the {long} a")), vec![4, OOV, 6]);
    let quoted = format!("movie{}", "'".repeat(MAX_WORD_BYTES * 2));
    assert_eq!(ids(&t, &quoted), words(&["movie"]));
    assert_eq!(ids(&t, &"'".repeat(1000)), Vec::<u16>::new());
}

#[test]
fn output_buffer_is_reused() {
    let t = all_words();
    let mut out = vec![9; 50];
    t.tokenize_into("the a", &mut out);
    assert_eq!(out, [1, 4, 6]);
}

#[test]
fn wide_ids_match_narrow_ones() {
    let t = all_words();
    let text = "The film's story, <br />I'm sure, wasn't great: 7/10.";
    let mut narrow = Vec::new();
    let mut wide = Vec::new();
    t.tokenize_into(text, &mut narrow);
    t.tokenize_wide_into(text, &mut wide);
    assert_eq!(
        wide,
        narrow.iter().map(|&x| u32::from(x)).collect::<Vec<_>>()
    );
}

#[test]
#[should_panic(expected = "tokenize_wide_into")]
fn narrow_output_refuses_wide_ids() {
    let config = TokenizerConfig {
        num_words: None,
        ..TokenizerConfig::default()
    };
    let t = Tokenizer::from_index([("big", 70_000)], config).unwrap();
    t.tokenize_into("big", &mut Vec::new());
}

#[test]
fn padding_is_pre_and_truncation_is_pre() {
    let short: Vec<u16> = (1..=5).collect();
    let row = to_padded(&short);
    assert!(row[..SEQ_LEN - 5].iter().all(|&x| x == 0));
    assert_eq!(row[SEQ_LEN - 5..], [1, 2, 3, 4, 5]);
    let long: Vec<u16> = (0..250).collect();
    assert_eq!(to_padded(&long).to_vec(), long[150..].to_vec());
    assert_eq!(to_padded(&[]), [0; SEQ_LEN]);
}

#[test]
fn malformed_index_is_an_error_naming_the_file() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("bad_index.json");
    std::fs::write(&path, br#"{"the": "one"}"#).unwrap();
    let err = Tokenizer::from_file(&path, TokenizerConfig::default()).unwrap_err();
    assert!(matches!(err, TextError::Format { .. }));
    assert!(err.to_string().contains("bad_index.json"), "{err}");
    let missing = dir.path().join("missing_index.json");
    let err = Tokenizer::from_file(&missing, TokenizerConfig::default()).unwrap_err();
    assert!(matches!(err, TextError::Io { .. }));
    assert!(err.to_string().contains("missing_index.json"), "{err}");
    for bad in [&b"[1, 2]"[..], b"{\"a\": -1}", b"{\"a\": 1.5}", b"not json"] {
        assert!(Tokenizer::from_json(bad, TokenizerConfig::default()).is_err());
    }
}

/// `padded` (backward scan, tokenize the tail only) equals `to_padded` of the whole text, for
/// texts of every length around `SEQ_LEN` words made of awkward pieces: apostrophe-only runs,
/// non-ASCII characters that split words (`é`, `’`), join them (Kelvin sign) or add one (`İ`),
/// words longer than `MAX_WORD_BYTES`, and separators of every kind.
#[test]
fn padded_equals_to_padded_of_the_whole_text() {
    let long_word = "x".repeat(MAX_WORD_BYTES + 3);
    let pool = [
        "the",
        "Movie",
        "'''",
        "caf\u{e9}s",
        "don't",
        "'it's'",
        "a\u{2019}b",
        "\u{212a}ing",
        "\u{130}s",
        "<br />",
        "10/10",
        "\u{1f600}",
        "''x''",
        "and,",
        "br",
        long_word.as_str(),
        "\u{e9}\u{e9}",
        "A",
        "  ",
        "\t\n",
        "film.",
    ];
    let t = all_words();
    let mut state = 0x9E37_79B9_7F4A_7C15u64;
    let mut ids = Vec::new();
    for case in 0..600 {
        let words = case % 300;
        let text: String = (0..words)
            .map(|_| {
                state ^= state << 13;
                state ^= state >> 7;
                state ^= state << 17;
                let sep = [" ", "", "-", "\u{a0}"][(state >> 40) as usize % 4];
                format!("{}{sep}", pool[(state >> 8) as usize % pool.len()])
            })
            .collect();
        t.tokenize_into(&text, &mut ids);
        assert_eq!(t.padded(&text), to_padded(&ids), "case {case}: {text:?}");
    }
}

#[test]
fn tail_start_counts_only_certain_words() {
    // Three runs with a letter or digit; the apostrophe-only and the non-ASCII-only runs don't count.
    let text = "ab ''' c\u{e9}d \u{e9} 9".as_bytes();
    assert_eq!(tail_start(text, 1), Some(text.len() - 1));
    assert_eq!(tail_start(text, 2), Some(7));
    assert_eq!(
        tail_start(text, 3),
        None,
        "the first word has no separator before it"
    );
    assert_eq!(tail_start(b"", 1), None);
}

/// Issue 13, item 9: an index entry longer than any word the tokenizer can produce is skipped,
/// not a failure of the whole index; the other entries still work.
#[test]
fn over_long_index_words_are_skipped() {
    let long = "x".repeat(MAX_WORD_BYTES + 1);
    let json = format!(
        r#"{{"{long}": 1, "good": 2, "{}": 3}}"#,
        "y".repeat(MAX_WORD_BYTES)
    );
    let t = Tokenizer::from_json(json.as_bytes(), TokenizerConfig::default()).unwrap();
    assert_eq!(t.words_kept(), 2);
    let mut ids = Vec::new();
    t.tokenize_into(&format!("good {long}"), &mut ids);
    assert_eq!(ids, vec![1, 5, 2]);
}

/// A word given twice keeps its last rank, as Python's `json.load` into a dict does; a later
/// entry that cannot be emitted removes the earlier one.
#[test]
fn duplicate_words_keep_their_last_rank() {
    let t = Tokenizer::from_json(br#"{"good": 1, "good": 7}"#, TokenizerConfig::default()).unwrap();
    let mut ids = Vec::new();
    t.tokenize_into("good", &mut ids);
    assert_eq!(ids, vec![1, 10]);
    let t =
        Tokenizer::from_json(br#"{"good": 1, "good": 900}"#, TokenizerConfig::default()).unwrap();
    t.tokenize_into("good", &mut ids);
    assert_eq!(ids, vec![1, 2]);
    assert_eq!(t.words_kept(), 0);
}

/// Issue 13, item 4: a word index that is not a regular file, or larger than the cap, is refused
/// before it is read (`/dev/zero` used to be read until memory ran out).
#[test]
fn non_files_and_oversized_indexes_are_refused_unread() {
    let dir = tempfile::tempdir().unwrap();
    let err = Tokenizer::from_file(dir.path(), TokenizerConfig::default()).unwrap_err();
    assert!(
        matches!(
            err,
            TextError::NotAFile {
                what: "a folder",
                ..
            }
        ),
        "{err}"
    );
    #[cfg(unix)]
    {
        let err =
            Tokenizer::from_file(Path::new("/dev/zero"), TokenizerConfig::default()).unwrap_err();
        assert!(
            matches!(
                err,
                TextError::NotAFile {
                    what: "a device",
                    ..
                }
            ),
            "{err}"
        );
        assert!(err.to_string().contains("/dev/zero"), "{err}");
    }
    let huge = dir.path().join("huge.json");
    std::fs::File::create(&huge)
        .unwrap()
        .set_len(MAX_WORD_INDEX_BYTES + 1)
        .unwrap();
    let err = Tokenizer::from_file(&huge, TokenizerConfig::default()).unwrap_err();
    assert!(matches!(err, TextError::TooLarge { .. }), "{err}");
    // Trailing garbage after the object is malformed, not ignored.
    let trailing = dir.path().join("trailing.json");
    std::fs::write(&trailing, br#"{"good": 1} x"#).unwrap();
    let err = Tokenizer::from_file(&trailing, TokenizerConfig::default()).unwrap_err();
    assert!(matches!(err, TextError::Format { .. }), "{err}");
}

/// The streamed parse gives the same tokenizer as the whole fixture read at once.
#[test]
fn streamed_and_whole_parses_agree() {
    let dir = tempfile::tempdir().unwrap();
    let p = dir.path().join("index.json");
    std::fs::write(&p, FIXTURE).unwrap();
    let a = Tokenizer::from_file(&p, TokenizerConfig::default()).unwrap();
    let index: HashMap<String, u32> = serde_json::from_slice(FIXTURE).unwrap();
    let b = Tokenizer::from_index(
        index.iter().map(|(w, &r)| (w.as_str(), r)),
        TokenizerConfig::default(),
    )
    .unwrap();
    assert_eq!(a.words_kept(), b.words_kept());
    assert_eq!(a.max_id(), b.max_id());
    let (mut x, mut y) = (Vec::new(), Vec::new());
    let text = "This movie was GREAT, I loved it! A bad film.<br />the and a br movie";
    a.tokenize_into(text, &mut x);
    b.tokenize_into(text, &mut y);
    assert_eq!(x, y);
}

/// Property tests of the backward reader of [`Tokenizer::padded`] against the forward tokenizer
/// (`to_padded` of [`Tokenizer::tokenize_into`], the straightforward reference) and against the
/// forward tail path it falls back to ([`Tokenizer::padded_forward`]).
mod backward_reader {
    use super::*;
    use proptest::prelude::*;

    /// Words of three lengths around the short table's 15-byte limit and beyond it, added to the
    /// fixture's words so that both tables are exercised.
    const LONG_WORDS: [&str; 4] = [
        "cinematographers",
        "fifteenletterss",
        "cinematographically",
        "supercalifragilisticexpialidocious",
    ];

    /// The fixture's words plus [`LONG_WORDS`], every one its own id; with `num_words = 40`
    /// the rarer fixture words and the long ones become oov.
    fn tokenizer(num_words: Option<u32>) -> Tokenizer {
        let index: HashMap<String, u32> = serde_json::from_slice(FIXTURE).unwrap();
        let base = index.len() as u32;
        let entries = index
            .iter()
            .map(|(w, &r)| (w.as_str(), r))
            .chain(LONG_WORDS.iter().zip(1..).map(|(&w, k)| (w, base + k)));
        let config = TokenizerConfig {
            num_words,
            ..TokenizerConfig::default()
        };
        Tokenizer::from_index(entries, config).unwrap()
    }

    /// Known words in several cases, apostrophes, `<br />`, digits, long words and the non-ASCII
    /// characters that split words (`é`, `’`, emoji), join them (Kelvin sign) or add one (`İ`).
    const PIECES: &[&str] = &[
        "the",
        "The",
        "THE",
        "movie",
        "Movie",
        "don't",
        "DON'T",
        "'it's'",
        "i'm",
        "''",
        "'",
        "br",
        "<br />",
        "<br /><br />",
        "10",
        "7/10",
        "a",
        "I",
        "film.",
        "good,",
        "bad!",
        "great",
        "cinematographers",
        "Fifteenletterss",
        "CINEMATOGRAPHICALLY",
        "supercalifragilisticexpialidocious",
        "caf\u{e9}",
        "\u{e9}",
        "a\u{2019}b",
        "\u{2019}",
        "\u{212a}ing",
        "\u{212a}",
        "\u{130}",
        "\u{130}s",
        "\u{1f600}",
        "x\u{1f600}y",
    ];

    fn piece() -> impl Strategy<Value = String> {
        prop_oneof![
            8 => prop::sample::select(PIECES).prop_map(str::to_owned),
            3 => "[a-zA-Z0-9']{1,18}",
            1 => any::<char>().prop_map(String::from),
            1 => (MAX_WORD_BYTES - 2..MAX_WORD_BYTES + 3).prop_map(|n| "y".repeat(n)),
            1 => (MAX_WORD_BYTES - 2..MAX_WORD_BYTES + 3).prop_map(|n| format!("'{}'", "the".repeat(n / 3))),
        ]
    }

    /// A review of up to 260 pieces (so below, at and above `SEQ_LEN` words), each followed by
    /// a separator or nothing (which glues it to the next piece).
    fn review() -> impl Strategy<Value = String> {
        let sep = prop::sample::select(&[" ", " ", " ", "", ", ", ".", "\n", "\u{a0}", "-"][..]);
        prop::collection::vec((piece(), sep), 0..260)
            .prop_map(|v| v.into_iter().map(|(p, s)| p + s).collect())
    }

    /// Mostly ASCII reviews (the backward reader reads them to the end of the kept tail) with an
    /// optional non-ASCII piece inserted at a random word.
    fn ascii_review() -> impl Strategy<Value = String> {
        let word = prop::sample::select(&PIECES[..25]).prop_map(str::to_owned);
        let sep = prop::sample::select(&[" ", " ", "", ". ", "<br />"][..]);
        (
            prop::collection::vec((word, sep), 0..240),
            prop::option::of((any::<prop::sample::Index>(), any::<char>())),
        )
            .prop_map(|(v, extra)| {
                let mut words: Vec<String> = v.into_iter().map(|(p, s)| p + s).collect();
                if let (Some((at, c)), false) = (extra, words.is_empty()) {
                    let at = at.index(words.len());
                    words[at].push(c);
                }
                words.concat()
            })
    }

    fn check(text: &str) -> Result<(), TestCaseError> {
        for t in [tokenizer(None), tokenizer(Some(40))] {
            let mut ids = Vec::new();
            t.tokenize_into(text, &mut ids);
            let want = to_padded(&ids);
            prop_assert_eq!(t.padded(text), want, "backward reader: {:?}", text);
            prop_assert_eq!(t.padded_forward(text), want, "forward tail: {:?}", text);
        }
        Ok(())
    }

    proptest! {
        // 96 cases each: about 0.2 s in a debug build.
        #![proptest_config(ProptestConfig::with_cases(96))]

        #[test]
        fn padded_equals_the_whole_text_tokenized(text in review()) {
            check(&text)?;
        }

        #[test]
        fn padded_equals_the_whole_text_tokenized_mostly_ascii(text in ascii_review()) {
            check(&text)?;
        }
    }

    /// The three ways `get_folded` loads a short word (16 bytes forward from it, 16 backward from
    /// its end, a copy when the text is shorter than 16) and the long table, with the word
    /// inside, across or at the edges of the backward reader's 64-byte chunks.
    #[test]
    fn words_at_every_place_of_a_short_or_long_text() {
        let t = tokenizer(None);
        for word in [
            "a",
            "The",
            "DON'T",
            "fifteenletterss",
            "Cinematographers",
            "MOVIE",
        ] {
            let want = ids(&t, word);
            // Around the backward reader's 64-byte chunks too.
            for pre in (0..20).chain(60..67).chain(125..131) {
                for post in (0..20).chain([62, 63, 64, 65]) {
                    let text = format!("{}{word}{}", "-".repeat(pre), ".".repeat(post));
                    assert_eq!(t.padded(&text)[SEQ_LEN - 2..], [1, want[0]], "{text:?}");
                }
            }
        }
    }
}

/// The backward reader's byte masks: the SSE2 classification (on x86-64) against the byte-table
/// one, for every byte value at every place of a chunk and for random chunks.
mod chunk_masks {
    use super::super::{ChunkMasks, low_bits};
    use proptest::prelude::*;

    fn both(chunk: &[u8; 64]) -> (ChunkMasks, ChunkMasks) {
        (ChunkMasks::of(chunk), ChunkMasks::of_bytes(chunk))
    }

    #[test]
    fn every_byte_value_at_every_place() {
        for b in 0..=255u8 {
            let (fast, slow) = both(&[b; 64]);
            assert_eq!(fast, slow, "byte {b:#04x}");
            let word = b.is_ascii_alphanumeric() || b == b'\'';
            assert_eq!(slow.word, if word { u64::MAX } else { 0 }, "byte {b:#04x}");
            assert_eq!(slow.non_ascii, if b >= 0x80 { u64::MAX } else { 0 });
            for k in 0..64 {
                let mut chunk = [b' '; 64];
                chunk[k] = b;
                let (fast, slow) = both(&chunk);
                assert_eq!(fast, slow, "byte {b:#04x} at {k}");
                assert_eq!(
                    slow.word,
                    if word { 1 << k } else { 0 },
                    "byte {b:#04x} at {k}"
                );
            }
        }
    }

    #[test]
    fn the_chunk_before_a_place_pads_the_text_start_with_separators() {
        let text = b"ab'c \xc3\xa9";
        for top in 0..=text.len() {
            let masks = ChunkMasks::before(text, top);
            let mut chunk = [0u8; 64];
            chunk[64 - top..].copy_from_slice(&text[..top]);
            assert_eq!(masks, ChunkMasks::of_bytes(&chunk), "top {top}");
            assert_eq!(masks.word & low_bits(64 - top), 0);
        }
    }

    proptest! {
        #[test]
        fn sse2_and_byte_table_agree(bytes in prop::collection::vec(any::<u8>(), 64)) {
            let chunk: [u8; 64] = bytes.try_into().unwrap();
            let (fast, slow) = both(&chunk);
            prop_assert_eq!(fast, slow);
        }
    }
}
