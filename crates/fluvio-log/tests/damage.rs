//! Property test: whatever happens to the files, `open` repairs without panicking, recovery
//! is idempotent, and the repaired log serves reads and takes appends.

mod common;

use std::fs::{self, OpenOptions};
use std::io::Write;
use std::path::Path;

use common::*;
use fluvio_log::{LogError, PartitionLog};
use proptest::prelude::*;

#[derive(Debug, Clone)]
enum Damage {
    FlipByte { file: u8, index: bool, at: u32, xor: u8 },
    Truncate { file: u8, index: bool, at: u32 },
    AppendGarbage { file: u8, index: bool, bytes: Vec<u8> },
    Delete { file: u8, index: bool },
}

fn damage() -> impl Strategy<Value = Damage> {
    let target = (any::<u8>(), any::<bool>());
    prop_oneof![
        (target, any::<u32>(), 1u8..)
            .prop_map(|((file, index), at, xor)| { Damage::FlipByte { file, index, at, xor } }),
        (target, any::<u32>()).prop_map(|((file, index), at)| Damage::Truncate { file, index, at }),
        (target, prop::collection::vec(any::<u8>(), 1..80)).prop_map(|((file, index), bytes)| Damage::AppendGarbage {
            file,
            index,
            bytes
        }),
        target.prop_map(|(file, index)| Damage::Delete { file, index }),
    ]
}

fn apply(dir: &Path, bases: &[i64], damage: &Damage) {
    let pick = |file: u8, index: bool| {
        let base = bases[file as usize % bases.len()];
        if index { index_path(dir, base) } else { log_path(dir, base) }
    };
    match damage {
        Damage::FlipByte { file, index, at, xor } => {
            let path = pick(*file, *index);
            if let Ok(mut bytes) = fs::read(&path)
                && !bytes.is_empty()
            {
                let i = *at as usize % bytes.len();
                bytes[i] ^= xor;
                fs::write(&path, bytes).unwrap();
            }
        }
        Damage::Truncate { file, index, at } => {
            let path = pick(*file, *index);
            if let Ok(f) = OpenOptions::new().write(true).open(&path) {
                let len = f.metadata().unwrap().len();
                f.set_len(u64::from(*at) % (len + 1)).unwrap();
            }
        }
        Damage::AppendGarbage { file, index, bytes } => {
            if let Ok(mut f) = OpenOptions::new().append(true).open(pick(*file, *index)) {
                f.write_all(bytes).unwrap();
            }
        }
        Damage::Delete { file, index } => {
            let _ = fs::remove_file(pick(*file, *index));
        }
    }
}

fn exercise(dir: &Path) -> Result<(), TestCaseError> {
    let cfg = config(600);
    let log = PartitionLog::open(dir, cfg.clone()).unwrap();
    let (start, leo) = (log.log_start_offset(), log.log_end_offset());
    prop_assert!(start <= leo);
    for offset in start..leo {
        match log.read(offset, 1, leo) {
            Ok(slice) => {
                prop_assert!(slice.first_offset <= offset && offset < slice.next_offset);
            }
            // Damage inside sealed segments is only found by reads.
            Err(LogError::Corrupt { .. }) => {}
            Err(err) => return Err(TestCaseError::fail(format!("read {offset}: {err}"))),
        }
    }
    drop(log);
    let mut log = PartitionLog::open(dir, cfg.clone()).unwrap();
    prop_assert!(log.recovery_report().is_clean(), "second open: {:?}", log.recovery_report());
    prop_assert_eq!((log.log_start_offset(), log.log_end_offset()), (start, leo));
    let info = log.append(&mut batch("after", 2, 0)).unwrap();
    prop_assert_eq!(info.base_offset, leo);
    let slice = log.read(leo, 10_000, leo + 2).unwrap();
    prop_assert_eq!(records(&slice), vec![(leo, "after-0".to_string()), (leo + 1, "after-1".to_string())]);
    Ok(())
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 200, ..ProptestConfig::default() })]

    #[test]
    fn any_damage_is_repaired(damages in prop::collection::vec(damage(), 1..6)) {
        let dir = tempfile::tempdir().unwrap();
        let bases = {
            let mut log = PartitionLog::open(dir.path(), config(600)).unwrap();
            append_batches(&mut log, "d", 30, 2, 20);
            log.segment_base_offsets()
        };
        for d in &damages {
            apply(dir.path(), &bases, d);
        }
        exercise(dir.path())?;
    }
}
