//! rstd-collections: HashMap with RandomState (seeded by getrandom), Vec,
//! BTreeMap, String, and big allocations (64 MiB, mmap'd by malloc).
use std::collections::{BTreeMap, HashMap, HashSet};

use rstd_tests::check;

fn main() {
    let mut map: HashMap<u64, String> = HashMap::new();
    for i in 0..10_000u64 {
        map.insert(i, format!("v{i}"));
    }
    check!(map.len() == 10_000);
    check!(map.get(&1234).map(String::as_str) == Some("v1234"));
    for i in (0..10_000u64).step_by(2) {
        map.remove(&i);
    }
    check!(map.len() == 5_000 && !map.contains_key(&2) && map.contains_key(&3));
    let set: HashSet<&str> = ["a", "b", "a"].into_iter().collect();
    check!(set.len() == 2);
    println!("rstd-collections: HashMap/HashSet ok");

    let mut tree = BTreeMap::new();
    for i in (0..1000).rev() {
        tree.insert(i, i * i);
    }
    check!(tree.keys().copied().take(3).collect::<Vec<_>>() == [0, 1, 2]);
    check!(tree.range(10..13).map(|(_, v)| *v).sum::<i32>() == 100 + 121 + 144);
    println!("rstd-collections: BTreeMap ok");

    let mut v: Vec<u32> = (0..100_000).rev().collect();
    v.sort_unstable();
    check!(v.windows(2).all(|w| w[0] < w[1]));
    v.dedup();
    check!(v.len() == 100_000);
    println!("rstd-collections: Vec ok");

    const BIG: usize = 64 << 20;
    let mut big = vec![0u8; BIG];
    for i in (0..BIG).step_by(4096) {
        big[i] = (i / 4096) as u8;
    }
    let sum: u64 = big.iter().step_by(4096).map(|&b| b as u64).sum();
    let expect: u64 = (0..BIG / 4096).map(|i| (i as u8) as u64).sum();
    check!(sum == expect, "sum {sum} != {expect}");
    big.resize(2 * BIG, 1);
    check!(big[BIG] == 1 && big[2 * BIG - 1] == 1);
    drop(big);
    println!("rstd-collections: 64 MiB allocation (grown to 128 MiB) ok");

    let s: String = (0..1000).map(|i| char::from(b'a' + (i % 26) as u8)).collect();
    check!(s.len() == 1000 && s.starts_with("abc"));
    println!("rstd-collections: ok");
}
