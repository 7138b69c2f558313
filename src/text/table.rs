//! The word → id lookup of the tokenizer: an open-addressing hash table over one byte arena.
//!
//! Only the words the tokenizer can emit are stored (those whose id is below `num_words`; with the
//! notebook's `num_words = 500` that is under 500 entries, a few KB that stay in L1). A probe
//! hashes the word's bytes, then compares bytes at each occupied slot; nothing is allocated.

/// One slot. `len == 0` marks an empty slot (stored words are never empty).
#[derive(Clone, Copy, Debug, Default)]
struct Slot {
    /// High half of the word's hash: rejects most non-matching slots without touching the arena.
    tag: u32,
    /// Byte offset of the word in the arena.
    offset: u32,
    len: u32,
    id: u32,
}

/// Word bytes → token id.
#[derive(Clone, Debug)]
pub(crate) struct WordTable {
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
        // Load factor at most 1/2 keeps probe sequences short.
        let capacity = (entries.len() * 2).next_power_of_two().max(16);
        let mut table = WordTable {
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
    pub(crate) fn get(&self, word: &[u8]) -> Option<u32> {
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

    pub(crate) fn len(&self) -> usize {
        self.slots.iter().filter(|s| s.len != 0).count()
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
