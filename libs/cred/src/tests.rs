//! Host tests of the set*id rules, each case taken from `man 2` or
//! `kernel/sys.c`.

use super::*;

const U: u32 = UNCHANGED;

fn ids(c: &Cred) -> [u32; 4] {
    [c.ruid, c.euid, c.suid, c.fsuid]
}

fn gids(c: &Cred) -> [u32; 4] {
    [c.rgid, c.egid, c.sgid, c.fsgid]
}

#[test]
fn root_setuid_sets_all_and_cannot_go_back() {
    let mut c = Cred::root();
    c.setuid(1000).unwrap();
    assert_eq!(ids(&c), [1000; 4]);
    assert_eq!(c.setuid(0), Err(Error::Perm));
    assert_eq!(c.setuid(1000), Ok(()));
    assert_eq!(c.setuid(U), Err(Error::Inval));
}

#[test]
fn unprivileged_setuid_only_switches_effective_to_real_or_saved() {
    let mut c = Cred::root();
    c.setresuid(1000, 2000, 3000).unwrap();
    assert_eq!(c.setuid(4000), Err(Error::Perm));
    c.setuid(3000).unwrap();
    assert_eq!(ids(&c), [1000, 3000, 3000, 3000]);
    c.setuid(1000).unwrap();
    assert_eq!(ids(&c), [1000, 1000, 3000, 1000]);
}

#[test]
fn saved_uid_lets_root_come_back() {
    let mut c = Cred::root();
    c.setresuid(U, 1000, U).unwrap();
    assert_eq!(ids(&c), [0, 1000, 0, 1000]);
    assert!(!c.capable(Cap::Setuid));
    assert!(!c.capable(Cap::DacOverride));
    // Not privileged now, but 0 is the real and saved id.
    assert_eq!(c.setresuid(U, 5, U), Err(Error::Perm));
    c.setresuid(U, 0, U).unwrap();
    assert_eq!(ids(&c), [0; 4]);
    // seteuid through setreuid(-1, e) keeps the saved id when e == ruid.
    c.setreuid(U, 1000).unwrap();
    assert_eq!(ids(&c), [0, 1000, 1000, 1000]);
}

#[test]
fn setreuid_rules() {
    let mut c = Cred::root();
    c.setresuid(1, 2, 3).unwrap();
    // ruid may be old ruid or euid, not suid.
    assert_eq!(c.setreuid(3, U), Err(Error::Perm));
    // euid may be any of the three.
    c.setreuid(U, 3).unwrap();
    assert_eq!(ids(&c), [1, 3, 3, 3]);
    // swap real and effective: saved becomes the new effective.
    c.setreuid(3, 1).unwrap();
    assert_eq!(ids(&c), [3, 1, 1, 1]);
    // setting only euid back to the real id leaves suid alone.
    c.setreuid(U, 3).unwrap();
    assert_eq!(ids(&c), [3, 3, 1, 3]);
    // failure changes nothing
    let before = c.clone();
    assert_eq!(c.setreuid(7, 3), Err(Error::Perm));
    assert_eq!(c, before);
    c.setreuid(U, U).unwrap();
    assert_eq!(c, before);
}

#[test]
fn setresuid_unprivileged_permutes_held_ids() {
    let mut c = Cred::root();
    c.setresuid(10, 20, 30).unwrap();
    c.setresuid(30, 10, 20).unwrap();
    assert_eq!(ids(&c), [30, 10, 20, 10]);
    assert_eq!(c.setresuid(U, U, 0), Err(Error::Perm));
    assert_eq!(ids(&c), [30, 10, 20, 10]);
}

#[test]
fn fsuid_follows_euid_and_setfsuid_rules() {
    let mut c = Cred::root();
    assert_eq!(c.setfsuid(500), 0);
    assert_eq!(c.fsuid, 500);
    // root still has the non-fs capabilities, not DAC override.
    assert!(c.capable(Cap::Setuid));
    assert!(!c.capable(Cap::DacOverride));
    assert_eq!(c.setfsuid(U), 500);
    assert_eq!(c.fsuid, 500);
    assert_eq!(c.setfsuid(0), 500);
    assert!(c.capable(Cap::DacOverride));
    c.setresuid(1, 2, 3).unwrap();
    assert_eq!(c.fsuid, 2);
    assert_eq!(c.setfsuid(9), 2); // not held: unchanged, old value returned
    assert_eq!(c.fsuid, 2);
    assert_eq!(c.setfsuid(3), 2);
    assert_eq!(c.fsuid, 3);
    assert_eq!(c.setfsuid(3), 3);
}

