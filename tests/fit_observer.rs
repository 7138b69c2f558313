//! The fit loop's observer hooks that embedders (the Python binding) rely on: cancellation after
//! any batch, and the last epoch's weights beside the best ones; and `Split::from_parts`, which
//! lets them train on arrays that are not a token file.

use fusedrnn::kernels::Kernel;
use fusedrnn::model::{Arch, Model};
use fusedrnn::shape::SEQ_LEN;
use fusedrnn::tokfile::{Split, SplitName, SplitPartsError};
use fusedrnn::train::{EpochRecord, Observer, TrainConfig, TrainError, fit};

fn data(n: usize) -> (Vec<u16>, Vec<u8>, Vec<u32>) {
    let tokens = (0..n * SEQ_LEN).map(|i| ((i * 7919) % 50) as u16).collect();
    let labels = (0..n).map(|i| (i % 2) as u8).collect();
    (tokens, labels, vec![SEQ_LEN as u32; n])
}

struct CancelAfter {
    batches: usize,
    seen: usize,
    epochs: Vec<EpochRecord>,
}

impl Observer for CancelAfter {
    fn batch_done(&mut self, _: usize, _: usize, _: usize) {
        self.seen += 1;
    }
    fn epoch_done(&mut self, r: &EpochRecord, _: Option<&Model>) -> Result<(), String> {
        self.epochs.push(*r);
        Ok(())
    }
    fn cancelled(&mut self) -> bool {
        self.seen >= self.batches
    }
}

fn config() -> TrainConfig {
    TrainConfig {
        arch: Arch::Lstm,
        vocab: 50,
        epochs: 3,
        batch_size: 8,
        ..TrainConfig::default()
    }
}

#[test]
fn cancelled_observer_stops_after_that_batch() {
    let (t, l, n) = data(64);
    let train = Split::from_parts(SplitName::Train, SEQ_LEN, &t, &l, &n).unwrap();
    let val = Split::from_parts(
        SplitName::Val,
        SEQ_LEN,
        &t[..16 * SEQ_LEN],
        &l[..16],
        &n[..16],
    )
    .unwrap();
    // 8 batches per epoch: cancelling after the 11th is epoch 2, batch 3.
    let mut obs = CancelAfter {
        batches: 11,
        seen: 0,
        epochs: vec![],
    };
    let err = fit(&train, &val, 50, &config(), Kernel::Reference, &mut obs).unwrap_err();
    assert_eq!(err, TrainError::Cancelled { epoch: 2, batch: 3 });
    assert_eq!(obs.seen, 11);
    assert_eq!(obs.epochs.len(), 1);
}

#[test]
fn outcome_has_the_last_weights_beside_the_best() {
    let (t, l, n) = data(32);
    let train = Split::from_parts(SplitName::Train, SEQ_LEN, &t, &l, &n).unwrap();
    let mut obs = CancelAfter {
        batches: usize::MAX,
        seen: 0,
        epochs: vec![],
    };
    let out = fit(&train, &train, 50, &config(), Kernel::Reference, &mut obs).unwrap();
    assert_eq!(out.history.len(), 3);
    let best_is_last = out.best_epoch == 3;
    assert_eq!(out.best == out.last, best_is_last);
    assert_eq!(out.last.vocab(), 50);
}

#[test]
fn from_parts_checks_that_the_arrays_agree() {
    let (t, l, n) = data(4);
    let bad = |r: Result<Split<'_>, SplitPartsError>| r.unwrap_err().to_string();
    assert!(
        bad(Split::from_parts(
            SplitName::Train,
            SEQ_LEN,
            &t[1..],
            &l,
            &n
        ))
        .contains("rows")
    );
    assert!(
        bad(Split::from_parts(
            SplitName::Train,
            SEQ_LEN,
            &t,
            &l[1..],
            &n
        ))
        .contains("labels")
    );
    assert!(
        bad(Split::from_parts(
            SplitName::Train,
            SEQ_LEN,
            &t,
            &l,
            &n[1..]
        ))
        .contains("lengths")
    );
    assert!(bad(Split::from_parts(SplitName::Train, 0, &t, &l, &n)).contains("seq_len"));
    let two = [0u8, 2, 0, 1];
    assert!(bad(Split::from_parts(SplitName::Train, SEQ_LEN, &t, &two, &n)).contains("row 1"));
    let ok = Split::from_parts(SplitName::Val, SEQ_LEN, &t, &l, &n).unwrap();
    assert_eq!(
        (ok.len(), ok.row(3), ok.name),
        (
            4,
            fusedrnn::tokfile::TokenIds::U16(&t[3 * SEQ_LEN..]),
            SplitName::Val
        )
    );
}
