//! The word → id lookup of the tokenizer: two open-addressing hash tables.
//!
//! Only the words the tokenizer can emit are stored (those whose id is below `num_words`; with the
//! notebook's `num_words = 500` that is 496 entries, all at most 13 bytes long).
//!
//! - Words of at most [`SHORT_MAX`] bytes (every kept word of the notebook's tokenizer, and all but
//!   275 of the shared index's 81,117) live in a table keyed by one `u128`: the word's bytes
//!   zero-padded, with its length in the top byte. A probe is one multiply-xor hash of the two
//!   halves and 16-byte compares, no byte loop and no second memory access until the key matches.
//!   For the notebook's words that is 1,024 keys (16 KiB) and their ids (2 KiB), which stay in L1.
//! - Longer words live in the general table: a hash over 8-byte chunks, then a byte compare
//!   against an arena.
//!
//! Nothing is allocated per lookup.

/// One slot of the long words' table. `len == 0` marks an empty slot (stored words are never empty).
#[derive(Clone, Copy, Debug, Default)]
struct Slot {
    /// High half of the word's hash: rejects most non-matching slots without touching the arena.
    tag: u32,
    /// Byte offset of the word in the arena.
    offset: u32,
    len: u32,
    id: u32,
}

/// Longest word of the short table: 15 bytes, so that the length fits in the 16th byte of the key.
pub(crate) const SHORT_MAX: usize = 15;

/// Word bytes → token id: the short words' table and the long words' one.
#[derive(Clone, Debug)]
pub(crate) struct WordTable {
    short: ShortTable,
    long: LongTable,
}

/// Words of 1..=[`SHORT_MAX`] bytes, keyed by [`short_key`].
#[derive(Clone, Debug)]
struct ShortTable {
    /// `0` marks an empty slot (a key holds a non-zero length).
    keys: Vec<u128>,
    ids: Vec<u32>,
    /// `64 - log2(keys.len())`: the slot is the top bits of the hash.
    shift: u32,
}

/// The key of a word of `len` (1..=15) bytes whose bytes are the low `len` bytes of `bytes`
/// (little-endian; the bytes above may be anything): the word zero-padded, `len` in the top byte.
#[inline]
fn short_key(bytes: u128, len: usize) -> u128 {
    debug_assert!((1..=SHORT_MAX).contains(&len));
    let mask = (1u128 << (8 * len)) - 1;
    (bytes & mask) | ((len as u128) << 120)
}

/// The slot hash of a short key: both halves multiplied, so every byte reaches the top bits.
#[inline]
fn short_hash(key: u128) -> u64 {
    let lo = key as u64;
    let hi = (key >> 64) as u64;
    (lo ^ hi.wrapping_mul(MIX2).rotate_left(29)).wrapping_mul(MIX)
}

/// A second odd multiplier (the 64-bit FNV offset basis made odd) for the key's high half.
const MIX2: u64 = 0xCBF2_9CE4_8422_2325;

impl ShortTable {
    fn new(entries: &[(&[u8], u32)]) -> ShortTable {
        // Load factor at most 1/2 keeps probe sequences short.
        let capacity = (entries.len() * 2).next_power_of_two().max(16);
        let mut table = ShortTable {
            keys: vec![0; capacity],
            ids: vec![0; capacity],
            shift: 64 - capacity.trailing_zeros(),
        };
        let mask = capacity - 1;
        for &(word, id) in entries {
            let mut b = [0u8; 16];
            b[..word.len()].copy_from_slice(word);
            let key = short_key(u128::from_le_bytes(b), word.len());
            let mut i = (short_hash(key) >> table.shift) as usize;
            while table.keys[i] != 0 {
                i = (i + 1) & mask;
            }
            table.keys[i] = key;
            table.ids[i] = id;
        }
        table
    }

    #[inline]
    fn get(&self, key: u128) -> Option<u32> {
        let mask = self.keys.len() - 1;
        let mut i = (short_hash(key) >> self.shift) as usize;
        loop {
            let k = self.keys[i];
            if k == key {
                return Some(self.ids[i]);
            }
            if k == 0 {
                return None;
            }
            i = (i + 1) & mask;
        }
    }
}

/// Words longer than [`SHORT_MAX`] bytes.
#[derive(Clone, Debug)]
struct LongTable {
    slots: Vec<Slot>,
    /// `slots.len() - 1`; the length is a power of two.
    mask: usize,
    arena: Vec<u8>,
    /// Longest stored word in bytes: longer words are rejected without hashing.
    max_len: usize,
}

/// Odd constant with well-spread bits (2^64 / φ), the multiplier of the hash below.
const MIX: u64 = 0x9E37_79B9_7F4A_7C15;

/// A multiply-rotate hash over 8-byte little-endian chunks (the last one zero-padded), finished by
/// one more multiply so that both halves of the result depend on every byte. Words are short (the
/// shared index's longest is 51 bytes), so this is one to seven multiplies per word.
fn hash_word(word: &[u8]) -> u64 {
    let mut h = (word.len() as u64).wrapping_mul(MIX);
    let mut chunks = word.chunks_exact(8);
    for chunk in &mut chunks {
        let mut b = [0u8; 8];
        b.copy_from_slice(chunk);
        h = (h ^ u64::from_le_bytes(b))
            .wrapping_mul(MIX)
            .rotate_left(31);
    }
    let rest = chunks.remainder();
    if !rest.is_empty() {
        let mut b = [0u8; 8];
        b[..rest.len()].copy_from_slice(rest);
        h = (h ^ u64::from_le_bytes(b))
            .wrapping_mul(MIX)
            .rotate_left(31);
    }
    (h ^ (h >> 29)).wrapping_mul(MIX)
}

