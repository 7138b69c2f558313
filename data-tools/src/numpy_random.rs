//! numpy's legacy `np.random.RandomState`, as far as Keras and sklearn use it: seeding with
//! an int, `shuffle` of a 1-D array and `permutation(n)`.
//!
//! `RandomState(seed)` is MT19937 seeded by the reference `init_genrand(seed)`. `shuffle` is
//! the Fisher–Yates walk of numpy's `_shuffle_raw`: for `i` from `n-1` down to 1, swap
//! element `i` with element `random_interval(i)`, where `random_interval(max)` draws 32-bit
//! outputs, masks them to the smallest all-ones mask covering `max`, and rejects values above
//! `max` (numpy's `random_interval` for `max <= 0xffffffff`; larger arrays would draw 64 bits,
//! which no data set here needs, so they are refused).

use rand_mt::Mt;

/// `np.random.RandomState(seed)` for an integer seed.
pub struct RandomState {
    mt: Mt,
}

impl RandomState {
    /// numpy accepts integer seeds in `0..2**32`.
    pub fn new(seed: u32) -> RandomState {
        RandomState { mt: Mt::new(seed) }
    }

    /// The next raw 32-bit output (`randint(0, 2**32, dtype=np.uint32)`).
    pub fn next_u32(&mut self) -> u32 {
        self.mt.next_u32()
    }

    /// A uniform double in `[0, 1)` with 53 random bits (`random_sample()`).
    pub fn random_sample(&mut self) -> f64 {
        let a = f64::from(self.next_u32() >> 5);
        let b = f64::from(self.next_u32() >> 6);
        (a * 67_108_864.0 + b) / 9_007_199_254_740_992.0
    }

    /// A uniform integer in `0..=max` by masked rejection, exactly as numpy draws it.
    pub fn random_interval(&mut self, max: u32) -> u32 {
        if max == 0 {
            return 0;
        }
        let mask = u32::MAX >> max.leading_zeros();
        loop {
            let value = self.next_u32() & mask;
            if value <= max {
                return value;
            }
        }
    }

    /// `rng.shuffle(x)` for a 1-D array.
    ///
    /// # Panics
    /// If `x` has more than `2**32` elements (numpy would switch to 64-bit draws).
    pub fn shuffle<T>(&mut self, x: &mut [T]) {
        assert!(
            x.len() as u64 <= 1 << 32,
            "arrays over 2**32 elements are not supported"
        );
        for i in (1..x.len()).rev() {
            let j = self.random_interval(i as u32) as usize;
            x.swap(i, j);
        }
    }

    /// `rng.permutation(n)`: `arange(n)` shuffled.
    pub fn permutation(&mut self, n: usize) -> Vec<usize> {
        let mut p: Vec<usize> = (0..n).collect();
        self.shuffle(&mut p);
        p
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn mask_covers_max() {
        let mut rs = RandomState::new(1);
        for max in [1u32, 2, 3, 7, 8, 1000, u32::MAX] {
            for _ in 0..100 {
                assert!(rs.random_interval(max) <= max);
            }
        }
    }
}
