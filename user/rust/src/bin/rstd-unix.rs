//! rstd-unix: std::os::unix::net over AF_UNIX sockets: UnixStream::pair,
//! UnixListener and UnixStream over a path (a thread connects while the
//! main thread accepts), names, shutdown, non-blocking WouldBlock, and
//! UnixDatagram pairs, bound sockets and send_to/recv_from.
use std::io::{ErrorKind, Read, Write};
use std::net::Shutdown;
use std::os::unix::fs::FileTypeExt;
use std::os::unix::net::{UnixDatagram, UnixListener, UnixStream};

use rstd_tests::{check, ok, p};

fn main() {
    // A connected pair.
    let (mut a, mut b) = ok!(UnixStream::pair());
    ok!(a.write_all(b"ping"));
    let mut buf = [0u8; 16];
    let n = ok!(b.read(&mut buf));
    check!(&buf[..n] == b"ping", "read {:?}", &buf[..n]);
    ok!(b.write_all(b"pong"));
    ok!(a.read_exact(&mut buf[..4]));
    check!(&buf[..4] == b"pong");
    ok!(b.set_nonblocking(true));
    let e = b.read(&mut buf).unwrap_err();
    check!(e.kind() == ErrorKind::WouldBlock, "{e:?}");
    ok!(a.shutdown(Shutdown::Write));
    ok!(b.set_nonblocking(false));
    check!(ok!(b.read(&mut buf)) == 0);
    check!(ok!(a.local_addr()).as_pathname().is_none());
    check!(ok!(a.take_error()).is_none());
    println!("rstd-unix: UnixStream::pair ok");

    // A listener on a path, a client in another thread.
    let dir = p(&format!("/tmp/rstd-unix-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    ok!(std::fs::create_dir_all(&dir));
    let path = dir.join("sock");
    let listener = ok!(UnixListener::bind(&path));
    check!(ok!(std::fs::symlink_metadata(&path)).file_type().is_socket());
    let e = UnixListener::bind(&path).unwrap_err();
    check!(e.kind() == ErrorKind::AddrInUse, "{e:?}");
    let client_path = path.clone();
    let t = std::thread::spawn(move || {
        let mut s = UnixStream::connect(&client_path).expect("connect");
        s.write_all(b"hello from the client").expect("write");
        let mut r = String::new();
        s.read_to_string(&mut r).expect("read");
        r
    });
    let (mut s, peer) = ok!(listener.accept());
    check!(peer.as_pathname().is_none());
    check!(ok!(s.local_addr()).as_pathname() == Some(path.as_path()));
    let mut got = [0u8; 21];
    ok!(s.read_exact(&mut got));
    check!(&got == b"hello from the client");
    ok!(s.write_all(b"bye"));
    drop(s);
    let r = t.join().expect("client thread");
    check!(r == "bye", "client read {r:?}");
    drop(listener);
    let e = UnixStream::connect(&path).unwrap_err();
    check!(e.kind() == ErrorKind::ConnectionRefused, "{e:?}");
    let e = UnixStream::connect(dir.join("none")).unwrap_err();
    check!(e.kind() == ErrorKind::NotFound, "{e:?}");
    println!("rstd-unix: UnixListener/UnixStream over a path ok");

    // Datagrams.
    let (x, y) = ok!(UnixDatagram::pair());
    check!(ok!(x.send(b"one")) == 3);
    check!(ok!(x.send(b"two!")) == 4);
    check!(ok!(y.recv(&mut buf)) == 3);
    check!(ok!(y.recv(&mut buf)) == 4 && &buf[..4] == b"two!");
    let server_path = dir.join("dgram");
    let server = ok!(UnixDatagram::bind(&server_path));
    let client = ok!(UnixDatagram::unbound());
    check!(ok!(client.send_to(b"anon", &server_path)) == 4);
    let (n, from) = ok!(server.recv_from(&mut buf));
    check!(n == 4 && from.as_pathname().is_none());
    let named = ok!(UnixDatagram::bind(dir.join("client")));
    ok!(named.connect(&server_path));
    check!(ok!(named.send(b"named")) == 5);
    let (n, from) = ok!(server.recv_from(&mut buf));
    check!(n == 5 && from.as_pathname() == Some(dir.join("client").as_path()), "{from:?}");
    ok!(server.send_to(b"reply", dir.join("client")));
    check!(ok!(named.recv(&mut buf)) == 5 && &buf[..5] == b"reply");
    ok!(server.set_nonblocking(true));
    let e = server.recv(&mut buf).unwrap_err();
    check!(e.kind() == ErrorKind::WouldBlock, "{e:?}");
    println!("rstd-unix: UnixDatagram ok");
    ok!(std::fs::remove_dir_all(&dir));
    println!("rstd-unix: ok");
}
