//! Tests of paged file contents: files past the kernel heap's largest
//! block, holes, truncation inside a page, the pages mappings use, and
//! the page accounting.

use std::vec::Vec;

use crate::*;

fn file(fs: &mut RamFs, name: &[u8]) -> Ino {
    let root = fs.root();
    fs.create(root, name, Kind::File, 0o644, 0, 0, 0).unwrap()
}

fn page_bytes(page: &HeapPage) -> Vec<u8> {
    let mut buf = std::vec![0; PAGE_SIZE];
    HeapPages::read(page, 0, &mut buf);
    buf
}

/// Byte `i` of the test pattern (not periodic in pages).
fn pattern(i: u64) -> u8 {
    (i.wrapping_mul(2_654_435_761) >> 13) as u8
}

#[test]
fn large_file_round_trip() {
    let mut fs = RamFs::new();
    let f = file(&mut fs, b"big");
    const LEN: u64 = 9 << 20; // past the 4 MiB a single heap block can hold
    let mut off = 0;
    while off < LEN {
        let chunk: Vec<u8> = (off..off + 65_536).map(pattern).collect();
        assert_eq!(fs.write(f, off, &chunk), Ok(chunk.len()));
        off += 65_536;
    }
    let st = fs.stat(f).unwrap();
    assert_eq!((st.size, st.blocks), (LEN, LEN / 512));
    assert_eq!(fs.used_bytes(), LEN);
    // Reads at odd offsets and lengths cross page boundaries.
    let mut buf = std::vec![0; 10_000];
    for start in [0, 4095, 4096, 1_234_567, LEN - 10_000, LEN - 3] {
        let n = fs.read(f, start, &mut buf).unwrap();
        assert_eq!(n as u64, 10_000.min(LEN - start));
        assert!((0..n).all(|i| buf[i] == pattern(start + i as u64)), "at {start}");
    }
    fs.truncate(f, 0).unwrap();
    assert_eq!((fs.used_bytes(), fs.stat(f).unwrap().blocks), (0, 0));
}

#[test]
fn holes_take_no_pages_and_read_as_zeros() {
    let mut fs = RamFs::new();
    let f = file(&mut fs, b"sparse");
    // The last byte a file may have.
    assert_eq!(fs.write(f, MAX_FILE_SIZE - 1, b"z"), Ok(1));
    assert_eq!(fs.write(f, MAX_FILE_SIZE, b"z"), Err(Errno::EFBIG));
    // Cut at the limit.
    assert_eq!(fs.write(f, MAX_FILE_SIZE - 2, b"yyy"), Ok(2));
    let st = fs.stat(f).unwrap();
    assert_eq!((st.size, st.blocks), (MAX_FILE_SIZE, 8));
    assert_eq!(fs.used_bytes(), 4096);
    let mut buf = [0xff; 8192];
    assert_eq!(fs.read(f, 1 << 29, &mut buf), Ok(8192));
    assert!(buf.iter().all(|&b| b == 0));
    assert_eq!(fs.read(f, MAX_FILE_SIZE - 4, &mut buf), Ok(4));
    assert_eq!(&buf[..4], b"\0\0yy");
    // A write in the middle takes only the pages it touches.
    assert_eq!(fs.write(f, 3 * 4096 - 1, b"ab"), Ok(2));
    assert_eq!(fs.stat(f).unwrap().blocks, 3 * 8);
    assert_eq!(fs.pages(f).unwrap().page_count(), 3);
    // ftruncate up makes a hole, down frees the pages past the end.
    let g = file(&mut fs, b"grown");
    fs.truncate(g, 1 << 30).unwrap();
    assert_eq!((fs.stat(g).unwrap().size, fs.stat(g).unwrap().blocks), (1 << 30, 0));
    fs.truncate(f, 4 * 4096).unwrap();
    // Pages 2 and 3 stay (page 0 and 1 are holes).
    assert_eq!(fs.used_bytes(), 2 * 4096);
    let mut two = [9; 2];
    assert_eq!(fs.read(f, 3 * 4096 - 1, &mut two), Ok(2));
    assert_eq!(&two, b"ab");
}

#[test]
fn shrinking_inside_a_page_zeroes_its_tail() {
    let mut fs = RamFs::new();
    let f = file(&mut fs, b"f");
    fs.write(f, 0, &[0xaa; 8192]).unwrap();
    let page0 = fs.page_for_map(f, 0).unwrap();
    fs.truncate(f, 100).unwrap();
    assert_eq!(fs.used_bytes(), 4096);
    // The page a mapping holds sees the zeroed tail too.
    let bytes = page_bytes(&page0);
    assert!(bytes[..100].iter().all(|&b| b == 0xaa) && bytes[100..].iter().all(|&b| b == 0));
    fs.truncate(f, 8192).unwrap();
    let mut buf = [0xff; 8192];
    assert_eq!(fs.read(f, 0, &mut buf), Ok(8192));
    assert!(buf[..100].iter().all(|&b| b == 0xaa) && buf[100..].iter().all(|&b| b == 0));
    assert_eq!(fs.used_bytes(), 4096);
}