#[test]
fn group_ids_and_groups() {
    let mut c = Cred::root();
    c.setgroups(&[5, 3, 5]).unwrap();
    assert_eq!(c.groups(), &[3, 5, 5]);
    assert!(c.in_group(3) && c.in_group(0) && !c.in_group(4));
    c.setgid(1000).unwrap();
    assert_eq!(gids(&c), [1000; 4]);
    // still root: may change groups and gids
    c.setresgid(1, 2, 3).unwrap();
    assert_eq!(gids(&c), [1, 2, 3, 2]);
    c.setuid(1000).unwrap();
    assert_eq!(c.setgroups(&[]), Err(Error::Perm));
    assert_eq!(c.setgid(0), Err(Error::Perm));
    c.setgid(3).unwrap();
    assert_eq!(gids(&c), [1, 3, 3, 3]);
    c.setregid(3, 1).unwrap();
    assert_eq!(gids(&c), [3, 1, 1, 1]);
    assert_eq!(c.setregid(U, 2), Err(Error::Perm));
    assert_eq!(c.setfsgid(7), 1);
    assert_eq!(c.fsgid, 1);
    assert!(c.in_egroup(1) && !c.in_egroup(7));
    assert_eq!(c.setgid(U), Err(Error::Inval));
}

#[test]
fn too_many_groups() {
    let mut c = Cred::root();
    let many = vec![1; NGROUPS_MAX + 1];
    assert_eq!(c.setgroups(&many), Err(Error::Inval));
    assert!(c.setgroups(&many[..NGROUPS_MAX]).is_ok());
}

#[test]
fn exec_resets_saved_and_fs_ids() {
    let mut c = Cred::root();
    c.setresuid(1000, 0, 2000).unwrap();
    c.setfsuid(1000);
    c.setresgid(5, 6, 7).unwrap();
    assert!(c.is_secure_exec());
    c.exec();
    assert_eq!(ids(&c), [1000, 0, 0, 0]);
    assert_eq!(gids(&c), [5, 6, 6, 6]);
    assert!(!Cred::user(3, 4).is_secure_exec());
}

/// Capability sets follow the ids (capabilities(7), "Effect of user ID
/// changes on capabilities").
#[test]
fn capabilities_follow_uid_changes() {
    let mut c = Cred::root();
    assert_eq!(c.caps(), CapSets { effective: CAP_FULL, permitted: CAP_FULL, inheritable: 0 });
    // Effective uid leaves 0: effective cleared, permitted kept.
    c.setresuid(U, 1000, U).unwrap();
    assert!(!c.capable(Cap::Kill) && !c.capable(Cap::Chown));
    assert_eq!(c.caps().permitted, CAP_FULL);
    // Back to 0: effective from permitted.
    c.setresuid(U, 0, U).unwrap();
    assert!(c.capable(Cap::Kill));
    // setfsuid away from 0 drops only the file-system capabilities.
    c.setfsuid(1000);
    assert!(!c.capable(Cap::Chown) && !c.capable(Cap::DacOverride) && c.capable(Cap::Kill));
    c.setfsuid(0);
    assert!(c.capable(Cap::Chown));
    // No id 0 left: everything goes, for good.
    c.setresuid(1000, 1000, 1000).unwrap();
    assert_eq!(c.caps(), CapSets::default());
    assert_eq!(c.setresuid(0, 0, 0), Err(Error::Perm));
}

#[test]
fn capset_rules() {
    let mut c = Cred::root();
    let kill = 1 << Cap::Kill.number();
    // Drop all but CAP_KILL from permitted and effective.
    c.capset(CapSets { effective: kill, permitted: kill, inheritable: 0 }).unwrap();
    assert!(c.capable(Cap::Kill) && !c.capable(Cap::Setuid));
    // Permitted cannot grow; effective must stay within permitted.
    let chown = 1 << Cap::Chown.number();
    assert_eq!(c.capset(CapSets { effective: kill, permitted: kill | chown, inheritable: 0 }), Err(Error::Perm));
    assert_eq!(c.capset(CapSets { effective: chown, permitted: kill, inheritable: 0 }), Err(Error::Perm));
    // Without CAP_SETPCAP the inheritable set stays within permitted.
    assert_eq!(c.capset(CapSets { effective: 0, permitted: kill, inheritable: chown }), Err(Error::Perm));
    c.capset(CapSets { effective: 0, permitted: kill, inheritable: kill }).unwrap();
    assert!(!c.capable(Cap::Kill));
    // execve as root restores the full sets; the inheritable set stays.
    c.exec();
    assert_eq!(c.caps(), CapSets { effective: CAP_FULL, permitted: CAP_FULL, inheritable: kill });
    let mut u = Cred::user(1000, 1000);
    u.exec();
    assert_eq!(u.caps().permitted, 0);
}
