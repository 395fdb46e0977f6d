//! Host tests: the reporting rules of epoll(7) for level-triggered,
//! edge-triggered and one-shot entries, with a fake file per key.

use std::vec::Vec;

use linux_raw_sys::general::{EPOLLET, EPOLLHUP, EPOLLIN, EPOLLONESHOT, EPOLLOUT};

use super::*;

/// One wait: scan, poll each key with `ready(key)`, end the scan.
fn wait(i: &mut Interest<u32, ()>, max: usize, ready: impl Fn(u32) -> u32) -> Vec<(u32, u64)> {
    let scan = i.begin_scan();
    let polled: Vec<_> = scan.iter().map(|s| (s.key, s.id, ready(s.key))).collect();
    i.end_scan(polled, max)
}

#[test]
fn add_modify_remove_errors() {
    let mut i: Interest<u32, ()> = Interest::new();
    assert_eq!(i.add(1, EPOLLIN, 7, ()), Ok(()));
    assert_eq!(i.add(1, EPOLLIN, 7, ()), Err(CtlError::Exists));
    assert_eq!(i.modify(&2, EPOLLIN, 0), Err(CtlError::NotFound));
    assert_eq!(i.remove(&2), Err(CtlError::NotFound));
    assert_eq!(i.events(&1), Some(EPOLLIN | EPOLLERR | EPOLLHUP));
    assert_eq!(i.remove(&1), Ok(()));
    assert!(i.is_empty());
    assert!(!i.has_ready());
}

#[test]
fn level_triggered_reports_until_not_ready() {
    let mut i = Interest::new();
    i.add(1, EPOLLIN, 42, ()).unwrap();
    assert_eq!(wait(&mut i, 8, |_| EPOLLIN | EPOLLOUT), [(EPOLLIN, 42)]);
    // No new notification, still ready: reported again.
    assert_eq!(wait(&mut i, 8, |_| EPOLLIN), [(EPOLLIN, 42)]);
    // Drained: dropped from the ready list ...
    assert_eq!(wait(&mut i, 8, |_| 0), []);
    assert!(!i.has_ready());
    // ... until the file says something changed.
    assert!(i.notify(&1, EPOLLIN));
    assert_eq!(wait(&mut i, 8, |_| EPOLLIN), [(EPOLLIN, 42)]);
}

#[test]
fn edge_triggered_reports_once_per_notification() {
    let mut i = Interest::new();
    i.add(1, EPOLLIN | EPOLLET, 1, ()).unwrap();
    assert_eq!(wait(&mut i, 8, |_| EPOLLIN), [(EPOLLIN, 1)]);
    assert_eq!(wait(&mut i, 8, |_| EPOLLIN), []);
    assert!(i.notify(&1, EPOLLIN));
    assert!(i.notify(&1, EPOLLIN), "queued once, still of interest");
    assert_eq!(wait(&mut i, 8, |_| EPOLLIN), [(EPOLLIN, 1)]);
    assert_eq!(wait(&mut i, 8, |_| EPOLLIN), []);
}

#[test]
fn notification_during_scan_is_kept() {
    let mut i = Interest::new();
    i.add(1, EPOLLIN | EPOLLET, 1, ()).unwrap();
    let scan = i.begin_scan();
    // The file was polled (not ready), then data arrived.
    assert!(i.notify(&1, EPOLLIN));
    assert_eq!(i.end_scan(scan.iter().map(|s| (s.key, s.id, 0)), 8), []);
    assert!(i.has_ready());
    assert_eq!(wait(&mut i, 8, |_| EPOLLIN), [(EPOLLIN, 1)]);
}

#[test]
fn notify_filters_by_event_hint() {
    let mut i = Interest::new();
    i.add(1, EPOLLIN | EPOLLET, 1, ()).unwrap();
    wait(&mut i, 8, |_| 0);
    assert!(!i.notify(&1, EPOLLOUT), "only writability changed");
    assert!(i.notify(&1, EPOLLHUP), "hang-up is always of interest");
}

#[test]
fn oneshot_disables_until_modified() {
    let mut i = Interest::new();
    i.add(1, EPOLLIN | EPOLLONESHOT, 5, ()).unwrap();
    assert_eq!(wait(&mut i, 8, |_| EPOLLIN), [(EPOLLIN, 5)]);
    assert!(!i.notify(&1, EPOLLIN), "disabled");
    assert_eq!(wait(&mut i, 8, |_| EPOLLIN), []);
    i.modify(&1, EPOLLIN | EPOLLONESHOT, 6).unwrap();
    assert_eq!(wait(&mut i, 8, |_| EPOLLIN), [(EPOLLIN, 6)]);
    assert_eq!(wait(&mut i, 8, |_| EPOLLIN), []);
}

#[test]
fn max_events_keeps_the_rest_first() {
    let mut i = Interest::new();
    for k in 1..=3 {
        i.add(k, EPOLLIN, u64::from(k), ()).unwrap();
    }
    assert_eq!(wait(&mut i, 2, |_| EPOLLIN), [(EPOLLIN, 1), (EPOLLIN, 2)]);
    // 3 did not fit: it comes first now, then the level-triggered 1 and 2.
    assert_eq!(wait(&mut i, 8, |_| EPOLLIN), [(EPOLLIN, 3), (EPOLLIN, 1), (EPOLLIN, 2)]);
}

#[test]
fn removed_or_replaced_entries_are_not_reported() {
    let mut i = Interest::new();
    i.add(1, EPOLLIN, 1, ()).unwrap();
    let scan = i.begin_scan();
    i.remove(&1).unwrap();
    i.add(1, EPOLLIN, 2, ()).unwrap();
    // The old scan's result belongs to the removed entry.
    assert_eq!(i.end_scan(scan.iter().map(|s| (s.key, s.id, EPOLLIN)), 8), []);
    assert_eq!(wait(&mut i, 8, |_| EPOLLIN), [(EPOLLIN, 2)]);
}

#[test]
fn only_requested_events_and_err_hup() {
    let mut i = Interest::new();
    i.add(1, EPOLLOUT, 1, ()).unwrap();
    assert_eq!(wait(&mut i, 8, |_| EPOLLIN), []);
    i.notify(&1, 0);
    assert_eq!(wait(&mut i, 8, |_| EPOLLIN | EPOLLHUP), [(EPOLLHUP, 1)]);
}

#[test]
fn notify_does_not_allocate_ready_list() {
    let mut i: Interest<u32, ()> = Interest::new();
    for k in 0..100 {
        i.add(k, EPOLLIN, 0, ()).unwrap();
    }
    wait(&mut i, 1000, |_| 0);
    let cap = i.ready.capacity();
    for k in 0..100 {
        i.notify(&k, 0);
    }
    assert_eq!(i.ready.capacity(), cap);
    assert_eq!(i.ready.len(), 100);
    for k in 0..100 {
        i.notify(&k, 0);
    }
    assert_eq!(i.ready.len(), 100, "an entry is queued at most once");
}
