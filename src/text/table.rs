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
///
/// Built as a perfect hash when it can be (always, for word indexes that are not crafted to
/// collide): every key has one slot, found from its hash and its bucket's pilot, so a lookup is
/// one compare and never a probe loop. Its outcome, found or not, then picks the id without a
/// branch, which matters to the one-review path (`Tokenizer::padded`): about a third of a
/// review's words are unknown, and a branch on it was mispredicted that often. When no pilot
/// separates a bucket's keys within the build's work budget (keys whose hashes are equal can
/// never be separated), the table is built with linear probing instead, as before.
#[derive(Clone, Debug)]
struct ShortTable {
    /// `0` marks an empty slot (a key holds a non-zero length).
    keys: Vec<u128>,
    ids: Vec<u32>,
    /// `64 - log2(keys.len())`: the slot is the top bits of a hash.
    shift: u32,
    /// The perfect hash's pilot value ([`pilot_value`]) of each bucket ([`bucket`]; a power of
    /// two of them, at least 2), or empty if the keys were placed by linear probing from
    /// [`short_hash`]'s slot.
    pilots: Vec<u64>,
    /// `64 - log2(pilots.len())`.
    bucket_shift: u32,
}

/// The key of a word of `len` (1..=15) bytes whose bytes are the low `len` bytes of `bytes`
/// (little-endian; the bytes above may be anything): the word zero-padded, `len` in the top byte.
#[inline]
fn short_key(bytes: u128, len: usize) -> u128 {
    debug_assert!((1..=SHORT_MAX).contains(&len));
    (bytes & SHORT_KEY_MASKS[len]) | ((len as u128) << 120)
}

/// The low `len` bytes set, for each `len` of a short word: a table rather than a shift, which
/// costs a `u128` several instructions.
const SHORT_KEY_MASKS: [u128; SHORT_MAX + 1] = {
    let mut masks = [0u128; SHORT_MAX + 1];
    let mut len = 1;
    while len <= SHORT_MAX {
        masks[len] = (1u128 << (8 * len)) - 1;
        len += 1;
    }
    masks
};

/// The slot hash of a short key: both halves multiplied, so every byte reaches the top bits.
#[inline]
fn short_hash(key: u128) -> u64 {
    let lo = key as u64;
    let hi = (key >> 64) as u64;
    (lo ^ hi.wrapping_mul(MIX2).rotate_left(29)).wrapping_mul(MIX)
}

/// A second odd multiplier (the 64-bit FNV offset basis made odd) for the key's high half.
const MIX2: u64 = 0xCBF2_9CE4_8422_2325;

/// The perfect hash's bucket of a key of hash `h`: its top bits (`64 - bucket_shift` of them),
/// which depend on every bit of the key (a product's low bits depend only on the factors' low
/// bits: buckets from them held hundreds of keys each).
#[inline]
fn bucket(h: u64, bucket_shift: u32) -> usize {
    (h >> bucket_shift) as usize
}

/// The value a pilot XORs into the hash: the pilot's number spread over 64 bits. The table keeps
/// these rather than the numbers, so a lookup spends no multiply on it.
#[inline]
fn pilot_value(pilot: u16) -> u64 {
    u64::from(pilot).wrapping_mul(MIX)
}

/// The perfect hash's slot of a key of hash `h` whose bucket's pilot has `value`
/// ([`pilot_value`]), in a table of `2^(64 - shift)` slots.
#[inline]
fn pilot_slot(h: u64, value: u64, shift: u32) -> usize {
    ((h ^ value).wrapping_mul(MIX2) >> shift) as usize
}

/// Keys per bucket of the perfect hash, at least on average: its pilots take 8 bytes per 4 keys
/// or fewer.
const KEYS_PER_BUCKET: usize = 4;

/// Slot computations the perfect hash's build may spend per key before it gives up for linear
/// probing. An honest table (load at most 1/2) needs a few per key.
const PILOT_WORK_PER_KEY: usize = 256;

impl ShortTable {
    fn new(entries: &[(&[u8], u32)]) -> ShortTable {
        let keyed: Vec<(u128, u32)> = entries
            .iter()
            .map(|&(word, id)| {
                let mut b = [0u8; 16];
                b[..word.len()].copy_from_slice(word);
                (short_key(u128::from_le_bytes(b), word.len()), id)
            })
            .collect();
        ShortTable::from_keys(&keyed)
    }

    /// A table of distinct non-zero keys: the perfect hash, or linear probing if its build fails.
    fn from_keys(entries: &[(u128, u32)]) -> ShortTable {
        // Load factor at most 1/2: short probe sequences, and pilots quickly found.
        let capacity = (entries.len() * 2).next_power_of_two().max(16);
        let shift = 64 - capacity.trailing_zeros();
        ShortTable::perfect(entries, capacity, shift)
            .unwrap_or_else(|| ShortTable::probed(entries, capacity, shift))
    }

