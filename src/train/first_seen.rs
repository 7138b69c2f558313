//! Numbering the distinct keys of one sequence at a time, in the order they first appear: the
//! trainers' rows per (sequence, distinct token) with input dropout, where a sequence's repeated
//! tokens share one masked input row and its product (`train::trainer`'s `TokenRows`,
//! `net::train`'s `Shard::assign_pairs`).

/// Per key, the sequence (a generation stamp) in which it last got a row, and that row: a new
/// sequence costs one increment, not a clear of the keys.
#[derive(Clone, Debug, Default)]
pub(crate) struct FirstSeen {
    stamp: Vec<u32>,
    row: Vec<u32>,
    generation: u32,
}

impl FirstSeen {
    /// Starts a sequence whose keys are below `keys`.
    pub(crate) fn next_sequence(&mut self, keys: usize) {
        if self.stamp.len() < keys {
            self.stamp = vec![0; keys];
            self.row = vec![0; keys];
            self.generation = 0;
        }
        if self.generation == u32::MAX {
            self.stamp.fill(0);
            self.generation = 0;
        }
        self.generation += 1;
    }

    /// `key`'s row in this sequence, and whether this is its first appearance, which gives it
    /// the row `next`. Panics if `key` is not below the sequence's `keys`.
    pub(crate) fn row(&mut self, key: usize, next: u32) -> (u32, bool) {
        if self.stamp[key] == self.generation {
            (self.row[key], false)
        } else {
            self.stamp[key] = self.generation;
            self.row[key] = next;
            (next, true)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rows_follow_first_appearance_per_sequence() {
        let mut seen = FirstSeen::default();
        let mut rows = Vec::new();
        for seq in [&[3usize, 1, 3, 0][..], &[1, 1, 5]] {
            seen.next_sequence(6);
            for &k in seq {
                let next = rows.len() as u32;
                let (r, new) = seen.row(k, next);
                if new {
                    rows.push((k, r));
                }
                assert_eq!(rows.iter().rev().find(|p| p.0 == k).unwrap().1, r);
            }
        }
        // Keys 3, 1, 0 in the first sequence, then 1 and 5 again from new rows.
        assert_eq!(rows, [(3, 0), (1, 1), (0, 2), (1, 3), (5, 4)]);
    }

    #[test]
    fn the_generation_wraps_by_clearing_the_stamps() {
        let mut seen = FirstSeen::default();
        seen.next_sequence(2);
        assert_eq!(seen.row(1, 7), (7, true));
        seen.generation = u32::MAX;
        seen.next_sequence(2);
        assert_eq!(seen.row(1, 9), (9, true));
        assert_eq!(seen.row(1, 10), (9, false));
    }
}