#[test]
fn mapped_pages_are_the_files_own() {
    let mut fs = RamFs::new();
    let f = file(&mut fs, b"f");
    fs.truncate(f, 3 * 4096 + 10).unwrap();
    // A fault in a hole adds a zeroed page and counts it.
    let p1 = fs.page_for_map(f, 1).unwrap();
    assert_eq!(fs.used_bytes(), 4096);
    assert!(page_bytes(&p1).iter().all(|&b| b == 0));
    // The last, partial page is still a page; past it is SIGBUS's case.
    assert!(fs.page_for_map(f, 3).is_ok());
    assert_eq!(fs.page_for_map(f, 4).err(), Some(Errno::ENXIO));
    // write(2) shows through the page, a store to the page through read(2).
    fs.write(f, 4096 + 5, b"hello").unwrap();
    assert_eq!(&page_bytes(&p1)[5..10], b"hello");
    HeapPages::write(&p1, 100, b"mapped");
    let mut buf = [0; 6];
    fs.read(f, 4096 + 100, &mut buf).unwrap();
    assert_eq!(&buf, b"mapped");
    // Asking again gives the same page and takes no more memory.
    let again = fs.page_for_map(f, 1).unwrap();
    assert!(std::sync::Arc::ptr_eq(&p1, &again));
    assert_eq!(fs.used_bytes(), 2 * 4096);
    // Errors: not a file, no such inode.
    let root = fs.root();
    assert_eq!(fs.page_for_map(root, 0).err(), Some(Errno::EISDIR));
    assert_eq!(fs.page_for_map(Ino(999), 0).err(), Some(Errno::ENOENT));
    // Removing the file frees its accounting; a page still held elsewhere
    // (a mapping) lives on with its bytes.
    fs.unlink(root, b"f").unwrap();
    assert_eq!(fs.used_bytes(), 0);
    assert_eq!(&page_bytes(&p1)[100..106], b"mapped");
}

#[test]
fn missing_pages_counts_the_range() {
    let mut fs = RamFs::new();
    let f = file(&mut fs, b"f");
    fs.write(f, 4096, b"x").unwrap();
    let pages = fs.pages(f).unwrap();
    assert_eq!(pages.missing_pages(0, 0), 0);
    assert_eq!(pages.missing_pages(0, 1), 1);
    assert_eq!(pages.missing_pages(4096, 4096), 0);
    assert_eq!(pages.missing_pages(4095, 2), 1);
    assert_eq!(pages.missing_pages(0, 3 * 4096), 2);
    assert_eq!(pages.missing_pages(u64::MAX - 1, 1), 1);
}

#[test]
fn allocate_gives_pages_or_nothing() {
    let mut fs = RamFs::new();
    let f = file(&mut fs, b"f");
    fs.write(f, 4096, b"keep").unwrap();
    fs.set_capacity(Some(4 * 4096));
    // Pages 0..5 would need 4 more: one too many; nothing changes.
    assert_eq!(fs.allocate(f, 0, 5 * 4096, false), Err(Errno::ENOSPC));
    assert_eq!((fs.used_bytes(), fs.stat(f).unwrap().size), (4096, 4100));
    // Four pages, the one with data kept as it is.
    assert_eq!(fs.allocate(f, 0, 4 * 4096, false), Ok(()));
    assert_eq!((fs.used_bytes(), fs.stat(f).unwrap().size), (4 * 4096, 4 * 4096));
    let mut buf = [9; 4];
    fs.read(f, 4096, &mut buf).unwrap();
    assert_eq!(&buf, b"keep");
    fs.read(f, 0, &mut buf).unwrap();
    assert_eq!(buf, [0; 4]);
    // Now writes there need no room.
    assert_eq!(fs.write(f, 3 * 4096, &[1; 4096]), Ok(4096));
    // KEEP_SIZE: the length stays; the pages past it are held (zeros
    // when the file grows over them) until a truncate frees them.
    fs.set_capacity(None);
    let g = file(&mut fs, b"g");
    fs.write(g, 0, b"0123456789").unwrap();
    assert_eq!(fs.allocate(g, 0, 1 << 20, true), Ok(()));
    assert_eq!((fs.stat(g).unwrap().size, fs.stat(g).unwrap().blocks), (10, 2048));
    fs.truncate(g, 8192).unwrap();
    let mut tail = [9; 8182];
    assert_eq!(fs.read(g, 10, &mut tail), Ok(8182));
    assert!(tail.iter().all(|&b| b == 0));
    assert_eq!(fs.stat(g).unwrap().blocks, 2048);
    fs.truncate(g, 5000).unwrap();
    assert_eq!(fs.stat(g).unwrap().blocks, 16);
    assert_eq!(fs.page_for_map(g, 2).err(), Some(Errno::ENXIO));
    assert_eq!(fs.allocate(g, 1, MAX_FILE_SIZE, false), Err(Errno::EFBIG));
    assert_eq!(fs.allocate(g, u64::MAX, 2, false), Err(Errno::EFBIG));
    let root = fs.root();
    assert_eq!(fs.allocate(root, 0, 1, false), Err(Errno::EISDIR));
}