    /// The perfect hash (PTHash's scheme): keys go to buckets by hash; the buckets, largest
    /// first, each get the smallest pilot that sends all their keys to free, distinct slots.
    /// `None` if a bucket finds none within the work budget.
    fn perfect(entries: &[(u128, u32)], capacity: usize, shift: u32) -> Option<ShortTable> {
        let buckets = entries
            .len()
            .div_ceil(KEYS_PER_BUCKET)
            .next_power_of_two()
            .max(2);
        let bucket_shift = 64 - buckets.trailing_zeros();
        let hashes: Vec<u64> = entries.iter().map(|&(key, _)| short_hash(key)).collect();
        // Entry indices grouped by bucket, the buckets largest first (ties by bucket number, so
        // the build is deterministic).
        let mut members: Vec<Vec<usize>> = vec![Vec::new(); buckets];
        for (i, &h) in hashes.iter().enumerate() {
            members[bucket(h, bucket_shift)].push(i);
        }
        let mut order: Vec<usize> = (0..buckets).collect();
        order.sort_by_key(|&b| std::cmp::Reverse(members[b].len()));
        let mut table = ShortTable {
            keys: vec![0; capacity],
            ids: vec![0; capacity],
            shift,
            pilots: vec![0; buckets],
            bucket_shift,
        };
        // `stamp[s] == attempt` marks slot `s` as taken by the attempt under way.
        let mut stamp = vec![0usize; capacity];
        let mut attempt = 0usize;
        let mut budget = entries.len() * PILOT_WORK_PER_KEY + capacity;
        for b in order {
            let keys = &members[b];
            if keys.is_empty() {
                break;
            }
            let pilot = (0..=u16::MAX).find(|&pilot| {
                attempt += 1;
                keys.iter().all(|&i| {
                    budget = budget.saturating_sub(1);
                    let s = pilot_slot(hashes[i], pilot_value(pilot), shift);
                    let free = table.keys[s] == 0 && stamp[s] != attempt;
                    stamp[s] = attempt;
                    free
                }) || budget == 0
            })?;
            if budget == 0 {
                return None;
            }
            table.pilots[b] = pilot_value(pilot);
            for &i in keys {
                let s = pilot_slot(hashes[i], table.pilots[b], shift);
                (table.keys[s], table.ids[s]) = entries[i];
            }
        }
        Some(table)
    }

    /// Linear probing from [`short_hash`]'s top bits.
    fn probed(entries: &[(u128, u32)], capacity: usize, shift: u32) -> ShortTable {
        let mut table = ShortTable {
            keys: vec![0; capacity],
            ids: vec![0; capacity],
            shift,
            pilots: Vec::new(),
            bucket_shift: 64,
        };
        let mask = capacity - 1;
        for &(key, id) in entries {
            let mut i = (short_hash(key) >> shift) as usize;
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
        let h = short_hash(key);
        if self.pilots.is_empty() {
            return self.probe(key, h);
        }
        let s = pilot_slot(h, self.pilots[bucket(h, self.bucket_shift)], self.shift);
        // Both read, then one compare: no branch on whether the word is known.
        let id = self.ids[s];
        (self.keys[s] == key).then_some(id)
    }

    /// [`ShortTable::get`] of a table built by linear probing.
    #[inline(never)]
    fn probe(&self, key: u128, h: u64) -> Option<u32> {
        let mask = self.keys.len() - 1;
        let mut i = (h >> self.shift) as usize;
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
    #[inline(always)]
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
    fn short_words_get_a_perfect_hash() {
        let words: Vec<String> = (0..81_000).map(|i| format!("{i:x}q{}", i % 97)).collect();
        for n in [0, 1, 3, 496, 5_000, 81_000] {
            let entries: Vec<(&[u8], u32)> = words[..n]
                .iter()
                .enumerate()
                .map(|(i, w)| (w.as_bytes(), i as u32 + 7))
                .collect();
            let table = WordTable::new(&entries);
            assert!(!table.short.pilots.is_empty(), "{n} words: no perfect hash");
            for (w, id) in &entries {
                assert_eq!(table.get(w), Some(*id));
            }
        }
    }

    /// Keys whose hashes are equal can never be told apart by a pilot: the build falls back to
    /// linear probing, and still finds every key.
    #[test]
    fn keys_with_one_hash_fall_back_to_linear_probing() {
        let spread = |hi: u64| hi.wrapping_mul(MIX2).rotate_left(29);
        let (lo, hi1, hi2) = (0x006f_6c6c_6568_u64, 7u64 << 56, (9u64 << 56) | 0x77);
        let key = |lo: u64, hi: u64| u128::from(lo) | (u128::from(hi) << 64);
        let a = key(lo, hi1);
        let b = key(lo ^ spread(hi1) ^ spread(hi2), hi2);
        assert_ne!(a, b);
        assert_eq!(short_hash(a), short_hash(b));
        let mut entries: Vec<(u128, u32)> = (1..50u32)
            .map(|i| (key(u64::from(i), 1 << 56), i))
            .collect();
        entries.extend([(a, 100), (b, 200)]);
        let table = ShortTable::from_keys(&entries);
        assert!(
            table.pilots.is_empty(),
            "a perfect hash of two keys of one hash"
        );
        for &(k, id) in &entries {
            assert_eq!(table.get(k), Some(id));
        }
        assert_eq!(table.get(key(77, 1 << 56)), None);
        // Without them, the same keys get a perfect hash.
        let table = ShortTable::from_keys(&entries[..49]);
        assert!(!table.pilots.is_empty());
        for &(k, id) in &entries[..49] {
            assert_eq!(table.get(k), Some(id));
        }
        assert_eq!(table.get(a), None);
    }

    #[test]
    fn empty_table_finds_nothing() {
        let table = WordTable::new(&[]);
        assert_eq!(table.get(b"the"), None);
    }
}
