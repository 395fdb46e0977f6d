//! Host tests: the reporting rules of epoll(7) for level-triggered,
//! edge-triggered and one-shot entries, with a fake file per key.

use std::vec::Vec;

use linux_raw_sys::general::{EPOLLET, EPOLLHUP, EPOLLIN, EPOLLONESHOT, EPOLLOUT};

use super::*;

/// The payload of the test entries: their own key, as a file stand-in.
type Set = Interest<u32, u32>;

fn add(i: &mut Set, key: u32, events: u32, data: u64) -> Result<Handle, CtlError> {
    i.add(key, events, data, |_| key)
}

/// Ends `scan` with every entry polled as `ready(key)`.
fn finish(i: &mut Set, mut scan: Vec<ScanItem<u32>>, max: usize, ready: impl Fn(u32) -> u32) -> Vec<(u32, u64)> {
    for s in &mut scan {
        s.revents = ready(s.payload);
    }
    let mut out = vec![(0, 0); max];
    let n = i.end_scan(&scan, &mut out);
    out.truncate(n);
    out
}

fn begin(i: &mut Set) -> Vec<ScanItem<u32>> {
    let mut scan = Vec::new();
    i.begin_scan(&mut scan, |&k| k);
    scan
}

/// One wait: scan, poll each key with `ready(key)`, end the scan.
fn wait(i: &mut Set, max: usize, ready: impl Fn(u32) -> u32) -> Vec<(u32, u64)> {
    let scan = begin(i);
    finish(i, scan, max, ready)
}

#[test]
fn add_modify_remove_errors() {
    let mut i: Set = Interest::new();
    assert!(add(&mut i, 1, EPOLLIN, 7).is_ok());
    assert_eq!(add(&mut i, 1, EPOLLIN, 7), Err(CtlError::Exists));
    assert_eq!(i.modify(&2, EPOLLIN, 0), Err(CtlError::NotFound));
    assert_eq!(i.remove(&2), Err(CtlError::NotFound));
    assert_eq!(i.events(&1), Some(EPOLLIN | EPOLLERR | EPOLLHUP));
    assert_eq!(i.remove(&1), Ok(1));
    assert!(i.is_empty());
    assert!(!i.has_ready());
}

#[test]
fn level_triggered_reports_until_not_ready() {
    let mut i: Set = Interest::new();
    let h = add(&mut i, 1, EPOLLIN, 42).unwrap();
    assert_eq!(wait(&mut i, 8, |_| EPOLLIN | EPOLLOUT), [(EPOLLIN, 42)]);
    // No new notification, still ready: reported again.
    assert_eq!(wait(&mut i, 8, |_| EPOLLIN), [(EPOLLIN, 42)]);
    // Drained: dropped from the ready list ...
    assert_eq!(wait(&mut i, 8, |_| 0), []);
    assert!(!i.has_ready());
    // ... until the file says something changed.
    assert!(i.notify(h, EPOLLIN));
    assert_eq!(wait(&mut i, 8, |_| EPOLLIN), [(EPOLLIN, 42)]);
}

#[test]
fn edge_triggered_reports_once_per_notification() {
    let mut i: Set = Interest::new();
    let h = add(&mut i, 1, EPOLLIN | EPOLLET, 1).unwrap();
    assert_eq!(wait(&mut i, 8, |_| EPOLLIN), [(EPOLLIN, 1)]);
    assert_eq!(wait(&mut i, 8, |_| EPOLLIN), []);
    assert!(i.notify(h, EPOLLIN));
    assert!(i.notify(h, EPOLLIN), "queued once, still of interest");
    assert_eq!(wait(&mut i, 8, |_| EPOLLIN), [(EPOLLIN, 1)]);
    assert_eq!(wait(&mut i, 8, |_| EPOLLIN), []);
}

#[test]
fn notification_during_scan_is_kept() {
    let mut i: Set = Interest::new();
    let h = add(&mut i, 1, EPOLLIN | EPOLLET, 1).unwrap();
    let scan = begin(&mut i);
    // The file was polled (not ready), then data arrived.
    assert!(i.notify(h, EPOLLIN));
    assert_eq!(finish(&mut i, scan, 8, |_| 0), []);
    assert!(i.has_ready());
    assert_eq!(wait(&mut i, 8, |_| EPOLLIN), [(EPOLLIN, 1)]);
}

#[test]
fn notify_filters_by_event_hint() {
    let mut i: Set = Interest::new();
    let h = add(&mut i, 1, EPOLLIN | EPOLLET, 1).unwrap();
    wait(&mut i, 8, |_| 0);
    assert!(!i.notify(h, EPOLLOUT), "only writability changed");
    assert!(i.notify(h, EPOLLHUP), "hang-up is always of interest");
}