impl WordTable {
    /// A table of `entries` (word, id). Words must be distinct and non-empty.
    pub(crate) fn new(entries: &[(&[u8], u32)]) -> WordTable {
        let (short, long): (Vec<_>, Vec<_>) = entries
            .iter()
            .copied()
            .partition(|(w, _)| w.len() <= SHORT_MAX);
        WordTable {
            short: ShortTable::new(&short),
            long: LongTable::new(&long),
        }
    }

    /// The id of `word`, if stored.
    #[inline]
    pub(crate) fn get(&self, word: &[u8]) -> Option<u32> {
        match word.len() {
            0 => None,
            len @ 1..=SHORT_MAX => {
                let mut b = [0u8; 16];
                b[..len].copy_from_slice(word);
                self.short.get(short_key(u128::from_le_bytes(b), len))
            }
            _ => self.long.get(word),
        }
    }

    /// The id of the word `text[start..start + len]` lowercased, if stored: `get` of the word
    /// with every byte ORed with `0x20`. For runs of ASCII word characters (`[A-Za-z0-9']`) that
    /// is their lowercase (digits and `'` already have the bit), so the caller need not copy the
    /// word out of the text first. `len` must be at least 1.
    #[inline]
    pub(crate) fn get_folded(&self, text: &[u8], start: usize, len: usize) -> Option<u32> {
        const FOLD: u128 = u128::from_ne_bytes([0x20; 16]);
        debug_assert!(len >= 1 && start + len <= text.len());
        if len > SHORT_MAX {
            if len > self.long.max_len || len > super::MAX_WORD_BYTES {
                return None;
            }
            let mut buf = [0u8; super::MAX_WORD_BYTES];
            for (d, &s) in buf.iter_mut().zip(&text[start..start + len]) {
                *d = s | 0x20;
            }
            return self.long.get(&buf[..len]);
        }
        // 16 bytes holding the word in their low `len` bytes: read forwards from the word, or,
        // near the end of the text, backwards from its end and shifted down.
        let bytes = if let Some(chunk) = text.get(start..start + 16) {
            u128::from_le_bytes(chunk.try_into().expect("16 bytes"))
        } else if start + len >= 16 {
            let chunk = &text[start + len - 16..start + len];
            u128::from_le_bytes(chunk.try_into().expect("16 bytes")) >> (8 * (16 - len))
        } else {
            let mut b = [0u8; 16];
            b[..len].copy_from_slice(&text[start..start + len]);
            u128::from_le_bytes(b)
        };
        self.short.get(short_key(bytes | FOLD, len))
    }

    pub(crate) fn len(&self) -> usize {
        self.short.keys.iter().filter(|&&k| k != 0).count()
            + self.long.slots.iter().filter(|s| s.len != 0).count()
    }
}

impl LongTable {
    fn new(entries: &[(&[u8], u32)]) -> LongTable {
        // Load factor at most 1/2 keeps probe sequences short.
        let capacity = (entries.len() * 2).next_power_of_two().max(16);
        let mut table = LongTable {
            slots: vec![Slot::default(); capacity],
            mask: capacity - 1,
            arena: Vec::with_capacity(entries.iter().map(|(w, _)| w.len()).sum()),
            max_len: 0,
        };
        for &(word, id) in entries {
            debug_assert!(!word.is_empty());
            let h = hash_word(word);
            let mut i = (h as usize) & table.mask;
            while table.slots[i].len != 0 {
                i = (i + 1) & table.mask;
            }
            table.slots[i] = Slot {
                tag: (h >> 32) as u32,
                offset: u32::try_from(table.arena.len()).expect("word arena fits in u32"),
                len: u32::try_from(word.len()).expect("word fits in u32"),
                id,
            };
            table.arena.extend_from_slice(word);
            table.max_len = table.max_len.max(word.len());
        }
        table
    }

    /// The id of `word`, if stored.
    #[inline]
    fn get(&self, word: &[u8]) -> Option<u32> {
        if word.len() > self.max_len || word.is_empty() {
            return None;
        }
        let h = hash_word(word);
        let tag = (h >> 32) as u32;
        let mut i = (h as usize) & self.mask;
        loop {
            let slot = self.slots[i];
            if slot.len == 0 {
                return None;
            }
            if slot.tag == tag && slot.len as usize == word.len() {
                let start = slot.offset as usize;
                if &self.arena[start..start + word.len()] == word {
                    return Some(slot.id);
                }
            }
            i = (i + 1) & self.mask;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn finds_every_stored_word_and_nothing_else() {
        let words: Vec<String> = (0..5000).map(|i| format!("w{i}x{}", i * 7919)).collect();
        let entries: Vec<(&[u8], u32)> = words
            .iter()
            .enumerate()
            .map(|(i, w)| (w.as_bytes(), i as u32))
            .collect();
        let table = WordTable::new(&entries);
        assert_eq!(table.len(), words.len());
        for (w, id) in &entries {
            assert_eq!(table.get(w), Some(*id));
        }
        assert_eq!(table.get(b"w1x"), None);
        assert_eq!(table.get(b""), None);
        assert_eq!(table.get(&[b'a'; 200]), None);
    }

    #[test]
    fn empty_table_finds_nothing() {
        let table = WordTable::new(&[]);
        assert_eq!(table.get(b"the"), None);
    }
}