#[test]
fn oneshot_disables_until_modified() {
    let mut i: Set = Interest::new();
    let h = add(&mut i, 1, EPOLLIN | EPOLLONESHOT, 5).unwrap();
    assert_eq!(wait(&mut i, 8, |_| EPOLLIN), [(EPOLLIN, 5)]);
    assert!(!i.notify(h, EPOLLIN), "disabled");
    assert_eq!(wait(&mut i, 8, |_| EPOLLIN), []);
    i.modify(&1, EPOLLIN | EPOLLONESHOT, 6).unwrap();
    assert_eq!(wait(&mut i, 8, |_| EPOLLIN), [(EPOLLIN, 6)]);
    assert_eq!(wait(&mut i, 8, |_| EPOLLIN), []);
}

#[test]
fn max_events_keeps_the_rest_first() {
    let mut i: Set = Interest::new();
    for k in 1..=3 {
        add(&mut i, k, EPOLLIN, u64::from(k)).unwrap();
    }
    assert_eq!(wait(&mut i, 2, |_| EPOLLIN), [(EPOLLIN, 1), (EPOLLIN, 2)]);
    // 3 did not fit: it comes first now, then the level-triggered 1 and 2.
    assert_eq!(wait(&mut i, 8, |_| EPOLLIN), [(EPOLLIN, 3), (EPOLLIN, 1), (EPOLLIN, 2)]);
}

#[test]
fn removed_or_replaced_entries_are_not_reported() {
    let mut i: Set = Interest::new();
    let old = add(&mut i, 1, EPOLLIN, 1).unwrap();
    let scan = begin(&mut i);
    i.remove(&1).unwrap();
    let new = add(&mut i, 1, EPOLLIN, 2).unwrap();
    assert_eq!(old.slot, new.slot, "the slot is reused");
    assert!(!i.notify(old, 0), "a stale handle names nothing");
    assert!(i.get_handle(old).is_none());
    // The old scan's result belongs to the removed entry.
    assert_eq!(finish(&mut i, scan, 8, |_| EPOLLIN), []);
    assert_eq!(wait(&mut i, 8, |_| EPOLLIN), [(EPOLLIN, 2)]);
}

#[test]
fn only_requested_events_and_err_hup() {
    let mut i: Set = Interest::new();
    let h = add(&mut i, 1, EPOLLOUT, 1).unwrap();
    assert_eq!(wait(&mut i, 8, |_| EPOLLIN), []);
    i.notify(h, 0);
    assert_eq!(wait(&mut i, 8, |_| EPOLLIN | EPOLLHUP), [(EPOLLHUP, 1)]);
}

#[test]
fn notify_does_not_allocate_ready_list() {
    let mut i: Set = Interest::new();
    let hs: Vec<Handle> = (0..100).map(|k| add(&mut i, k, EPOLLIN, 0).unwrap()).collect();
    wait(&mut i, 1000, |_| 0);
    let cap = i.ready.capacity();
    for &h in &hs {
        i.notify(h, 0);
    }
    assert_eq!(i.ready.capacity(), cap);
    assert_eq!(i.ready.len(), 100);
    for &h in &hs {
        i.notify(h, 0);
    }
    assert_eq!(i.ready.len(), 100, "an entry is queued at most once");
}

#[test]
fn scan_buffer_keeps_its_capacity() {
    let mut i: Set = Interest::new();
    for k in 0..10 {
        add(&mut i, k, EPOLLIN, 0).unwrap();
    }
    let mut scan = Vec::new();
    let mut out = [(0, 0); 10];
    i.begin_scan(&mut scan, |&k| k);
    let cap = scan.capacity();
    assert_eq!(scan.len(), 10);
    for s in &mut scan {
        s.revents = EPOLLIN;
    }
    assert_eq!(i.end_scan(&scan, &mut out), 10);
    i.begin_scan(&mut scan, |&k| k);
    assert_eq!(scan.len(), 10, "level-triggered: all queued again");
    assert_eq!(scan.capacity(), cap);
}

#[test]
fn handle_removal_and_leftovers_in_order() {
    let mut i: Set = Interest::new();
    let hs: Vec<Handle> = (1..=5).map(|k| add(&mut i, k, EPOLLIN, u64::from(k)).unwrap()).collect();
    assert_eq!(i.remove_handle(hs[1]), Some(2));
    assert_eq!(i.remove_handle(hs[1]), None, "removed once");
    assert!(i.get(&2).is_none());
    // 1 is not ready; 3, 4, 5 are; room for one.
    assert_eq!(wait(&mut i, 1, |k| if k == 1 { 0 } else { EPOLLIN }), [(EPOLLIN, 3)]);
    // 4 and 5 first, in order, then the level-triggered 3; 1 was dropped.
    assert_eq!(wait(&mut i, 8, |_| EPOLLIN), [(EPOLLIN, 4), (EPOLLIN, 5), (EPOLLIN, 3)]);
    let mut seen = Vec::new();
    i.for_each_queued(|&k, want| seen.push((k, want)));
    assert_eq!(seen, [(4, EPOLLIN | EPOLLERR | EPOLLHUP), (5, EPOLLIN | EPOLLERR | EPOLLHUP), (3, EPOLLIN | EPOLLERR | EPOLLHUP)]);
}
